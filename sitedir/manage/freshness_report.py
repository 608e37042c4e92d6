"""The moderators' freshness page: listings by days since review, reminders sent and answered,
and listings marked "not confirmed" after unanswered reminders, with counts."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import render_template
from sqlalchemy import func, select

from .auth import moderator_required
from ..extensions import db
from ..freshness import is_not_confirmed
from ..listing import sink_reason
from ..listing import local_now
from ..models import Activity
from . import bp
from .models import Reminder

# Bands of days since the last review, as (label, first day, last day or None).
BANDS = (("Reviewed in the last 3 months", 0, 90), ("3 to 6 months ago", 91, 182),
         ("6 to 12 months ago", 183, 365), ("More than a year ago", 366, None))


@dataclass
class Row:
    activity: Activity
    days: int | None  # None: never reviewed
    reminders: int
    unanswered: int
    reason: str


def _reminder_counts() -> dict[int, tuple[int, int]]:
    """Per activity: (reminders sent, reminders unanswered)."""
    rows = db.session.execute(select(
        Reminder.activity_id, func.count(Reminder.id),
        func.count(Reminder.id).filter(Reminder.used_at.is_(None)))
        .group_by(Reminder.activity_id)).all()
    return {activity_id: (sent, open_) for activity_id, sent, open_ in rows}


def _band(days: int | None) -> str:
    if days is None:
        return "Never reviewed"
    return next(label for label, low, high in BANDS if days >= low and
                (high is None or days <= high))


def freshness_summary(today: dt.date) -> dict:
    """Everything the page shows, computed from the store."""
    counts = _reminder_counts()
    rows = []
    for activity in db.session.scalars(select(Activity).where(Activity.status != "closed")):
        days = (today - activity.last_reviewed).days if activity.last_reviewed else None
        sent, unanswered = counts.get(activity.id, (0, 0))
        rows.append(Row(activity, days, sent, unanswered, sink_reason(activity, today)))
    rows.sort(key=lambda row: (-(row.days if row.days is not None else 10**6),
                               row.activity.title))
    bands = {label: 0 for label, _, _ in BANDS} | {"Never reviewed": 0}
    for row in rows:
        bands[_band(row.days)] += 1
    sent = db.session.scalar(select(func.count(Reminder.id))) or 0
    answered = db.session.scalar(select(func.count(Reminder.id)).where(
        Reminder.used_at.is_not(None))) or 0
    expired = db.session.scalar(select(func.count(Reminder.id)).where(
        Reminder.used_at.is_(None), Reminder.expires_at < dt.datetime.now(dt.UTC)
        .replace(tzinfo=None))) or 0
    not_confirmed = [row for row in rows if is_not_confirmed(row.activity)]
    return {"rows": rows, "bands": bands, "sent": sent, "answered": answered,
            "expired": expired, "waiting": sent - answered - expired,
            "not_confirmed": not_confirmed}


@bp.get("/freshness")
@moderator_required
def freshness():
    return render_template("manage/freshness.html", **freshness_summary(local_now().date()))
