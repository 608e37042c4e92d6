"""Who is signed in and what they may do: Flask-Login setup, role checks, decorators.

Every manage route checks the role it needs, and every route that touches an organisation's
listing checks the object too (`require_editor`): ids come from the URL and the database,
never from the form.
"""
from __future__ import annotations

import functools
import hashlib
import time
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import (
    Flask, abort, current_app, has_request_context, redirect, request, session, url_for,
)
from flask_login import LoginManager, current_user

from ..extensions import db
from ..links import safe_next
from ..models import Organisation

login_manager = LoginManager()
login_manager.login_view = "manage.sign_in"
login_manager.login_message = None  # the sign-in page says what to do
login_manager.session_protection = "basic"


@login_manager.user_loader
def _load_user(user_id: str) -> Any:
    """The session holds "<id>:<nonce>"; a changed nonce (sign out) ends the session."""
    from .models import User

    ident, _, nonce = user_id.partition(":")
    if not ident.isdigit():
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.active or user.session_nonce != nonce:
        return None
    return user


def hash_secret(value: str) -> str:
    """SHA-256 of a token or an IP address: what the database keeps instead of the value."""
    return hashlib.sha256(f"{current_app.config['SECRET_KEY']}:{value}".encode()).hexdigest()


def client_ip() -> str:
    """The client's address (the proxy's X-Forwarded-For is trusted only via ProxyFix)."""
    return (request.remote_addr or "") if has_request_context() else ""


def can_edit(organisation: Organisation | None) -> bool:
    """Moderators edit everything; an editor only their own organisations."""
    if organisation is None or not current_user.is_authenticated:
        return False
    if current_user.is_moderator:
        return True
    return any(m.organisation_id == organisation.id for m in current_user.memberships)


def require_editor(organisation: Organisation | None) -> None:
    """Stop the request unless the signed-in user may edit this organisation.

    A moderator editing an organisation they are not a member of uses a privileged power,
    so that needs the second factor too.
    """
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    if not can_edit(organisation):
        abort(403)
    member = any(m.organisation_id == organisation.id for m in current_user.memberships)
    if not member and not second_factor_given():
        abort(ask_for_second_factor())


def signed_in(view: Callable) -> Callable:
    """Any signed-in user."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)
    return wrapped


def totp_verified() -> bool:
    """This session gave a valid second factor for this user, within TOTP_VALID_HOURS."""
    if not has_request_context() or not current_user.is_authenticated:
        return False
    given = session.get("totp_at")
    hours = float(current_app.config["TOTP_VALID_HOURS"])
    return session.get("totp_user") == current_user.get_id() and isinstance(given, (int, float)) \
        and 0 <= time.time() - given <= hours * 3600


def mark_second_factor_given() -> None:
    """Record in the session that the signed-in user just gave a second factor."""
    session["totp_user"] = current_user.get_id()
    session["totp_at"] = int(time.time())


def second_factor_given() -> bool:
    """True when privileged work may go ahead: TOTP given (or not required by settings)."""
    return not current_app.config["TOTP_REQUIRED"] or totp_verified()


def ask_for_second_factor() -> Any:
    """Send the user to the authenticator page, and back here (or to where they came from)."""
    if request.method in ("GET", "HEAD"):
        back = request.full_path.removesuffix("?")
    else:  # a POST cannot be replayed after a redirect: return to the page it came from
        back = urlsplit(request.referrer or "").path or url_for("manage.dashboard")
    return redirect(url_for("manage.two_factor", next=safe_next(back)))


def _privileged(check: Callable[[Any], bool]) -> Callable[[Callable], Callable]:
    """A decorator: signed in, passes check(user), and has given the second factor."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not check(current_user):
                abort(403)
            if not second_factor_given():
                return ask_for_second_factor()
            return view(*args, **kwargs)
        return wrapped
    return decorate


# Moderators and admins: every page and action of theirs needs the second factor (TOTP).
moderator_required = _privileged(lambda user: user.is_moderator)
admin_required = _privileged(lambda user: user.is_admin)


def audit(action: str, target: str = "", actor: Any = None, **detail: Any) -> None:
    """Add an audit event to the session; it commits with the change it records."""
    from .models import AuditEvent

    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    db.session.add(AuditEvent(action=action, target=target[:200],
                              actor_id=actor.id if actor is not None else None,
                              ip=client_ip()[:64], detail=detail))


def init_app(app: Flask) -> None:
    login_manager.init_app(app)

    @app.context_processor
    def _auth_context() -> dict[str, Any]:
        return {"can_edit": can_edit}
