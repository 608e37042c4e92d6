"""The ORUK 3.0 read API: every endpoint against the spec schemas, pagination, filters, errors."""
from __future__ import annotations

import uuid
from typing import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from sitedir.extensions import db
from sitedir.models import Activity, Term
from sitedir.openreferral import api, mapping

from .oruk_support import empty_values, errors, walk_pages
from .search_helpers import add_activity, index_now, rebuild

API = "/openreferral"
# Fields the spec requires even when we have nothing to put in them.
REQUIRED_EVEN_IF_EMPTY = ("description",)


@pytest.fixture(autouse=True)
def _indexed(indexed_app: Flask) -> None:
    """search= goes through the index: the shared app's, built once for the session."""


def _activity(app: Flask, slug: str) -> tuple[str, str]:
    with app.app_context():
        activity = db.session.scalar(select(Activity).where(Activity.slug == slug))
        return activity.uuid, activity.venue.uuid if activity.venue else ""


def test_index_names_version_profile_and_openapi(client: FlaskClient) -> None:
    response = client.get(f"{API}/")
    body = response.get_json()
    assert errors("api_details.json", body) == []
    assert body["version"] == "3.0"
    openapi = client.get(body["openapi_url"].removeprefix("http://localhost"))
    assert openapi.status_code == 200
    assert openapi.get_json()["openapi"].startswith("3.0")
    assert set(openapi.get_json()["paths"]) >= {
        "/", "/services", "/services/{id}", "/service_at_locations",
        "/service_at_locations/{id}", "/taxonomies", "/taxonomies/{id}", "/taxonomy_terms",
        "/taxonomy_terms/{id}"}


def test_every_service_in_list_and_detail_fits_the_spec(client: FlaskClient) -> None:
    pages = walk_pages(client, f"{API}/services", per_page=3)
    listed = [item for page in pages for item in page["contents"]]
    assert len(listed) == pages[0]["total_items"] == 7
    assert len({item["id"] for item in listed}) == 7
    for item in listed:
        assert errors("service_list_item.json", item) == []
        assert "schedules" not in item  # lists carry one-to-one fields only
        detail = client.get(f"{API}/services/{item['id']}").get_json()
        assert errors("service.json", detail) == [], detail["name"]
        assert list(empty_values(detail, allowed=REQUIRED_EVEN_IF_EMPTY)) == []


def test_a_service_is_fully_nested(client: FlaskClient, app: Flask) -> None:
    service_id, venue_id = _activity(app, "otley-health-walk")
    body = client.get(f"{API}/services/{service_id}").get_json()
    assert body["name"] == "Otley Health Walk" and body["minimum_age"] == 50
    assert body["organization"]["name"] == "Wharfedale Walkers"
    link, = body["service_at_locations"]
    assert link["location"]["id"] == venue_id
    address, = link["location"]["addresses"]
    assert address["postal_code"] == "LS21 1BQ" and address["country"] == "GB"
    weekly = next(s for s in body["schedules"] if s.get("freq") == "WEEKLY")
    assert (weekly["byday"], weekly["opens_at"], weekly["closes_at"]) == ("SA", "10:30", "11:30")
    dated = next(s for s in body["schedules"] if "freq" not in s)
    assert dated["valid_from"] == dated["valid_to"] == "2027-03-16"
    assert dated["description"].endswith("– Social Prescribing Week taster walk")
    assert body["cost_options"][0]["amount_description"] == "Free"
    codes = {a["taxonomy_term"]["code"] for a in body["attributes"]}
    assert codes == {"walking", "sport-and-physical-activity", "long-term-conditions"}
    assert body["url"] == "http://localhost/activities/otley-health-walk"


def test_monthly_schedule_and_hidden_address(client: FlaskClient, app: Flask) -> None:
    service_id, _ = _activity(app, "gipton-home-sewing-circle")
    body = client.get(f"{API}/services/{service_id}").get_json()
    schedule, = body["schedules"]
    assert (schedule["freq"], schedule["byday"]) == ("MONTHLY", "-1SU")
    location = body["service_at_locations"][0]["location"]
    # The page hides this home's address; so must the open data.
    assert "latitude" not in location and "longitude" not in location
    address = location["addresses"][0]
    assert address["address_1"] == mapping.HIDDEN_ADDRESS
    assert " " not in address["postal_code"]  # only the outcode


def test_ids_are_stable_and_derived_as_documented(client: FlaskClient, app: Flask) -> None:
    service_id, venue_id = _activity(app, "otley-health-walk")
    first = client.get(f"{API}/services/{service_id}").get_json()
    again = client.get(f"{API}/services/{service_id}").get_json()
    assert first == again
    link = first["service_at_locations"][0]
    assert link["id"] == str(uuid.uuid5(uuid.UUID(service_id), f"service_at_location:{venue_id}"))
    cost_id = str(uuid.uuid5(uuid.UUID(service_id), "cost_option"))
    assert first["cost_options"][0]["id"] == cost_id
    ids = [s["id"] for s in first["schedules"]]
    assert len(set(ids)) == len(ids)


def test_service_at_locations_list_and_detail(client: FlaskClient) -> None:
    pages = walk_pages(client, f"{API}/service_at_locations", per_page=2)
    listed = [item for page in pages for item in page["contents"]]
    # in-person activities with a venue: not the phone befriending
    assert {item["service"]["name"] for item in listed} >= {"Otley Health Walk", "Sewing Circle"}
    assert "Telephone Befriending" not in {item["service"]["name"] for item in listed}
    for item in listed:
        assert errors("service_at_location.json", item) == []
        detail = client.get(f"{API}/service_at_locations/{item['id']}").get_json()
        assert errors("service_at_location.json", detail) == []
        assert errors("service.json", detail["service"]) == []
        assert detail["location"]["addresses"]


def test_postcode_and_proximity_in_metres(client: FlaskClient) -> None:
    near = client.get(f"{API}/service_at_locations?postcode=LS21 1BQ&proximity=5000").get_json()
    assert {item["service"]["name"] for item in near["contents"]} == {
        "Otley Health Walk", "Youth Film Club"}
    assert all(item["distance"] <= 5000 for item in near["contents"])
    everything = client.get(f"{API}/service_at_locations?postcode=LS21 1BQ").get_json()
    distances = [item["distance"] for item in everything["contents"]]
    assert distances == sorted(distances) and len(distances) > 2


def test_taxonomies_and_terms(client: FlaskClient, app: Flask) -> None:
    pages = walk_pages(client, f"{API}/taxonomies", per_page=2)
    taxonomies = [t for page in pages for t in page["contents"]]
    assert [t["id"] for t in taxonomies] == [mapping.taxonomy_id(n) for n in mapping.TAXONOMIES]
    for item in taxonomies:
        assert errors("taxonomy.json", item) == []
        detail = client.get(f"{API}/taxonomies/{item['id']}").get_json()
        assert errors("taxonomy.json", detail) == [] and detail["taxonomy_terms"]
    terms = [t for page in walk_pages(client, f"{API}/taxonomy_terms", per_page=7)
             for t in page["contents"]]
    with app.app_context():
        assert len(terms) == len(db.session.scalars(select(Term)).all())
    for term in terms:
        assert errors("taxonomy_term.json", term) == []
        assert client.get(f"{API}/taxonomy_terms/{term['id']}").get_json() == term


def _names(client: FlaskClient, query: str) -> set[str]:
    response = client.get(f"{API}/services?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["name"] for item in response.get_json()["contents"]}


def test_filters(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        walking = db.session.scalar(select(Term.uuid).where(Term.key == "walking"))
    assert _names(client, f"taxonomy_term_id={walking}") == {"Otley Health Walk"}
    assert _names(client, f"taxonomy_id={mapping.taxonomy_id('category')}") == _names(client, "")
    assert _names(client, "minimum_age=50") == {"Otley Health Walk"}
    assert _names(client, "maximum_age=18") == {"Youth Film Club"}
    assert _names(client, "day=SA") == {"Otley Health Walk"}
    assert _names(client, "day=tuesday") == _names(client, "day=TU")  # the dated walk: 16 Mar 2027
    assert "Otley Health Walk" in _names(client, "day=TU")
    assert _names(client, "day=WE&start_time=16:00&end_time=17:30") == {"Youth Film Club"}
    assert _names(client, "day=WE&start_time=16:01") == set()
    assert _names(client, "search=river walk") == {"Otley Health Walk"}
    assert _names(client, "search=wharfedale") == {"Otley Health Walk", "Youth Film Club"}
    assert _names(client, f"taxonomy_term_id={uuid.uuid4()}") == set()


def test_a_page_past_the_end_is_empty_not_an_error(client: FlaskClient) -> None:
    body = client.get(f"{API}/services?page=99&per_page=5").get_json()
    assert (body["empty"], body["size"], body["last_page"], body["total_items"]) == (
        True, 0, True, 7)


@pytest.mark.parametrize(("query", "parameter"), [
    ("page=0", "page"), ("page=abc", "page"), ("per_page=0", "per_page"),
    ("per_page=100000", "per_page"), ("minimum_age=old", "minimum_age"),
    ("maximum_age=-1", "maximum_age"), ("minimum_age=nan", "minimum_age"),
    ("day=funday", "day"), ("start_time=25:00", "start_time"), ("end_time=9am", "end_time"),
    ("taxonomy_term_id=walking", "taxonomy_term_id"), ("taxonomy_id=1", "taxonomy_id"),
    ("search=" + "x" * 201, "search"),
])
def test_bad_parameters_are_400_json_naming_them(client: FlaskClient, query: str,
                                                 parameter: str) -> None:
    for path in ("/services", "/service_at_locations"):
        response = client.get(f"{API}{path}?{query}")
        assert response.status_code == 400
        assert response.get_json()["error"]["message"].startswith(f"{parameter}:")
        assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("query", ["postcode=nowhere", "proximity=100",
                                   "postcode=LS21 1BQ&proximity=-5"])
def test_bad_place_parameters(client: FlaskClient, query: str) -> None:
    response = client.get(f"{API}/service_at_locations?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].split(":")[0] in ("postcode", "proximity")


@pytest.mark.parametrize("path", ["/services/", "/service_at_locations/", "/taxonomies/",
                                  "/taxonomy_terms/"])
def test_unknown_ids_are_404_json_with_cors(client: FlaskClient, path: str) -> None:
    response = client.get(f"{API}{path}{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_every_endpoint_sends_cors(client: FlaskClient) -> None:
    for path in ("/", "/openapi.json", "/services", "/service_at_locations", "/taxonomies",
                 "/taxonomy_terms"):
        assert client.get(f"{API}{path}").headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in client.get("/").headers


def _search(client: FlaskClient, path: str, query: str) -> list[str]:
    response = client.get(f"{API}{path}?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["name"] if "name" in item else item["service"]["name"]
            for item in response.get_json()["contents"]]


def test_search_is_stemmed_and_uses_the_query_syntax(client: FlaskClient) -> None:
    assert _names(client, "search=knit") == {"Knit and Natter"}
    assert _names(client, "search=knits") == {"Knit and Natter"}  # LIKE could not find this
    assert _names(client, "search=KNITTING") == {"Knit and Natter"}
    assert _names(client, "search=café stop") == {"Otley Health Walk"}  # its text says "cafe"
    assert _names(client, 'search="cup of tea"') == {"Knit and Natter"}
    assert _names(client, "search=knit OR walk") == {"Knit and Natter", "Otley Health Walk"}
    assert _names(client, "search=wharfedale NOT film") == {"Otley Health Walk"}
    assert _names(client, "search=knit walk") == set()  # every word must match: no OR fallback
    assert _names(client, "search=the") == _names(client, "")  # no searchable words: no filter
    assert _names(client, "search=zzzzqqq") == set()
    # Whoosh's parser raises on some operator runs; they are then read as plain words.
    assert _names(client, "search=NOT AND knit") == {"Knit and Natter"}


def test_search_finds_closed_services_as_the_list_shows_them(client: FlaskClient) -> None:
    everything = client.get(f"{API}/services?per_page=50").get_json()["contents"]
    assert "inactive" in {item["status"] for item in everything}  # closed ones are listed ...
    found = client.get(f"{API}/services?search=computer").get_json()["contents"]
    assert [(item["name"], item["status"]) for item in found] == [  # ... and found
        ("Old Computer Club", "inactive")]


def test_search_combines_with_the_other_filters(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        walking = db.session.scalar(select(Term.uuid).where(Term.key == "walking"))
    assert _names(client, "search=wharfedale") == {"Otley Health Walk", "Youth Film Club"}
    assert _names(client, f"search=wharfedale&taxonomy_term_id={walking}") == {
        "Otley Health Walk"}
    assert _names(client, f"search=knit&taxonomy_term_id={walking}") == set()
    assert _names(client, "search=wharfedale&maximum_age=18") == {"Youth Film Club"}
    assert _names(client, "search=wharfedale&day=SA") == {"Otley Health Walk"}
    category = mapping.taxonomy_id("category")
    assert _names(client, f"search=knit&taxonomy_id={category}") == {"Knit and Natter"}
    # Lists sink: the full film club comes before the walk last reviewed over a year ago.
    assert _search(client, "/service_at_locations", "search=wharfedale") == [
        "Youth Film Club", "Otley Health Walk"]
    assert _search(client, "/service_at_locations",
                   "search=wharfedale&postcode=LS21 1BQ&proximity=5000") == [
        "Otley Health Walk", "Youth Film Club"]
    # Gipton Befrienders' sewing circle meets in person; its befriending is by phone.
    assert _names(client, "search=befriending") == {"Telephone Befriending", "Sewing Circle"}
    assert _search(client, "/service_at_locations", "search=befriending") == ["Sewing Circle"]


def test_search_pages_have_the_right_totals(client: FlaskClient) -> None:
    pages = walk_pages(client, f"{API}/services", per_page=1, search="wharfedale")
    assert [page["total_items"] for page in pages] == [2, 2]
    assert [page["total_pages"] for page in pages] == [2, 2]
    assert [page["contents"][0]["name"] for page in pages] == [
        "Youth Film Club", "Otley Health Walk"]  # stale sinks; stable across pages
    past = client.get(f"{API}/services?search=wharfedale&page=3&per_page=1").get_json()
    assert (past["total_items"], past["empty"], past["last_page"]) == (2, True, True)


@pytest.mark.parametrize("query", [
    "search=wharfedale", "search=wharfedale&per_page=1&page=2", "search=knit OR walk OR club",
    "search=a&maximum_age=18", "search=club&day=FR", "search=zzzzqqq"])
def test_many_matches_are_filtered_in_python_with_the_same_answer(
        client: FlaskClient, monkeypatch: pytest.MonkeyPatch, query: str) -> None:
    expected = {path: client.get(f"{API}{path}?{query}").get_json()
                for path in ("/services", "/service_at_locations")}
    monkeypatch.setattr(api, "MAX_IN_LIST", 0)  # every search now takes the Python path
    for path, body in expected.items():
        assert client.get(f"{API}{path}?{query}").get_json() == body


def test_search_folds_accents(make_app: Callable[..., Flask]) -> None:
    app = make_app(content=None)  # only these listings (the walk ends at a cafe)
    with app.app_context():
        add_activity("Café Conversation", summary="French chat over a crème brûlée.")
        add_activity("Cafe Crafts")
        db.session.commit()
    rebuild(app)
    client = app.test_client()
    assert _names(client, "search=cafe") == {"Café Conversation", "Cafe Crafts"}
    assert _names(client, "search=café") == {"Café Conversation", "Cafe Crafts"}
    assert _names(client, "search=creme brulee") == {"Café Conversation"}
    with app.app_context():  # a listing added later is found once the indexer has run
        add_activity("Thé dansant")
        db.session.commit()
    index_now(app)
    assert _names(client, "search=the dansant") == {"Thé dansant"}


def test_search_without_an_index_falls_back_to_words_in_the_text(
        make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()  # loaded, never indexed: a fresh install
    assert _names(client, "search=knit") == {"Knit and Natter"}
    assert _names(client, "search=wharfedale&maximum_age=18") == {"Youth Film Club"}
    assert _names(client, "search=knits") == set()  # substrings only, no stemming
    body = client.get(f"{API}/services?search=tea&per_page=1").get_json()
    assert (body["total_items"], body["size"]) == (1, 1)
