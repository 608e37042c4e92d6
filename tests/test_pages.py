"""Every public page type renders with the right facts; errors are friendly, never a trace."""
from __future__ import annotations

import re

import pytest
from flask import Flask

from sitedir import indexing
from sitedir.extensions import db


def text_of(response) -> str:
    """The page's visible text, whitespace folded, for asserting facts as people read them."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" .", ".")


def test_home_explains_and_lists_categories(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = text_of(response)
    assert "social prescribing" in page
    assert 'action="/search"' in response.get_data(as_text=True)
    for name in ("Volunteering", "Arts and crafts", "Walking", "Mental wellbeing support"):
        assert name in page
    assert "3 activities" in page  # arts and crafts: knitting, sewing, film club


def test_category_lists_its_activities(client) -> None:
    page = text_of(client.get("/categories/arts-and-crafts"))
    assert "Knit and Natter" in page and "Sewing Circle" in page and "Youth Film Club" in page
    assert "Otley Health Walk" not in page
    assert "Showing 1 to 3 of 3 activities" in page


def test_category_pagination_bounds(app: Flask) -> None:
    client = app.test_client()
    app.config["PAGE_SIZE"] = 2
    try:
        assert "Showing 1 to 2 of 3" in text_of(client.get("/categories/arts-and-crafts"))
        assert "Showing 3 to 3 of 3" in text_of(client.get("/categories/arts-and-crafts?page=2"))
        for bad in ("0", "3", "-1", "abc", "1e9", "99999999999999999999"):
            assert client.get(f"/categories/arts-and-crafts?page={bad}").status_code == 404
    finally:
        app.config["PAGE_SIZE"] = 20


def test_activity_page_has_everything_to_decide_and_turn_up(client) -> None:
    page = text_of(client.get("/activities/harehills-knit-and-natter"))
    for fact in ("Knit and Natter", "Harehills Friends", "Tuesdays, 10am to midday",
                 "Harehills Test Hub", "12 Foxton Road", "LS8 5QD", "Free", "All ages",
                 "Loneliness and isolation", "Just turn up", "Step-free access",
                 "Large print materials", "You can bring a friend or carer",
                 "Sue will meet you at the door", "Needles if you have them",
                 "Ask for Sue", "07700 900001", "Last reviewed: Wednesday 14 October 2026",
                 "Next session"):
        assert fact in page, fact


def test_activity_page_referral_paid_stale_and_dated(client) -> None:
    walk = text_of(client.get("/activities/otley-health-walk"))
    assert "Referral needed" in walk
    assert "a GP, a social prescribing link worker or yourself (self-referral)" in walk
    assert "Ages 50 and over" in walk
    assert "Tuesday 16 March 2027, 1pm to 3pm – Social Prescribing Week taster walk" in walk
    assert "may be out of date" in walk  # last reviewed June 2025
    club = text_of(client.get("/activities/otley-youth-film-club"))
    assert "£1 a session" in club and "Ages 11 to 18" in club
    assert "Full – waiting list open" in club and "Term time only" in club


def test_activity_page_break_closed_and_pay_what_you_can(client) -> None:
    supper = text_of(client.get("/activities/harehills-monthly-supper"))
    assert "On a break until Monday 11 January 2027" in supper
    assert "First and third Monday of the month, 6:30pm to 8pm" in supper
    assert "Pay what you can (suggested £2 a session)" in supper
    closed = text_of(client.get("/activities/harehills-closed-group"))
    assert "This activity has closed" in closed and "£3.50 a session" in closed


def test_hidden_address_and_remote_formats(client) -> None:
    sewing = client.get("/activities/gipton-home-sewing-circle").get_data(as_text=True)
    assert "3 Private Close" not in sewing and "LS9 6QB" not in sewing
    assert "private home in Gipton (LS9)" in sewing
    assert "Last Sunday of the month" in sewing and "Join on Zoom" in sewing
    phone = text_of(client.get("/activities/gipton-phone-befriending"))
    assert "By phone: A volunteer rings you" in phone
    assert "0113 496 0003" in phone  # falls back to the organisation's number


def test_organisation_pages(client) -> None:
    page = text_of(client.get("/organisations/harehills-friends"))
    assert "Harehills Friends" in page and "Activities (3)" in page
    assert "Knit and Natter" in page and "1000001" in page
    index = text_of(client.get("/organisations"))
    assert "Gipton Befrienders (2 activities)" in index


def test_content_page_renders_markdown_safely(client) -> None:
    response = client.get("/pages/about")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>local groups</strong>" in html
    assert '<h2 class="govuk-heading-l">Who runs it</h2>' in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "About this site" in text_of(client.get("/"))  # in the footer


@pytest.mark.parametrize("url", [
    "/activities/no-such-thing", "/organisations/nobody", "/categories/knitting",
    "/pages/missing", "/no/such/page", "/categories/walking?page=zz",
])
def test_missing_things_are_friendly_404s(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert "Page not found" in text_of(response)
    assert "Traceback" not in response.get_data(as_text=True)


def test_unexpected_error_is_a_friendly_500(make_app) -> None:
    app = make_app(content=None)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in body
    assert "secret internals" not in body and "Traceback" not in body


def test_json_errors_for_json_paths(client) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_security_headers_and_healthz(make_app) -> None:
    app = make_app()
    with app.app_context():
        indexing.rebuild(app)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_sqlite_pragmas(app: Flask) -> None:
    with app.app_context():
        connection = db.session.connection()
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_paid_listing_without_a_price_shows_on_every_page(make_app) -> None:
    """A paid listing may not state its price: its pages, cards and JSON say so, never a 500."""
    from tests.search_helpers import add_activity, rebuild

    app = make_app()
    with app.app_context():
        add_activity("Priceless pottery", 53.8, -1.5, cost_type="paid", cost_amount=None)
        db.session.commit()
    rebuild(app)
    client = app.test_client()
    for url in ("/activities/{slug}", "/search?q=priceless", "/search?q=priceless&near=LS9",
                "/search.json?q=priceless", "/organisations/{org}"):
        with app.app_context():
            from sitedir.models import Activity

            activity = db.session.scalar(db.select(Activity).filter_by(title="Priceless pottery"))
            url = url.format(slug=activity.slug, org=activity.organisation.slug)
        response = client.get(url)
        assert response.status_code == 200, url
        assert "ask the group for the price" in response.get_data(as_text=True), url
