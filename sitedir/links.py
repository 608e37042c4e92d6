"""Absolute links on the public address (PUBLIC_BASE_URL), for emails, QR codes and feeds.

Links are never built from the request's Host header: a forged Host would otherwise put an
attacker's address into sign-in emails. When PUBLIC_BASE_URL is unset, the one-process server
(`python -m sitedir.serve`, `make run`) fills in the address it serves on; the production entry
point (wsgi.py) refuses to start without it.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request, url_for

UNSET_MESSAGE = ("PUBLIC_BASE_URL is not set: set it to the site's public address, e.g. "
                 "FLASK_PUBLIC_BASE_URL=https://activities.example.org (links in emails, QR "
                 "codes and feeds are built on it, never on the request's Host header)")


TESTING_BASE_URL = "http://localhost"


class PublicBaseUrlMissing(RuntimeError):
    """PUBLIC_BASE_URL is needed here and was not set."""


def base_url(app: Flask | None = None) -> str:
    """PUBLIC_BASE_URL without a trailing slash; raises PublicBaseUrlMissing when unset."""
    app = app or current_app
    base = str(app.config.get("PUBLIC_BASE_URL") or "").strip()
    if not base and app.testing:
        base = TESTING_BASE_URL  # a test app without the setting: fixed, never the Host header
    if not base:
        raise PublicBaseUrlMissing(UNSET_MESSAGE)
    return base.rstrip("/")


def serving_url(host: str, port: int) -> str:
    """The address a server listening on host:port answers on, for links when no
    PUBLIC_BASE_URL is set ('0.0.0.0' and '::' listen everywhere: link to this machine)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "[::1]"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def use_serving_address(app: Flask, host: str, port: int) -> None:
    """Links point where this server answers, unless PUBLIC_BASE_URL says otherwise."""
    if not str(app.config.get("PUBLIC_BASE_URL") or "").strip():
        app.config["PUBLIC_BASE_URL"] = serving_url(host, port)


def require_public_base_url(app: Flask) -> None:
    """Production start-up check: refuse to serve without PUBLIC_BASE_URL."""
    base_url(app)


def public_url(endpoint: str, **values: Any) -> str:
    """PUBLIC_BASE_URL (which includes any path prefix) plus the route, whatever host the
    request came in on; works in commands too."""
    if not has_request_context():  # a command or script: build the route as if at the root
        with current_app.test_request_context("/"):
            return public_url(endpoint, **values)
    path = url_for(endpoint, **values)[len(request.script_root):]
    return base_url() + path


def public_host() -> str:
    """The host name of PUBLIC_BASE_URL, without port: for Message-IDs, UIDs and no-reply@."""
    configured = str(current_app.config.get("PUBLIC_BASE_URL") or "")
    netloc = configured.split("://", 1)[-1].split("/", 1)[0]
    if netloc.startswith("["):
        return netloc.split("]", 1)[0] + "]"
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
