"""The /search page without JavaScript: form, facets, chosen filters, map data, empty results."""
from __future__ import annotations

import re

import pytest
from flask import Flask

from sitedir.cards import format_miles
from tests.search_helpers import rebuild


@pytest.fixture()
def pages(indexed_app: Flask):
    return indexed_app.test_client()


def html(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def test_search_page_lists_results_like_category_pages(pages) -> None:
    page = html(pages, "/search?q=knitting")
    assert 'role="search"' in page and 'name="q"' in page and 'value="knitting"' in page
    assert "Knit and Natter" in page and 'class="sd-card"' in page
    assert "Next session" in page
    assert "<mark>" in page  # the matched words are highlighted


def test_facet_counts_are_shown_beside_filters(pages) -> None:
    page = html(pages, "/search")
    assert re.search(r'<label><input id="f-category-arts-and-crafts" name="category" '
                     r'type="checkbox" value="arts-and-crafts"> Arts and crafts '
                     r'<span>\(\d+\)</span></label>', page)
    assert 'id="f-free"' in page and "Free only" in page


def test_chosen_filters_can_be_removed_one_by_one(pages) -> None:
    page = html(pages, "/search?category=arts-and-crafts&free=1&q=knit")
    assert "Your filters" in page
    # The remove link for the category keeps the other choices and drops the page number.
    assert 'href="/search?free=1&amp;q=knit"' in page or 'href="/search?q=knit&amp;free=1"' in page
    assert ('id="f-category-arts-and-crafts" name="category" type="checkbox" '
            'value="arts-and-crafts" checked') in page


def test_distance_and_map_data(pages) -> None:
    page = html(pages, "/search?near=LS9&radius=5")
    assert "within 5 miles of LS9" in page
    assert re.search(r"\d+(\.\d)? miles?", page)
    assert 'id="results-map"' in page
    assert re.search(r'data-leaflet-js="/static/vendor/leaflet/leaflet(\.[0-9a-f]{10})?\.js"', page)
    # The page carries no markers; the map fetches them for the same search when it opens.
    assert "map-points" not in page and '"lat"' not in page
    points_url = re.search(r'data-points="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert points_url == "/search/points.json?near=LS9&radius=5"
    points = pages.get(points_url).get_json()["points"]
    assert points and all({"lat", "lon", "title", "url", "approximate"} <= set(p) for p in points)
    assert {p["url"] for p in points} <= set(re.findall(r'<h3 [^>]*><a href="([^"]+)"', page))
    sewing = [p for p in points if p["url"].endswith("gipton-home-sewing-circle")]
    assert sewing and sewing[0]["lat"] == round(sewing[0]["lat"], 2) and sewing[0]["approximate"]


def test_map_points_refuse_bad_parameters_by_name(pages) -> None:
    for url, parameter in [("/search/points.json?radius=7", "radius"),
                           ("/search/points.json?category=nope", "category"),
                           ("/search/points.json?near=Nowhereville%20XQ", "near")]:
        response = pages.get(url)
        assert response.status_code == 400, url
        assert response.get_json()["error"]["parameter"] == parameter


def test_no_map_when_no_result_meets_in_person(pages) -> None:
    assert 'id="map-panel"' not in html(pages, "/search?format=online")
    assert 'id="map-panel"' in html(pages, "/search?format=online&format=in_person")


def test_map_without_a_tile_server_still_has_markers(make_app) -> None:
    app = make_app(MAP_TILE_URL="")
    rebuild(app)
    page = html(app.test_client(), "/search?near=LS9")
    assert 'data-tile-url=""' in page and "Knit and Natter" in page
    # markers on a plain background
    assert app.test_client().get("/search/points.json?near=LS9").get_json()["points"]
    assert '<script src="/static/vendor/leaflet/leaflet.js"' not in page  # loaded on demand


def test_nothing_found_gives_advice(pages) -> None:
    page = html(pages, "/search?q=knitting&near=Otley&radius=1&free=1")
    assert "No activities found" in page
    assert "Search within 3 miles instead of 1" in page
    assert "Remove all filters" in page


def test_did_you_mean_links_to_the_corrected_search(pages) -> None:
    page = html(pages, "/search?q=kniting&exact=1")  # else the correction is searched at once
    assert 'Did you mean <a class="govuk-link" href="/search?q=knitting">knitting</a>' in page


def test_place_problems_are_explained(pages) -> None:
    page = html(pages, "/search?near=Qwertyville")
    assert "There is a problem" in page and "Qwertyville" in page
    page = html(pages, "/search?near=Newport")
    assert "Newport, Isle of Wight" in page and "Choose the one you mean" in page


def test_bad_parameters_show_an_error_page(pages) -> None:
    page = html(pages, "/search?radius=9", status=400)
    assert "There is a problem" in page and "radius must be one of" in page


@pytest.mark.parametrize(("miles", "text"), [
    (0.01, "less than 0.1 miles"), (0.44, "0.4 miles"), (1.0, "1 mile"), (1.04, "1 mile"),
    (2.5, "2.5 miles"), (12.4, "12 miles")])
def test_format_miles(miles: float, text: str) -> None:
    assert format_miles(miles) == text


def test_default_order_is_not_carried_into_a_new_search(pages):
    browse = html(pages, "/search")
    assert '<option value="">Name (A to Z)</option>' in browse
    words = html(pages, "/search?q=knitting")
    assert '<option value="">Best match</option>' in words
    chosen = html(pages, "/search?q=knitting&sort=reviewed")
    assert '<option value="reviewed" selected>Recently reviewed</option>' in chosen


@pytest.mark.parametrize("words", [
    "NOT AND knit", "NOT OR knit", "AND", "OR OR", "knit AND NOT", "(knit", '"knit', "NOT",
    "knit) OR (", "AND NOT OR knit",
])
def test_operator_runs_are_read_as_words_not_a_500(pages, words: str) -> None:
    """Whoosh-Reloaded's parser raises on some operator runs; the page reads them as words."""
    response = pages.get("/search.json", query_string={"q": words})
    assert response.status_code == 200, response.get_data(as_text=True)
    if words == "NOT AND knit":  # read as words: "not" and "and" are stop words
        assert [r["slug"] for r in response.get_json()["results"]] == ["harehills-knit-and-natter"]
    assert pages.get("/search", query_string={"q": words}).status_code == 200
