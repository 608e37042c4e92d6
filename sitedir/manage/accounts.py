"""Passwordless sign-in by emailed link, and sign out (the second factor is two_factor.py).

A link carries 256 random bits; only a keyed SHA-256 of it is stored. Opening it (GET) shows a
"Sign in" button and changes nothing, because mail scanners fetch links; the POST consumes it.
"""
from __future__ import annotations

import datetime as dt
import secrets

from flask import (
    abort, current_app, flash, redirect, render_template, request, session, url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select, update

from .auth import audit, client_ip, hash_secret
from ..sessions import fresh_session
from ..extensions import db
from ..models import utcnow
from . import bp
from .models import SignInToken, User
from .rule_forms import SignInForm
from ..links import public_url, safe_next
from .notify import send_email


def over_limit(email: str, ip_hash: str) -> bool:
    """Hourly limits per (address, IP) and per IP, counted from the token table itself.

    Never per address alone: requests from someone else's network must not lock the owner
    of an address out of their own account.
    """
    since = utcnow() - dt.timedelta(hours=1)
    recent = select(func.count(SignInToken.id)).where(SignInToken.created_at > since,
                                                      SignInToken.ip_hash == ip_hash)
    per_address = db.session.scalar(recent.where(SignInToken.email == email))
    per_ip = db.session.scalar(recent)
    config = current_app.config
    return per_address >= int(config["SIGNIN_LIMIT_PER_EMAIL_AND_IP"]) \
        or per_ip >= int(config["SIGNIN_LIMIT_PER_IP"])


def issue_sign_in_link(email: str, next_url: str = "") -> str:
    """Store a new token for email and queue the email; returns the link (the caller commits)."""
    token = secrets.token_urlsafe(32)  # 256 bits
    minutes = int(current_app.config["SIGNIN_TOKEN_MINUTES"])
    db.session.add(SignInToken(
        token_hash=hash_secret(token), email=email, ip_hash=hash_secret(client_ip()),
        next_url=next_url, expires_at=utcnow() + dt.timedelta(minutes=minutes)))
    link = public_url("manage.sign_in_link", token=token)
    site = current_app.config["SITE_NAME"]
    send_email(email, f"Sign in to {site}",
               f"Use this link to sign in to {site}:\n\n{link}\n\n"
               f"It works once, within {minutes} minutes. If you did not ask to sign in, "
               "you can ignore this email.\n", kind="sign-in")
    return link


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("manage.dashboard"))
    form = SignInForm()
    if form.validate_on_submit():
        email = form.values["email"]
        if over_limit(email, hash_secret(client_ip())):
            abort(429)
        issue_sign_in_link(email, next_url)
        audit("signin.requested", email, actor=None)
        db.session.commit()
        # The same answer for known and unknown addresses: the page must not reveal accounts.
        return render_template("manage/check_email.html", email=email,
                               minutes=current_app.config["SIGNIN_TOKEN_MINUTES"])
    return render_template("manage/sign_in.html", errors=form.messages,
                           email=form.values["email"], next=next_url), \
        400 if form.messages else 200


def _usable_token(token: str) -> SignInToken | None:
    row = db.session.scalar(select(SignInToken).where(
        SignInToken.token_hash == hash_secret(token)))
    if row is None or row.used_at is not None or row.expires_at < utcnow():
        return None
    return row


@bp.get("/sign-in/<token>")
def sign_in_link(token: str):
    """Show the "Sign in" button; never consumes the token."""
    row = _usable_token(token)
    return render_template("manage/sign_in_link.html", valid=row is not None,
                           email=row.email if row else ""), 200 if row else 410


@bp.post("/sign-in/<token>")
def sign_in_confirm(token: str):
    """Consume the token (once, even with two racing requests) and sign in."""
    row = _usable_token(token)
    if row is None:
        return render_template("manage/sign_in_link.html", valid=False, email=""), 410
    # A conditional UPDATE: of two simultaneous POSTs, only one sees rowcount 1.
    taken = db.session.execute(
        update(SignInToken).where(SignInToken.id == row.id, SignInToken.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        db.session.rollback()
        return render_template("manage/sign_in_link.html", valid=False, email=""), 410
    user = db.session.scalar(select(User).where(User.email == row.email))
    if user is None:  # first sign-in: the account exists once the address is proven
        user = User(email=row.email, session_nonce=secrets.token_hex(16), active=True, role="")
        db.session.add(user)
    if not user.active:
        db.session.commit()
        abort(403)
    if not user.session_nonce:
        user.session_nonce = secrets.token_hex(16)
    user.last_sign_in_at = utcnow()
    db.session.flush()
    audit("signin.success", user.email, actor=user)
    next_url = row.next_url
    db.session.commit()
    fresh_session()  # nothing from before sign-in carries over but the shortlist and the like
    login_user(user)
    return redirect(safe_next(next_url) or url_for("manage.dashboard"))


@bp.post("/sign-out")
def sign_out():
    if current_user.is_authenticated:
        user = db.session.get(User, current_user.id)
        user.session_nonce = secrets.token_hex(16)  # ends this and every copy of the session
        audit("signout", user.email, actor=user)
        db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("manage.sign_in"))
