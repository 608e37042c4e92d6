"""Telling moderators that something new waits in their queue, beside the mail outbox.

Whoever keeps the accounts (self-service, `sitedir.manage`) registers how to find the
moderators' addresses at its init_app, so features that add queue items (suggestions, reports,
change requests) call notify_moderators() without importing it.
"""
from __future__ import annotations

from typing import Callable

from flask import Flask, current_app

from . import mail

EXTENSION_KEY = "sitedir.moderator_addresses"


def register_moderator_addresses(app: Flask, addresses: Callable[[], list[str]]) -> None:
    """Say how to list the addresses of every active moderator."""
    app.extensions[EXTENSION_KEY] = addresses


def notify_moderators(kind: str, subject: str, description: str, url: str) -> int:
    """Queue one email per moderator about a new queue item, in the caller's transaction.

    description says what arrived in words safe to email: never the public's names, addresses
    or free text, which stay in the queue behind the sign-in. Returns how many were queued.
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
    addresses = current_app.extensions.get(EXTENSION_KEY, list)()
    for address in addresses:
        mail.enqueue(address, subject_line, body, "", kind=f"queue-{kind}")
    return len(addresses)
