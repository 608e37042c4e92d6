"""`flask import oruk`: round trip, idempotence, rejections, savepoints, paging over real HTTP."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from sitedir import indexing, search
from sitedir.extensions import db
from sitedir.models import Activity, ListingChange, Organisation, Venue
from sitedir.openreferral.importer import import_records
from sitedir.openreferral.mapping import (
    ActivityRecord, OrganisationRecord, TermRecord, parse_service,
)

from .oruk_support import FeedServer, oruk_v3_server

VOLATILE = ("url", "last_modified")


def export_services(app: Flask) -> list[dict[str, Any]]:
    """Every service of a site, fully nested, as its ORUK API serves them."""
    client = app.test_client()
    listed = client.get("/openreferral/services?per_page=500").get_json()["contents"]
    return [client.get(f"/openreferral/services/{item['id']}").get_json() for item in listed]


def normalised(service: dict[str, Any]) -> dict[str, Any]:
    """A service without the fields that name the host or the moment, lists in id order."""
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items() if k not in VOLATILE}
        if isinstance(node, list):
            items = [walk(item) for item in node]
            return sorted(items, key=lambda i: i.get("id", "") if isinstance(i, dict) else i)
        return node
    return walk(service)


def counts(app: Flask) -> tuple[int, int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Activity, Organisation, Venue, ListingChange))


@pytest.fixture(scope="module")
def exported(app: Flask) -> list[dict[str, Any]]:
    return export_services(app)


def save(tmp_path: Path, document: Any, name: str = "feed.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_round_trip_into_an_empty_site_gives_the_same_listings(
        make_app: Callable[..., Flask], exported: list[dict], tmp_path: Path) -> None:
    empty = make_app(content=None)
    feed = save(tmp_path, {"total_items": len(exported), "total_pages": 1, "page_number": 1,
                           "size": len(exported), "first_page": True, "last_page": True,
                           "empty": False, "contents": exported})
    result = empty.test_cli_runner().invoke(args=["import", "oruk", str(feed)])
    assert result.exit_code == 0, result.output
    assert f"{len(exported)} created, 0 updated, 0 unchanged, 0 warned, 0 rejected" in result.output
    again = export_services(empty)
    assert sorted(map(normalised, again), key=lambda s: s["id"]) == \
        sorted(map(normalised, exported), key=lambda s: s["id"])
    # and the public pages exist for every imported listing
    client = empty.test_client()
    for service in again:
        page = client.get(service["url"].removeprefix("http://localhost"))
        assert page.status_code == 200 and service["name"] in page.get_data(as_text=True)


def test_reimport_is_idempotent_and_goes_through_the_outbox_into_search(
        make_app: Callable[..., Flask], exported: list[dict], tmp_path: Path) -> None:
    site = make_app(content=None)
    feed = save(tmp_path, exported)  # a bare list of services is accepted too
    runner = site.test_cli_runner()
    assert runner.invoke(args=["import", "oruk", str(feed)]).exit_code == 0
    with site.app_context():
        changed = set(db.session.scalars(select(ListingChange.activity_uuid)))
        assert changed == {service["id"] for service in exported}  # every new listing
        indexing.drain_all()
        found = search.get_service().search(search.SearchRequest(text="otley walk"))
        titles = {db.session.scalar(select(Activity.title).where(Activity.uuid == hit.uuid))
                  for hit in found.hits}
        assert "Otley Health Walk" in titles
    before = counts(site)
    result = runner.invoke(args=["import", "oruk", str(feed)])
    assert f"0 created, 0 updated, {len(exported)} unchanged" in result.output
    assert counts(site) == before  # not even an outbox row

    changed = copy.deepcopy(exported)
    walk = next(s for s in changed if s["name"] == "Otley Health Walk")
    walk["minimum_age"] = 55
    result = runner.invoke(args=["import", "oruk", str(save(tmp_path, changed))])
    assert "0 created, 1 updated" in result.output
    with site.app_context():
        assert db.session.scalar(select(Activity.age_min).where(
            Activity.title == "Otley Health Walk")) == 55


ORG = {"id": "o1", "name": "Org"}
# Only a record that cannot be a listing at all is rejected ...
REJECTED = [
    ({"name": "No id"}, "id: missing"),
    ({"id": "b1", "organization": {"id": "o1", "name": "Org", "description": ""}},
     "name: missing"),
    ("not an object", "service: must be an object"),
]
# ... any other bad value drops that field, with a warning quoting it and naming the record.
WARNED = [
    ({"id": "b2", "name": "No organisation"},
     "service b2 (No organisation): organization: None dropped (missing or not an object"),
    ({"id": "b3", "name": "Bad time", "organization": ORG,
      "schedules": [{"id": "s", "freq": "WEEKLY", "byday": "MO", "opens_at": "25:00",
                     "closes_at": "26:00", "description": "Mondays"}]},
     "service b3 (Bad time): schedules[0].opens_at: must be a time"),
    ({"id": "b4", "name": "Bad age", "organization": ORG, "minimum_age": "old"},
     "service b4 (Bad age): minimum_age: 'old' dropped (must be a number)"),
    ({"id": "b5", "name": "Bad status", "organization": ORG, "status": "open"},
     "service b5 (Bad status): status: 'open' dropped (not one of"),
    ({"id": "b6", "name": "Backwards", "organization": ORG,
      "schedules": [{"id": "s", "freq": "WEEKLY", "byday": "MO", "opens_at": "12:00",
                     "closes_at": "10:00"}]}, "schedules[0].closes_at: must be after opens_at"),
    ({"id": "b7", "name": "Bad day", "organization": ORG,
      "schedules": [{"id": "s", "freq": "WEEKLY", "byday": "XX", "opens_at": "10:00",
                     "closes_at": "11:00"}]}, "schedules[0].byday: 'XX' is not a day"),
    ({"id": "b8", "name": "Far away", "organization": ORG,
      "service_at_locations": [{"id": "l", "location": {"id": "l1", "name": "X",
                                                        "latitude": 123, "longitude": 1}}]},
     "service_at_locations[0].location.latitude: 123 dropped (must be between -90 and 90)"),
    ({"id": "b9", "name": "Sentinel ages", "organization": ORG, "minimum_age": -1,
      "maximum_age": -1}, "service b9 (Sentinel ages): maximum_age: -1 dropped"),
    ({"id": "b10", "name": "Pounds", "organization": ORG,
      "cost_options": [{"id": "c", "amount": "£3"}]},
     "cost_options[0].amount: '£3' dropped (must be a number)"),
    ({"id": "b11", "name": "Script site", "organization": {
        "id": "o2", "name": "Org", "website": "javascript:alert(1)"}},
     "organization.website: 'javascript:alert(1)' dropped (must start with https://"),
]


def test_a_malformed_feed_keeps_every_listing_it_can_and_reports_every_value(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    site = make_app()
    before = counts(site)
    feed = save(tmp_path, {"contents": [record for record, _ in REJECTED + WARNED]})
    report_file = tmp_path / "report.json"
    result = site.test_cli_runner().invoke(
        args=["import", "oruk", str(feed), "--report", str(report_file)])
    assert result.exit_code == 1  # there were rejections
    assert (f"{len(WARNED)} created, 0 updated, 0 unchanged, {len(WARNED)} warned, "
            f"{len(REJECTED)} rejected") in result.output
    for _, reason in REJECTED + WARNED:
        assert reason in result.output
    assert counts(site)[:1] == (before[0] + len(WARNED),)
    report = json.loads(report_file.read_text())
    assert report["summary"]["rejected"] == len(REJECTED)
    assert {item["record"] for item in report["warnings"]} >= {
        "service b4 (Bad age)", "service b9 (Sentinel ages)"}
    with site.app_context():
        pounds = db.session.scalar(select(Activity).where(Activity.title == "Pounds"))
        assert pounds.cost_type == "paid" and "£3" in pounds.cost_notes  # not called free
        sentinel = db.session.scalar(select(Activity).where(Activity.title == "Sentinel ages"))
        assert (sentinel.age_min, sentinel.age_max) == (None, None)
        script = db.session.scalar(select(Organisation).where(Organisation.uuid.is_not(None))
                                   .where(Organisation.website.like("javascript%")))
        assert script is None


def test_warnings_alone_exit_zero_unless_strict(make_app: Callable[..., Flask],
                                                tmp_path: Path) -> None:
    site = make_app(content=None)
    feed = save(tmp_path, {"contents": [WARNED[3][0]]})
    runner = site.test_cli_runner()
    assert runner.invoke(args=["import", "oruk", str(feed)]).exit_code == 0
    assert runner.invoke(args=["import", "oruk", str(feed), "--strict"]).exit_code != 0


@pytest.mark.parametrize("content", ["{not json", '{"something": "else"}', '"a string"'])
def test_an_unreadable_feed_imports_nothing(make_app: Callable[..., Flask], tmp_path: Path,
                                            content: str) -> None:
    site = make_app()
    before = counts(site)
    feed = tmp_path / "feed.json"
    feed.write_text(content)
    result = site.test_cli_runner().invoke(args=["import", "oruk", str(feed)])
    assert result.exit_code != 0 and "Nothing was imported" in result.output
    assert counts(site) == before


def test_a_record_that_fails_in_the_database_leaves_nothing_behind(
        make_app: Callable[..., Flask]) -> None:
    site = make_app(content=None)
    good = ActivityRecord(external_id="good",
                          fields={"title": "Good group", "formats": ["online"]},
                          organisation=OrganisationRecord("org-good",
                                                          {"name": "Good organisation"}))
    # A new term without a name passes Python but breaks a NOT NULL constraint at flush,
    # after its organisation was already added: the savepoint must take both away.
    bad = ActivityRecord(external_id="bad", fields={"title": "Bad group", "formats": ["online"]},
                         organisation=OrganisationRecord("org-bad",
                                                         {"name": "Half-applied organisation"}),
                         terms=[TermRecord("t-bad", "category", "nameless", None, create=True)])
    with site.app_context():
        report = import_records([("bad", bad), ("good", good)], "test")
        assert report.created == 1 and report.rejected[0][0] == "bad"
        assert "database refused it" in report.rejected[0][1]
        names = set(db.session.scalars(select(Organisation.name)))
        assert names == {"Good organisation"}
        assert db.session.scalar(select(func.count()).select_from(ListingChange)) == 1


def test_v3_feed_over_http_follows_pages_and_fetches_details(
        make_app: Callable[..., Flask], exported: list[dict]) -> None:
    site = make_app(content=None)
    with oruk_v3_server(exported, per_page_cap=2) as server:
        result = site.test_cli_runner().invoke(
            args=["import", "oruk", f"{server.url}/api/"])
    assert result.exit_code == 0, result.output
    assert f"{len(exported)} created" in result.output
    assert "Read page 4 of 4 (ORUK v3)" in result.output
    list_pages = [r for r in server.requests if r.startswith("/api/services?")]
    details = [r for r in server.requests if r.startswith("/api/services/")]
    assert len(list_pages) == 4 and len(details) == len(exported)
    assert sorted(map(normalised, export_services(site)), key=lambda s: s["id"]) == \
        sorted(map(normalised, exported), key=lambda s: s["id"])


def test_a_missing_detail_is_one_rejection_not_a_dead_feed(
        make_app: Callable[..., Flask], exported: list[dict]) -> None:
    site = make_app(content=None)
    listed = exported + [{**exported[0], "id": "gone"}]
    by_id = {s["id"]: s for s in exported}

    def answer(path: str, query: dict[str, str]) -> tuple[int, Any]:
        if path == "/services":
            return 200, {"total_items": len(listed), "total_pages": 1, "page_number": 1,
                         "size": len(listed), "first_page": True, "last_page": True,
                         "empty": False, "contents": [{"id": s["id"]} for s in listed]}
        found = by_id.get(path.removeprefix("/services/"))
        return (200, found) if found else (404, {})

    with FeedServer(answer) as server:
        result = site.test_cli_runner().invoke(args=["import", "oruk", server.url])
    assert result.exit_code == 1
    assert "rejected service gone: details:" in result.output and "HTTP 404" in result.output
    assert f"{len(exported)} created" in result.output


def test_an_unreachable_url_imports_nothing(make_app: Callable[..., Flask]) -> None:
    site = make_app(content=None, IMPORT_TIMEOUT=2)
    with FeedServer(lambda path, query: (500, {})) as server:
        url = server.url
        result = site.test_cli_runner().invoke(
            args=["import", "oruk", url, "--retries", "1", "--retry-wait", "0"])
    assert result.exit_code != 0 and "HTTP 500" in result.output
    assert "Nothing was imported" in result.output


V1_SERVICE = {
    "id": "1234", "name": "Knit and Natter", "description": "Bring your needles.\n\nTea too.",
    "url": "https://example.org/knit", "email": "knit@example.org", "status": "active",
    "organization": {"id": "org-9", "name": "Craft Collective", "description": "Crafts.",
                     "url": "https://example.org"},
    "eligibilys": [{"id": "e1", "minimum_age": 16, "maximum_age": None}],
    "regular_schedules": [{"id": "r1", "freq": "WEEKLY", "byday": "TU,TH", "interval": 1,
                           "opens_at": "10:00:00", "closes_at": "12:00:00"}],
    "service_at_locations": [{"id": "sal1", "location": {
        "id": "loc-5", "name": "Town Library", "latitude": 53.8, "longitude": -1.5,
        "physical_addresses": [{"id": "a1", "address_1": "1 High Street", "city": "Leeds",
                                "postal_code": "ls1 1aa", "country": "England"}]}}],
    "cost_options": [{"id": "c1", "amount": 2.5, "amount_description": "£2.50 a session"}],
    "contacts": [{"id": "k1", "name": "Sam", "phones": [{"id": "p1", "number": "0113 000"}]}],
    "service_taxonomys": [{"id": "t1", "taxonomy": {"id": "x:1", "name": "Crafts",
                                                    "vocabulary": "Somebody else's"}}],
}


def test_v1_feed_over_http(make_app: Callable[..., Flask]) -> None:
    site = make_app()
    second = {**V1_SERVICE, "id": "5678", "name": "Chess Club", "regular_schedules": [
        {"id": "r2", "freq": "MONTHLY", "byday": "2WE", "opens_at": "18:00",
         "closes_at": "20:00"}], "service_at_locations": []}

    def answer(path: str, query: dict[str, str]) -> tuple[int, Any]:
        if path == "/":
            return 404, {}
        if path == "/services":
            page = int(query["page"])
            content = [[{"id": "1234", "name": "Knit"}], [{"id": "5678", "name": "Chess"}]][
                page - 1]
            return 200, {"totalElements": 2, "totalPages": 2, "number": page, "size": 1,
                         "first": page == 1, "last": page == 2, "content": content}
        return 200, {"1234": V1_SERVICE, "5678": second}[path.removeprefix("/services/")]

    with FeedServer(answer) as server:
        result = site.test_cli_runner().invoke(args=["import", "oruk", server.url])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output and "(ORUK v1)" in result.output
    assert "is not in the taxonomy map" in result.output  # a warning, not a rejection
    with site.app_context():
        knit = db.session.scalar(select(Activity).join(Activity.organisation).where(
            Activity.title == "Knit and Natter", Organisation.name == "Craft Collective"))
        assert (knit.summary, knit.description) == ("Bring your needles.", "Tea too.")
        assert knit.age_min == 16 and knit.contact_phone == "0113 000"
        assert sorted(e.weekday for e in knit.schedule) == [1, 3]
        assert knit.venue.postcode == "LS1 1AA" and knit.venue.address_lines == ["1 High Street"]
        assert (knit.cost_type, knit.cost_amount, knit.cost_per) == ("paid", 2.5, "session")
        assert knit.slug == "knit-and-natter" and knit.last_reviewed is not None
        chess = db.session.scalar(select(Activity).where(Activity.title == "Chess Club"))
        assert [(e.weekday, e.weeks) for e in chess.schedule] == [(2, [2])]
        assert chess.formats == ["online"]  # no place given


def test_parse_keeps_what_it_cannot_show_as_notes() -> None:
    record = parse_service({
        "id": "x", "name": "Fortnightly", "organization": {"id": "o", "name": "O"},
        "schedules": [{"id": "s", "freq": "WEEKLY", "interval": 2, "byday": "MO",
                       "opens_at": "10:00", "closes_at": "11:00",
                       "description": "Every other Monday"}]})
    assert record.fields["schedule"] == [] and record.fields["schedule_notes"] == \
        "Every other Monday"
    assert "cannot show as a timetable line" in record.warnings[0]


def test_imported_titles_get_unique_slugs(make_app: Callable[..., Flask]) -> None:
    site = make_app(content=None)
    records = [(f"r{n}", ActivityRecord(
        external_id=f"r{n}", fields={"title": "Coffee Morning", "formats": ["online"]},
        organisation=OrganisationRecord(f"o{n}", {"name": "Same Name"}))) for n in range(3)]
    with site.app_context():
        assert import_records(records, "test").created == 3
        assert sorted(db.session.scalars(select(Activity.slug))) == [
            "coffee-morning", "coffee-morning-2", "coffee-morning-3"]
        assert sorted(db.session.scalars(select(Organisation.slug))) == [
            "same-name", "same-name-2", "same-name-3"]


def test_a_reimport_keeps_what_the_feed_has_no_field_for(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    """ORUK has no field for how to join, online details or what to bring: an import writes
    through the same upsert as content files, but only the fields its feed gives."""
    site = make_app()
    feed = save(tmp_path, export_services(site))
    with site.app_context():
        walk = db.session.scalar(select(Activity).where(Activity.title == "Otley Health Walk"))
        walk.join_how, walk.join_notes = "book", "Ring Jo first"
        walk.online_details, walk.what_to_bring = "A video call too", "Good shoes"
        db.session.commit()
        before = db.session.scalar(select(func.count()).select_from(ListingChange))
    result = site.test_cli_runner().invoke(args=["import", "oruk", str(feed)])
    assert "0 created, 0 updated" in result.output, result.output
    with site.app_context():
        walk = db.session.scalar(select(Activity).where(Activity.title == "Otley Health Walk"))
        assert (walk.join_how, walk.join_notes, walk.online_details, walk.what_to_bring) == (
            "book", "Ring Jo first", "A video call too", "Good shoes")
        assert db.session.scalar(select(func.count()).select_from(ListingChange)) == before


def test_imported_values_meet_the_same_input_rules_as_the_forms(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    """The inputs.py rules decide: a title that hides its direction is refused with the rule's
    message; an email address the forms would refuse is dropped with a warning; a title's
    line break becomes a space, as in a form."""
    site = make_app(content=None)
    feed = save(tmp_path, [
        {"id": "t1", "name": "Knit\u202e tinu", "organization": ORG},
        {"id": "t2", "name": "Craft\nClub", "organization": ORG, "email": "craft@@example.org"},
    ])
    result = site.test_cli_runner().invoke(args=["import", "oruk", str(feed)])
    assert "rejected service t1 (Knit\u202e tinu): title: must not contain hidden characters" \
        in result.output, result.output
    assert "contact.email: 'craft@@example.org' dropped (Enter an email address" in result.output
    with site.app_context():
        craft = db.session.scalar(select(Activity).where(Activity.title == "Craft Club"))
        assert craft is not None and craft.contact_email == ""
