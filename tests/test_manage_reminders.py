"""Freshness reminders: who gets them, one-click answers that work once and expire."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from sitedir.extensions import db
from sitedir.listing import local_now
from sitedir.manage.models import Reminder
from sitedir.models import Activity
from tests.manage_helpers import emails_to, manage_app

KNIT = "harehills-knit-and-natter"


@pytest.fixture()
def app(make_app) -> Flask:
    app = manage_app(make_app, REMINDER_AFTER_DAYS=100, REMINDER_REPEAT_DAYS=30,
                     REMINDER_LINK_DAYS=28)
    with app.app_context():
        old = local_now().date() - dt.timedelta(days=101)
        db.session.execute(update(Activity).values(last_reviewed=local_now().date()))
        db.session.execute(update(Activity).where(Activity.slug == KNIT)
                           .values(last_reviewed=old))
        db.session.commit()
    return app


def _send(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    return result.output


def _links(app: Flask) -> dict[str, str]:
    body = emails_to(app, "editor@example.org")[-1].text_body
    return {answer: "/" + url.split("/", 3)[3] for answer, url in re.findall(
        r"(\w[\w ]+): (http://\S+/manage/reminders/\S+)", body)}


def _activity(app: Flask) -> Activity:
    with app.app_context():
        activity = db.session.scalar(select(Activity).where(Activity.slug == KNIT))
        db.session.expunge_all()
        return activity


def test_only_old_listings_are_reminded_and_not_again_too_soon(app) -> None:
    assert "Queued 1 reminder email(s) about 1 listing(s)" in _send(app)
    mail = emails_to(app, "editor@example.org")[-1]
    assert "Knit and Natter" in mail.text_body and "Community Supper" not in mail.text_body
    assert set(_links(app)) == {"Still running as shown", "On a break", "Full", "Closed"}
    assert "Queued 0 reminder email(s)" in _send(app)  # REMINDER_REPEAT_DAYS not yet passed
    with app.app_context():
        db.session.execute(update(Reminder).values(
            sent_at=Reminder.sent_at - dt.timedelta(days=31)))
        db.session.commit()
    assert "Queued 1 reminder email(s)" in _send(app)
    with app.app_context():
        assert db.session.scalars(select(Reminder.sequence).order_by(Reminder.id)).all() == [1, 2]


def test_still_running_link_works_once_without_signing_in(app) -> None:
    _send(app)
    path = _links(app)["Still running as shown"]
    client = app.test_client()  # nobody signed in
    for _ in range(2):  # a mail scanner's fetch changes nothing
        assert client.get(path).status_code == 200
    assert _activity(app).last_reviewed < dt.date.today() - dt.timedelta(days=50)
    response = client.post(path)
    assert response.status_code == 200 and b"Thank you" in response.data
    with app.app_context():
        today = local_now().date()
    assert _activity(app).last_reviewed == today
    again = client.post(path)
    assert again.status_code == 410 and b"already been used" in again.data
    assert b"expired" not in again.data
    assert client.get(path).status_code == 410
    # One answer uses the reminder: its other links are spent too.
    other = client.post(_links(app)["Closed"])
    assert other.status_code == 410 and b"already been used" in other.data


def test_on_break_asks_for_the_date(app) -> None:
    _send(app)
    path = _links(app)["On a break"]
    client = app.test_client()
    missing = client.post(path, data={"break_until": ""})
    assert missing.status_code == 400 and b'href="#break_until"' in missing.data
    assert client.post(path, data={"break_until": "2027-09-01"}).status_code == 200
    activity = _activity(app)
    assert (activity.status, activity.break_until) == ("on_break", dt.date(2027, 9, 1))
    assert b"On a break until" in client.get(f"/activities/{KNIT}").data


def test_links_expire(app) -> None:
    _send(app)
    path = _links(app)["Closed"]
    with app.app_context():
        db.session.execute(update(Reminder).values(
            expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)))
        db.session.commit()
    opened = app.test_client().get(path)
    assert opened.status_code == 410 and b"This link has expired" in opened.data
    assert app.test_client().post(path).status_code == 410
    assert _activity(app).status == "running"


def test_unanswered_listing_shows_out_of_date_banner(app) -> None:
    with app.app_context():
        db.session.execute(update(Activity).where(Activity.slug == KNIT).values(
            last_reviewed=local_now().date() - dt.timedelta(days=400)))
        db.session.commit()
    page = app.test_client().get(f"/activities/{KNIT}").data.decode()
    assert 'id="stale-notice"' in page and "may be out of date" in page


def test_reminder_link_and_dashboard_give_the_same_result(make_app) -> None:
    """The same answer by either path leaves the same listing, reviewed today, no moderator."""
    from tests.manage_helpers import sign_in

    results = []
    for path in ("reminder", "dashboard"):
        app = manage_app(make_app)
        with app.app_context():
            db.session.execute(update(Activity).where(Activity.slug == KNIT).values(
                last_reviewed=local_now().date() - dt.timedelta(days=200)))
            db.session.commit()
        _send(app)  # both paths answer an open reminder
        if path == "reminder":
            response = app.test_client().post(_links(app)["On a break"],
                                              data={"break_until": "2027-09-01"})
            assert response.status_code == 200
        else:
            editor = sign_in(app.test_client(), app, "editor@example.org")
            response = editor.post(f"/manage/activities/{KNIT}/status",
                                   data={"status": "on_break", "break_until": "2027-09-01"})
            assert response.status_code == 302
        with app.app_context():
            from sitedir.manage.models import ChangeRequest
            from sitedir.manage.publish import activity_snapshot

            activity = db.session.scalar(select(Activity).where(Activity.slug == KNIT))
            change = db.session.scalars(select(ChangeRequest).order_by(ChangeRequest.id.desc())
                                        ).first()
            assert change.status == "approved"
            assert activity.last_reviewed == local_now().date()
            open_reminders = db.session.scalar(select(func.count(Reminder.id)).where(
                Reminder.activity_id == activity.id, Reminder.used_at.is_(None)))
            assert open_reminders == 0
            results.append(activity_snapshot(activity))
    assert results[0] == results[1]


def _age_reminders(app: Flask, days: int) -> None:
    """Move every reminder days into the past (in Python: SQLite date arithmetic is numeric)."""
    with app.app_context():
        for reminder in db.session.scalars(select(Reminder)):
            reminder.sent_at -= dt.timedelta(days=days)
        db.session.commit()


def test_third_unanswered_reminder_marks_not_confirmed(app) -> None:
    for _ in range(3):
        assert "0 listing(s) marked not confirmed" in _send(app)
        _age_reminders(app, 31)
    output = _send(app)
    assert "1 listing(s) marked not confirmed after 3 unanswered reminders" in output
    assert "Queued 0 reminder email(s)" in output  # no fourth reminder
    activity = _activity(app)
    assert activity.not_confirmed_since is not None
    page = app.test_client().get(f"/activities/{KNIT}").data.decode()
    assert 'id="not-confirmed-notice"' in page
    _age_reminders(app, 31)
    assert "0 listing(s) marked" in _send(app) and "Queued 0" in _send(app)


def test_an_answer_in_time_keeps_it_confirmed(app) -> None:
    for _ in range(2):
        _send(app)
        _age_reminders(app, 31)
    _send(app)
    assert app.test_client().post(_links(app)["Still running as shown"]).status_code == 200
    with app.app_context():  # long after: due again, but the answer was a review
        db.session.execute(update(Activity).where(Activity.slug == KNIT).values(
            last_reviewed=local_now().date() - dt.timedelta(days=101)))
        db.session.commit()
    _age_reminders(app, 31)
    assert "0 listing(s) marked not confirmed" in _send(app)
    assert _activity(app).not_confirmed_since is None


def test_freshness_page_counts_for_moderators(app) -> None:
    from tests.manage_helpers import sign_in, sign_in_privileged

    for _ in range(3):
        _send(app)
        _age_reminders(app, 31)
    _send(app)  # marks KNIT not confirmed
    editor = sign_in(app.test_client(), app, "editor@example.org")
    assert editor.get("/manage/freshness").status_code == 403
    moderator = sign_in_privileged(app.test_client(), app, "mod@example.org")
    page = moderator.get("/manage/freshness").data.decode()
    with app.app_context():
        sent = db.session.scalar(select(func.count(Reminder.id)))
        knit = db.session.scalar(select(Activity).where(Activity.slug == KNIT))
    assert re.search(rf'id="reminders-sent">{sent}<', page)
    assert re.search(r'id="reminders-answered">0<', page)
    section = page.split('id="not-confirmed"', 1)[1].split("<h2", 1)[0]
    assert "Not confirmed (1)" in page and knit.title in section and "3 unanswered" in section
    assert "More than a year ago" in page and f"/activities/{KNIT}" in page
