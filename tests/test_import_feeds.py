"""Real feeds: retries, partial pages, --since, duplicates, the taxonomy map, HTML, placing
venues from postcodes, identity that survives a round trip, and old slugs that redirect."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from flask import Flask
from sqlalchemy import func, select

from sitedir.extensions import db
from sitedir.models import Activity, ListingChange, Organisation, Postcode, Term, Venue
from sitedir.openreferral.models import ExternalRecord

from .oruk_support import FeedServer

ORG = {"id": "org-1", "name": "Wharfe Friends"}


def service(number: int, **extra: Any) -> dict[str, Any]:
    return {"id": f"s{number}", "name": f"Group {number}", "organization": ORG, **extra}


def page(items: list[dict], number: int, pages: int) -> dict[str, Any]:
    return {"total_items": 99, "total_pages": pages, "page_number": number, "size": len(items),
            "first_page": number == 1, "last_page": number == pages, "empty": not items,
            "contents": items}


def paged_server(pages: list[list[dict]], broken: dict[int, int] | None = None) -> FeedServer:
    """Pages of full services; `broken` maps a page number to how many times it fails first."""
    failures = dict(broken or {})
    by_id = {item["id"]: item for chunk in pages for item in chunk}

    def answer(path: str, query: dict[str, str]) -> tuple[int, Any]:
        if path == "/":
            return 200, {"version": "HSDS-UK-3.0"}
        if path == "/services":
            number = int(query.get("page", 1))
            if failures.get(number, 0) != 0:
                failures[number] -= 1
                return 503, {"error": "busy"}
            return 200, page(pages[number - 1] if number <= len(pages) else [], number,
                             len(pages))
        found = by_id.get(path.removeprefix("/services/"))
        return (200, found) if found else (404, {})

    return FeedServer(answer)


def invoke(site: Flask, *args: str) -> Any:
    return site.test_cli_runner().invoke(args=["import", "oruk", *args, "--retry-wait", "0"])


def titles(site: Flask) -> set[str]:
    with site.app_context():
        return set(db.session.scalars(select(Activity.title)))


def test_a_page_that_fails_once_is_retried(make_app: Callable[..., Flask]) -> None:
    site = make_app(content=None)
    with paged_server([[service(1)], [service(2)]], broken={2: 2}) as server:
        result = invoke(site, server.url, "--retries", "2")
    assert result.exit_code == 0, result.output
    assert titles(site) == {"Group 1", "Group 2"}


def test_a_page_that_keeps_failing_is_reported_and_the_rest_imports(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    site = make_app(content=None)
    report = tmp_path / "report.json"
    with paged_server([[service(1)], [service(2)], [service(3)]], broken={2: -1}) as server:
        result = invoke(site, server.url, "--retries", "1", "--report", str(report))
    assert result.exit_code == 1  # something of the feed is missing: not a silent success
    assert "could not read" in result.output and "page=2" in result.output
    assert titles(site) == {"Group 1", "Group 3"}
    failed = json.loads(report.read_text())["failed_pages"]
    assert len(failed) == 1 and "HTTP 503" in failed[0]["reason"]


def test_all_or_nothing_imports_nothing_when_a_page_fails(make_app: Callable[..., Flask]) -> None:
    site = make_app(content=None)
    with paged_server([[service(1)], [service(2)]], broken={2: -1}) as server:
        result = invoke(site, server.url, "--retries", "0", "--all-or-nothing")
    assert result.exit_code != 0 and "Nothing was imported" in result.output
    assert titles(site) == set()


def test_since_asks_the_feed_for_modified_after(make_app: Callable[..., Flask]) -> None:
    site = make_app(content=None)
    with paged_server([[service(1)]]) as server:
        result = invoke(site, server.url, "--since", "2026-11-30T09:00:00Z")
        assert result.exit_code == 0, result.output
        listed = [r for r in server.requests if r.startswith("/services?")]
    assert listed and all("modified_after=2026-11-30T09%3A00%3A00%2B00%3A00" in r
                          for r in listed)
    assert invoke(site, server.url, "--since", "last tuesday").exit_code == 2


def save(tmp_path: Path, services: list[dict]) -> str:
    path = tmp_path / "feed.json"
    path.write_text(json.dumps({"contents": services}))
    return str(path)


def test_duplicate_ids_are_reported_and_the_first_wins(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    site = make_app(content=None)
    feed = save(tmp_path, [service(1), {**service(1), "name": "Second copy"}])
    result = invoke(site, feed)
    assert result.exit_code == 0, result.output
    assert "duplicate service s1 (Second copy): id 's1' was already in service s1 (Group 1)" \
        in result.output
    assert titles(site) == {"Group 1"}
    assert invoke(site, feed, "--on-duplicate", "last").exit_code == 0
    assert titles(site) == {"Second copy"}
    assert invoke(site, feed, "--on-duplicate", "reject").exit_code == 1


def test_reimporting_an_unchanged_feed_writes_no_outbox_rows(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    site = make_app(content=None)
    feed = save(tmp_path, [service(1, description="<p>Hello</p>", service_at_locations=[
        {"id": "sal", "location": {"id": "loc", "name": "Hall", "addresses": [
            {"id": "a", "address_1": "1 Bridge Street", "city": "Otley",
             "postal_code": "LS21 1BQ"}]}}])])
    assert invoke(site, feed).exit_code == 0
    with site.app_context():
        before = db.session.scalar(select(func.count()).select_from(ListingChange))
    result = invoke(site, feed)
    assert "0 created, 0 updated, 1 unchanged" in result.output
    with site.app_context():
        assert db.session.scalar(select(func.count()).select_from(ListingChange)) == before


def test_terms_map_through_the_taxonomy_map_and_unknown_ones_never_become_categories(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    site = make_app()
    with site.app_context():
        categories = db.session.scalar(select(func.count()).select_from(Term))
    attributes = [
        {"id": "a1", "taxonomy_term": {"id": "lga-1", "name": "Social Isolation",
                                       "taxonomy": "LGA Needs and Circumstances"}},
        {"id": "a2", "taxonomy_term": {"id": "lga-2", "name": "Walking Groups",
                                       "taxonomy": "LGA Community Services"}},
        {"id": "a3", "taxonomy_term": {"id": "odd-1", "name": "Quidditch",
                                       "taxonomy": "Council sports"}},
    ]
    created = [{"id": "a4", "taxonomy_term": {"id": "lga-99", "name": "Brand new"}}]
    result = invoke(site, save(tmp_path, [service(1, attributes=attributes),
                                          service(2, attributes=created)]))
    assert result.exit_code == 0, result.output
    assert "'Quidditch' (taxonomy 'Council sports', id 'odd-1') is not in the taxonomy map" \
        in result.output
    with site.app_context():
        activity = db.session.scalar(select(Activity).where(Activity.title == "Group 1"))
        assert {(t.taxonomy, t.key) for t in activity.terms} == {
            ("need", "loneliness-and-isolation"), ("category", "walking")}
        # only the entry that says create: true added a term
        assert db.session.scalar(select(func.count()).select_from(Term)) == categories + 1
        assert db.session.scalar(select(Term.key).where(Term.name == "Brand new")) == \
            "brand-new-category"
        kept = db.session.scalar(select(ExternalRecord.unmapped_terms).where(
            ExternalRecord.kind == "service", ExternalRecord.external_id == "s1"))
        assert kept == [{"id": "odd-1", "code": "", "name": "Quidditch",
                         "taxonomy": "Council sports"}]
    home = site.test_client().get("/").get_data(as_text=True)
    assert "Quidditch" not in home


def test_html_descriptions_become_our_markdown(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    site = make_app(content=None)
    html = ("<h1>About us</h1><p>Short summary.</p><p>We meet <strong>weekly</strong>.</p>"
            "<ul><li>Tea</li><li>Cake</li></ul><p><a href='https://example.org'>More</a> "
            "<a href='javascript:alert(1)'>bad</a></p><script>alert(2)</script>")
    assert invoke(site, save(tmp_path, [service(1, description=html)])).exit_code == 0
    with site.app_context():
        activity = db.session.scalar(select(Activity))
        text = f"{activity.summary}\n\n{activity.description}"
        slug = activity.slug
    assert "<h1>" not in text and "<p>" not in text and "## About us" in text
    assert "- Tea\n- Cake" in text and "[More](https://example.org)" in text
    assert "javascript" not in text and "alert(2)" not in text
    body = site.test_client().get(f"/activities/{slug}").get_data(as_text=True)
    assert "&lt;p&gt;" not in body and "<strong>weekly</strong>" in body
    assert 'href="https://example.org"' in body and "javascript:" not in body


def located(number: int, postcode: str, **location: Any) -> dict[str, Any]:
    return service(number, service_at_locations=[{"id": f"sal{number}", "location": {
        "id": f"loc{number}", "name": f"Hall {number}", **location,
        "addresses": [{"id": f"a{number}", "address_1": "1 High Street", "city": "Leeds",
                       "postal_code": postcode}]}}])


def test_postcode_only_locations_are_placed_and_flagged(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    site = make_app(content=None)
    with site.app_context():
        db.session.add(Postcode(postcode="LS21 1BQ", latitude=53.9051, longitude=-1.6918))
        db.session.commit()
    feed = save(tmp_path, [located(1, "LS8 5QD"), located(2, "LS21 1BQ"),
                           located(3, "LS6 1AA", latitude=53.82, longitude=-1.57)])
    result = invoke(site, feed)
    assert result.exit_code == 0, result.output
    assert "venues placed: 1 with the feed's own point, 1 from their exact postcode, " \
           "1 approximately, from the postcode sector" in result.output
    with site.app_context():
        venues = {v.name: v for v in db.session.scalars(select(Venue))}
        assert venues["Hall 1"].placed_approximately and venues["Hall 1"].latitude
        assert venues["Hall 2"].placed_from == "postcode"
        assert (venues["Hall 2"].latitude, venues["Hall 2"].longitude) == (53.9051, -1.6918)
        assert venues["Hall 3"].placed_from == "" and venues["Hall 3"].latitude == 53.82
    near = site.test_client().get("/openreferral/services?postcode=LS8 5QD&proximity=3000")
    assert "Group 1" in {item["name"] for item in near.get_json()["contents"]}


def test_venues_place_makes_approximate_points_exact_and_checks_own_postcodes(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    site = make_app(content=None)
    feed = save(tmp_path, [located(1, "LS8 5QD"),
                           located(2, "LS21 1BQ", latitude=53.80, longitude=-1.55)])
    assert invoke(site, feed).exit_code == 0
    with site.app_context():  # the ONS directory arrives later
        db.session.add_all([Postcode(postcode="LS8 5QD", latitude=53.8142, longitude=-1.5135),
                            Postcode(postcode="LS21 1BQ", latitude=53.9051, longitude=-1.6918)])
        db.session.commit()
    runner = site.test_cli_runner()
    check = runner.invoke(args=["venues", "place"])
    assert "1 made exact, 1 more than 1,000 m from their postcode" in check.output
    assert "m from its postcode LS21 1BQ" in check.output
    fixed = runner.invoke(args=["venues", "place", "--fix"])
    assert "(1 moved)" in fixed.output
    with site.app_context():
        assert {v.placed_from for v in db.session.scalars(select(Venue))} == {"postcode"}
    assert "0 more than 1,000 m" in runner.invoke(args=["venues", "place"]).output


def test_our_own_export_round_trips_slugs_phones_and_address_lines(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    source = make_app()
    with source.app_context():
        organisation = db.session.scalar(select(Organisation).where(
            Organisation.activities.any()).order_by(Organisation.id))
        organisation.phone = "0113 496 0000"
        venue = db.session.scalar(select(Venue).where(Venue.activities.any(
            Activity.hide_address.is_(False))).order_by(Venue.id))
        venue.address = "Unit 3, Mill Yard\nBridge Street"
        db.session.commit()

    def identities(site: Flask) -> tuple[set, set, set]:
        with site.app_context():
            return (set(db.session.execute(select(Activity.uuid, Activity.slug))),
                    set(db.session.execute(select(Organisation.slug, Organisation.phone)
                                           .where(Organisation.activities.any()))),
                    set(db.session.execute(select(Venue.slug, Venue.address)
                                           .where(Venue.activities.any()))))

    client = source.test_client()
    listed = client.get("/openreferral/services?per_page=500").get_json()["contents"]
    details = [client.get(f"/openreferral/services/{s['id']}").get_json() for s in listed]
    empty = make_app(content=None)
    assert invoke(empty, save(tmp_path, details)).exit_code == 0
    mine, theirs = identities(source), identities(empty)
    assert theirs[0] == mine[0]  # every activity keeps its slug (public URLs, QR codes)
    assert theirs[1] == mine[1]  # organisation slugs and phone numbers
    assert "Unit 3, Mill Yard\nBridge Street" in {address for _, address in theirs[2]}


def test_a_renamed_slug_redirects(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    site = make_app(content=None)
    first = service(1)
    first["x-sitedir"] = {"slug": "knit-and-natter"}
    assert invoke(site, save(tmp_path, [first])).exit_code == 0
    first["x-sitedir"] = {"slug": "knit-natter-otley"}
    assert invoke(site, save(tmp_path, [first])).exit_code == 0
    client = site.test_client()
    old = client.get("/activities/knit-and-natter")
    assert old.status_code == 301 and old.headers["Location"].endswith(
        "/activities/knit-natter-otley")
    assert client.get("/activities/knit-natter-otley").status_code == 200
    assert client.get("/activities/never-existed").status_code == 404


def test_v1_ages_from_eligibilitys_and_v1_terms_through_the_map(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    """The v1 reference API writes "eligibilitys"; its terms carry a vocabulary."""
    site = make_app()
    v1 = {"id": "v1-1", "name": "Strollers", "organization": ORG,
          "eligibilitys": [{"id": "e", "minimum_age": 50, "maximum_age": 90}],
          "service_taxonomys": [{"id": "t", "taxonomy": {
              "id": "esd-1", "name": "Walking groups", "vocabulary": "esdServiceTypes"}}],
          "regular_schedules": [{"id": "r", "weekday": "Tuesday", "opens_at": "10:00",
                                 "closes_at": "11:00", "freq": "WEEKLY", "byday": "TU"}]}
    result = invoke(site, save(tmp_path, [v1]))
    assert result.exit_code == 0, result.output
    with site.app_context():
        activity = db.session.scalar(select(Activity).where(Activity.title == "Strollers"))
        assert (activity.age_min, activity.age_max) == (50, 90)
        assert [(t.taxonomy, t.key) for t in activity.terms] == [("category", "walking")]


def test_a_foreign_term_named_like_our_taxonomy_only_matches_terms_we_have(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    site = make_app()
    with site.app_context():
        before = db.session.scalar(select(func.count()).select_from(Term))
    attributes = [{"id": f"a{i}", "taxonomy_term": {"id": f"t{i}", "name": name,
                                                    "taxonomy": "Accessibility"}}
                  for i, name in enumerate(["Hearing loop", "Trampoline access"])]
    result = invoke(site, save(tmp_path, [service(1, attributes=attributes)]))
    assert result.exit_code == 0, result.output
    with site.app_context():
        activity = db.session.scalar(select(Activity).where(Activity.title == "Group 1"))
        assert [t.key for t in activity.terms] == ["hearing-loop"]
        assert db.session.scalar(select(func.count()).select_from(Term)) == before
