"""The relevance benchmark's judged queries still name listings that exist."""
from __future__ import annotations

from bench.relevance import load_queries
from sitedir.content import read_catalogue
from tests.conftest import REPO


def test_every_judged_slug_is_a_listing_of_the_sample_directory() -> None:
    catalogue = read_catalogue(REPO / "content")
    assert not catalogue.errors
    known = {activity.slug for organisation in catalogue.organisations.values()
             for activity in organisation.activities if activity is not None}
    queries = load_queries()
    assert len(queries) >= 50
    missing = {item["q"]: sorted(set(item["relevant"]) - known) for item in queries
               if set(item["relevant"]) - known}
    assert not missing
    assert all(item["relevant"] and item["class"] and item["q"] for item in queries)
