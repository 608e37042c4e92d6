"""Emails from the manage blueprint: sign-in links, decisions, reminders.

They go through the project's mail outbox (sitedir/mail.py): a row added in the caller's
transaction, sent by the mail worker, so the file backend makes `make run` work offline.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for

from .. import mail


def send_email(to: str, subject: str, body: str, kind: str) -> None:
    """Add a plain-text email to the outbox; it goes when the caller's transaction commits."""
    mail.enqueue(to, subject, body, "", kind=kind)


def wake_sender() -> None:
    """Nudge the background sender after a commit, so a sign-in link goes at once."""
    mail.wake(current_app._get_current_object())  # type: ignore[attr-defined]


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute link for an email: PUBLIC_BASE_URL (which includes any path prefix) plus the
    route, whatever host the request came in on."""
    path = url_for(endpoint, **values)[len(request.script_root):]
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path
