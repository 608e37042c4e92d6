"""Helpers for the connect, mail and privacy tests: a real SMTP server and form filling."""
from __future__ import annotations

import asyncio
import email
import re
import threading
from email.message import Message

from aiosmtpd.smtp import SMTP, Envelope, Session

FAST = {"CONNECT_MIN_FILL_SECONDS": 0, "MAIL_BACKEND": "file"}


class LocalSMTPServer:
    """aiosmtpd on 127.0.0.1:0 in its own event-loop thread; keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse_with: str | None = None  # e.g. "451 try later": refuse the next DATA
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse_with:
            reply, self.refuse_with = self.refuse_with, None
            return reply
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content or b""))
        return "250 Message accepted for delivery"

    def __enter__(self) -> LocalSMTPServer:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(self.loop.create_server(
            lambda: SMTP(self, hostname="localhost"), "127.0.0.1", 0), self.loop)
        self.server = future.result(5)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def config(self) -> dict[str, object]:
        return {"MAIL_BACKEND": "smtp", "MAIL_HOST": "127.0.0.1", "MAIL_PORT": self.port,
                "MAIL_USE_TLS": False, "MAIL_USE_SSL": False, "MAIL_TIMEOUT": 5}


def hidden_value(html: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) \
        or re.search(rf'value="([^"]*)"[^>]*name="{name}"', html)
    return found.group(1) if found else ""


def submit(client, url: str, data: dict[str, str]):
    """GET the form (for its start time and CSRF token), then POST data like a browser."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    payload = {"started": hidden_value(page.text, "started"),
               "csrf_token": hidden_value(page.text, "csrf_token")}
    payload.update(data)
    return client.post(url, data=payload)


def error_messages(html: str) -> list[str]:
    """The inline error messages on a page, without the visually hidden "Error:" prefix."""
    return [re.sub(r"<[^>]+>Error:</span>\s*", "", text).strip()
            for text in re.findall(r'class="govuk-error-message">(.*?)</p>', html, re.S)]


RECOMMENDATION = {
    "role": "library", "recommender_name": "Sam Reader",
    "recommender_organisation": "Leeds Central Library", "person_name": "Alex",
    "note": "Ask for Pat when you arrive.", "delivery": "print",
}
