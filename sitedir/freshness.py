"""Freshness: whether a listing sinks below the others in a list, and the reason shown for it.

One rule for every list that is not ordered by search relevance (category, organisation and
any page listing activities): open and recently reviewed listings first, then full or on a
break, then out of date or not confirmed by the group, then closed; by title within each.
`sink_order()` is the rule in SQL, `sink_rank()` the same rule in Python (for results already
fetched, such as a search page that re-sorts); `sink_reason()` the words a card shows.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import and_, case, or_
from sqlalchemy.sql.elements import ColumnElement

from .models import Activity

OPEN, PAUSED, DOUBTFUL, CLOSED = 0, 1, 2, 3


def stale_before(today: dt.date) -> dt.date:
    """Listings last reviewed before this day may be out of date (STALE_AFTER_DAYS)."""
    return today - dt.timedelta(days=int(current_app.config["STALE_AFTER_DAYS"]))


def is_not_confirmed(activity: Activity) -> bool:
    """Marked after unanswered reminders and not reviewed since (any review clears it)."""
    since = activity.not_confirmed_since
    return since is not None and (activity.last_reviewed is None
                                  or activity.last_reviewed < since)


def is_stale(activity: Activity, today: dt.date) -> bool:
    return activity.last_reviewed is None or activity.last_reviewed < stale_before(today)


def sink_rank(activity: Activity, today: dt.date) -> int:
    """OPEN, PAUSED, DOUBTFUL or CLOSED: lower ranks are listed first."""
    if activity.status == "closed":
        return CLOSED
    if is_not_confirmed(activity) or is_stale(activity, today):
        return DOUBTFUL
    if activity.status in ("full", "on_break"):
        return PAUSED
    return OPEN


def sink_order(today: dt.date) -> tuple[ColumnElement, ...]:
    """ORDER BY terms for lists: the rank of sink_rank(), then the title."""
    not_confirmed = and_(Activity.not_confirmed_since.is_not(None),
                         or_(Activity.last_reviewed.is_(None),
                             Activity.last_reviewed < Activity.not_confirmed_since))
    stale = or_(Activity.last_reviewed.is_(None), Activity.last_reviewed < stale_before(today))
    rank = case((Activity.status == "closed", CLOSED), (or_(not_confirmed, stale), DOUBTFUL),
                (Activity.status.in_(("full", "on_break")), PAUSED), else_=OPEN)
    return rank.asc(), Activity.title


def freshness_note(activity: Activity, today: dt.date) -> str:
    """Why an open listing's details are in doubt, in words; "" when they are not."""
    from .schedule import format_date

    if activity.status == "closed":
        return ""
    if is_not_confirmed(activity):
        return "Not confirmed: the group has not answered our reminders"
    if is_stale(activity, today):
        reviewed = (f"last reviewed {format_date(activity.last_reviewed)}"
                    if activity.last_reviewed else "never reviewed")
        return f"May be out of date: {reviewed}"
    return ""


def sink_reason(activity: Activity, today: dt.date) -> str:
    """Why a listing is listed lower, in words ("" for an open, recently reviewed listing)."""
    from .listing import status_text

    parts = [status_text(activity)] if activity.status != "running" else []
    note = freshness_note(activity, today)
    return ". ".join(parts + ([note] if note else []))
