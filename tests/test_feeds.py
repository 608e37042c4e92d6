"""sitemap.xml, the Atom feed, iCal calendars (checked with the icalendar parser), JSON-LD."""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, Callable
from xml.etree import ElementTree as ET

from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select

from sitedir import indexing
from sitedir.extensions import db
from sitedir.models import Activity

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def calendar(client: FlaskClient, url: str) -> Calendar:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    parsed = Calendar.from_ical(response.data)
    assert parsed["VERSION"] == "2.0" and parsed["PRODID"]
    for event in parsed.walk("VEVENT"):
        for required in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "URL"):
            assert required in event, required
        assert str(event.decoded("DTSTART").tzinfo) == "Europe/London"
    # every TZID used is defined in the calendar
    used = {"Europe/London"} if parsed.walk("VEVENT") else set()
    assert {str(tz["TZID"]) for tz in parsed.walk("VTIMEZONE")} == used
    return parsed


def events(parsed: Calendar) -> list[Any]:
    return list(parsed.walk("VEVENT"))


def test_activity_ics_weekly_and_dated(client: FlaskClient) -> None:
    found = events(calendar(client, "/activities/otley-health-walk.ics"))
    weekly = next(e for e in found if "RRULE" in e)
    assert weekly["RRULE"]["FREQ"] == ["WEEKLY"] and weekly["RRULE"]["BYDAY"] == ["SA"]
    assert weekly.decoded("DTSTART").weekday() == 5
    assert weekly.decoded("DTSTART").time() == dt.time(10, 30)
    dated = next(e for e in found if "RRULE" not in e)
    assert dated.decoded("DTSTART").date() == dt.date(2027, 3, 16)
    assert "taster walk" in str(dated["SUMMARY"])
    assert "Otley" in str(weekly["LOCATION"])
    # UIDs are stable between requests
    again = events(calendar(client, "/activities/otley-health-walk.ics"))
    assert sorted(str(e["UID"]) for e in found) == sorted(str(e["UID"]) for e in again)


def test_monthly_rule_term_time_and_break(client: FlaskClient) -> None:
    supper, = events(calendar(client, "/activities/harehills-monthly-supper.ics"))
    assert supper["RRULE"]["FREQ"] == ["MONTHLY"]
    assert supper["RRULE"]["BYDAY"] == ["1MO", "3MO"]
    # on a break until 11 January 2027: the calendar starts after it
    assert supper.decoded("DTSTART").date() >= dt.date(2027, 1, 11)
    film, = events(calendar(client, "/activities/otley-youth-film-club.ics"))
    skipped = [d.dt.date() for exdate in ([film["EXDATE"]] if not isinstance(
        film.get("EXDATE"), list) else film["EXDATE"]) for d in exdate.dts]
    assert dt.date(2026, 12, 23) in skipped  # a Wednesday in the Christmas holidays
    assert all(d.weekday() == 2 for d in skipped)


def test_closed_activity_has_no_events_and_hidden_address_stays_hidden(
        client: FlaskClient) -> None:
    assert events(calendar(client, "/activities/harehills-closed-group.ics")) == []
    sewing, = events(calendar(client, "/activities/gipton-home-sewing-circle.ics"))
    assert "address given when you get in touch" in str(sewing["LOCATION"])


def test_unknown_activity_ics_is_404_and_pages_still_route(client: FlaskClient) -> None:
    assert client.get("/activities/no-such-thing.ics").status_code == 404
    assert client.get("/activities/otley-health-walk").status_code == 200


def test_search_ics(make_app: Callable[..., Flask]) -> None:
    site = make_app()
    with site.app_context():
        indexing.rebuild(site)
    client = site.test_client()
    found = events(calendar(client, "/search.ics?q=walk"))
    assert {str(e["SUMMARY"]).split(" – ")[0] for e in found} == {"Otley Health Walk"}
    everything = events(calendar(client, "/search.ics"))
    assert len(everything) > len(found)
    assert client.get("/search.ics?page=abc").status_code in (400, 404)


def test_sitemap_lists_every_page(client: FlaskClient, app: Flask) -> None:
    response = client.get("/sitemap.xml")
    root = ET.fromstring(response.data)
    assert root.tag == f"{SITEMAP}urlset"
    locations = {url.findtext(f"{SITEMAP}loc") for url in root}
    with app.app_context():
        slugs = db.session.scalars(select(Activity.slug)).all()
    for slug in slugs:
        assert f"http://localhost/activities/{slug}" in locations
    assert "http://localhost/" in locations and "http://localhost/organisations" in locations
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", url.findtext(f"{SITEMAP}lastmod") or "0000-00-00")
               for url in root)


def test_atom_feed_of_new_and_updated_activities(make_app: Callable[..., Flask]) -> None:
    site = make_app()
    with site.app_context():
        walk = db.session.scalar(select(Activity).where(Activity.slug == "otley-health-walk"))
        walk.summary = "Now with a longer route."
        db.session.commit()
    response = site.test_client().get("/activities.atom")
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 7
    first = entries[0]
    assert first.findtext(f"{ATOM}title") == "Otley Health Walk"  # the newest change first
    assert first.findtext(f"{ATOM}id").startswith("urn:uuid:")
    assert first.find(f"{ATOM}link").get("href") == "http://localhost/activities/otley-health-walk"
    assert "Now with a longer route." in first.findtext(f"{ATOM}summary")
    updated = [entry.findtext(f"{ATOM}updated") for entry in entries]
    assert updated == sorted(updated, reverse=True)


def jsonld(client: FlaskClient, slug: str) -> dict[str, Any]:
    html = client.get(f"/activities/{slug}").get_data(as_text=True)
    block, = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    data = json.loads(block)
    assert data["@context"] == "https://schema.org"
    return {node["@type"]: node for node in data["@graph"]}


def test_activity_page_json_ld(client: FlaskClient) -> None:
    nodes = jsonld(client, "otley-health-walk")
    assert set(nodes) == {"Event", "Organization", "Place"}
    event = nodes["Event"]
    assert event["organizer"]["@id"] == nodes["Organization"]["@id"]
    assert event["location"]["@id"] == nodes["Place"]["@id"]
    weekly = next(s for s in event["eventSchedule"] if "repeatFrequency" in s)
    assert (weekly["byDay"], weekly["startTime"], weekly["repeatFrequency"]) == (
        "https://schema.org/Saturday", "10:30", "P1W")
    assert any(s.get("startDate") == "2027-03-16" for s in event["eventSchedule"])
    assert event["isAccessibleForFree"] is True and event["typicalAgeRange"] == "50-"
    assert nodes["Place"]["address"]["postalCode"] == "LS21 1BQ"
    assert "geo" in nodes["Place"]


def test_json_ld_respects_hidden_addresses_and_online(client: FlaskClient) -> None:
    nodes = jsonld(client, "gipton-home-sewing-circle")
    place = nodes["Place"]
    assert "streetAddress" not in place["address"] and "geo" not in place
    assert nodes["Event"]["eventAttendanceMode"] == "https://schema.org/MixedEventAttendanceMode"
    phone = jsonld(client, "gipton-phone-befriending")
    assert "Place" not in phone
    assert phone["Event"]["location"]["@type"] == "VirtualLocation"
    closed = jsonld(client, "harehills-closed-group")["Event"]
    assert closed["eventStatus"] == "https://schema.org/EventCancelled"
