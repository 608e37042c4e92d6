"""The second factor for moderators and admins: TOTP (an authenticator app) or recovery codes.

Every moderation and admin page and action needs it (manage.auth's decorators). Each code
works once: the 30-second step of the last accepted code is kept, and an older or equal step is
refused, with a conditional UPDATE so two racing requests cannot both use one code. Wrong codes
are rate-limited per account and per IP (TOTP_RATE_LIMIT). The secret is stored encrypted
(sitedir.crypto); recovery codes only as keyed hashes.
"""
from __future__ import annotations

import re
import secrets
import time

import pyotp
import segno
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, update

from .. import crypto
from .auth import (
    audit, hash_secret, mark_second_factor_given, moderator_required, signed_in, totp_verified,
)
from ..extensions import db
from ..limiter import failed_attempt_limits
from ..links import safe_next
from ..models import utcnow
from . import bp
from .models import RecoveryCode, User
from .notify import send_email

RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32: no 0/O or 1/l to confuse
STEP_SECONDS = 30
CODE_ERROR = "Enter the 6-digit code your authenticator app shows now, or a recovery code"


def totp_secret(user: User) -> str:
    """The user's plain TOTP secret ('' if none); a legacy unencrypted one is encrypted now."""
    stored = user.totp_secret or ""
    if not stored:
        return ""
    if not crypto.is_encrypted(stored):
        user.totp_secret = crypto.encrypt(stored)  # committed with the caller's change
        return stored
    return crypto.decrypt(stored)


def set_totp_secret(user: User, secret: str) -> None:
    user.totp_secret = crypto.encrypt(secret) if secret else ""


def forget_second_factor(user: User) -> None:
    """A lost phone: the next privileged visit enrols a new authenticator."""
    user.totp_secret, user.totp_confirmed, user.totp_last_step = "", False, None
    for code in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(code)


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step (±1 for clock drift) whose code this is, or None."""
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def use_totp_code(user: User, code: str, now: float | None = None) -> bool:
    """Accept a current code once: its step must be later than the last accepted step."""
    if not re.fullmatch(r"\d{6}", code):
        return False
    step = _matching_step(totp_secret(user), code, time.time() if now is None else now)
    if step is None:
        return False
    taken = db.session.execute(
        update(User).where(User.id == user.id,
                           (User.totp_last_step.is_(None)) | (User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False)).rowcount
    return taken == 1


def normal_recovery_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def use_recovery_code(user: User, code: str) -> bool:
    """Accept an unused recovery code of this user once."""
    code = normal_recovery_code(code)
    if not re.fullmatch(r"[a-z2-7]{12}", code):
        return False
    taken = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                   RecoveryCode.code_hash == hash_secret(f"recovery:{code}"),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    return taken == 1


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with fresh ones; returns them for showing once."""
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(12))  # 60 random bits
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_secret(f"recovery:{raw}")))
    return codes


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def _qr_svg(uri: str) -> str:
    return segno.make(uri, error="m").svg_inline(
        scale=4, title="QR code for your authenticator app")


def _enrolment(user: User, next_url: str, error: str):
    secret = totp_secret(user)
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["SITE_NAME"])
    return render_template("manage/two_factor.html", enrolling=not user.totp_confirmed,
                           secret=secret, uri=uri, qr_svg=_qr_svg(uri), error=error,
                           next=next_url), 400 if error else 200


def _enrolled(user: User, next_url: str):
    """First code accepted: confirm, make recovery codes, tell the owner by email."""
    user.totp_confirmed = True
    codes = new_recovery_codes(user)
    site = current_app.config["SITE_NAME"]
    send_email(user.email, f"An authenticator app was set up for {site}",
               f"An authenticator app was just set up for your account on {site}, and new "
               "recovery codes were made.\n\nIf this was not you, tell an admin at once: "
               "someone may have access to your email.\n", kind="totp-enrolled")
    audit("totp.enrolled", user.email, actor=user)
    db.session.commit()
    return render_template("manage/recovery_codes.html", codes=codes, next=next_url)


@bp.route("/two-factor", methods=["GET", "POST"])
@signed_in
@failed_attempt_limits("two-factor", "TOTP_RATE_LIMIT")
def two_factor():
    """Moderators and admins: enrol an authenticator app on first visit, then give a code."""
    if not current_user.is_moderator:
        abort(403)
    user = db.session.get(User, current_user.id)
    next_url = safe_next(request.values.get("next")) or url_for(
        "manage.admin" if user.is_admin else "manage.queue")
    if totp_verified():
        return redirect(next_url)
    if not user.totp_secret:
        set_totp_secret(user, pyotp.random_base32())
        db.session.commit()
    if request.method != "POST":
        page = _enrolment(user, next_url, "")
        db.session.commit()  # a legacy plain secret, just read, is now stored encrypted
        return page
    code = request.form.get("code", "")
    by_app = use_totp_code(user, re.sub(r"\s", "", code))
    by_recovery = not by_app and user.totp_confirmed and use_recovery_code(user, code)
    if not (by_app or by_recovery):
        audit("totp.failed", user.email, actor=user)
        db.session.commit()
        return _enrolment(user, next_url, CODE_ERROR)
    mark_second_factor_given()
    audit("totp.verified", user.email, actor=user, method="app" if by_app else "recovery")
    if not user.totp_confirmed:
        return _enrolled(user, next_url)
    db.session.commit()
    if by_recovery:
        flash(f"You used a recovery code: {recovery_codes_left(user)} left. Make new ones from "
              "your account page if you are running out.", "info")
    return redirect(next_url)


@bp.post("/two-factor/recovery-codes")
@moderator_required
def regenerate_recovery_codes():
    """New recovery codes (the old ones stop working); shown once."""
    user = db.session.get(User, current_user.id)
    codes = new_recovery_codes(user)
    audit("totp.recovery_codes", user.email, actor=user)
    db.session.commit()
    return render_template("manage/recovery_codes.html", codes=codes,
                           next=url_for("manage.dashboard", all=1))
