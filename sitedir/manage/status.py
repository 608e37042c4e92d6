"""One status path: quick statuses and "still running" from the dashboard or a reminder link.

The organisation itself is the source of the fact, whether it answers an emailed reminder (the
link came to its own address) or signs in as its editor: either way the answer publishes at once
through `publish_status`, and counts as a review (publishing an activity moves last_reviewed).
Content edits keep the moderation rules (publish.submit).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update

from ..extensions import db
from ..listing import local_now
from ..models import Activity, utcnow
from .models import ChangeRequest, Reminder, User
from .publish import activity_snapshot, apply_change

# The quick answers, in the words the buttons and the reminder email use.
ANSWERS = {
    "running": "Still running as shown",
    "on_break": "On a break",
    "full": "Full",
    "closed": "Closed",
}
BREAK_DATE_ERROR = "Enter the date you start again, in the future, like 2027-01-11"


def status_values(answer: str, break_until: str = "", waiting_list: bool = False,
                  today: dt.date | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """The status fields an answer sets, or errors by form field (shared by every status form)."""
    if answer not in ANSWERS:
        return {}, {"status": "Choose whether it is running, full, on a break or closed"}
    values: dict[str, Any] = {"status": answer, "waiting_list": False, "break_until": None}
    if answer == "on_break":
        try:
            back = dt.date.fromisoformat(break_until.strip())
        except ValueError:
            back = None
        if back is None or back <= (today or local_now().date()):
            return values, {"break_until": BREAK_DATE_ERROR}
        values["break_until"] = back.isoformat()
    elif answer == "full":
        values["waiting_list"] = bool(waiting_list)
    return values, {}


def publish_status(activity: Activity, values: dict[str, Any], actor: User | None,
                   via: str) -> ChangeRequest:
    """Publish a quick status now, as a reviewed change with its history row (flushes; the
    caller commits).

    `via` says where the answer came from ("dashboard" or "reminder"), for the history note.
    Any reminder still open for the activity counts as answered: the question is settled.
    """
    base = activity_snapshot(activity)
    payload = {**base, **values}
    answer = values["status"]
    change = ChangeRequest(
        kind="activity", organisation_id=activity.organisation_id, activity_id=activity.id,
        payload=payload, base=base, submitted_by_id=actor.id if actor else None,
        summary=f"Status of “{activity.title}”: {ANSWERS[answer]}"[:200])
    db.session.add(change)
    db.session.execute(
        update(Reminder).where(Reminder.activity_id == activity.id, Reminder.used_at.is_(None))
        .values(used_at=utcnow(), answer=answer).execution_options(synchronize_session=False))
    db.session.flush()
    apply_change(change, actor, note=f"Status set from the {via}: {ANSWERS[answer]}")
    return change
