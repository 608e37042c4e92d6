"""Emails from the manage blueprint: sign-in links, decisions, reminders, and telling
moderators that something new is waiting in their queue.

They go through the project's mail outbox (sitedir/mail.py): a row added in the caller's
transaction, sent by the mail worker, so the file backend makes `make run` work offline.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from .. import mail
from ..extensions import db


def send_email(to: str, subject: str, body: str, kind: str) -> None:
    """Add a plain-text email to the outbox; it goes when the caller's transaction commits."""
    mail.enqueue(to, subject, body, "", kind=kind)


def wake_sender() -> None:
    """Nudge the background sender after a commit, so a sign-in link goes at once."""
    mail.wake(current_app._get_current_object())  # type: ignore[attr-defined]


def moderator_addresses() -> list[str]:
    """The email addresses of every active moderator and admin."""
    from .models import User

    return list(db.session.scalars(select(User.email).where(
        User.role.in_(("moderator", "admin")), User.active.is_(True)).order_by(User.id)))


def notify_moderators(kind: str, subject: str, description: str, url: str) -> int:
    """Queue one email per moderator about a new queue item, in the caller's transaction.

    description says what arrived in words safe to email: never the public's names, addresses
    or free text, which stay in the queue behind the sign-in. Returns how many were queued, so
    the caller knows whether to wake the sender after its commit.
    """
    if not current_app.config["MODERATOR_EMAILS_ENABLED"]:
        return 0
    site = current_app.config["SITE_NAME"]
    body = (f"Something new is waiting for a moderator on {site}.\n\n{description}\n\n"
            f"Check it in the moderation queue (you will be asked to sign in):\n{url}\n\n"
            "You get these emails because you are a moderator. An admin can turn them off "
            "with the MODERATOR_EMAILS_ENABLED setting.\n")
    # One line, within the outbox column: a listing's title must not break the header.
    subject_line = " ".join(f"To check: {subject}".split())[:200]
    addresses = moderator_addresses()
    for address in addresses:
        send_email(address, subject_line, body, kind=f"queue-{kind}")
    return len(addresses)
