"""Who is signed in and what they may do: Flask-Login setup, role checks, decorators.

Every manage route checks the role it needs, and every route that touches an organisation's
listing checks the object too (`require_editor`): ids come from the URL and the database,
never from the form.
"""
from __future__ import annotations

import functools
import hashlib
from typing import Any, Callable

from flask import (
    Flask, abort, current_app, has_request_context, redirect, request, session, url_for,
)
from flask_login import LoginManager, current_user

from ..extensions import db
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
    """Stop the request unless the signed-in user may edit this organisation."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    if not can_edit(organisation):
        abort(403)


def signed_in(view: Callable) -> Callable:
    """Any signed-in user."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)
    return wrapped


def moderator_required(view: Callable) -> Callable:
    """Moderators and admins."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_moderator:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def totp_verified() -> bool:
    """This session has given a valid authenticator code for this user."""
    return session.get("totp_user") == current_user.get_id()


def admin_required(view: Callable) -> Callable:
    """Admins who have given a second factor (TOTP) in this session."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        if current_app.config["ADMIN_REQUIRE_TOTP"] and not totp_verified():
            return redirect(url_for("manage.two_factor", next=request.full_path))
        return view(*args, **kwargs)
    return wrapped


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
