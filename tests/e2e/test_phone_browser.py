"""Phone first, in headless Chromium at 375×740 and 320 px, with and without JavaScript:
results first, no sideways scrolling, no dead controls, no layout shift, the offline map."""
from __future__ import annotations

import pytest
from flask import Flask

from tests.e2e.conftest import axe_violations, open_page, screenshot
from tests.search_helpers import rebuild

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module", autouse=True)
def indexed(browser_app: Flask) -> None:
    rebuild(browser_app)


def _first_result_below_search_box(page) -> float:
    return page.evaluate("""() => {
        const box = document.querySelector('#q').getBoundingClientRect();
        const first = document.querySelector('#result-list .sd-card').getBoundingClientRect();
        return first.top - box.top; }""")


@pytest.mark.parametrize("javascript", [True, False])
def test_first_result_within_a_screen_after_the_search_box(browser, live_server,
                                                           javascript: bool) -> None:
    with open_page(browser, live_server.url, java_script_enabled=javascript, **PHONE) as page:
        page.goto("/search?near=LS9&radius=5&free=1&category=arts-and-crafts")
        assert _first_result_below_search_box(page) < 740
        # the filters are folded behind their count; the chosen ones are tags above the results
        toggle = page.locator("#filter-toggle")
        assert toggle.is_visible() and "(2 selected)" in toggle.inner_text()
        assert not page.locator("#f-category-volunteering").is_visible()
        assert page.locator("#applied-filters a").count() == 2
        toggle.click()
        assert page.get_by_label("Free only").is_visible()
        page.get_by_label("Free only").uncheck()
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_load_state()
        assert "free=" not in page.url and "category=arts-and-crafts" in page.url
        # no empty or default parameters, with or without JavaScript
        for empty in ("q=&", "age=", "sort=", "online=1", "online=0&online"):
            assert empty not in page.url, page.url
        screenshot(page, f"phone-search-{'js' if javascript else 'nojs'}")
        assert axe_violations(page) == [] if javascript else True


def test_wide_screens_keep_the_panel_beside_the_list(page) -> None:
    page.goto("/search?q=walk")
    assert not page.locator("#filter-toggle").is_visible()
    filters = page.locator("#search-filters").bounding_box()
    results = page.locator("#results").bounding_box()
    assert filters["x"] + filters["width"] <= results["x"] and abs(filters["y"] - results["y"]) < 50


def test_wide_screens_without_javascript_show_the_panel(browser, live_server) -> None:
    with open_page(browser, live_server.url, java_script_enabled=False) as page:
        page.goto("/search?q=walk")
        assert page.get_by_label("Free only").is_visible()


def test_skip_link_goes_to_the_results(browser, live_server) -> None:
    with open_page(browser, live_server.url, **PHONE) as page:
        page.goto("/search?q=knitting")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to results"
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.closest('#results') !== null")
        assert focused


@pytest.mark.parametrize("url", ["/", "/search?near=LS9&radius=5", "/search?q=knitting",
                                 "/activities/harehills-knit-and-natter", "/shortlist",
                                 "/activities/otley-health-walk", "/organisations"])
@pytest.mark.parametrize("javascript", [True, False])
def test_no_page_is_wider_than_a_320px_screen(browser, live_server, url: str,
                                              javascript: bool) -> None:
    with open_page(browser, live_server.url, java_script_enabled=javascript,
                   viewport={"width": 320, "height": 640}) as page:
        page.goto(url)
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 321)
            .map(e => e.tagName + '.' + e.className).slice(0, 5)""")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, (url, wide)


def test_on_a_break_tag_wraps(browser, live_server, browser_app) -> None:
    from sqlalchemy import select

    from sitedir.extensions import db
    from sitedir.models import Activity
    import datetime as dt

    with browser_app.app_context():
        activity = db.session.scalar(select(Activity).where(
            Activity.slug == "otley-health-walk"))
        before = (activity.status, activity.break_until)
        activity.status, activity.break_until = "on_break", dt.date(2027, 9, 30)
        db.session.commit()
    try:
        with open_page(browser, live_server.url, viewport={"width": 320, "height": 640}) as page:
            page.goto("/activities/otley-health-walk")
            tag = page.locator(".sd-status").first
            assert "On a break until" in tag.inner_text()
            assert tag.bounding_box()["x"] + tag.bounding_box()["width"] <= 320
            assert page.evaluate("document.documentElement.scrollWidth") <= 320
    finally:
        with browser_app.app_context():
            activity = db.session.scalar(select(Activity).where(
                Activity.slug == "otley-health-walk"))
            activity.status, activity.break_until = before
            db.session.commit()


@pytest.mark.parametrize("url", ["/search?near=LS9", "/activities/harehills-knit-and-natter",
                                 "/recommendations/not-mine/print"])
def test_no_dead_controls_without_javascript(browser, live_server, url: str) -> None:
    with open_page(browser, live_server.url, java_script_enabled=False, **PHONE) as page:
        page.goto(url)
        assert not page.get_by_role("button", name="Use my location").count() or \
            not page.get_by_role("button", name="Use my location").is_visible()
        assert not page.get_by_role("button", name="Print").is_visible() \
            if page.get_by_role("button", name="Print").count() else True
        assert not page.get_by_role("button", name="Copy link").is_visible() \
            if page.get_by_role("button", name="Copy link").count() else True
        assert not page.locator("#map-panel").is_visible() if page.locator("#map-panel").count() \
            else True


def test_menu_collapse_causes_no_layout_shift(browser, live_server) -> None:
    for url in ("/", "/activities/harehills-knit-and-natter", "/search?q=walk"):
        with open_page(browser, live_server.url, **PHONE) as page:
            page.add_init_script("""
                window.__cls = 0;
                new PerformanceObserver(list => { for (const e of list.getEntries())
                  if (!e.hadRecentInput) window.__cls += e.value; })
                  .observe({type: 'layout-shift', buffered: true});""")
            page.goto(url)
            page.wait_for_timeout(800)
            assert page.locator(".govuk-service-navigation__toggle").is_visible()
            assert page.evaluate("window.__cls") <= 0.05, url


def test_use_my_location_shows_a_place_name(browser, live_server) -> None:
    with open_page(browser, live_server.url, geolocation={"latitude": 53.8009,
                                                          "longitude": -1.5096},
                   permissions=["geolocation"], **PHONE) as page:
        page.goto("/search")
        page.get_by_role("button", name="Use my location").click()
        page.wait_for_url("**near=LS9**")
        assert page.get_by_label("Near (postcode, town or village)").input_value() == "LS9"
        assert "of LS9" in page.locator("#result-count").inner_text()
        assert "53.8" not in page.url and "53.8" not in page.locator("main").inner_text()


def test_offline_map_plain_background_and_no_failed_requests(browser, live_server) -> None:
    with open_page(browser, live_server.url) as page:
        failed: list[str] = []
        requested: list[str] = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.on("request", lambda request: requested.append(request.url))
        page.goto("/search?near=LS9&radius=5")
        page.wait_for_selector("#results-map .leaflet-marker-icon")
        assert page.locator("#results-map.sd-map--plain").count() == 1
        assert "no street map" in page.locator("#map-message").inner_text()
        assert not page.locator(".leaflet-tile").count() and failed == []
        assert all(url.startswith(live_server.url) for url in requested)
        # the popup opens clear of the zoom buttons
        page.locator("#results-map .leaflet-marker-icon").first.click()
        popup = page.locator(".leaflet-popup").bounding_box()
        zoom = page.locator(".leaflet-control-zoom").bounding_box()
        overlap_x = (popup["x"] < zoom["x"] + zoom["width"]
                     and zoom["x"] < popup["x"] + popup["width"])
        overlap_y = (popup["y"] < zoom["y"] + zoom["height"]
                     and zoom["y"] < popup["y"] + popup["height"])
        assert not (overlap_x and overlap_y)
        # Leaflet fades a popup in (opacity over 0.2 s): axe measured the links' contrast
        # against a half-transparent popup once, so check it when the fade is over.
        page.wait_for_function(
            "() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
        assert axe_violations(page) == []


def test_leaflet_loads_only_when_the_map_is_shown(browser, live_server) -> None:
    with open_page(browser, live_server.url, **PHONE) as page:
        scripts: list[str] = []
        page.on("request", lambda request: scripts.append(request.url))
        page.goto("/search?near=LS9&radius=5")
        page.wait_for_timeout(300)
        assert not any("leaflet" in url for url in scripts)
        page.get_by_text("Show the map").click()
        page.wait_for_selector("#results-map .leaflet-marker-icon")
        assert any("leaflet" in url for url in scripts)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
