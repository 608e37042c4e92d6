"""The Content-Security-Policy in a real browser: no page the public or connectors use trips it
(inline script or style, a script from elsewhere), with JavaScript and the map running."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import open_page

pytestmark = pytest.mark.browser

PAGES = ["/", "/search?q=&near=LS9&radius=5", "/activities/harehills-knit-and-natter",
         "/activities/harehills-knit-and-natter/recommend", "/shortlist", "/suggest",
         "/manage/sign-in", "/pages/about", "/activities/nothing-here"]


def test_no_page_breaks_the_content_security_policy(browser, live_server) -> None:  # type: ignore
    refused: list[str] = []
    with open_page(browser, live_server.url) as page:
        page.on("console", lambda message: refused.append(f"{page.url}: {message.text}")
                if "Content Security Policy" in message.text else None)
        for path in PAGES:
            page.goto(path)
            page.wait_for_load_state("load")
            if path.startswith("/search"):
                # A wide window opens the map: Leaflet is loaded and draws (markers, circle).
                page.wait_for_selector("#results-map.leaflet-container", timeout=15000)
            classes = page.evaluate("document.body.className")
            assert "js-enabled" in classes, path  # the external snippet ran
    assert refused == []
