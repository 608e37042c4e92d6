"""One status path in Chromium: a signed-in editor's "on a break until" is on the public page and
in search within seconds with no moderator, and a reminder link gives the same listing."""
from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import select, update

from sitedir import indexing
from sitedir.extensions import db
from sitedir.manage.cli import create_user
from sitedir.manage.publish import activity_snapshot
from sitedir.manage.reminders import send_reminders
from sitedir.models import Activity
from tests.conftest import build_app
from tests.e2e.conftest import LiveServer, axe_violations, screenshot
from tests.e2e.test_manage_browser import _sign_in
from tests.manage_helpers import emails_to

pytestmark = pytest.mark.browser
KNIT = "harehills-knit-and-natter"
BACK = (dt.date.today() + dt.timedelta(days=60)).isoformat()


def _server(tmp) -> LiveServer:
    app = build_app(tmp, WTF_CSRF_ENABLED=True, INDEXER_POLL_SECONDS=0.2)
    with app.app_context():
        create_user("editor@example.org", "editor", "harehills-friends")
        db.session.execute(update(Activity).values(last_reviewed=dt.date(2020, 1, 1)))
        db.session.commit()
    return LiveServer(app)


@pytest.fixture()
def status_server(tmp_path) -> Iterator[LiveServer]:
    with _server(tmp_path / "a") as server:
        server.app.config["PUBLIC_BASE_URL"] = server.url
        stop = indexing.start_worker_thread(server.app)
        try:
            yield server
        finally:
            stop.set()


def _wait_for_text(page, path: str, selector: str, text: str,
                   seconds: float = 10) -> float:
    """Reload path until selector's text contains text; returns the seconds it took."""
    started = time.monotonic()
    while True:
        page.goto(path)
        if page.locator(selector).count() and text in page.inner_text(selector):
            return time.monotonic() - started
        if time.monotonic() - started > seconds:
            raise AssertionError(f"{text!r} not on {path} after {seconds} s")
        time.sleep(0.3)


def _snapshot(app, slug: str) -> dict:
    with app.app_context():
        activity = db.session.scalar(select(Activity).where(Activity.slug == slug))
        return activity_snapshot(activity)


def _editor_on_a_phone(browser, server: LiveServer):
    """A 375 px browser context with the editor signed in, on their dashboard."""
    context = browser.new_context(base_url=server.url, viewport={"width": 375, "height": 812})
    page = context.new_page()
    _sign_in(page, server.app, "editor@example.org")
    page.wait_for_selector("h1:has-text('Harehills Friends')")
    return context, page


def test_editor_break_is_public_and_in_search_within_seconds(
        browser, status_server) -> None:
    app = status_server.app
    context, page = _editor_on_a_phone(browser, status_server)
    page.click(f"a[href='/manage/activities/{KNIT}/status']")
    page.wait_for_selector("h1:has-text('Change the status')")
    assert axe_violations(page) == []
    page.check("input[name=status][value=on_break]")
    page.fill("#break_until", BACK)
    page.click("button:has-text('Save status')")
    page.wait_for_selector("text=Published:")
    assert axe_violations(page) == []
    screenshot(page, "status-published-phone")

    expected = "On a break until"
    assert _wait_for_text(page, f"/activities/{KNIT}", "main", expected) < 5
    assert "Last reviewed" in page.inner_text("main")
    took = _wait_for_text(page, "/search?q=knit", f"li.sd-card:has(#card-{KNIT})", expected)
    assert took < 10, f"search showed the break after {took:.1f} s"
    with app.app_context():
        from sitedir.manage.models import ChangeRequest

        assert db.session.scalars(select(ChangeRequest.status)).all() == ["approved"]
    dashboard = _snapshot(app, KNIT)
    context.close()

    # The same answer by the reminder link, on a second copy of the same directory.
    with _server(Path(app.config["SEARCH_INDEX_DIR"]).parent.parent / "b") as other:
        other.app.config["PUBLIC_BASE_URL"] = other.url
        with other.app.test_request_context("/", base_url=other.url):
            send_reminders()
        body = emails_to(other.app, "editor@example.org")[-1].text_body
        section = next(part for part in body.split("\n\n") if f"/activities/{KNIT}\n" in part)
        link = re.search(r"On a break: (http://\S+/manage/reminders/\S+/on_break)", section)
        page = browser.new_page(viewport={"width": 375, "height": 812})
        page.goto(link.group(1))
        page.fill("#break_until", BACK)
        page.click("button:has-text('Confirm')")
        page.wait_for_selector("h1:has-text('Thank you')")
        assert axe_violations(page) == []
        page.goto(link.group(1))
        assert "already been used" in page.inner_text("h1")
        reminded = _snapshot(other.app, KNIT)
        page.close()
    assert reminded == dashboard


def test_every_edit_section_fits_a_phone_and_names_its_errors(
        browser, status_server) -> None:
    """At 375 px: each section's page has no sideways scroll and 0 axe violations; an error
    names its row and field, once, and its summary link lands on the field."""
    from sitedir.manage.sections import SECTIONS

    context, page = _editor_on_a_phone(browser, status_server)
    page.click(f"a[href='/manage/activities/{KNIT}/check']")
    page.wait_for_selector("h1:has-text('Edit Knit and Natter')")
    assert axe_violations(page) == []
    failures = {}
    for key in SECTIONS:
        page.goto(f"/manage/activities/{KNIT}/edit/{key}")
        width = page.evaluate("document.documentElement.scrollWidth")
        found = axe_violations(page)
        if width > 375 or found:
            failures[key] = (width, found)
    assert failures == {}
    page.goto(f"/manage/activities/{KNIT}/edit/when")
    screenshot(page, "edit-section-when-phone")
    page.fill("#slot-0-start", "9am")
    page.click("button:has-text('Save and go back')")
    page.wait_for_selector(".govuk-error-summary")
    assert axe_violations(page) == []
    summary = page.inner_text(".govuk-error-summary__list")
    assert summary.count("Regular time 1, start: enter a time like 10:00") == 1
    page.click(".govuk-error-summary a[href='#slot-0-start']")
    assert page.evaluate("document.activeElement.id") == "slot-0-start"
    screenshot(page, "edit-section-error-phone")
    page.fill("#slot-0-start", "10:00")
    page.click("button:has-text('Save and go back')")
    page.wait_for_selector("h1:has-text('Edit Knit and Natter')")
    page.goto(f"/manage/activities/{KNIT}/edit/about")
    page.fill("#title", "Knit and Chat")
    page.click("button:has-text('Save and go back')")
    page.wait_for_selector("h1:has-text('Check your answers')")
    assert axe_violations(page) == []
    screenshot(page, "check-your-answers-phone")
    page.click("button:has-text('Send for publishing')")
    page.wait_for_selector("text=A moderator will check your change")
    context.close()
