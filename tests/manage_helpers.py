"""Helpers for the manage tests: apps with accounts, signing in through the real email link."""
from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from sitedir.extensions import db
from sitedir.manage.cli import create_user

LINK = re.compile(r"https?://\S+/manage/sign-in/[A-Za-z0-9_\-]+")


def manage_app(make_app: Any, **config: Any) -> Flask:
    """A fresh app with an admin, a moderator, an editor of harehills-friends and one of
    wharfedale-walkers."""
    app = make_app(**config)
    with app.app_context():
        create_user("admin@example.org", "admin")
        create_user("mod@example.org", "moderator")
        create_user("editor@example.org", "editor", "harehills-friends")
        create_user("other@example.org", "editor", "wharfedale-walkers")
    return app


def emails_to(app: Flask, address: str) -> list[Any]:
    """Queued emails to address, oldest first."""
    from sitedir.mail import OutboxEmail

    with app.app_context():
        rows = db.session.scalars(select(OutboxEmail).where(
            OutboxEmail.to_address == address).order_by(OutboxEmail.id)).all()
        db.session.expunge_all()
        return rows


def request_link(client: FlaskClient, app: Flask, email: str) -> str:
    """Ask for a sign-in link and return its path, read from the queued email."""
    response = client.post("/manage/sign-in", data={"email": email})
    assert response.status_code == 200, response.status_code
    body = emails_to(app, email.strip().lower())[-1].text_body
    return "/" + LINK.search(body).group(0).split("/", 3)[3]


def sign_in(client: FlaskClient, app: Flask, email: str) -> FlaskClient:
    """Sign in through the emailed link, as a person would."""
    path = request_link(client, app, email)
    response = client.post(path)
    assert response.status_code == 302, response.status_code
    return client


def totp_for(app: Flask, email: str) -> str:
    """An authenticator code the site will accept now, as the user's phone would show it.

    Each code works once, so this gives the next 30-second step's code (still inside the
    site's ±1 step window) when this step's was used, and waits for the clock if need be.
    """
    import time

    import pyotp

    from sitedir.manage.models import User
    from sitedir.manage.two_factor import STEP_SECONDS, totp_secret

    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        secret, last = totp_secret(user), user.totp_last_step
        db.session.rollback()
    while True:
        now = int(time.time() // STEP_SECONDS)
        step = now if last is None or last < now else last + 1
        if step <= now + 1:
            return pyotp.TOTP(secret).at(step * STEP_SECONDS)
        time.sleep(1)


def sign_in_privileged(client: FlaskClient, app: Flask, email: str) -> FlaskClient:
    """Sign in a moderator or admin and give the second factor (enrolling on first use)."""
    sign_in(client, app, email)
    client.get("/manage/two-factor")  # enrols on the first visit: makes the secret
    response = client.post("/manage/two-factor", data={"code": totp_for(app, email)})
    assert response.status_code in (200, 302), response.status_code
    return client


def activity_form(app: Flask, slug: str, **changes: Any) -> dict[str, Any]:
    """The edit form's fields as the page fills them in for an activity, with changes."""
    from sitedir.manage.forms import activity_values
    from sitedir.manage.publish import activity_snapshot
    from sitedir.models import Activity

    with app.app_context():
        activity = db.session.scalar(select(Activity).where(Activity.slug == slug))
        values = activity_values(activity_snapshot(activity))
    return form_data(values, **changes)


def form_data(values: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Form values (as activity_values gives them) → POST data."""
    data: dict[str, Any] = {}
    for name, value in values.items():
        if name in ("slots", "dates"):
            prefix = name[:-1]
            data[f"{prefix}_count"] = str(len(value))
            for index, row in enumerate(value):
                for key, cell in row.items():
                    data[f"{prefix}-{index}-{key}"] = cell
        elif isinstance(value, bool):
            if value:
                data[name] = "yes"
        else:
            data[name] = value
    data.update(changes)
    return data
