"""Search and its map in a real browser: results, the map over the list, no axe violations."""
from __future__ import annotations

import pytest
from flask import Flask

from tests.e2e.conftest import axe_violations, screenshot
from tests.search_helpers import rebuild


@pytest.fixture(scope="module", autouse=True)
def indexed(browser_app: Flask) -> None:
    rebuild(browser_app)


def test_search_by_words(page) -> None:
    page.goto("/search")
    page.get_by_label("What are you looking for?").fill("knitting")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/search?*q=knitting*")
    assert page.locator("#result-list .sd-card").count() >= 1
    assert page.locator("#result-list mark").count() >= 1
    screenshot(page, "search-words")
    assert axe_violations(page) == []


def test_search_near_a_place_shows_the_map(page, browser_app) -> None:
    # Tiles from this server (any image will do), so the configured-tiles path is real.
    browser_app.config["MAP_TILE_URL"] = "/static/images/apple-touch-icon.png?{z}/{x}/{y}"
    try:
        page.goto("/search?near=LS9&radius=5")
        page.wait_for_selector("#results-map .leaflet-tile-loaded")
    finally:
        browser_app.config["MAP_TILE_URL"] = ""
    assert page.locator("#results-map").is_visible()
    assert page.locator("#results-map .leaflet-marker-icon").count() >= 1
    assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()
    assert not page.locator("#results-map.sd-map--plain").count()
    assert page.locator("#result-list .sd-card").count() >= 2  # the list is always there
    assert page.get_by_role("button", name="Use my location").is_visible()
    screenshot(page, "search-map")
    assert axe_violations(page) == []


def test_filters_and_no_results(page) -> None:
    page.goto("/search?q=knitting&near=Otley&radius=1")
    assert page.locator("#no-results").is_visible()
    page.get_by_role("link", name="Search within 3 miles instead of 1").click()
    page.wait_for_url("**radius=3**")
    screenshot(page, "search-empty")
    assert axe_violations(page) == []


def test_search_works_without_javascript(browser, live_server) -> None:
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/search?near=LS9&radius=5")
        assert page.locator("#result-list .sd-card").count() >= 2
        assert not page.locator("#results-map").is_visible()
        page.get_by_label("Free only").check()
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url("**free=1**")
        assert page.locator(".sd-applied-filters").is_visible()
    finally:
        context.close()
