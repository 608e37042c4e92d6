"""Core pages in a real browser: axe-core finds nothing, keyboard and no-JS work."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import axe_violations, screenshot

pytestmark = pytest.mark.browser

PAGES = {
    "home": "/",
    "category": "/categories/arts-and-crafts",
    "activity": "/activities/harehills-knit-and-natter",
    "organisation": "/organisations/harehills-friends",
    "content-page": "/pages/about",
    "not-found": "/activities/nothing-here",
}


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_axe_violations(page, name: str) -> None:
    response = page.goto(PAGES[name])
    assert response.status == (404 if name == "not-found" else 200)
    screenshot(page, f"core-{name}")
    assert axe_violations(page) == []


def test_small_screen_activity_page(page) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(PAGES["activity"])
    screenshot(page, "core-activity-mobile")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the page scrolls sideways on a phone"
    assert axe_violations(page) == []


def test_keyboard_reaches_skip_link_and_main_content(page) -> None:
    page.goto(PAGES["home"])
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the next Tab continues from inside the main content
    inside_main = page.evaluate(
        "document.getElementById('main-content').contains(document.activeElement)")
    assert inside_main


def test_works_without_javascript(browser, live_server) -> None:
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto(PAGES["home"])
    page.get_by_role("link", name="Walking", exact=True).click()
    assert page.url.endswith("/categories/walking")
    page.get_by_role("link", name="Otley Health Walk").click()
    assert page.locator("h1").inner_text() == "Otley Health Walk"
    context.close()
