"""Sign in by emailed link and edit a listing in Chromium, on desktop, on a phone and without
JavaScript; every page passes axe with 0 violations."""
from __future__ import annotations

import datetime as dt
import re
from typing import Iterator

import pytest
from flask import Flask
from sqlalchemy import update

from sitedir.extensions import db
from sitedir.manage.cli import create_user
from sitedir.manage.reminders import send_reminders
from sitedir.models import Activity
from tests.conftest import build_app
from tests.e2e.conftest import LiveServer, axe_violations, screenshot
from tests.manage_helpers import LINK, emails_to, totp_for

pytestmark = pytest.mark.browser
KNIT = "harehills-knit-and-natter"


@pytest.fixture(scope="module")
def manage_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """An app of its own (these tests change listings), served with CSRF on."""
    app = build_app(tmp_path_factory.mktemp("manage-browser"), WTF_CSRF_ENABLED=True)
    with app.app_context():
        create_user("editor@example.org", "editor", "harehills-friends")
        create_user("mod@example.org", "moderator")
    with LiveServer(app) as server:
        app.config["PUBLIC_BASE_URL"] = server.url
        yield server


def _context(browser, server: LiveServer, **options):
    options.setdefault("viewport", {"width": 1280, "height": 900})
    return browser.new_context(base_url=server.url, **options)


def _sign_in(page, app: Flask, email: str, check: bool = False) -> None:
    page.goto("/manage/sign-in")
    if check:
        assert axe_violations(page) == []
    page.fill("#email", email)
    page.click("button:has-text('Email me a sign-in link')")
    page.wait_for_selector("h1:has-text('Check your email')")
    if check:
        assert axe_violations(page) == []
    link = LINK.search(emails_to(app, email)[-1].text_body).group(0)
    page.goto(link)
    if check:
        assert axe_violations(page) == []
        screenshot(page, "manage-sign-in-link")
    page.click("button:has-text('Sign in')")


def _second_factor(page, app: Flask, email: str, check: bool = False) -> None:
    """Give the authenticator code (enrolling on first use, then past the recovery codes)."""
    page.goto("/manage/two-factor")
    if check:
        assert axe_violations(page) == []
    enrolling = page.locator("#totp-secret").count() > 0
    page.fill("#code", totp_for(app, email))
    page.click("button:has-text('Continue')")
    if enrolling:
        page.wait_for_selector("#recovery-codes")
        if check:
            assert axe_violations(page) == []
            screenshot(page, "manage-recovery-codes")
        page.click("a:has-text('I have saved my codes')")


def test_sign_in_edit_and_moderate(browser, manage_server: LiveServer) -> None:
    app = manage_server.app
    context = _context(browser, manage_server)
    page = context.new_page()
    _sign_in(page, app, "editor@example.org", check=True)
    page.wait_for_selector("h1:has-text('Harehills Friends')")
    assert axe_violations(page) == []
    screenshot(page, "manage-dashboard")

    # Edit opens the section summary ("check your answers"); the whole form is one link on.
    page.click(f"a[href='/manage/activities/{KNIT}/check']")
    page.click(f"a[href='/manage/activities/{KNIT}/edit']")
    page.wait_for_selector("h1:has-text('Edit Knit and Natter')")
    assert axe_violations(page) == []
    screenshot(page, "manage-edit")
    page.fill("#title", "")
    page.fill("#slot-0-start", "9am")
    page.click("button:has-text('Send for publishing')")
    page.wait_for_selector(".govuk-error-summary")
    assert axe_violations(page) == []
    summary = page.inner_text(".govuk-error-summary")
    assert "Enter the name of the activity" in summary
    assert "Regular time 1, start: enter a time like 10:00" in summary
    screenshot(page, "manage-edit-errors")
    page.click(".govuk-error-summary a[href='#title']")
    page.fill("#title", "Knit and Chat")
    page.fill("#slot-0-start", "10:00")
    page.click("button:has-text('Send for publishing')")
    page.wait_for_selector("text=Changes waiting for a moderator (1)")
    context.close()

    moderator = _context(browser, manage_server).new_page()
    _sign_in(moderator, app, "mod@example.org")
    _second_factor(moderator, app, "mod@example.org", check=True)
    moderator.goto("/manage/queue")
    assert axe_violations(moderator) == []
    moderator.click("a:has-text('Edit “Knit and Natter”')")
    moderator.wait_for_selector("#diff-title")
    assert "Knit and Chat" in moderator.inner_text("#diff-title")
    assert axe_violations(moderator) == []
    screenshot(moderator, "manage-change-diff")
    moderator.click("button:has-text('Approve and publish')")
    moderator.wait_for_selector("text=Published:")
    moderator.goto(f"/activities/{KNIT}")
    assert moderator.inner_text("h1") == "Knit and Chat"
    moderator.context.close()


def test_edit_on_a_phone_without_javascript(browser, manage_server: LiveServer) -> None:
    app = manage_server.app
    context = _context(browser, manage_server, viewport={"width": 360, "height": 740},
                       java_script_enabled=False)
    page = context.new_page()
    _sign_in(page, app, "editor@example.org")
    for path in ("/manage/organisations/harehills-friends", f"/manage/activities/{KNIT}/edit"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width}px wide on a 360px phone"
    page.goto(f"/manage/activities/{KNIT}/edit")
    page.click("button:has-text('Add more times')")
    assert page.locator("#slot-3-day").count() == 1
    page.select_option("#slot-1-day", "saturday")
    page.fill("#slot-1-start", "14:00")
    page.fill("#slot-1-end", "16:00")
    page.click("button:has-text('Send for publishing')")
    assert re.search(r"Changes waiting for a moderator \(\d\)", page.inner_text("main"))
    screenshot(page, "manage-edit-phone")
    context.close()


def test_public_pages_offer_the_claim_link(browser, manage_server: LiveServer) -> None:
    page = _context(browser, manage_server).new_page()
    page.goto("/organisations/harehills-friends")
    page.click("a:has-text('Is this your group?')")
    page.wait_for_selector("h1:has-text('Sign in')")
    assert axe_violations(page) == []
    page.context.close()


def test_every_manage_page_passes_axe(browser, manage_server: LiveServer) -> None:
    app = manage_server.app
    page = _context(browser, manage_server).new_page()
    _sign_in(page, app, "mod@example.org")
    _second_factor(page, app, "mod@example.org")
    pages = ["/manage/", "/manage/queue", "/manage/freshness", f"/manage/activities/{KNIT}/status",
             f"/manage/activities/{KNIT}/history", "/manage/organisations/harehills-friends/edit",
             "/manage/organisations/harehills-friends/history",
             "/manage/organisations/harehills-friends/activities/new", "/manage/register",
             "/manage/claim/organisation/wharfedale-walkers"]
    failures = {}
    for path in pages:
        page.goto(path)
        found = axe_violations(page)
        if found:
            failures[path] = found
    with app.test_request_context("/", base_url=manage_server.url):
        db.session.execute(update(Activity).values(last_reviewed=dt.date(2020, 1, 1)))
        db.session.commit()
        send_reminders()
    body = emails_to(app, "editor@example.org")[-1].text_body
    link = re.search(r"On a break: (http://\S+)", body).group(1)
    page.goto(link)
    page.click("button:has-text('Confirm')")  # no date: the error page
    page.wait_for_selector(".govuk-error-summary")
    found = axe_violations(page)
    if found:
        failures["reminder"] = found
    assert failures == {}
    page.context.close()
