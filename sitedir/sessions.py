"""Session keys that belong to the browser rather than to whoever signs in (a connector's
shortlist, say): kept when signing in starts a fresh session. Each feature registers its own
keys at init_app, so the sign-in code names none of them."""
from __future__ import annotations

from flask import Flask, current_app, session

EXTENSION_KEY = "sitedir.kept_at_sign_in"


def keep_at_sign_in(app: Flask, *keys: str) -> None:
    """These session keys survive sign-in (they must hold nothing about the account)."""
    app.extensions.setdefault(EXTENSION_KEY, set()).update(keys)


def fresh_session() -> None:
    """Empty the session except the registered browser-level keys (no fixation: the signed
    cookie is rewritten and every sign-in or account key from before is gone)."""
    kept = {key: session[key] for key in current_app.extensions.get(EXTENSION_KEY, ())
            if key in session}
    session.clear()
    session.update(kept)
