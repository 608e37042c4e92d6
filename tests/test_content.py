"""content/ validation, loading and export."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sitedir.content import export_catalogue, load_catalogue, read_catalogue
from sitedir.extensions import db
from sitedir.models import Activity, ListingChange, ScheduleEntry, Term
from tests.conftest import FIXTURE_CONTENT, REPO

ORG = "directory/organisations/harehills-friends.yaml"


def _replace(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_fixture_corpus_is_valid() -> None:
    catalogue = read_catalogue(FIXTURE_CONTENT)
    assert catalogue.errors == []
    assert catalogue.activity_count == 7
    closed = catalogue.organisations["harehills-friends"].activities[2]
    assert closed.schedule[0].start == dt.time(14, 0)  # unquoted 14:00 is YAML's 840


@pytest.mark.parametrize("relative, old, new, expected", [
    (ORG, "categories: [arts-and-crafts]", "categories: [knitting]",
     "content/directory/organisations/harehills-friends.yaml: activities[0].categories: "
     "unknown key 'knitting'"),
    (ORG, 'end: "12:00"', 'end: "09:00"',
     "content/directory/organisations/harehills-friends.yaml: activities[0].schedule[0]: "
     "end must be after start"),
    (ORG, 'start: "10:00"', 'start: "half ten"',
     "content/directory/organisations/harehills-friends.yaml: activities[0].schedule[0].start: "
     'must be a time like "09:30"'),
    (ORG, "venue: harehills-test-hub\n    schedule:\n      - day: tuesday",
     "venue: nowhere\n    schedule:\n      - day: tuesday",
     "content/directory/organisations/harehills-friends.yaml: activities[0].venue: "
     "no venue with slug 'nowhere'"),
    (ORG, "cost: {type: paid, amount: 3.5, per: session}", "cost: {type: paid}",
     "content/directory/organisations/harehills-friends.yaml: activities[2].cost: "
     "a paid activity needs an amount"),
    (ORG, "    status: on_break\n", "    status: no\n",
     "content/directory/organisations/harehills-friends.yaml: activities[1].status: "
     "Input should be 'running', 'full', 'on_break' or 'closed'"),
    (ORG, "title: Knit and Natter", "titel: Knit and Natter",
     "content/directory/organisations/harehills-friends.yaml: activities[0].titel: "
     "Extra inputs are not permitted"),
    ("directory/venues/test-venues.yaml", "postcode: LS8 5QD", "postcode: LS8",
     "content/directory/venues/test-venues.yaml: [0].postcode: must be a full UK postcode"),
    ("pages/about.md", "---\ntitle", "title", "content/pages/about.md: must start with ---"),
    (ORG, "name: Harehills Friends", "name: [unclosed",
     "content/directory/organisations/harehills-friends.yaml: not valid YAML"),
])
def test_broken_file_names_file_and_field(content_copy: Path, relative: str, old: str, new: str,
                                          expected: str) -> None:
    _replace(content_copy, relative, old, new)
    errors = read_catalogue(content_copy).errors
    assert any(error.startswith(expected) for error in errors), errors


def test_duplicate_activity_slug_is_reported(content_copy: Path) -> None:
    _replace(content_copy, "directory/organisations/gipton-befrienders.yaml",
             "slug: gipton-phone-befriending", "slug: harehills-knit-and-natter")
    errors = read_catalogue(content_copy).errors
    assert any("activities[0].slug: harehills-knit-and-natter is also used in" in e
               for e in errors), errors


def test_check_command_exits_1_with_every_error(runner, content_copy: Path) -> None:
    _replace(content_copy, ORG, "categories: [arts-and-crafts]", "categories: [knitting]")
    _replace(content_copy, ORG, 'end: "20:00"', 'end: "08:00"')
    result = runner.invoke(args=["content", "check", "--path", str(content_copy)])
    assert result.exit_code == 1
    assert "unknown key 'knitting'" in result.output
    assert "end must be after start" in result.output
    assert "2 problem(s)" in result.output


def test_check_command_passes_on_fixture(runner) -> None:
    result = runner.invoke(args=["content", "check", "--path", str(FIXTURE_CONTENT)])
    assert result.exit_code == 0, result.output
    assert "7 activities" in result.output


def test_load_is_idempotent(make_app) -> None:
    app = make_app()
    with app.app_context():
        def snapshot() -> tuple:
            return (db.session.scalar(select(func.count(Activity.id))),
                    db.session.scalar(select(func.count(ScheduleEntry.id))),
                    db.session.scalar(select(func.count(ListingChange.id))),
                    sorted((a.slug, a.updated_at) for a in db.session.scalars(select(Activity))))
        first = snapshot()
        assert first[0] == 7 and first[2] == 7  # one outbox row per new activity
        load_catalogue(read_catalogue(FIXTURE_CONTENT))
        assert snapshot() == first  # nothing rewritten, no new outbox rows


def test_load_updates_a_changed_listing_and_records_it(make_app, content_copy: Path) -> None:
    app = make_app()
    _replace(content_copy, ORG, "title: Knit and Natter", "title: Knit, Natter and Sew")
    with app.app_context():
        before = db.session.scalar(select(func.count(ListingChange.id)))
        load_catalogue(read_catalogue(content_copy))
        knit = db.session.scalar(
            select(Activity).where(Activity.slug == "harehills-knit-and-natter"))
        assert knit.title == "Knit, Natter and Sew"
        changes = db.session.scalars(select(ListingChange).where(ListingChange.id > 0)).all()
        assert len(changes) == before + 1 and changes[-1].activity_uuid == knit.uuid


def _unordered(activity) -> dict:
    """An activity's fields with its term lists as sets: their order carries no meaning."""
    data = activity.model_dump()
    for name in ("categories", "helps", "accessibility"):
        data[name] = set(data[name])
    return data


def test_export_round_trip(make_app, tmp_path: Path) -> None:
    app = make_app()
    with app.app_context():
        export_catalogue(tmp_path / "out")
    again = read_catalogue(tmp_path / "out")
    assert again.errors == []
    original = read_catalogue(FIXTURE_CONTENT)
    for slug, organisation in original.organisations.items():
        exported = {a.slug: a for a in again.organisations[slug].activities}
        for activity in organisation.activities:
            assert _unordered(exported[activity.slug]) == _unordered(activity)
    assert again.venues == original.venues
    assert {k: (p.title, p.body) for k, p in again.pages.items()} == {
        k: (p.title, p.body) for k, p in original.pages.items()}
    second = make_app(content=tmp_path / "out")
    with second.app_context():
        assert db.session.scalar(select(func.count(Activity.id))) == 7
        assert db.session.scalar(select(func.count(Term.id))) > 30


def test_shipped_content_is_a_real_directory() -> None:
    """The sample directory the README promises: size, coverage and variety."""
    catalogue = read_catalogue(REPO / "content")
    assert catalogue.errors == []
    activities = [a for org in catalogue.organisations.values() for a in org.activities]
    assert len(activities) >= 150 and len(catalogue.organisations) >= 60
    categories = Counter(key for a in activities for key in a.categories)
    assert set(categories) == {t.key for t in catalogue.taxonomy.categories}
    assert len({key for a in activities for key in a.helps}) >= 6
    assert {a.cost.type for a in activities} == {"free", "paid", "pay_what_you_can"}
    assert {a.join.how for a in activities} == {"drop_in", "book", "referral"}
    assert {f for a in activities for f in a.formats} == {"in_person", "online", "phone"}
    assert {e.day for a in activities for e in a.schedule if e.day} == {
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
    assert sum(1 for a in activities if any(e.date for e in a.schedule)) >= 5
    assert any(a.hide_address for a in activities)
    assert {a.status for a in activities} == {"running", "full", "on_break", "closed"}
    for venue in catalogue.venues.values():  # Leeds district and around
        assert 53.6 < venue.latitude < 54.0 and -1.9 < venue.longitude < -1.2, venue.slug
