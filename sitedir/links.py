"""Absolute links on the public address (PUBLIC_BASE_URL), for emails, QR codes and feeds."""
from __future__ import annotations

from typing import Any

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
