"""Plain activity rows (read without the ORM) make the same documents, cards and listing
words as mapped activities, on SQLite and on PostgreSQL."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from sitedir import activity_rows, cards, indexing, listing
from sitedir.extensions import db
from sitedir.models import FULL_ACTIVITY, Activity
from tests.conftest import build_app

SAMPLE = Path(__file__).resolve().parent.parent / "content"
TODAY = dt.date(2026, 3, 4)


def _views(activity: object) -> dict:
    """Everything the index and the cards take from an activity."""
    card = cards.card_for(activity, distance_miles=1.25, snippet="x", show_next=True,
                          today=TODAY)
    return {"document": indexing.to_document(activity), "card": card,
            "place": listing.place_text(activity), "cost": listing.cost_text(activity),
            "location": listing.public_location(activity),
            "access": [term.key for term in activity.accessibility]}


def _compare(app: Flask) -> int:
    with app.app_context(), app.test_request_context():
        mapped = db.session.scalars(select(Activity).options(*FULL_ACTIVITY)
                                    .order_by(Activity.id)).all()
        expected = {activity.uuid: _views(activity) for activity in mapped}
        ids = [activity.id for activity in mapped]
        rows = list(activity_rows.rows_by_ids(ids))
        assert [row.id for row in rows] == sorted(ids)
        for row in rows:
            views = _views(row)
            # PublicLocation holds the venue itself; compare what it says, not which object.
            for side in (views, expected[row.uuid]):
                if side["location"] is not None:
                    side["location"] = dataclasses.replace(
                        side["location"], venue=side["location"].venue.id)
            assert views == expected[row.uuid], row.slug
        # The sample covers the cases the rules tell apart, so the comparison means something.
        kinds = {(row.hide_address, row.in_person, row.cost_type, bool(row.schedule),
                  row.venue is not None) for row in rows}
        assert len(kinds) >= 6
        assert any(entry.kind == "dated" for row in rows for entry in row.schedule)
        assert any(row.venue is not None and row.venue.accessibility for row in rows)
        return len(rows)


@pytest.fixture(scope="module")
def sample_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return build_app(tmp_path_factory.mktemp("rows"), SAMPLE)


def test_rows_say_what_mapped_activities_say(sample_app: Flask) -> None:
    assert _compare(sample_app) > 100


def test_rows_by_uuid_skip_unknown_and_come_in_id_order(sample_app: Flask, monkeypatch) -> None:
    monkeypatch.setattr(activity_rows, "CHUNK", 7)  # several rounds of queries
    with sample_app.app_context():
        pairs = db.session.execute(select(Activity.id, Activity.uuid)).all()
        wanted = [uuid for _id, uuid in reversed(pairs[:30])] + ["no-such-uuid"]
        rows = activity_rows.rows_by_uuids(wanted + wanted[:3])
        assert [row.id for row in rows] == sorted(id_ for id_, _uuid in pairs[:30])
        chunked = list(activity_rows.rows_by_ids([id_ for id_, _uuid in pairs]))
        assert len(chunked) == len(pairs)
        assert len({row.id for row in chunked}) == len(pairs)
        assert activity_rows.rows_by_uuids([]) == []


@pytest.mark.postgres
def test_rows_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    assert _compare(build_app(tmp_path, SAMPLE, SQLALCHEMY_DATABASE_URI=postgres_url)) > 100
