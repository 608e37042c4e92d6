"""How an activity's facts read on a page: cost, ages, status, joining, freshness, next session.

One place for these words, so the activity page, cards, print sheets and feeds agree.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import current_app, g
from sqlalchemy import select

from . import freshness, schedule
from .extensions import db
from .models import Activity, SchoolHoliday, Venue

STATUS_LABELS = {"running": "Running", "full": "Full", "on_break": "On a break",
                 "closed": "Closed"}
STATUS_TAG_COLOURS = {"running": "green", "full": "orange", "on_break": "yellow", "closed": "red"}
FORMAT_LABELS = {"in_person": "In person", "online": "Online", "phone": "By phone"}
JOIN_LABELS = {"drop_in": "Just turn up", "book": "Book first", "referral": "Referral needed"}
REFERRER_LABELS = {"gp": "a GP", "link_worker": "a social prescribing link worker",
                   "health_professional": "another health professional",
                   "social_worker": "a social worker", "self": "yourself (self-referral)"}
COST_LABELS = {"free": "Free", "paid": "Paid", "pay_what_you_can": "Pay what you can"}
# Stored codes in plain words, for screens that show raw field values (the moderator's diff).
CODE_WORDS = {**STATUS_LABELS, **FORMAT_LABELS, **JOIN_LABELS, **COST_LABELS,
              **{key: text[0].upper() + text[1:] for key, text in REFERRER_LABELS.items()},
              **{day: day.capitalize() for day in
                 ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}}
PERIOD_WORDS = {"session": "a session", "week": "a week", "month": "a month",
                "term": "a term", "course": "for the course", "year": "a year"}


def local_now() -> dt.datetime:
    """Now, in the directory's time zone, without tzinfo (schedules are local wall-clock)."""
    return dt.datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).replace(tzinfo=None)


def school_holidays() -> list[tuple[dt.date, dt.date]]:
    """School holidays, read once per request."""
    if "school_holidays" not in g:
        g.school_holidays = [(h.start, h.end) for h in db.session.scalars(select(SchoolHoliday))]
    return g.school_holidays


def next_session(activity: Activity) -> schedule.Occurrence | None:
    found = schedule.next_sessions(activity, local_now(), school_holidays(), limit=1)
    return found[0] if found else None


def next_session_text(activity: Activity) -> str:
    """'Tuesday 2 December 2026, 10am to midday', or why there is none."""
    return session_text(activity, next_session(activity))


def session_text(activity: Activity, occurrence: schedule.Occurrence | None) -> str:
    """The words for an activity's next session, already worked out (see next_session)."""
    if activity.status == "closed":
        return "This activity has closed"
    if occurrence is None:
        return "No sessions planned at the moment"
    when = schedule.format_date(occurrence.date)
    text = f"{when}, {schedule.format_time_range(occurrence.start, occurrence.end)}"
    return f"{text} ({occurrence.title})" if occurrence.title else text


def plain_word(value: object) -> object:
    """A stored code ('on_break') as people say it ('On a break'); anything else unchanged."""
    return CODE_WORDS.get(value, value) if isinstance(value, str) else value


def money(amount: object) -> str:
    text = f"£{float(amount):,.2f}"
    return text.removesuffix(".00")


def cost_text(activity: Activity) -> str:
    """'Free', '£3 a session', 'Pay what you can (suggested £2 a session)'."""
    period = PERIOD_WORDS.get(activity.cost_per, "")
    if activity.cost_type == "free":
        return "Free"
    if activity.cost_type == "paid":
        if activity.cost_amount is None:  # a paid listing may not state its price (yet)
            return "Paid – ask the group for the price"
        return " ".join(part for part in (money(activity.cost_amount), period) if part)
    if activity.cost_amount:
        return f"Pay what you can (suggested {money(activity.cost_amount)} {period})".replace(
            " )", ")")
    return "Pay what you can"


def ages_text(activity: Activity) -> str:
    low, high = activity.age_min, activity.age_max
    if low is None and high is None:
        return "All ages"
    if high is None:
        return "Adults 18 and over" if low == 18 else f"Ages {low} and over"
    if low is None:
        return f"Up to age {high}"
    return f"Ages {low} to {high}"


def referral_text(activity: Activity) -> str:
    routes = [REFERRER_LABELS[key] for key in activity.referral_from if key in REFERRER_LABELS]
    if not routes:
        return ""
    listed = routes[0] if len(routes) == 1 else ", ".join(routes[:-1]) + " or " + routes[-1]
    return f"You can be referred by {listed}."


def status_text(activity: Activity) -> str:
    if activity.status == "on_break" and activity.break_until:
        return f"On a break until {schedule.format_date(activity.break_until)}"
    if activity.status == "full":
        return "Full – waiting list open" if activity.waiting_list else "Full"
    return STATUS_LABELS.get(activity.status, activity.status)


def is_stale(activity: Activity, today: dt.date | None = None) -> bool:
    """Not reviewed for STALE_AFTER_DAYS: the listing may be out of date."""
    return freshness.is_stale(activity, today or local_now().date())


HIDDEN_PRECISION = 2  # decimal places (~1 km) of the point shown for a group in a private home


@dataclass(frozen=True)
class PublicLocation:
    """Where an in-person activity may be said to be, as every page, feed, API, the index and
    the map show it. A group that meets in a private home (hide_address) shows only its area:
    the town and postcode district, and a point rounded to ~1 km flagged approximate."""

    venue: Venue
    label: str  # the venue's name, or "Town (LS9)" for a private home
    lines: list[str] = field(default_factory=list)  # street address lines; none when hidden
    town: str | None = None
    postcode: str = ""  # the full postcode, or only the district when hidden
    directions: str = ""
    point: tuple[float, float] | None = None
    approximate: bool = False

    @property
    def exact_point(self) -> tuple[float, float] | None:
        """The point only when it is the venue's own (for distances that must be true)."""
        return None if self.approximate else self.point


def public_location(activity: Activity) -> PublicLocation | None:
    """The one rule for showing an activity's venue; None when it does not meet in person."""
    venue = activity.venue
    if venue is None or not activity.in_person:
        return None
    located = venue.latitude is not None and venue.longitude is not None
    if activity.hide_address:
        point = ((round(venue.latitude, HIDDEN_PRECISION), round(venue.longitude, HIDDEN_PRECISION))
                 if located else None)
        return PublicLocation(venue=venue, label=f"{venue.town or 'Local area'} ({venue.outcode})",
                              town=venue.town, postcode=venue.outcode, point=point,
                              approximate=True)
    return PublicLocation(venue=venue, label=venue.name, lines=list(venue.address_lines),
                          town=venue.town, postcode=venue.postcode or "",
                          directions=venue.directions or "",
                          point=(venue.latitude, venue.longitude) if located else None)


def place_text(activity: Activity) -> str:
    """Where, in a line: the venue and area, or how it runs when not in person."""
    where = public_location(activity)
    if where is not None:
        if where.approximate:
            return f"{where.label} – address given when you get in touch"
        return ", ".join(part for part in (where.label, where.town) if part)
    return " and ".join(FORMAT_LABELS[f] for f in activity.formats if f != "in_person")


def sink_reason(activity: Activity, today: dt.date) -> str:
    """Why a listing is listed lower, in words ("" for an open, recently reviewed listing)."""
    parts = [status_text(activity)] if activity.status != "running" else []
    note = freshness.freshness_note(activity, today)
    return ". ".join(parts + ([note] if note else []))
