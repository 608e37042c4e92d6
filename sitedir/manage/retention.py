"""Retention for self-service: typed email addresses and IP addresses do not stay for good.

- Sign-in requests (the address someone typed, which may not be theirs, and a keyed hash of
  the IP) are deleted after PRIVACY_RETENTION_DAYS; a link lasts minutes, and the hourly
  limits need only the last hour.
- Reminders forget which addresses they went to after PRIVACY_RETENTION_DAYS.
- The audit log keeps who did what, but loses IP addresses, and the address typed into a
  sign-in request, after SECURITY_LOG_RETENTION_DAYS.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, update

from .. import privacy
from ..extensions import db
from .models import AuditEvent, Reminder, SignInToken

# Audit actions whose target is an address someone typed, not an account's own.
TYPED_ADDRESS_ACTIONS = ("signin.requested",)


def erase_expired(now: dt.datetime) -> dict[str, int]:
    cutoff = privacy.days_ago(now, "PRIVACY_RETENTION_DAYS")
    tokens = db.session.execute(
        delete(SignInToken).where(SignInToken.created_at < cutoff)).rowcount
    reminders = db.session.execute(
        update(Reminder).where(Reminder.sent_at < cutoff, Reminder.sent_to != "")
        .values(sent_to="").execution_options(synchronize_session=False)).rowcount
    log_cutoff = privacy.days_ago(now, "SECURITY_LOG_RETENTION_DAYS")
    typed = db.session.execute(
        update(AuditEvent).where(AuditEvent.at < log_cutoff,
                                 AuditEvent.action.in_(TYPED_ADDRESS_ACTIONS),
                                 AuditEvent.target != "")
        .values(target="").execution_options(synchronize_session=False)).rowcount
    addresses = db.session.execute(
        update(AuditEvent).where(AuditEvent.at < log_cutoff, AuditEvent.ip != "")
        .values(ip="").execution_options(synchronize_session=False)).rowcount
    return {"sign-in requests deleted": tokens, "reminder recipients erased": reminders,
            "typed addresses erased from the audit log": typed,
            "IP addresses erased from the audit log": addresses}
