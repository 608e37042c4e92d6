"""The lean search page in headless Chromium: one shortlist form for every card, compact filter
checkboxes, map markers fetched only when the map opens, nothing moving while the page loads."""
from __future__ import annotations

import pytest
from flask import Flask

from tests.e2e.conftest import axe_violations, open_page
from tests.search_helpers import rebuild

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
KNIT = "harehills-knit-and-natter"


@pytest.fixture(scope="module", autouse=True)
def indexed(browser_app: Flask) -> None:
    rebuild(browser_app)


@pytest.mark.parametrize("javascript", [True, False])
def test_a_card_button_adds_and_removes_and_comes_back_to_the_card(browser, live_server,
                                                                   javascript: bool) -> None:
    with open_page(browser, live_server.url, java_script_enabled=javascript, **PHONE) as page:
        page.goto("/search?q=knitting")
        assert page.locator("form#shortlist-form").count() == 1
        assert page.locator("input[name=csrf_token]").count() == 1
        button = page.locator(f"button[aria-describedby='card-{KNIT}']")
        assert button.inner_text() == "Add to list"
        button.click()
        page.wait_for_url(f"**/search?q=knitting#card-{KNIT}")
        assert page.locator("#shortlist-count").inner_text() == "(1)"
        card = page.locator(f"li.sd-card:has(#card-{KNIT})")
        assert "On your list" in card.inner_text()
        # the heading the page came back to is on screen
        top = page.locator(f"#card-{KNIT}").bounding_box()["y"]
        assert 0 <= top < 740
        card.get_by_role("button", name="Remove from list").click()
        page.wait_for_url(f"**/search?q=knitting#card-{KNIT}")
        assert page.locator("#shortlist-count").inner_text() == "(0)"
        assert axe_violations(page) == [] if javascript else True


def test_filter_checkboxes_work_by_label_and_keyboard(browser, live_server) -> None:
    with open_page(browser, live_server.url, **PHONE) as page:
        page.goto("/search?q=walk")
        page.locator("#filter-toggle").click()
        free = page.get_by_label("Free only")
        box = free.bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24  # WCAG 2.5.8 by its own size
        page.get_by_text("Free only").click()  # the words are part of the target
        assert free.is_checked()
        free.focus()
        page.keyboard.press("Space")
        assert not free.is_checked()
        page.keyboard.press("Space")
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url("**free=1**")
        assert page.get_by_label("Free only").is_checked()
        assert page.locator("#applied-filters").inner_text().startswith("Free only")
        page.locator("#filter-toggle").click()
        assert axe_violations(page) == []


def test_map_markers_load_only_when_the_map_opens(browser, live_server) -> None:
    with open_page(browser, live_server.url, **PHONE) as page:
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        page.goto("/search?near=LS9&radius=5")
        page.wait_for_load_state("networkidle")
        assert not any("/search/points.json" in url for url in asked)
        page.get_by_text("Show the map").click()
        page.wait_for_selector("#results-map .leaflet-marker-icon")
        assert [url for url in asked if "/search/points.json" in url] == [
            live_server.url + "/search/points.json?near=LS9&radius=5"]
        label = page.locator("#results-map").get_attribute("aria-label")
        assert label.startswith("Map of the ") and label.endswith("with a location")


def test_a_search_without_places_offers_no_map(browser, live_server) -> None:
    with open_page(browser, live_server.url) as page:
        page.goto("/search?format=online")
        assert page.locator(".sd-card").count() and not page.locator("#map-panel").count()


@pytest.mark.parametrize("url", ["/search?near=LS9&radius=5", "/search?q=walk"])
def test_nothing_moves_while_a_search_page_loads_on_a_phone(browser, live_server,
                                                            url: str) -> None:
    with open_page(browser, live_server.url, geolocation={"latitude": 53.8, "longitude": -1.5},
                   **PHONE) as page:
        page.add_init_script("""
            window.__shifts = [];
            new PerformanceObserver(list => { for (const e of list.getEntries())
              if (!e.hadRecentInput) window.__shifts.push(e.value); })
              .observe({type: 'layout-shift', buffered: true});""")
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        assert page.get_by_role("button", name="Use my location").is_visible()
        assert page.evaluate("window.__shifts") == []
