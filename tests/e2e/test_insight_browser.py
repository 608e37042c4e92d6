"""Insight report pages in Chromium at 1280 px and 375 px: axe-core finds 0 violations, the
charts fit a phone's width, and everything reads without JavaScript."""
from __future__ import annotations

import datetime as dt
from typing import Iterator

import pytest

from sitedir.extensions import db
from sitedir.manage.cli import create_user
from sitedir.models import Activity
from tests.conftest import build_app
from tests.e2e.conftest import LiveServer, axe_violations, screenshot
from tests.manage_helpers import LINK, emails_to

pytestmark = pytest.mark.browser
REPORTS = ("unmet", "words", "searches", "freshness", "recommendations", "usage")


def _seed(app) -> None:
    """A few weeks of anonymous figures, as the recorder would have written them."""
    from sitedir.connect.models import Recommendation, RecommendationItem
    from sitedir.insight.models import SearchCount, UnmetSearch, UsageCount

    today = dt.date.today()
    with app.app_context():
        activities = db.session.scalars(db.select(Activity)).all()
        for offset in range(40):
            day = today - dt.timedelta(days=offset)
            for area, category, searches, unmet in (
                    ("LS9", "arts-and-crafts", 12, 5), ("LS9", "", 30, 4),
                    ("Otley, Leeds", "walking", 8, 1), ("", "", 20, 9),
                    ("LS12", "music", 5, 4)):
                db.session.add(SearchCount(day=day, area=area, category=category,
                                           searches=searches + offset % 3, unmet=unmet))
            if offset < 5:
                db.session.add(UnmetSearch(day=day, words="basket underwat weav", filters="",
                                           area="LS9", results=0))
                db.session.add(UnmetSearch(day=day, words="choir", filters="day=sunday",
                                           area="Otley, Leeds", results=1))
            for activity in activities[:4]:
                db.session.add(UsageCount(activity_uuid=activity.uuid, day=day, event="view",
                                          count=3 + offset % 5))
        for month, role, delivery in (("2026-10", "library", "print"),
                                      ("2026-11", "link_worker", "email"),
                                      (today.strftime("%Y-%m"), "gp_practice", "qr")):
            db.session.add(Recommendation(month=month, role=role, delivery=delivery, items=[
                RecommendationItem(activity_id=activities[0].id,
                                   activity_uuid=activities[0].uuid)]))
        db.session.commit()


@pytest.fixture(scope="module")
def insight_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    app = build_app(tmp_path_factory.mktemp("insight-browser"), WTF_CSRF_ENABLED=True,
                    INSIGHT_FLUSH_SECONDS=0)
    with app.app_context():
        create_user("commissioner@example.org", "insight")
        create_user("editor@example.org", "editor", "harehills-friends")
    _seed(app)
    with LiveServer(app) as server:
        app.config["PUBLIC_BASE_URL"] = server.url
        yield server


def _signed_in(browser, server: LiveServer, email: str, **options):
    context = browser.new_context(base_url=server.url, **options)
    page = context.new_page()
    page.goto("/manage/sign-in")
    page.fill("#email", email)
    page.click("button:has-text('Email me a sign-in link')")
    page.wait_for_selector("h1:has-text('Check your email')")
    page.goto(LINK.search(emails_to(server.app, email)[-1].text_body).group(0))
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state()
    return context, page


def test_report_pages_work_without_javascript(browser, insight_server) -> None:
    context, page = _signed_in(browser, insight_server, "commissioner@example.org",
                               viewport={"width": 375, "height": 900}, java_script_enabled=False)
    try:
        for name in REPORTS:
            page.goto(f"/insight/{name}")
            assert page.locator("svg.sd-chart__svg rect.sd-chart__bar").count() >= 1, name
        page.goto("/insight/unmet")
        page.select_option("#since", "30")
        page.click("button:has-text('Show')")
        assert "since=30" in page.url and page.locator("table.govuk-table").count() == 1
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 375])
def test_every_report_page_passes_axe_and_fits_the_screen(browser, insight_server, width) -> None:
    context, page = _signed_in(browser, insight_server, "commissioner@example.org",
                               viewport={"width": width, "height": 900})
    try:
        for name in ("", *REPORTS):
            page.goto(f"/insight/{name}")
            assert page.locator("h1").count() == 1
            assert axe_violations(page) == [], name if width == 1280 else f"{name} at 375 px"
            if name:
                assert page.locator("svg.sd-chart__svg[role=img] title").count() >= 1, name
                assert page.locator("table.govuk-table").count() >= 1, name
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width, f"{name} is {overflow} px wide at {width} px"
            screenshot(page, f"insight-{name or 'index'}-{width}")
    finally:
        context.close()


def test_organisation_page_shows_its_own_figures(browser, insight_server) -> None:
    context, page = _signed_in(browser, insight_server, "editor@example.org",
                               viewport={"width": 375, "height": 900})
    try:
        page.goto("/manage/organisations/harehills-friends")
        assert page.locator("#figures-heading").is_visible()
        assert "in the last 3 months" in page.locator("#figures").inner_text()
        assert axe_violations(page) == []
        screenshot(page, "insight-organisation-panel-375")
    finally:
        context.close()
