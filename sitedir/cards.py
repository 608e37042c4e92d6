"""An activity card's words, worked out once in Python so the card template only prints them.

Search, category, organisation and short-link pages show up to 20 cards; rendering each from
the activity with a dozen template calls was most of the search page's render time.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from markupsafe import Markup

from . import freshness, listing, schedule
from .models import Activity
from .slug_urls import activity_url, slug_url

WHEN_ENTRIES = 2  # timetable lines on a card; "and more" after them


@dataclass(slots=True)
class Card:
    """What one card shows, as text (the template escapes it)."""

    id: int
    slug: str
    title: str
    url: str
    recommend_url: str
    organisation: str
    summary: str
    facts: list[tuple[str, str]]  # (label, value) rows after the distance, in order
    distance: str = ""  # "0.6 miles (approximate)"; "" without a place
    status: str = ""  # "On a break until …"; "" for a running activity
    status_colour: str = ""
    note: str = ""  # why the details may be out of date
    snippet: Markup | str = ""  # the matched words, already escaped and <mark>ed


def format_miles(miles: float | None) -> str:
    """'0.4 miles', '1 mile', '12 miles'."""
    if miles is None:
        return ""
    if miles < 0.05:
        return "less than 0.1 miles"
    rounded = round(miles, 1) if miles < 10 else round(miles)
    if math.isclose(rounded, 1):
        return "1 mile"
    return f"{rounded:g} miles"


def _when(activity: Activity) -> str:
    entries = activity.schedule
    text = "; ".join(schedule.describe(entry) for entry in entries[:WHEN_ENTRIES])
    return text + "; and more" if len(entries) > WHEN_ENTRIES else text


def card_for(activity: Activity, *, distance_miles: float | None = None,
             snippet: Markup | str | None = None, show_next: bool = False,
             today: dt.date | None = None) -> Card:
    """The card of one activity; distance and snippet come from the search hit."""
    today = today or listing.local_now().date()
    facts = []
    distance = ""
    if distance_miles is not None:
        where = listing.public_location(activity)
        approximate = " (approximate)" if where is not None and where.approximate else ""
        distance = format_miles(distance_miles) + approximate
    if show_next:
        facts.append(("Next session", listing.next_session_text(activity)))
    reviewed = activity.last_reviewed
    facts += [("When", _when(activity)), ("Where", listing.place_text(activity)),
              ("Cost", listing.cost_text(activity)),
              ("How to join", listing.JOIN_LABELS.get(activity.join_how, "")),
              ("Reviewed", schedule.format_date(reviewed) if reviewed else "Never")]
    running = activity.status == "running"
    return Card(
        id=activity.id, slug=activity.slug, title=activity.title,
        url=activity_url(activity.slug),
        recommend_url=slug_url("connect.recommend_one", activity.slug),
        organisation=activity.organisation.name,
        summary=activity.summary, facts=facts, distance=distance,
        status="" if running else listing.status_text(activity),
        status_colour="" if running else listing.STATUS_TAG_COLOURS[activity.status],
        note=freshness.freshness_note(activity, today), snippet=snippet or "")


def cards_for(activities: list[Activity]) -> list[Card]:
    """Cards for a plain list of activities (category, organisation and short-link pages)."""
    today = listing.local_now().date()
    return [card_for(activity, today=today) for activity in activities]
