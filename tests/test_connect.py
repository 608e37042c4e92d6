"""Recommending: shortlist, forms (validation, CSRF, anti-abuse), confirmation, print, stats."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from sitedir.connect.models import ProblemReport, Recommendation, Suggestion
from sitedir.insight.reports import recommendation_counts, tally
from sitedir.extensions import db
from sitedir.mail import OutboxEmail
from tests.connect_support import FAST, RECOMMENDATION, error_messages, hidden_value, submit

KNIT = "harehills-knit-and-natter"
WALK = "otley-health-walk"


@pytest.fixture()
def connect_app(make_app):
    return make_app(**FAST)


def test_activity_page_and_cards_offer_recommend_and_add(client) -> None:
    page = client.get(f"/activities/{KNIT}").text
    assert f'href="/activities/{KNIT}/recommend"' in page
    assert 'action="/shortlist/add"' in page and ">Add to list<" in page
    assert f'href="/activities/{KNIT}/report"' in page
    assert 'id="shortlist-count">(0)' in page
    category = client.get("/categories/arts-and-crafts").text
    # One shortlist form per page (one CSRF token), whatever the number of cards.
    assert category.count('action="/shortlist/add"') == 1
    assert category.count('name="csrf_token"') == 1
    assert category.count('<button form="shortlist-form" name="slug"') == category.count(
        'class="sd-card"') > 1
    assert 'aria-describedby="card-harehills-knit-and-natter">Recommend this</a>' in category
    assert ('id="card-harehills-knit-and-natter"><a href="/activities/harehills-knit-and-natter">'
            'Knit and Natter</a>' in category)


def test_a_card_button_comes_back_to_its_card(connect_app) -> None:
    client = connect_app.test_client()
    page = client.get("/categories/arts-and-crafts").text
    assert '<button form="shortlist-form" name="slug" value="harehills-knit-and-natter"' in page
    form = {"slug": KNIT, "next": "/categories/arts-and-crafts", "back_to": "card"}
    response = client.post("/shortlist/add", data=form)
    assert response.location == f"/categories/arts-and-crafts#card-{KNIT}"
    page = client.get("/categories/arts-and-crafts").text
    # now listed: the same button takes it off through the remove action
    assert (f'value="{KNIT}" formaction="/shortlist/remove"' in page
            and "Remove from list" in page and "On your list" in page)
    response = client.post("/shortlist/remove", data=form)
    assert response.location == f"/categories/arts-and-crafts#card-{KNIT}"
    assert 'id="shortlist-count">(0)' in client.get("/shortlist").text
    # a next that already names an anchor, or no back_to, is left as it is
    form = {"slug": KNIT, "next": "/categories/arts-and-crafts#top"}
    assert client.post("/shortlist/add", data=dict(form, back_to="card")).location == \
        "/categories/arts-and-crafts#top"
    assert client.post("/shortlist/remove", data=form).location == "/categories/arts-and-crafts#top"


def test_shortlist_add_reorder_remove_clear_without_javascript(connect_app) -> None:
    client = connect_app.test_client()
    for slug in (KNIT, WALK, "gipton-phone-befriending"):
        response = client.post("/shortlist/add", data={"slug": slug, "next": f"/activities/{slug}"})
        assert response.status_code == 302 and response.location == f"/activities/{slug}"
    page = client.get("/shortlist").text
    assert 'id="shortlist-count">(3)' in page
    titles = re.findall(r'<h2 class="govuk-heading-m sd-card__title">.*?<a[^>]*>([^<]+)</a>', page)
    assert titles == ["Knit and Natter", "Otley Health Walk", "Telephone Befriending"]

    client.post("/shortlist/move", data={"slug": WALK, "direction": "up"})
    page = client.get("/shortlist").text
    titles = re.findall(r'<h2 class="govuk-heading-m sd-card__title">.*?<a[^>]*>([^<]+)</a>', page)
    assert titles == ["Otley Health Walk", "Knit and Natter", "Telephone Befriending"]

    client.post("/shortlist/remove", data={"slug": KNIT, "next": "/shortlist"})
    page = client.get("/shortlist").text
    assert "Removed Knit and Natter from your list" in page
    assert 'id="shortlist-count">(2)' in page
    # The activity page now shows the item as listed, with a way to take it off.
    assert "Remove from list" in client.get(f"/activities/{WALK}").text

    client.post("/shortlist/clear", data={"next": "/shortlist"})
    assert 'id="empty-list"' in client.get("/shortlist").text


def test_shortlist_refuses_open_redirects(connect_app) -> None:
    client = connect_app.test_client()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post("/shortlist/add", data={"slug": KNIT, "next": target})
        assert response.location == "/shortlist"


def test_csrf_is_enforced_on_every_connect_form(make_app) -> None:
    app = make_app(WTF_CSRF_ENABLED=True, **FAST)
    client = app.test_client()
    for url, data in [("/shortlist/add", {"slug": KNIT}),
                      (f"/activities/{KNIT}/recommend", RECOMMENDATION),
                      ("/suggest", {"group_name": "x", "description": "y"}),
                      (f"/activities/{KNIT}/report", {"reason": "closed"})]:
        response = client.post(url, data=data)
        assert response.status_code == 400, url
        assert "There is a problem with your request" in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count(Recommendation.id))) == 0
    # With the token from the page, the same form goes through.
    response = submit(client, f"/activities/{KNIT}/recommend", RECOMMENDATION)
    assert response.status_code == 302


@pytest.mark.parametrize("data, field, message", [
    ({"role": ""}, "role", "Select your role"),
    ({"role": "astronaut"}, "role", "Not a valid choice."),
    ({"delivery": ""}, "delivery", "Select how you want to give it to them"),
    ({"recommender_name": "S" * 81}, "recommender_name",
     "Your name must be 80 characters or fewer"),
    ({"recommender_organisation": "O" * 121}, "recommender_organisation",
     "Your organisation must be 120 characters or fewer"),
    ({"person_name": "A" * 41}, "person_name", "Their first name must be 40 characters or fewer"),
    ({"note": "n" * 501}, "note", "The note must be 500 characters or fewer"),
    ({"note": "Win big at http://spam.example"}, "note", "The note must not include web links"),
    ({"recommender_name": "www.spam.example"}, "recommender_name",
     "Your name must not include web links"),
    ({"person_name": "spam.com"}, "person_name", "Their first name must not include web links"),
    ({"delivery": "email", "email": "", "consent": "y"}, "email", "Enter their email address"),
    ({"delivery": "email", "email": "not-an-address", "consent": "y"}, "email",
     "Enter an email address in the correct format, like name@example.com"),
    ({"delivery": "email", "email": "a@example.org, b@example.org", "consent": "y"}, "email",
     "Enter an email address in the correct format, like name@example.com"),
    ({"delivery": "email", "email": "alex@example.org"}, "consent",
     "Confirm they have agreed to get this email"),
])
def test_recommend_validation_message_for_every_field(connect_app, data, field, message) -> None:
    client = connect_app.test_client()
    response = submit(client, f"/activities/{KNIT}/recommend", {**RECOMMENDATION, **data})
    assert response.status_code == 400
    assert message in error_messages(response.text)
    # Linked from the error summary to the field, and the page title says there is an error.
    assert f'href="#{field}' in response.text and "<title>Error:" in response.text
    with connect_app.app_context():
        assert db.session.scalar(select(func.count(Recommendation.id))) == 0


def test_honeypot_and_minimum_fill_time_reject_bots(make_app) -> None:
    app = make_app(CONNECT_MIN_FILL_SECONDS=30)
    client = app.test_client()
    too_fast = submit(client, f"/activities/{KNIT}/recommend", RECOMMENDATION)
    assert too_fast.status_code == 400 and "could not accept that" in too_fast.text
    no_timer = client.post(f"/activities/{KNIT}/recommend", data=RECOMMENDATION)
    assert no_timer.status_code == 400
    fast_app = make_app(**FAST)
    honeypot = submit(fast_app.test_client(), "/suggest",
                      {"group_name": "Spam", "description": "Spam", "website": "http://x"})
    assert honeypot.status_code == 400
    for each in (app, fast_app):
        with each.app_context():
            assert db.session.scalar(select(func.count(Recommendation.id))) == 0
            assert db.session.scalar(select(func.count(Suggestion.id))) == 0


def test_recommend_print_commits_then_confirms_and_prints_the_facts(connect_app) -> None:
    client = connect_app.test_client()
    response = submit(client, f"/activities/{KNIT}/recommend", {**RECOMMENDATION})
    assert response.status_code == 302
    confirmation_url = response.location
    # No personal data in the address: only an opaque token.
    assert "Alex" not in confirmation_url and "Sam" not in confirmation_url
    with connect_app.app_context():  # committed before the confirmation page exists
        saved = db.session.scalar(select(Recommendation))
        assert (saved.role, saved.delivery, saved.person_name) == ("library", "print", "Alex")
        assert [item.activity.slug for item in saved.items] == [KNIT]

    confirmation = client.get(confirmation_url)
    assert confirmation.status_code == 200
    assert confirmation.headers["Cache-Control"] == "no-store"
    assert "Signpost sheet ready" in confirmation.text and "Knit and Natter" in confirmation.text
    assert "print" in confirmation.text and 'id="print-large-link"' in confirmation.text

    sheet = client.get(confirmation_url + "/print")
    assert sheet.status_code == 200 and sheet.headers["Cache-Control"] == "no-store"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", sheet.text))
    for fact in ("Knit and Natter", "Run by Harehills Friends",  # what
                 "Harehills Test Hub", "12 Foxton Road", "LS8 5QD",  # where
                 "Tuesdays, 10am to midday", "Next session:",  # when
                 "Free", "Just turn up",  # cost, how to join
                 "Ask for Sue", "07700 900001",  # contact
                 "Sue will meet you at the door", "bring a friend", "Needles if you have them",
                 "For Alex", "A note from Sam Reader, Leeds Central Library (Library)",
                 "Ask for Pat when you arrive.", "http://localhost/a/"):  # the short link
        assert fact in text, fact
    assert 'src="data:image/svg+xml' in sheet.text
    assert re.search(r"css/print-sheet\.[0-9a-f]{10}\.css", sheet.text)
    assert "large-print" not in re.search(r"<body[^>]*>", sheet.text).group(0)
    large = client.get(confirmation_url + "/print?large=1")
    assert "large-print" in re.search(r"<body[^>]*>", large.text).group(0)


def test_confirmation_is_only_for_the_browser_that_made_it(connect_app) -> None:
    client = connect_app.test_client()
    url = submit(client, f"/activities/{KNIT}/recommend", RECOMMENDATION).location
    stranger = connect_app.test_client()
    assert stranger.get(url).status_code == 404
    assert stranger.get(url + "/print").status_code == 404
    assert client.get(url).status_code == 200


def test_recommend_whole_list_as_one_signpost(connect_app) -> None:
    client = connect_app.test_client()
    assert client.get("/shortlist/recommend").status_code == 302  # empty list: nothing to send
    for slug in (WALK, KNIT):
        client.post("/shortlist/add", data={"slug": slug})
    url = submit(client, "/shortlist/recommend", {**RECOMMENDATION, "delivery": "qr"}).location
    page = client.get(url).text
    assert "Ready to scan" in page and page.count('src="data:image/svg+xml') == 2
    sheet = client.get(url + "/print").text
    assert sheet.index("Otley Health Walk") < sheet.index("Knit and Natter")
    assert sheet.count('class="sd-sheet"') == 2


def test_qr_svg_points_at_the_public_listing(client) -> None:
    response = client.get(f"/activities/{KNIT}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"].startswith("public")
    assert response.text.lstrip().startswith("<svg")
    assert client.get("/activities/nope/qr.svg").status_code == 404


def test_suggest_and_report_are_stored_for_moderators(connect_app) -> None:
    client = connect_app.test_client()
    response = submit(client, "/suggest", {"group_name": "Chapel Allerton Choir",
                                           "description": "A friendly community choir.",
                                           "when": "Wednesdays 7pm", "role": "library"})
    assert response.status_code == 302 and "Suggestion sent" in client.get(response.location).text
    response = submit(client, f"/activities/{KNIT}/report",
                      {"reason": "wrong_time", "details": "Now on Wednesdays"})
    assert response.status_code == 302 and "Problem reported" in client.get(response.location).text
    with connect_app.app_context():
        suggestion = db.session.scalar(select(Suggestion))
        assert (suggestion.group_name, suggestion.when, suggestion.status) == (
            "Chapel Allerton Choir", "Wednesdays 7pm", "new")
        report = db.session.scalar(select(ProblemReport))
        assert (report.reason, report.details, report.activity.slug) == (
            "wrong_time", "Now on Wednesdays", KNIT)


@pytest.mark.parametrize("url, data, message", [
    ("/suggest", {"group_name": "", "description": "x"}, "Enter the name of the group or activity"),
    ("/suggest", {"group_name": "x", "description": ""}, "Describe what happens there"),
    ("/suggest", {"group_name": "x", "description": "d" * 1001},
     "The description must be 1000 characters or fewer"),
    ("/suggest", {"group_name": "x", "description": "y", "where": "w" * 301},
     "Where it meets must be 300 characters or fewer"),
    ("/suggest", {"group_name": "x", "description": "y", "when": "w" * 301},
     "When it meets must be 300 characters or fewer"),
    ("/suggest", {"group_name": "x", "description": "y", "contact": "c" * 301},
     "The contact details must be 300 characters or fewer"),
    (f"/activities/{KNIT}/report", {"reason": ""}, "Select what is wrong with this listing"),
    (f"/activities/{KNIT}/report", {"reason": "other", "details": ""}, "Tell us what is wrong"),
    (f"/activities/{KNIT}/report", {"reason": "closed", "details": "d" * 1001},
     "The details must be 1000 characters or fewer"),
])
def test_suggest_and_report_validation(connect_app, url, data, message) -> None:
    response = submit(connect_app.test_client(), url, data)
    assert response.status_code == 400
    assert message in error_messages(response.text)


def test_rate_limit_returns_friendly_429(make_app) -> None:
    app = make_app(CONNECT_RATE_LIMIT_SESSION="2 per minute", CONNECT_RATE_LIMIT_IP="4 per minute",
                   **FAST)
    client = app.test_client()
    codes = [submit(client, "/suggest", {"group_name": f"G{n}", "description": "d"}).status_code
             for n in range(2)]
    assert codes == [302, 302]
    limited = submit(client, "/suggest", {"group_name": "Group 3", "description": "d"})
    assert limited.status_code == 429
    assert "Too many attempts" in limited.text and "Wait a minute" in limited.text
    # A new session from the same address gets one more, then the per-IP limit applies.
    other = app.test_client()
    assert submit(other, "/suggest", {"group_name": "G4", "description": "d"}).status_code == 302
    assert submit(other, "/suggest", {"group_name": "G5", "description": "d"}).status_code == 429
    # Reading the form is never limited.
    assert client.get("/suggest").status_code == 200


def test_recommendation_counts_by_month_and_role(connect_app) -> None:
    client = connect_app.test_client()
    submit(client, f"/activities/{KNIT}/recommend", RECOMMENDATION)
    submit(client, f"/activities/{KNIT}/recommend", {**RECOMMENDATION, "role": "youth_work"})
    submit(client, f"/activities/{WALK}/recommend", {**RECOMMENDATION, "delivery": "qr"})
    with connect_app.app_context():
        knit_uuid = db.session.scalar(
            select(Recommendation).join(Recommendation.items)).items[0].activity_uuid
        rows = recommendation_counts(activity_uuid=knit_uuid)
        month = db.session.scalar(select(Recommendation.month))
    assert (tally(rows, "month"), tally(rows, "role"), tally(rows, "delivery")) == (
        {month: 2}, {"library": 1, "youth_work": 1}, {"print": 2})
    result = connect_app.test_cli_runner().invoke(
        args=["insight", "usage", "--activity", KNIT])
    assert result.exit_code == 0, result.output
    header, row = (line.split() for line in result.output.splitlines())
    assert KNIT in row and "Sam" not in result.output
    everything = connect_app.test_cli_runner().invoke(args=["insight", "usage", "--format", "csv"])
    assert f"{WALK}," in everything.output


def test_email_delivery_writes_outbox_row_in_same_commit(connect_app) -> None:
    client = connect_app.test_client()
    response = submit(client, f"/activities/{KNIT}/recommend",
                      {**RECOMMENDATION, "delivery": "email", "email": "alex@example.org",
                       "consent": "y"})
    assert response.status_code == 302
    page = client.get(response.location).text
    assert "Email on its way" in page and "alex@example.org" not in page
    with connect_app.app_context():
        row = db.session.scalar(select(OutboxEmail))
        recommendation = db.session.scalar(select(Recommendation))
        assert row.to_address == "alex@example.org" and row.status == "pending"
        assert recommendation.outbox_email_id == row.id


def test_hidden_fields_render_for_the_form(client) -> None:
    page = client.get(f"/activities/{KNIT}/recommend").text
    assert hidden_value(page, "started")
    assert re.search(r"<div hidden>\s*<label for=\"website\"", page)
