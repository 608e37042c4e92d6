"""`flask users create EMAIL --role ...`: bootstrap accounts before anyone can sign in."""
from __future__ import annotations

import secrets

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import Organisation
from ..text import TextError
from .models import Membership, User, account_email
from .two_factor import forget_second_factor


def create_user(email: str, role: str, organisation_slug: str | None = None) -> User:
    """Create or update a user: role is admin, moderator, insight (read-only anonymous reports)
    or editor (of an organisation)."""
    try:
        email = account_email(email)
    except TextError as error:
        raise click.ClickException(f"{email!r}: {error}") from error
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, session_nonce=secrets.token_hex(16), active=True, role="")
        db.session.add(user)
    if role in ("admin", "moderator", "insight"):
        user.role = role
    if organisation_slug:
        organisation = db.session.scalar(
            select(Organisation).where(Organisation.slug == organisation_slug))
        if organisation is None:
            raise click.ClickException(f"no organisation with slug {organisation_slug!r}")
        db.session.flush()
        if not any(m.organisation_id == organisation.id for m in user.memberships):
            db.session.add(Membership(user=user, organisation=organisation))
    elif role == "editor":
        raise click.ClickException("an editor needs --organisation SLUG")
    db.session.commit()
    return user


users_cli = AppGroup("users", help="Manage the accounts of editors, moderators and admins.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "moderator", "insight", "editor"]),
              required=True, help="admin and moderator are site-wide; insight reads the anonymous "
              "reports under /insight/ (commissioners); editor edits one organisation.")
@click.option("--organisation", "organisation_slug", default=None,
              help="Slug of the organisation the user edits.")
def create_command(email: str, role: str, organisation_slug: str | None) -> None:
    """Create (or update) an account; the person signs in with an emailed link."""
    user = create_user(email, role, organisation_slug)
    where = f" of {organisation_slug}" if organisation_slug else ""
    click.echo(f"{user.email}: {role}{where}. Sign in at /manage/sign-in.")


@users_cli.command("list")
def list_command() -> None:
    """Show every account with its role and organisations."""
    for user in db.session.scalars(select(User).order_by(User.email)):
        organisations = ", ".join(o.slug for o in user.organisations)
        click.echo(f"{user.email}\t{user.role or 'editor'}\t{organisations}")


@users_cli.command("reset-totp")
@click.argument("email")
def reset_totp_command(email: str) -> None:
    """Forget an authenticator and its recovery codes (lost phone): enrol again next visit."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no account for {email}")
    forget_second_factor(user)
    user.session_nonce = secrets.token_hex(16)  # and end their sessions
    db.session.commit()
    click.echo(f"{user.email}: authenticator forgotten; sessions ended.")
