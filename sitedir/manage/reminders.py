"""Freshness reminders: `flask reminders send` emails one-click answers that need no sign-in.

Each reminder link carries 256 random bits (stored hashed), works once and expires after
REMINDER_LINK_DAYS. Opening it shows a button; only the POST changes the listing, because mail
scanners fetch links. An answer is published by status.publish_status, the same function as the
dashboard's quick statuses, so both paths give the same result.
"""
from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict

import click
from flask import current_app, render_template
from flask.cli import AppGroup
from sqlalchemy import func, select, update

from .auth import hash_secret
from ..extensions import db
from ..freshness import is_not_confirmed
from ..listing import local_now, status_text
from ..models import Activity, Organisation, utcnow
from . import bp
from .models import Membership, Reminder
from .. import links
from ..links import public_url
from .notify import send_email
from .publish import ChangeError
from .rule_forms import StatusForm
from .status import ANSWERS, publish_status


def _recipients(organisation: Organisation) -> list[str]:
    """The organisation's editors; else its public email address."""
    editors = db.session.scalars(select(Membership).where(
        Membership.organisation_id == organisation.id)).all()
    emails = sorted({m.user.email for m in editors if m.user.active})
    return emails or ([organisation.email] if organisation.email else [])


def due_activities(today: dt.date) -> list[Activity]:
    """Open listings not reviewed for REMINDER_AFTER_DAYS and not reminded recently."""
    config = current_app.config
    reviewed_before = today - dt.timedelta(days=int(config["REMINDER_AFTER_DAYS"]))
    reminded_after = utcnow() - dt.timedelta(days=int(config["REMINDER_REPEAT_DAYS"]))
    recently = select(Reminder.activity_id).where(Reminder.sent_at > reminded_after)
    return [activity for activity in db.session.scalars(select(Activity).where(
        Activity.status != "closed",
        (Activity.last_reviewed.is_(None)) | (Activity.last_reviewed <= reviewed_before),
        Activity.id.not_in(recently)).order_by(Activity.organisation_id, Activity.title))
        if not is_not_confirmed(activity)]  # marked: the moderators follow it up now


def unanswered_reminders(activity: Activity) -> int:
    """Reminders about the activity sent since its last review and not answered."""
    query = select(func.count(Reminder.id)).where(Reminder.activity_id == activity.id,
                                                  Reminder.used_at.is_(None))
    if activity.last_reviewed is not None:
        reviewed = dt.datetime.combine(activity.last_reviewed + dt.timedelta(days=1), dt.time())
        query = query.where(Reminder.sent_at >= reviewed)
    return db.session.scalar(query) or 0


def mark_not_confirmed(activities: list[Activity], today: dt.date) -> list[Activity]:
    """Due again after NOT_CONFIRMED_AFTER_REMINDERS unanswered reminders: "not confirmed".

    The listing sinks and says so; no more reminders go out until it is reviewed again.
    """
    limit = int(current_app.config["NOT_CONFIRMED_AFTER_REMINDERS"])
    marked = [activity for activity in activities if unanswered_reminders(activity) >= limit]
    for activity in marked:
        activity.not_confirmed_since = today
    return marked


def send_reminders(today: dt.date | None = None) -> dict[str, int]:
    """Queue one email per organisation and recipient listing its due activities."""
    today = today or local_now().date()
    by_organisation: dict[Organisation, list[Activity]] = defaultdict(list)
    due = due_activities(today)
    marked = mark_not_confirmed(due, today)
    for activity in due:
        if activity not in marked:
            by_organisation[activity.organisation].append(activity)
    counts = {"emails": 0, "activities": 0, "no_address": 0, "not_confirmed": len(marked)}
    expires = utcnow() + dt.timedelta(days=int(current_app.config["REMINDER_LINK_DAYS"]))
    for organisation, activities in by_organisation.items():
        recipients = _recipients(organisation)
        if not recipients:
            counts["no_address"] += len(activities)
            continue
        sections = []
        for activity in activities:
            token = secrets.token_urlsafe(32)
            earlier = db.session.scalar(select(func.count(Reminder.id)).where(
                Reminder.activity_id == activity.id, Reminder.used_at.is_(None)))
            db.session.add(Reminder(activity_id=activity.id, token_hash=hash_secret(token),
                                    sent_to=", ".join(recipients)[:254], sequence=earlier + 1,
                                    expires_at=expires))
            links = "\n".join(
                f"  {label}: {public_url('manage.reminder', token=token, answer=answer)}"
                for answer, label in ANSWERS.items())
            sections.append(f"{activity.title} (now shown as: {status_text(activity)})\n"
                            f"{public_url('public.activity', slug=activity.slug)}\n{links}")
            counts["activities"] += 1
        body = (f"Hello from {current_app.config['SITE_NAME']}.\n\nPlease tell us whether these "
                f"listings of {organisation.name} are still right. One click is enough; you do "
                "not need to sign in. Each link works once.\n\n" + "\n\n".join(sections)
                + "\n\nTo change anything else, sign in and edit the listing.\n")
        for email in recipients:
            send_email(email, f"Are your listings still right? ({organisation.name})", body,
                       kind="reminder")
            counts["emails"] += 1
    db.session.commit()
    return counts


def _reminder(token: str) -> tuple[Reminder | None, str]:
    """The reminder of a link and its state: "open", "used", "expired" or "unknown"."""
    row = db.session.scalar(select(Reminder).where(Reminder.token_hash == hash_secret(token)))
    if row is None:
        return None, "unknown"
    if row.used_at is not None:
        return row, "used"
    if row.expires_at < utcnow():
        return row, "expired"
    return row, "open"


def _page(row: Reminder | None, state: str, answer: str, **extra: object) -> dict:
    activity = db.session.get(Activity, row.activity_id) if row else None
    return {"activity": activity, "answer": answer, "label": ANSWERS.get(answer, ""),
            "state": state, "reminder": row, "error": "", "done": False, **extra}


@bp.get("/reminders/<token>/<answer>")
def reminder(token: str, answer: str):
    """Confirm the answer with a button; opening the link changes nothing."""
    row, state = _reminder(token) if answer in ANSWERS else (None, "unknown")
    page = _page(row, state, answer)
    ok = state == "open" and page["activity"] is not None
    return render_template("manage/reminder.html", **page), 200 if ok else 410


@bp.post("/reminders/<token>/<answer>")
def reminder_answer(token: str, answer: str):
    row, state = _reminder(token) if answer in ANSWERS else (None, "unknown")
    page = _page(row, state, answer)
    activity = page["activity"]
    if state != "open" or activity is None:
        return render_template("manage/reminder.html", **page), 410
    form = StatusForm()
    form.status.data = answer  # the answer is the link's, never a sent field
    if not form.validate():
        return render_template("manage/reminder.html",
                               **{**page, "error": form.messages["break_until"]}), 400
    values = form.checked
    taken = db.session.execute(
        update(Reminder).where(Reminder.id == row.id, Reminder.used_at.is_(None))
        .values(used_at=utcnow(), answer=answer).execution_options(synchronize_session=False))
    if taken.rowcount != 1:  # answered meanwhile by another click
        db.session.rollback()
        db.session.refresh(row)
        return render_template("manage/reminder.html", **{**page, "state": "used"}), 410
    try:  # the link came to the organisation's own address: publish without review
        publish_status(activity, values, None, via="reminder email")
        db.session.commit()
    except ChangeError as exc:
        return render_template("manage/reminder.html", **{**page, "error": str(exc)}), 409
    return render_template("manage/reminder.html", **{**page, "done": True})


reminders_cli = AppGroup("reminders", help="Freshness reminders to organisations.")


@reminders_cli.command("send")
def send_command() -> None:
    """Email organisations whose listings were not reviewed for REMINDER_AFTER_DAYS (for cron)."""
    base = links.base_url()  # a clear error when PUBLIC_BASE_URL is unset
    with current_app.test_request_context("/", base_url=base):  # so url_for makes links
        counts = send_reminders()
    click.echo(f"Queued {counts['emails']} reminder email(s) about {counts['activities']} "
               f"listing(s); {counts['no_address']} listing(s) have no address to write to; "
               f"{counts['not_confirmed']} listing(s) marked not confirmed after "
               f"{current_app.config['NOT_CONFIRMED_AFTER_REMINDERS']} unanswered reminders.")
