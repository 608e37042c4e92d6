"""The search page for phones, without JavaScript: clean URLs, the folded filter panel, tags,
the calendar subscription and "Suggest an activity"."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask

from sitedir.geo import Gazetteer
from tests.search_helpers import rebuild


@pytest.fixture(scope="module")
def pages(app: Flask):
    rebuild(app)
    return app.test_client()


def _redirect(client, url: str) -> list[tuple[str, str]]:
    response = client.get(url)
    assert response.status_code == 302, response.status_code
    location = urlsplit(response.headers["Location"])
    assert location.path == "/search"
    return parse_qsl(location.query, keep_blank_values=True)


@pytest.mark.parametrize(("url", "expected"), [
    # what the form sends without JavaScript: every empty field and the hidden online=0
    ("/search?q=knitting&near=&radius=5&age=&online=0&online=1&sort=",
     [("q", "knitting")]),
    ("/search?q=&near=LS9&radius=3&age=&online=0&sort=",
     [("near", "LS9"), ("radius", "3"), ("online", "0")]),
    ("/search?category=arts-and-crafts&category=&free=1&page=1",
     [("category", "arts-and-crafts"), ("free", "1")]),
    ("/search?near=+LS9++&online=yes", [("near", "LS9")]),
])
def test_empty_and_redundant_parameters_are_redirected_away(pages, url, expected) -> None:
    assert _redirect(pages, url) == expected


def test_clean_urls_and_bad_values_are_not_redirected(pages) -> None:
    assert pages.get("/search?q=knitting").status_code == 200
    assert pages.get("/search?near=LS9&radius=5").status_code == 200
    assert pages.get("/search?radius=9").status_code == 400  # refused, not silently dropped
    assert pages.get("/search?online=maybe").status_code == 400


def test_coordinates_become_the_nearest_postcode_district(pages) -> None:
    # what "Use my location" sends: the page and the box then say LS9, never the coordinates
    assert _redirect(pages, "/search?near=53.800,-1.510&radius=5") == [
        ("near", "LS9"), ("radius", "5")]
    page = pages.get("/search?near=LS9&radius=5").get_data(as_text=True)
    assert "within 5 miles of LS9" in page and "53.8" not in page.split('id="map-points"')[0]


def test_nearest_outcode() -> None:
    gazetteer = Gazetteer()
    assert gazetteer.nearest_outcode(53.7997, -1.5492).name.startswith("LS")
    assert gazetteer.nearest_outcode(51.5014, -0.1419).name.startswith("SW1")
    assert gazetteer.nearest_outcode(48.85, 2.35) is None  # Paris: not in the UK


def test_filters_fold_behind_a_count_and_show_as_removable_tags(pages) -> None:
    page = pages.get("/search?category=arts-and-crafts&free=1&age=70").get_data(as_text=True)
    assert '<details class="sd-filter-panel" id="filter-panel">' in page
    assert "Filter <span class=\"sd-filter-panel__count\">(3 selected)</span>" in page
    tags = page.split('id="applied-filters"')[1].split("</ul>")[0]
    assert 'href="/search?category=arts-and-crafts&amp;age=70"' in tags  # "Free only" removed
    assert "Free only" in tags and "Age 70" in tags and "Arts and crafts" in tags
    # the tags come before the first result
    assert page.index('id="applied-filters"') < page.index('id="result-list"')
    none = pages.get("/search?q=knitting").get_data(as_text=True)
    assert "(0 selected)" in none and 'id="applied-filters"' not in none


def test_skip_link_goes_to_the_results(pages) -> None:
    page = pages.get("/search?q=knitting").get_data(as_text=True)
    assert '<a href="#results" class="govuk-skip-link"' in page and 'id="results"' in page


def test_subscribe_to_these_activities(pages) -> None:
    page = pages.get("/search?q=knitting").get_data(as_text=True)
    assert '<a class="govuk-link" href="/search.ics?q=knitting" id="subscribe-link">' \
           'Subscribe to these activities</a>' in page
    calendar = pages.get("/search.ics?q=knitting")
    assert calendar.mimetype == "text/calendar" and b"Knit and Natter" in calendar.data


@pytest.mark.parametrize("url", ["/", "/search?q=knitting", "/search?q=zzzzqqq", "/pages/privacy"])
def test_suggest_an_activity_is_findable(pages, url: str) -> None:
    page = pages.get(url).get_data(as_text=True)
    assert 'href="/suggest" id="footer-suggest">Suggest an activity</a>' in page
    if url == "/":
        assert 'id="home-suggest"' in page
    elif "zzzz" in url:
        assert 'id="no-results-suggest"' in page
    elif "search" in url:
        assert 'id="results-links"' in page


def test_location_and_print_controls_are_hidden_without_javascript(pages) -> None:
    page = pages.get("/search?near=LS9").get_data(as_text=True)
    assert 'id="use-location" hidden' in page
    assert '<details class="sd-map-panel sd-no-print" id="map-panel" hidden>' in page
