"""Absolute links on the public address (PUBLIC_BASE_URL), for emails, QR codes and feeds."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, url_for


def public_url(endpoint: str, **values: Any) -> str:
    """PUBLIC_BASE_URL (which includes any path prefix) plus the route, whatever host the
    request came in on; works in commands too."""
    if not has_request_context():  # a command or script: build the route as if at the root
        with current_app.test_request_context("/"):
            return public_url(endpoint, **values)
    path = url_for(endpoint, **values)[len(request.script_root):]
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def public_host() -> str:
    """The host name of PUBLIC_BASE_URL, without port: for Message-IDs, UIDs and no-reply@."""
    netloc = current_app.config["PUBLIC_BASE_URL"].split("://", 1)[-1].split("/", 1)[0]
    return netloc.split(":", 1)[0]


NEXT_MAX_LENGTH = 300  # what a sign-in link can carry (SignInToken.next_url)


def safe_next(target: object, default: str = "") -> str:
    """A path on this site to go back to, or default: the one check before any redirect.

    Refused: anything with a scheme or host, "//" or "\\" (browsers read both as another
    host), and any control character or space, since browsers drop tabs and line breaks from
    URLs ("/\\t/evil.example" becomes "//evil.example") and a line break in a header is a 500.
    """
    if not isinstance(target, str) or not target.startswith("/") or \
            len(target) > NEXT_MAX_LENGTH:
        return default
    if target.startswith("//") or "\\" in target or \
            any(ord(char) < 0x21 or 0x7f <= ord(char) <= 0x9f for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
