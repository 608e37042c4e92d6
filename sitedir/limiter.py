"""Rate limits (Flask-Limiter) for the public forms, per IP address and per browser session.

Storage comes from RATELIMIT_STORAGE_URI: memory:// suits one process; use redis:// when
several processes or machines serve the site, or each keeps its own count. Behind a reverse
proxy, wrap the app in werkzeug's ProxyFix so the client's address (not the proxy's) is used.
A breach raises a 429 that sitedir.errors renders as a friendly page.
"""
from __future__ import annotations

import logging
import secrets
import sys
from typing import Callable, NoReturn, TypeVar

from flask import Flask, current_app, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import TooManyRequests

F = TypeVar("F", bound=Callable[..., object])
log = logging.getLogger(__name__)
# Modules that only a pre-forking server (several processes) has loaded.
MULTIPROCESS_SERVERS = {"gunicorn.arbiter": "gunicorn", "uwsgi": "uWSGI"}

limiter = Limiter(key_func=get_remote_address, default_limits=[])


def session_key() -> str:
    """A random id kept in the signed session cookie (no personal data), made on first use."""
    if "limit_id" not in session:
        session["limit_id"] = secrets.token_urlsafe(12)
    return "session:" + session["limit_id"]


def _ip_limit() -> str:
    return str(current_app.config["CONNECT_RATE_LIMIT_IP"])


def _session_limit() -> str:
    return str(current_app.config["CONNECT_RATE_LIMIT_SESSION"])


def form_limits(scope: str) -> Callable[[F], F]:
    """Limit POSTs to a form per IP and per session; both limits share one scope per form."""
    def decorate(view: F) -> F:
        limited = limiter.limit(_ip_limit, methods=["POST"], scope=f"{scope}-ip")(view)
        limited = limiter.limit(_session_limit, methods=["POST"], key_func=session_key,
                                scope=f"{scope}-session")(limited)
        return limited
    return decorate


def shared_memory_warning(app: Flask) -> str | None:
    """A warning when limits are kept in memory:// but several processes serve the site."""
    storage = str(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    server = next((name for module, name in MULTIPROCESS_SERVERS.items()
                   if module in sys.modules), None)
    if not storage.startswith("memory://") or server is None:
        return None
    return (f"RATELIMIT_STORAGE_URI is memory:// under {server}: each worker process (and "
            "each node) keeps its own counts, so every rate limit is multiplied by their "
            "number. Set RATELIMIT_STORAGE_URI=redis://... when more than one process serves.")


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    warning = shared_memory_warning(app)
    if warning:
        log.warning(warning)


def _user_key() -> str:
    """The signed-in account (not the session, which a new sign-in would renew)."""
    from flask_login import current_user

    return "user:" + (str(current_user.id) if current_user.is_authenticated else "anonymous")


def _failed(response: object) -> bool:
    return getattr(response, "status_code", 200) in (400, 401, 403)


def failed_attempt_limits(scope: str, setting: str) -> Callable[[F], F]:
    """Limit failed POSTs (a 400 answer) per account and per IP; successes are not counted."""
    def limit() -> str:
        return str(current_app.config[setting])

    def decorate(view: F) -> F:
        limited = limiter.limit(limit, methods=["POST"], scope=f"{scope}-ip",
                                deduct_when=_failed)(view)
        limited = limiter.limit(limit, methods=["POST"], key_func=_user_key,
                                scope=f"{scope}-user", deduct_when=_failed)(limited)
        return limited
    return decorate


def refuse(message: str) -> NoReturn:
    """Stop the request with a 429 whose page says, in plain words, which limit was reached."""
    error = TooManyRequests(message)
    error.public_detail = message
    raise error
