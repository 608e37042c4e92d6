"""Emails from the manage blueprint: sign-in links, decisions and reminders; and who the
moderators are, for sitedir.notify.

They go through the project's mail outbox (sitedir/mail.py): a row added in the caller's
transaction, sent by the mail worker, so the file backend makes `make run` work offline.
"""
from __future__ import annotations

from sqlalchemy import select

from .. import mail
from ..extensions import db


def send_email(to: str, subject: str, body: str, kind: str) -> None:
    """Add a plain-text email to the outbox; it goes when the caller's transaction commits."""
    mail.enqueue(to, subject, body, "", kind=kind)


def moderator_addresses() -> list[str]:
    """The email addresses of every active moderator and admin."""
    from .models import User

    return list(db.session.scalars(select(User.email).where(
        User.role.in_(("moderator", "admin")), User.active.is_(True)).order_by(User.id)))
