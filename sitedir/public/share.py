"""Handing a listing to a person: short links (/a/<code>), share messages (text, WhatsApp,
email) and "Add to calendar" links (iCal, Google, Outlook).

Nothing here carries personal data: a link names a listing, never who is looking at it.
The short code comes from the listing's uuid, so it survives a change of title or slug (QR
codes on printed sheets keep working) and a rebuild of the database from content files.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from flask import abort, current_app, redirect, render_template
from sqlalchemy import func, select

from .. import listing, schedule
from ..extensions import db
from ..links import public_url
from ..models import Activity
from . import bp

# Crockford's base32 in lower case: no i, l, o or u, so a code read aloud or retyped from
# paper is unambiguous. Eight characters carry the uuid's first 40 bits.
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
CODE_LENGTH = 8
_READ_AS = str.maketrans("ilo", "110")
SMS_TITLE_LIMIT = 60


def short_code(uuid: str) -> str:
    """The listing's 8-character code, e.g. '7kx2q9mp'."""
    bits = int(uuid.replace("-", "")[:10], 16)
    return "".join(ALPHABET[(bits >> shift) & 31] for shift in range(35, -1, -5))


def uuid_prefix(code: str) -> str | None:
    """The start of the uuid a code stands for ('1234abcd-ef'), or None if it is no code."""
    code = code.strip().lower().translate(_READ_AS)
    if len(code) != CODE_LENGTH or any(char not in ALPHABET for char in code):
        return None
    bits = 0
    for char in code:
        bits = bits * 32 + ALPHABET.index(char)
    hex_digits = f"{bits:010x}"
    return f"{hex_digits[:8]}-{hex_digits[8:]}"


def short_url(activity: Activity) -> str:
    """The short public link to a listing, for QR codes, print sheets and text messages."""
    return public_url("public.short_link", code=short_code(activity.uuid))


@bp.get("/a/<code>")
def short_link(code: str):
    """A short link: to the listing's current address (302: the slug may change again)."""
    prefix = uuid_prefix(code)
    if prefix is None:
        abort(404)
    found = db.session.scalars(select(Activity).where(
        func.lower(Activity.uuid).like(prefix + "%")).order_by(Activity.title)).all()
    if not found:
        abort(404)
    if len(found) == 1:
        return redirect(public_url("public.activity", slug=found[0].slug), 302)
    # Two listings whose uuids share 40 bits (about 1 in 5,000 at 20,000 listings): ask.
    return render_template("public/short_link.html", activities=found), 300


# -- share messages --------------------------------------------------------------------------

def share_text(activities: list[Activity]) -> str:
    """A short, readable message: what, when, where and a short link for each listing."""
    lines = []
    for activity in activities:
        title = activity.title if len(activity.title) <= SMS_TITLE_LIMIT \
            else activity.title[:SMS_TITLE_LIMIT - 1].rstrip() + "…"
        when = _first_schedule_line(activity)
        details = ", ".join(part for part in (when, listing.place_text(activity)) if part)
        lines.append(f"{title}{' – ' + details if details else ''}: {short_url(activity)}")
    return "\n".join(lines)


def _first_schedule_line(activity: Activity) -> str:
    if not activity.schedule:
        return ""
    line = schedule.describe(activity.schedule[0])
    return line + (" and more" if len(activity.schedule) > 1 else "")


@dataclass(frozen=True)
class ShareLinks:
    """Where a share button goes; `url` is the one to copy."""

    url: str
    text: str
    sms: str
    whatsapp: str
    email: str


def share_links(activities: list[Activity]) -> ShareLinks:
    """Links that open the phone's own apps with the message filled in (no third-party
    script, nothing sent by us)."""
    text = share_text(activities)
    site = current_app.config["SITE_NAME"]
    subject = activities[0].title if len(activities) == 1 else f"Activities from {site}"
    body = f"{text}\n\nFrom {site}."
    # "sms:?&body=" is the form both iOS and Android read.
    return ShareLinks(
        url=short_url(activities[0]) if len(activities) == 1 else "",
        text=text,
        sms="sms:?&body=" + quote(text, safe=""),
        whatsapp="https://wa.me/?" + urlencode({"text": text}, quote_via=quote),
        email="mailto:?" + urlencode({"subject": subject, "body": body}, quote_via=quote))


# -- calendar links --------------------------------------------------------------------------

@dataclass(frozen=True)
class CalendarLinks:
    """"Add to calendar" for the next session (iCal, Google, Outlook) and the whole series."""

    next_text: str
    next_ics: str
    series_ics: str
    google: str
    outlook: str


def calendar_links(activity: Activity) -> CalendarLinks | None:
    """None when there is no session to add (closed, or nothing planned)."""
    from .feeds import event_location

    if activity.status == "closed":
        return None
    occurrence = listing.next_session(activity)
    if occurrence is None:
        return None
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    start = dt.datetime.combine(occurrence.date, occurrence.start, tzinfo=zone)
    end = dt.datetime.combine(occurrence.date, occurrence.end, tzinfo=zone)
    title = f"{activity.title} – {occurrence.title}" if occurrence.title else activity.title
    details = f"{activity.summary}\n\n{short_url(activity)}"
    location = event_location(activity)
    google = "https://calendar.google.com/calendar/render?" + urlencode({
        "action": "TEMPLATE", "text": title,
        "dates": f"{start:%Y%m%dT%H%M%S}/{end:%Y%m%dT%H%M%S}",
        "ctz": current_app.config["TIMEZONE"], "details": details, "location": location},
        quote_via=quote)
    outlook = "https://outlook.live.com/calendar/0/action/compose?" + urlencode({
        "rru": "addevent", "subject": title, "startdt": start.isoformat(),
        "enddt": end.isoformat(), "body": details, "location": location}, quote_via=quote)
    when = f"{schedule.format_date(occurrence.date)}, " \
           f"{schedule.format_time_range(occurrence.start, occurrence.end)}"
    return CalendarLinks(
        next_text=when,
        next_ics=public_url("feeds.activity_ics", slug=activity.slug, session="next"),
        series_ics=public_url("feeds.activity_ics", slug=activity.slug),
        google=google, outlook=outlook)
