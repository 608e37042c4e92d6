"""Accounts, roles, change requests, history, claims, reminders and the audit log.

Moderator and admin are site-wide roles on User; an organisation editor is a Membership.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import Organisation, utcnow
from ..text import email_address

SITE_ROLES = ("", "moderator", "admin", "insight")  # insight: read-only anonymous reports
REQUEST_KINDS = ("activity", "new_activity", "organisation", "register")
REQUEST_STATES = ("draft", "pending", "approved", "rejected", "superseded")


def account_email(value: object) -> str:
    """An account's address: one valid address (sitedir.text), lower-cased, since accounts are
    matched by address and people type it in any case. Raises TextError."""
    return email_address(value).lower()


class User(db.Model):
    """Someone who signs in by email link."""

    __tablename__ = "manage_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20), default="")  # see SITE_ROLES
    # Part of the session's user id: changing it ends every session of this user (sign out).
    session_nonce: Mapped[str] = mapped_column(String(32), default="")
    # Encrypted with ENCRYPTION_KEY (sitedir.crypto); read it through manage.two_factor.
    totp_secret: Mapped[str] = mapped_column(String(255), default="")
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The 30-second step of the last accepted code: a code is accepted once, never again.
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan")

    # Flask-Login's user protocol.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    @property
    def is_moderator(self) -> bool:
        return self.role in ("moderator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def organisations(self) -> list[Organisation]:
        return sorted((m.organisation for m in self.memberships), key=lambda o: o.name.lower())

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Membership(db.Model):
    """A user's role in one organisation (editor)."""

    __tablename__ = "manage_membership"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("manage_user.id", ondelete="CASCADE"),
                                         index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="editor")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship()


class SignInToken(db.Model):
    """An emailed sign-in link: only its SHA-256 is stored; single use; short-lived."""

    __tablename__ = "manage_signin_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    ip_hash: Mapped[str] = mapped_column(String(64), index=True, default="")
    next_url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app (a lost phone); kept hashed."""

    __tablename__ = "manage_recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("manage_user.id", ondelete="CASCADE"),
                                         index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class TrustedOrganisation(db.Model):
    """An organisation whose editors' changes publish without review."""

    __tablename__ = "manage_trusted_organisation"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True)
    set_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("manage_user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ChangeRequest(db.Model):
    """A proposed change: the fields as the editor wants them, and what they saw (the base)."""

    __tablename__ = "manage_change_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # see REQUEST_KINDS
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=True, index=True)
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), nullable=True, index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    base: Mapped[dict] = mapped_column(JSON, default=dict)
    summary: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("manage_user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("manage_user.id", ondelete="SET NULL"), nullable=True)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")

    organisation: Mapped[Organisation | None] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])


class ListingVersion(db.Model):
    """A published state of an activity or organisation, for history and restore."""

    __tablename__ = "manage_listing_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(20))  # activity or organisation
    target_uuid: Mapped[str] = mapped_column(String(36), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=True, index=True)
    snapshot: Mapped[dict] = mapped_column(JSON)
    change_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("manage_change_request.id", ondelete="SET NULL"), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("manage_user.id", ondelete="SET NULL"), nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()


class Claim(db.Model):
    """"Is this your group?": a user asks to edit an organisation's listings."""

    __tablename__ = "manage_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("manage_user.id", ondelete="CASCADE"),
                                         index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    role_in_group: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("manage_user.id", ondelete="SET NULL"), nullable=True)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship()


class Reminder(db.Model):
    """A freshness reminder about one activity; its one-click answer link works once."""

    __tablename__ = "manage_reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"),
                                             index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sent_to: Mapped[str] = mapped_column(String(254), default="")
    sequence: Mapped[int] = mapped_column(Integer, default=1)  # 1st, 2nd ... unanswered reminder
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    answer: Mapped[str] = mapped_column(String(20), default="")


class AuditEvent(db.Model):
    """Who did what when: sign-ins, sign-outs and moderation decisions."""

    __tablename__ = "manage_audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("manage_user.id", ondelete="SET NULL"), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()
