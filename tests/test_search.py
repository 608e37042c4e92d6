"""The search service and /search.json: words, filters, facets, distance, ranking, pages."""
from __future__ import annotations

import datetime as dt
import math
import threading

import pytest
from flask import Flask
from sqlalchemy import select

from sitedir import indexing, search
from sitedir.extensions import db
from sitedir.models import Activity
from tests.search_helpers import add_activity, index_now, rebuild, slugs

# 2πR/360 with the mean Earth radius geo uses: miles in one degree of latitude.
MILES_PER_DEGREE = 2 * math.pi * (6371.0088 / 1.609344) / 360


@pytest.fixture()
def indexed(indexed_app: Flask) -> Flask:
    return indexed_app


@pytest.fixture()
def api(indexed: Flask):
    return indexed.test_client()


# ---- words ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "slug"), [
    ("knit", "harehills-knit-and-natter"),
    ("knitting", "harehills-knit-and-natter"),
    ("KNITTERS natter", "harehills-knit-and-natter"),
    ("sewing", "gipton-home-sewing-circle"),
    ("Harehills", "harehills-knit-and-natter"),  # the place is searchable as words
    ("Wharfedale", "otley-health-walk"),  # and the organisation
])
def test_words_find_listings(api, query: str, slug: str) -> None:
    assert slug in slugs(api, f"/search.json?q={query}")


def test_accents_fold_both_ways(make_app) -> None:
    app = make_app()
    with app.app_context():
        made = {add_activity("Café Conversations", 53.8, -1.5).slug,
                add_activity("Cafe Club", 53.8, -1.5).slug}
        db.session.commit()
    rebuild(app)
    client = app.test_client()
    assert made <= set(slugs(client, "/search.json?q=cafe"))
    assert made <= set(slugs(client, "/search.json?q=café"))


def test_closed_listings_are_left_out(api) -> None:
    assert "harehills-closed-group" not in slugs(api, "/search.json?q=computer")
    assert "harehills-closed-group" not in slugs(api, "/search.json")


def test_exact_title_match_comes_first(make_app) -> None:
    app = make_app()
    with app.app_context():
        add_activity("Walking Football", 53.8, -1.5, summary="Walking football walking walking")
        add_activity("Nordic Walking", 53.8, -1.5, summary="Walking with poles: walking walking")
        exact = add_activity("Walking", 53.8, -1.5, summary="A friendly group",
                             last_reviewed=dt.date(2000, 1, 1))  # stale, and still first
        db.session.commit()
        exact_slug = exact.slug
    rebuild(app)
    client = app.test_client()
    assert slugs(client, "/search.json?q=walking")[0] == exact_slug
    assert slugs(client, "/search.json?q=Walking+Football")[0] != exact_slug


def test_fresh_listings_rank_a_little_higher(make_app) -> None:
    app = make_app()
    with app.app_context():
        stale = add_activity("Pottery one", 53.8, -1.5, summary="pottery",
                             last_reviewed=dt.date(2001, 1, 1))
        fresh = add_activity("Pottery two", 53.8, -1.5, summary="pottery")
        db.session.commit()
        order = [fresh.slug, stale.slug]
    rebuild(app)
    assert slugs(app.test_client(), "/search.json?q=pottery") == order


def test_did_you_mean(api) -> None:
    # A confident correction is searched at once (tests/test_search_words.py); asked for the
    # words exactly, the page offers it instead.
    body = api.get("/search.json?q=kniting&exact=1").get_json()
    assert body["did_you_mean"] == "knitting"
    assert api.get("/search.json?q=knitting").get_json()["did_you_mean"] is None


def test_any_word_when_no_listing_has_all(api) -> None:
    found = slugs(api, "/search.json?q=knitting+zebra")
    assert found == ["harehills-knit-and-natter"]


@pytest.mark.parametrize("text", [
    "*", "kn*", "title:knit", "knit~2", "[a TO z]", "date:>2020", "knit^100", '"unclosed',
    "(((", "AND", "NOT", "OR OR", "\x00\x01", "🧶", "a" * 200,
])
def test_query_syntax_is_restricted_and_safe(api, text: str) -> None:
    response = api.get("/search.json", query_string={"q": text})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_field_syntax_is_just_words(api) -> None:
    # "title:knit" is not a field query: it finds what "title knit" finds.
    assert "harehills-knit-and-natter" in slugs(api, "/search.json?q=title:knit")


def test_query_length_is_bounded(api) -> None:
    response = api.get("/search.json", query_string={"q": "a" * 201})
    assert response.status_code == 400
    assert response.get_json()["error"]["parameter"] == "q"


def test_snippets_are_marked_and_escaped(make_app) -> None:
    app = make_app()
    with app.app_context():
        add_activity("Choir", 53.8, -1.5, summary="Sing <b>loud</b>",
                     description="We sing together <script>alert(1)</script> every week.")
        db.session.commit()
    rebuild(app)
    snippet = app.test_client().get("/search.json?q=sing").get_json()["results"][0]["snippet"]
    assert "<mark>sing</mark>" in snippet.lower()
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet


# ---- filters and facets --------------------------------------------------------------------

def _facet(body: dict, name: str) -> dict[str, int]:
    return {item["value"]: item["count"] for item in body["facets"][name]}


def test_facet_counts_match_the_database(indexed: Flask, api) -> None:
    body = api.get("/search.json").get_json()
    with indexed.app_context():
        listed = [a for a in db.session.scalars(select(Activity)) if a.status != "closed"]
        expected_categories: dict[str, int] = {}
        expected_days: dict[str, int] = {}
        for activity in listed:
            for term in activity.categories:
                expected_categories[term.key] = expected_categories.get(term.key, 0) + 1
            for day in indexing.to_document(activity)["day"].split(","):
                if day:
                    expected_days[day] = expected_days.get(day, 0) + 1
        free = sum(a.cost_type == "free" for a in listed)
    assert body["total"] == len(listed)
    assert {k: v for k, v in _facet(body, "category").items() if v} == expected_categories
    assert {k: v for k, v in _facet(body, "day").items() if v} == expected_days
    assert _facet(body, "free") == {"1": free}


def test_filters_narrow_and_facets_show_alternatives(api) -> None:
    everything = api.get("/search.json").get_json()
    crafts = api.get("/search.json?category=arts-and-crafts").get_json()
    assert crafts["total"] == _facet(everything, "category")["arts-and-crafts"]
    assert all("arts-and-crafts" in item["categories"] for item in crafts["results"])
    # The category facet still counts the other categories (choosing one more widens: OR).
    assert _facet(crafts, "category") == _facet(everything, "category")
    both = api.get("/search.json?category=arts-and-crafts&category=walking").get_json()
    assert both["total"] == crafts["total"] + _facet(everything, "category")["walking"]
    free = api.get("/search.json?category=arts-and-crafts&free=1").get_json()
    assert free["total"] == _facet(crafts, "free")["1"]
    assert all(item["free"] for item in free["results"])


def test_day_time_format_join_age_filters(api) -> None:
    tuesday_mornings = slugs(api, "/search.json?day=tuesday&time=morning")
    assert "harehills-knit-and-natter" in tuesday_mornings
    assert "harehills-monthly-supper" not in tuesday_mornings  # Monday evenings
    assert "gipton-phone-befriending" in slugs(api, "/search.json?format=phone")
    assert all(item["slug"] != "harehills-knit-and-natter"
               for item in api.get("/search.json?join=book").get_json()["results"])
    youth = slugs(api, "/search.json?age=15")
    assert "otley-youth-film-club" in youth
    assert "otley-youth-film-club" not in slugs(api, "/search.json?age=70")


# ---- distance ----------------------------------------------------------------------------------

@pytest.fixture()
def ring(make_app):
    """Listings at hand-computed distances north and east of 54.0, -2.0 (a field in the Dales)."""
    app = make_app()
    centre_lat, centre_lon = 54.0, -2.0
    # Due north: d miles is d / MILES_PER_DEGREE degrees of latitude exactly (a meridian arc).
    north = {miles: add_north for miles, add_north in ((0.9, None), (1.1, None), (2.9, None),
                                                       (3.1, None), (24.0, None))}
    with app.app_context():
        made = {}
        for miles in north:
            made[("N", miles)] = add_activity(
                f"North {miles}", centre_lat + miles / MILES_PER_DEGREE, centre_lon).slug
        # Due east along the parallel is not a great circle; use the haversine inverse:
        # Δλ = 2·asin(sin(d/2R) / cos φ) for two points at the same latitude φ.
        for miles in (4.9, 5.1):
            angle = miles / (6371.0088 / 1.609344)
            dlon = math.degrees(2 * math.asin(
                math.sin(angle / 2) / math.cos(math.radians(centre_lat))))
            made[("E", miles)] = add_activity(f"East {miles}", centre_lat, centre_lon + dlon).slug
        made["online"] = add_activity("Online only", formats=["online"]).slug
        db.session.commit()
    rebuild(app)
    return app, made


def test_radius_keeps_exactly_the_listings_within_it(ring) -> None:
    app, made = ring
    client = app.test_client()
    near = "near=54.0,-2.0&online=0"
    assert slugs(client, f"/search.json?{near}&radius=1") == [made[("N", 0.9)]]
    assert slugs(client, f"/search.json?{near}&radius=3") == [
        made[("N", 0.9)], made[("N", 1.1)], made[("N", 2.9)]]
    five = slugs(client, f"/search.json?{near}&radius=5")
    assert made[("E", 4.9)] in five and made[("E", 5.1)] not in five
    assert made[("N", 24.0)] in slugs(client, f"/search.json?{near}&radius=25")


def test_distances_are_reported_and_sorted(ring) -> None:
    app, made = ring
    body = app.test_client().get("/search.json?near=54.0,-2.0&radius=25&online=0").get_json()
    distances = [item["distance_miles"] for item in body["results"]
                 if item["slug"] in made.values()]
    assert distances == sorted(distances)
    assert distances == [0.9, 1.1, 2.9, 3.1, 4.9, 5.1, 24.0]
    assert body["sort"] == "distance"


def test_online_activities_are_included_on_request(ring) -> None:
    app, made = ring
    client = app.test_client()
    with_online = client.get("/search.json?near=54.0,-2.0&radius=1").get_json()["results"]
    found = [item["slug"] for item in with_online]
    assert found[0] == made[("N", 0.9)]  # nearest first, then the ones with no place
    assert made["online"] in found and "gipton-phone-befriending" in found
    assert all(item.get("distance_miles") is None for item in with_online[1:])
    assert made["online"] not in slugs(client, "/search.json?near=54.0,-2.0&radius=1&online=0")


def test_places_postcodes_and_outcodes(api) -> None:
    for near in ("LS8 5QD", "ls85qd", "LS8", "Leeds", "53.81,-1.53"):
        body = api.get("/search.json", query_string={"near": near, "radius": 3}).get_json()
        assert "harehills-knit-and-natter" in [r["slug"] for r in body["results"]], near
        assert body["near"]["radius_miles"] == 3


def test_unknown_and_ambiguous_places(api) -> None:
    unknown = api.get("/search.json?near=Qwertyville")
    assert unknown.status_code == 400
    assert unknown.get_json()["error"]["parameter"] == "near"
    ambiguous = api.get("/search.json?near=Newport").get_json()["error"]
    assert ambiguous["parameter"] == "near" and len(ambiguous["choices"]) > 1
    page = api.get("/search?near=Newport")
    assert page.status_code == 200
    assert "Isle of Wight" in page.get_data(as_text=True)


def test_hidden_addresses_are_approximate(api) -> None:
    body = api.get("/search.json?q=sewing&near=LS9&radius=5").get_json()
    item = next(r for r in body["results"] if r["slug"] == "gipton-home-sewing-circle")
    assert item["approximate_location"] is True
    assert item["latitude"] == round(item["latitude"], 2)
    assert item["longitude"] == round(item["longitude"], 2)
    knit = api.get("/search.json?q=knit").get_json()["results"][0]
    assert knit["approximate_location"] is False


# ---- pages and the JSON shape ----------------------------------------------------------------

def test_pagination_bounds(make_app) -> None:
    app = make_app(PAGE_SIZE=2)
    rebuild(app)
    client = app.test_client()
    first = client.get("/search.json").get_json()
    assert (first["total"], first["pages"], len(first["results"])) == (6, 3, 2)
    seen = [r["slug"] for page in (1, 2, 3)
            for r in client.get(f"/search.json?page={page}").get_json()["results"]]
    assert len(seen) == len(set(seen)) == 6
    for bad in ("0", "-1", "x", "1.5", "99999999999"):
        response = client.get(f"/search.json?page={bad}")
        assert response.status_code == 400 and response.get_json()["error"]["parameter"] == "page"
    assert client.get("/search.json?page=4").status_code == 400
    assert client.get("/search?page=4").status_code == 404
    assert client.get("/search?page=3").status_code == 200


RESULT_TYPES = {
    "slug": str, "title": str, "url": str, "organisation": str, "categories": list,
    "latitude": (float, type(None)), "longitude": (float, type(None)),
    "approximate_location": bool, "summary": str, "formats": list, "cost": str, "free": bool,
    "next_session": (str, type(None)), "next_session_text": str, "stale": bool,
}


def test_json_schema(api) -> None:
    body = api.get("/search.json?q=walk&near=Otley&radius=10").get_json()
    assert {"total", "page", "pages", "results", "facets"} <= set(body)
    assert isinstance(body["total"], int) and body["page"] == 1 and body["pages"] >= 1
    assert body["results"], body
    for item in body["results"]:
        for key, kind in RESULT_TYPES.items():
            assert isinstance(item[key], kind), (key, item[key])
        assert "distance_miles" in item
        assert item["url"].startswith("http")
        assert item["url"].endswith(f"/activities/{item['slug']}")
    for name in ("category", "helps", "free", "day", "time", "format", "join", "access"):
        for value in body["facets"][name]:
            assert set(value) == {"value", "label", "count", "selected"}
    plain = api.get("/search.json").get_json()
    assert all("distance_miles" not in item for item in plain["results"])


@pytest.mark.parametrize(("query", "parameter"), [
    ("radius=7", "radius"), ("category=nope", "category"), ("helps=x", "helps"),
    ("day=funday", "day"), ("time=noon", "time"), ("format=fax", "format"),
    ("join=maybe", "join"), ("access=lift", "access"), ("free=perhaps", "free"),
    ("age=200", "age"), ("age=-3", "age"), ("sort=random", "sort"), ("sort=distance", "sort"),
    ("online=2", "online"),
])
def test_bad_parameters_are_named(api, query: str, parameter: str) -> None:
    response = api.get(f"/search.json?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["parameter"] == parameter
    assert api.get(f"/search?{query}").status_code == 400


# ---- readers and writers at once -------------------------------------------------------------

def test_readers_survive_concurrent_commits(make_app) -> None:
    app = make_app()
    rebuild(app)
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        client = app.test_client()
        while not stop.is_set():
            try:
                response = client.get("/search.json?q=group&near=LS9&radius=25")
                assert response.status_code == 200, response.get_data(as_text=True)
            except BaseException as error:  # noqa: BLE001 - collected and re-raised below
                errors.append(error)
                return

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        with app.app_context():
            for number in range(40):
                add_activity(f"Concurrent group {number}", 53.8, -1.5)
                db.session.commit()
                indexing.drain_all()
                if number % 10 == 0:
                    indexing.rebuild(app)
    finally:
        stop.set()
        for thread in readers:
            thread.join(30)
    assert not errors, errors[0]
    assert app.test_client().get("/search.json?q=concurrent").get_json()["total"] == 40


def test_publish_becomes_searchable_through_the_worker_thread(make_app) -> None:
    app = make_app(INDEXER_POLL_SECONDS=0.05)
    rebuild(app)
    stop = indexing.start_worker_thread(app)
    try:
        with app.app_context():
            add_activity("Harmonica Circle", 53.8, -1.5)
            db.session.commit()
        client = app.test_client()
        for _attempt in range(100):
            if slugs(client, "/search.json?q=harmonica"):
                break
            threading.Event().wait(0.05)
        assert len(slugs(client, "/search.json?q=harmonica")) == 1
    finally:
        stop.set()


def test_searchers_are_closed(make_app) -> None:
    app = make_app()
    rebuild(app)
    service = search.get_service(app)
    with app.test_request_context():
        service.search(search.SearchRequest())
        searcher = service.cache().searcher
        service.close()
    assert searcher.is_closed
    index_now(app)
