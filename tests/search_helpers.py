"""Helpers shared by the search and indexing tests: make listings, index, search."""
from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from flask import Flask
from sqlalchemy import select

from sitedir import indexing
from sitedir.extensions import db
from sitedir.models import Activity, Organisation, ScheduleEntry, Term, Venue

_numbers = itertools.count(1)


def add_activity(title: str, lat: float | None = None, lon: float | None = None, *,
                 formats: list[str] | None = None, categories: tuple[str, ...] = (),
                 **fields: Any) -> Activity:
    """An activity (with its own organisation and, when given a point, a venue); not committed."""
    number = next(_numbers)
    org = Organisation(slug=f"test-org-{number}", name=f"Test organisation {number}")
    venue = None
    if lat is not None and lon is not None:
        venue = Venue(slug=f"test-venue-{number}", name=f"Test venue {number}", town="Testham",
                      postcode="LS9 8AB", latitude=lat, longitude=lon)
    activity = Activity(
        slug=f"test-activity-{number}", title=title, summary=fields.pop("summary", title),
        organisation=org, venue=venue,
        formats=formats or (["in_person"] if venue else ["online"]),
        last_reviewed=fields.pop("last_reviewed", dt.date.today()), **fields)
    activity.terms = list(db.session.scalars(
        select(Term).where(Term.taxonomy == "category", Term.key.in_(categories))))
    activity.schedule = [ScheduleEntry(weekday=1, start_time=dt.time(10), end_time=dt.time(11))]
    db.session.add(activity)
    return activity


def index_now(app: Flask) -> None:
    """Apply the outbox to the index, as the indexer would."""
    with app.app_context():
        indexing.drain_all()


def rebuild(app: Flask) -> None:
    with app.app_context():
        indexing.rebuild(app)


def slugs(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["slug"] for item in response.get_json()["results"]]
