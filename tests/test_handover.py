"""Handing a listing over: short links, share and calendar links, the connector remembered
for the session, the opt-in reply-to, and a shortlist that survives signing in."""
from __future__ import annotations

import datetime as dt
import email
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from sitedir import mail
from sitedir.extensions import db
from sitedir.models import Activity
from sitedir.public.share import short_code, uuid_prefix
from tests.connect_support import FAST, RECOMMENDATION, submit
from tests.manage_helpers import manage_app, sign_in

KNIT = "harehills-knit-and-natter"


def _activity(app: Flask, slug: str = KNIT) -> Activity:
    with app.app_context():
        activity = db.session.scalar(select(Activity).where(Activity.slug == slug))
        db.session.expunge(activity)
        return activity


@pytest.mark.parametrize("uuid", ["00000000-0000-4000-8000-000000000000",
                                  "ffffffff-ffff-4fff-bfff-ffffffffffff",
                                  "1234abcd-ef01-4abc-8def-0123456789ab"])
def test_short_code_round_trip(uuid: str) -> None:
    code = short_code(uuid)
    assert len(code) == 8 and code.isalnum() and not set(code) & set("ilou")
    assert uuid.startswith(uuid_prefix(code))
    assert uuid_prefix(code.upper()) == uuid_prefix(code)  # read off paper in capitals


@pytest.mark.parametrize("code", ["", "abc", "abcdefghi", "abcd-fgh", "../../etc"])
def test_bad_short_codes_are_404(client, code: str) -> None:
    assert client.get(f"/a/{code}").status_code == 404


def test_short_link_survives_a_slug_change(make_app) -> None:
    app = make_app()
    client = app.test_client()
    code = short_code(_activity(app).uuid)
    response = client.get(f"/a/{code}")
    assert response.status_code == 302 and response.location.endswith(f"/activities/{KNIT}")
    with app.app_context():
        activity = db.session.scalar(select(Activity).where(Activity.slug == KNIT))
        activity.slug = "harehills-knitting-club"
        db.session.commit()
    moved = client.get(f"/a/{code}")
    assert moved.status_code == 302
    assert moved.location.endswith("/activities/harehills-knitting-club")


def test_activity_page_share_and_calendar_links(client, app) -> None:
    page = client.get(f"/activities/{KNIT}").get_data(as_text=True)
    code = short_code(_activity(app).uuid)
    short = f"http://localhost/a/{code}"
    assert f'id="share-url">{short}</span>' in page
    sms = page.split('id="share-sms"')[0].rsplit('href="', 1)[1].split('"')[0]
    body = unquote(sms.split("body=", 1)[1])
    assert sms.startswith("sms:?&amp;body=") and body.startswith("Knit and Natter")
    assert body.endswith(short) and len(body) <= 160
    assert 'href="https://wa.me/?text=Knit%20and%20Natter' in page
    assert 'href="mailto:?subject=Knit%20and%20Natter&amp;body=' in page
    # calendar: the next session (.ics, Google, Outlook) and the series
    assert f'href="http://localhost/activities/{KNIT}.ics?session=next" id="calendar-next"' in page
    assert f'href="http://localhost/activities/{KNIT}.ics" id="calendar-series"' in page
    google = page.split('id="calendar-google"')[0].rsplit('href="', 1)[1].split('"')[0]
    query = parse_qs(urlsplit(google.replace("&amp;", "&")).query)
    assert query["action"] == ["TEMPLATE"] and query["text"] == ["Knit and Natter"]
    start, end = query["dates"][0].split("/")
    assert dt.datetime.strptime(start, "%Y%m%dT%H%M%S").strftime("%H:%M") == "10:00"
    assert query["ctz"] == ["Europe/London"] and "LS8 5QD" in query["location"][0]
    assert "outlook.live.com/calendar/0/action/compose?rru=addevent" in page
    # the large QR code is one tap away and encodes the short link
    assert 'id="show-qr"' in page and f'/activities/{KNIT}/qr.svg' in page
    # no personal data, nothing from the session, in any of these links
    assert "Alex" not in page


def test_next_session_ics_is_one_event_without_repeats(client) -> None:
    text = client.get(f"/activities/{KNIT}.ics?session=next").get_data(as_text=True)
    assert text.count("BEGIN:VEVENT") == 1 and "RRULE" not in text
    series = client.get(f"/activities/{KNIT}.ics").get_data(as_text=True)
    assert "RRULE" in series


def test_shortlist_and_confirmation_share_every_activity(make_app) -> None:
    app = make_app(**FAST)
    client = app.test_client()
    for slug in (KNIT, "otley-health-walk"):
        client.post("/shortlist/add", data={"slug": slug})
    page = client.get("/shortlist").get_data(as_text=True)
    assert 'id="share-list"' in page
    sms = unquote(page.split('id="share-list-sms"')[0].rsplit('href="', 1)[1].split('"')[0])
    assert "Knit and Natter" in sms and "Otley Health Walk" in sms and sms.count("/a/") == 2
    confirmation = submit(client, "/shortlist/recommend", RECOMMENDATION).location
    confirmed = client.get(confirmation).get_data(as_text=True)
    assert 'id="share-recommendation"' in confirmed
    text = unquote(confirmed.split('id="share-recommendation-sms"')[0].rsplit("body=", 1)[1])
    assert "Alex" not in text and "Pat" not in text and "Sam" not in text


def test_role_and_organisation_are_remembered_for_the_session(make_app) -> None:
    app = make_app(**FAST)
    client = app.test_client()
    first = client.get(f"/activities/{KNIT}/recommend").get_data(as_text=True)
    assert 'id="remembered-note"' not in first
    submit(client, f"/activities/{KNIT}/recommend", RECOMMENDATION)
    again = client.get("/activities/otley-health-walk/recommend").get_data(as_text=True)
    assert 'value="Leeds Central Library"' in again and 'id="remembered-note"' in again
    assert 'value="library" checked' in again.replace('checked value="library"',
                                                      'value="library" checked')
    assert "Sam Reader" not in again and "Alex" not in again  # only role and organisation
    with app.app_context():  # nothing about the connector stored for next time on the server
        assert not db.session.scalars(select(mail.OutboxEmail)).all()
    fresh = app.test_client().get(f"/activities/{KNIT}/recommend").get_data(as_text=True)
    assert "Leeds Central Library" not in fresh  # another browser: nothing


def test_reply_to_is_opt_in_and_erased_after_sending(make_app, tmp_path) -> None:
    app = make_app(**FAST, MAIL_FILE_DIR=str(tmp_path / "sent"))
    client = app.test_client()
    emailed = {**RECOMMENDATION, "delivery": "email", "email": "alex@example.org",
               "consent": "y"}
    submit(client, f"/activities/{KNIT}/recommend", emailed)
    submit(client, f"/activities/{KNIT}/recommend", {**emailed, "reply_to": "sam@library.example"})
    bad = submit(client, f"/activities/{KNIT}/recommend", {**emailed, "reply_to": "not an address"})
    assert bad.status_code == 400 and "Enter your email address in the correct format" in bad.text
    with app.app_context():
        rows = db.session.scalars(select(mail.OutboxEmail).order_by(mail.OutboxEmail.id)).all()
        assert [row.reply_to for row in rows] == [None, "sam@library.example"]
        messages = [mail.build_message(row, app) for row in rows]
        assert messages[0]["Reply-To"] is None
        assert messages[1]["Reply-To"] == "sam@library.example"
        mail.send_pending()
        for row in db.session.scalars(select(mail.OutboxEmail)):
            assert row.reply_to is None and row.to_address is None
    sent = sorted(mail.mail_dir(app).glob("*.eml"))
    headers = [email.message_from_bytes(path.read_bytes())["Reply-To"] for path in sent]
    assert sorted(filter(None, headers)) == ["sam@library.example"]


def test_signing_in_keeps_the_shortlist(make_app) -> None:
    app = manage_app(make_app, **FAST)
    client = app.test_client()
    client.post("/shortlist/add", data={"slug": KNIT})
    with client.session_transaction() as session:
        session["something_else"] = "from before"
    sign_in(client, app, "editor@example.org")
    with client.session_transaction() as session:
        assert session["shortlist"] and "something_else" not in session
    assert "Your list <span class=\"sd-count\" id=\"shortlist-count\">(1)" in \
        client.get("/shortlist").get_data(as_text=True)
