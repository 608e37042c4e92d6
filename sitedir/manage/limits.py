"""Limits per account on what fills the moderators' queue (and their inboxes).

Counted from the database rows themselves, so they hold across processes and machines with no
shared rate-limit store, and survive a dropped cookie: claims and registrations per 24 hours,
change requests per hour. Moderators (second factor given) are not limited.
"""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..limiter import refuse
from ..models import utcnow
from .models import ChangeRequest, Claim, User


def _since(hours: int) -> dt.datetime:
    return utcnow() - dt.timedelta(hours=hours)


def check_claim(user: User) -> None:
    limit = int(current_app.config["CLAIM_LIMIT_PER_DAY"])
    sent = db.session.scalar(select(func.count(Claim.id)).where(
        Claim.user_id == user.id, Claim.created_at > _since(24)))
    if sent >= limit:
        refuse(f"You have sent {sent} requests to edit groups in the last 24 hours, the most "
               "we accept. A moderator will reply to those first; try again tomorrow.")


def check_change(user: User, change: ChangeRequest) -> None:
    """Registrations per 24 hours, every change request per hour (moderators excepted).

    Unsent drafts and the change being sent itself do not count.
    """
    if user.is_moderator:
        return
    config = current_app.config
    sent_before = select(func.count(ChangeRequest.id)).where(
        ChangeRequest.submitted_by_id == user.id, ChangeRequest.status != "draft")
    if change.id is not None:
        sent_before = sent_before.where(ChangeRequest.id != change.id)
    if change.kind == "register":
        sent = db.session.scalar(sent_before.where(ChangeRequest.kind == "register",
                                                   ChangeRequest.created_at > _since(24)))
        if sent >= int(config["REGISTER_LIMIT_PER_DAY"]):
            refuse(f"You have registered {sent} organisations in the last 24 hours, the most "
                   "we accept. A moderator will check those first; try again tomorrow.")
    sent = db.session.scalar(sent_before.where(ChangeRequest.created_at > _since(1)))
    if sent >= int(config["CHANGE_LIMIT_PER_HOUR"]):
        refuse(f"You have sent {sent} changes in the last hour, the most we accept. Wait an "
               "hour, then send the rest.")
