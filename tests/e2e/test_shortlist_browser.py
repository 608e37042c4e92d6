"""The connector's flow in headless Chromium: shortlist, recommend, confirm, print (axe-clean)."""
from __future__ import annotations

import re
from typing import Iterator

import pytest
from playwright.sync_api import expect

from tests.conftest import build_app
from tests.e2e.conftest import LiveServer, axe_violations, open_page, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Its own app: CSRF on, a short minimum fill time, mail written to a temp folder."""
    tmp = tmp_path_factory.mktemp("connect-browser")
    app = build_app(tmp, WTF_CSRF_ENABLED=True, CONNECT_MIN_FILL_SECONDS=1,
                    MAIL_FILE_DIR=str(tmp / "mail"))
    with LiveServer(app) as server:
        yield server


@pytest.fixture()
def connect_page(browser, connect_server: LiveServer):
    with open_page(browser, connect_server.url) as page:
        yield page


def _described_button(page, action: str, described_by: str):
    """The button named `action` whose description is the activity's title."""
    button = page.locator(f"button[aria-describedby='{described_by}']")
    expect(button).to_have_accessible_name(action)
    return button


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_shortlist_to_printed_signpost(connect_page) -> None:
    page = connect_page
    page.goto("/categories/arts-and-crafts")
    button = _described_button(page, "Add to list", "card-harehills-knit-and-natter")
    expect(button).to_have_accessible_description("Knit and Natter")
    button.click()
    # Back to the same card, not the top of a long page.
    page.wait_for_url("**/categories/arts-and-crafts#card-harehills-knit-and-natter")
    expect(page.locator("#shortlist-count")).to_have_text("(1)")
    page.goto("/activities/otley-health-walk")
    _described_button(page, "Add to list", "actions-title").click()
    expect(page.locator("#shortlist-count")).to_have_text("(2)")
    remove = _described_button(page, "Remove from list", "actions-title")
    expect(remove).to_have_accessible_description("Otley Health Walk")

    page.get_by_role("link", name=re.compile(r"Your list")).click()
    expect(page.locator("#shortlist h2 a")).to_have_text(["Knit and Natter", "Otley Health Walk"])
    assert (found := axe_violations(page)) == [], found
    page.get_by_role("button", name=re.compile(r"^Move down\s*:\s*Knit and Natter$")).click()
    expect(page.locator("#shortlist h2 a")).to_have_text(["Otley Health Walk", "Knit and Natter"])
    screenshot(page, "connect-shortlist")

    page.get_by_role("link", name="Recommend these 2").click()
    # Sent empty: every required answer is called out, and the page stays accessible.
    page.wait_for_timeout(1100)
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    assert "Select your role" in summary.inner_text()
    assert "Select how you want to give it to them" in summary.inner_text()
    assert (found := axe_violations(page)) == [], found

    page.get_by_label("Library").check()
    page.get_by_label("Your name (optional)").fill("Sam Reader")
    page.get_by_label("Your organisation (optional)").fill("Leeds Central Library")
    page.get_by_label("Their first name (optional)").fill("Alex")
    page.get_by_label("A short note for them (optional)").fill(
        "Both are near the bus stop. Say Sam sent you!")
    page.get_by_label("Print a signpost sheet").check()
    assert (found := axe_violations(page)) == [], found
    screenshot(page, "connect-recommend-form")
    page.wait_for_timeout(1100)  # the minimum fill time
    page.get_by_role("button", name="Continue").click()

    page.wait_for_url(re.compile(r"/recommendations/[\w-]+$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Signpost sheet ready"
    assert "Alex" not in page.url
    assert (found := axe_violations(page)) == [], found
    screenshot(page, "connect-confirmation")

    page.get_by_role("link", name="Open the signpost sheet").click()
    sheet_text = page.locator("main").inner_text()
    for fact in ("Otley Health Walk", "Knit and Natter", "For Alex", "Next session:",
                 "Say Sam sent you!", "Your first visit", "12 Foxton Road"):
        assert fact in sheet_text, fact
    assert page.get_by_role("button", name="Print").is_visible()  # shown once JS runs
    assert (found := axe_violations(page)) == [], found
    page.emulate_media(media="print")
    screenshot(page, "connect-print-sheet")
    # the overview of both, then one A4 page each
    assert _pdf_pages(page.pdf(format="A4", print_background=True)) == 3
    overview = page.locator("#overview").inner_text()
    assert "Your 2 activities" in overview and "Just turn up" in overview
    assert page.locator("#overview tbody tr").count() == 2

    page.goto(page.url.split("?")[0] + "?large=1")
    screenshot(page, "connect-print-sheet-large")
    large_pages = _pdf_pages(page.pdf(format="A4"))
    print(f"large print: {large_pages} A4 pages for an overview and 2 activities")
    assert large_pages == 3  # 18pt, and still one page per listing
