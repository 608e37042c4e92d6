"""Recommendations (signposts), their activities, and reports for moderators.

A recommendation keeps, for good, only what it was (activities), when (month), by which kind
of connector (role) and how it was handed over (delivery). The names and the note are personal
data: erased once an email has gone, and by `flask privacy purge` after PRIVACY_RETENTION_DAYS.
The person's email address never lives here, only in the outbox row (sitedir.mail).
"""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import privacy
from ..extensions import db
from ..models import Activity, utcnow

ROLES = {
    "library": "Library",
    "youth_work": "Youth work",
    "link_worker": "Social prescribing link worker",
    "gp_practice": "GP practice",
    "housing": "Housing",
    "job_centre": "Job centre",
    "vcse": "Voluntary or community organisation",
    "other": "Other",
}
DELIVERIES = {
    "print": "Print a signpost sheet",
    "email": "Email it to the person",
    "qr": "Show a QR code on screen for the person to scan",
}
PROBLEM_REASONS = {
    "closed": "The activity has closed or stopped",
    "wrong_time": "The day or time is wrong",
    "wrong_place": "The place or address is wrong",
    "wrong_cost": "The cost is wrong",
    "wrong_access": "The access information is wrong",
    "wrong_contact": "The contact details are wrong",
    "safeguarding": "A safeguarding concern: someone may be at risk of harm",
    "other": "Something else",
}
# Goes straight to SAFEGUARDING_CONTACT and never into the moderators' queue.
SAFEGUARDING = "safeguarding"


def new_token() -> str:
    """An unguessable id for a recommendation's confirmation and print pages."""
    return secrets.token_urlsafe(16)


class Recommendation(db.Model):
    """One signpost: one or more activities handed to a person by a connector."""

    __tablename__ = "recommendation"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # "2026-11": portable grouping
    role: Mapped[str] = mapped_column(String(20))
    delivery: Mapped[str] = mapped_column(String(10))
    large_print: Mapped[bool] = mapped_column(default=False)
    # Personal data, erased after the email goes or after the retention period.
    recommender_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    recommender_organisation: Mapped[str | None] = mapped_column(String(120), nullable=True)
    person_name: Mapped[str | None] = mapped_column(String(40), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    outbox_email_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_email.id", ondelete="SET NULL"), nullable=True, index=True)

    items: Mapped[list[RecommendationItem]] = relationship(
        back_populates="recommendation", cascade="all, delete-orphan",
        order_by="RecommendationItem.position")

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def activities(self) -> list[Activity]:
        """The recommended activities still listed, in the order chosen."""
        return [item.activity for item in self.items if item.activity is not None]

    def erase_personal_data(self) -> None:
        """Keep activities, month, role and delivery; forget names and the note."""
        self.recommender_name = None
        self.recommender_organisation = None
        self.person_name = None
        self.note = None
        self.erased_at = utcnow()


class RecommendationItem(db.Model):
    """One activity in a recommendation (kept by uuid too, so counts outlive a deletion)."""

    __tablename__ = "recommendation_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendation.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activity.id", ondelete="SET NULL"), nullable=True, index=True)
    activity_uuid: Mapped[str] = mapped_column(String(36), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    recommendation: Mapped[Recommendation] = relationship(back_populates="items")
    activity: Mapped[Activity | None] = relationship()


class Suggestion(db.Model):
    """A group someone thinks should be listed, waiting for a moderator."""

    __tablename__ = "suggestion"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    group_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    where: Mapped[str] = mapped_column(String(300), default="")
    when: Mapped[str] = mapped_column(String(300), default="")
    contact: Mapped[str] = mapped_column(String(300), default="")  # the group's public contact
    role: Mapped[str] = mapped_column(String(20), default="")
    status: Mapped[str] = mapped_column(String(10), default="new", index=True)


class ProblemReport(db.Model):
    """Someone says a listing is wrong; a moderator checks it."""

    __tablename__ = "problem_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activity.id", ondelete="SET NULL"), nullable=True, index=True)
    activity_uuid: Mapped[str] = mapped_column(String(36), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="new", index=True)

    activity: Mapped[Activity | None] = relationship()


def erase_expired(now: dt.datetime) -> dict[str, int]:
    """Retention: names and notes of recommendations after PRIVACY_RETENTION_DAYS; suggestions
    and problem reports deleted after MODERATION_RETENTION_DAYS."""
    cutoff = privacy.days_ago(now, "PRIVACY_RETENTION_DAYS")
    erased = 0
    for recommendation in db.session.scalars(select(Recommendation).where(
            Recommendation.created_at < cutoff, Recommendation.erased_at.is_(None))):
        recommendation.erase_personal_data()
        erased += 1
    moderation_cutoff = privacy.days_ago(now, "MODERATION_RETENTION_DAYS")
    suggestions = db.session.execute(
        delete(Suggestion).where(Suggestion.created_at < moderation_cutoff)).rowcount
    reports = db.session.execute(
        delete(ProblemReport).where(ProblemReport.created_at < moderation_cutoff)).rowcount
    return {"recommendations erased": erased, "suggestions deleted": suggestions,
            "problem reports deleted": reports}
