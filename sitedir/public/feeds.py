"""Feeds for machines: sitemap.xml, an Atom feed of new and updated activities, iCal calendars
(one per activity, one per search) and schema.org JSON-LD for activity pages.

Links are absolute, built on PUBLIC_BASE_URL, so feeds read the same behind any proxy.
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, abort, current_app, request
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import listing, schedule
from ..extensions import db
from ..http_cache import revalidated
from ..links import public_host, public_url
from ..models import FULL_ACTIVITY, Activity, Organisation, Page, ScheduleEntry, Term
from ..openreferral.mapping import ICAL_DAYS, child_id, schedule_key
from ..text import header_text, output_text
from ..web_address import link_target

bp = Blueprint("feeds", __name__)

ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
ATOM_ENTRIES = 50
SEARCH_ICS_LIMIT = 100
SCHEMA_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _iso(value: dt.datetime | None) -> str:
    return (value or dt.datetime(2000, 1, 1)).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- sitemap.xml ---------------------------------------------------------------------------

@bp.get("/sitemap.xml")
def sitemap():
    root = ET.Element("urlset", xmlns=SITEMAP_NS)

    def add(loc: str, lastmod: dt.datetime | None = None) -> None:
        url = ET.SubElement(root, "url")
        ET.SubElement(url, "loc").text = loc
        if lastmod is not None:
            ET.SubElement(url, "lastmod").text = lastmod.date().isoformat()

    add(public_url("public.home"))
    add(public_url("public.organisations"))
    for key in db.session.scalars(select(Term.key).where(Term.taxonomy == "category")
                                  .order_by(Term.position)):
        add(public_url("public.category", key=key))
    for slug, updated in db.session.execute(select(Organisation.slug, Organisation.updated_at)
                                            .order_by(Organisation.slug)):
        add(public_url("public.organisation", slug=slug), updated)
    for slug, updated in db.session.execute(select(Activity.slug, Activity.updated_at)
                                            .order_by(Activity.slug)):
        add(public_url("public.activity", slug=slug), updated)
    for slug, updated in db.session.execute(select(Page.slug, Page.updated_at)
                                            .order_by(Page.slug)):
        add(public_url("public.page", slug=slug), updated)
    return _xml(root, "application/xml")


def _xml(root: ET.Element, mimetype: str, last_modified: dt.datetime | None = None) -> Response:
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return revalidated(Response(body, mimetype=mimetype), last_modified=last_modified)


# -- Atom ----------------------------------------------------------------------------------

@bp.get("/activities.atom")
def atom():
    """The most recently added or changed activities, newest first."""
    activities = db.session.scalars(
        select(Activity).options(selectinload(Activity.organisation))
        .order_by(Activity.updated_at.desc(), Activity.id.desc()).limit(ATOM_ENTRIES)).all()
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = header_text(text)  # one line, no character XML cannot carry
        return element

    config = current_app.config
    sub(feed, "id", public_url("feeds.atom"))
    sub(feed, "title", f"{config['SITE_NAME']}: new and updated activities")
    sub(feed, "updated", _iso(activities[0].updated_at if activities else None))
    sub(feed, "link", rel="self", href=public_url("feeds.atom"))
    sub(feed, "link", rel="alternate", href=public_url("public.home"))
    author = sub(feed, "author")
    sub(author, "name", config["SITE_NAME"])
    for activity in activities:
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:uuid:{activity.uuid}")
        sub(entry, "title", activity.title)
        sub(entry, "updated", _iso(activity.updated_at))
        sub(entry, "published", _iso(activity.created_at))
        sub(entry, "link", rel="alternate", href=public_url("public.activity", slug=activity.slug))
        entry_author = sub(entry, "author")
        sub(entry_author, "name", activity.organisation.name)
        sub(entry, "summary", " ".join(part for part in (
            activity.summary, listing.status_text(activity) + ".",
            listing.cost_text(activity) + ".", listing.ages_text(activity) + ".") if part))
    return _xml(feed, "application/atom+xml",
                last_modified=activities[0].updated_at if activities else None)


# -- iCal ----------------------------------------------------------------------------------

def _first_session(activity: Activity, entry: ScheduleEntry,
                   now: dt.datetime) -> schedule.Occurrence | None:
    not_before = activity.break_until if activity.status == "on_break" else None
    found = schedule.occurrences([entry], now, limit=1, not_before=not_before)
    return found[0] if found else None


def _holiday_exdates(activity: Activity, entry: ScheduleEntry, start: dt.datetime,
                     zone: ZoneInfo) -> list[dt.datetime]:
    """Term-time-only repeating sessions skip school holidays: those dates as EXDATEs."""
    if not activity.term_time_only or entry.date is not None:
        return []
    holidays = listing.school_holidays()
    coming = schedule.occurrences([entry], start, limit=110)  # about two years of weeks
    return [dt.datetime.combine(o.date, o.start, tzinfo=zone) for o in coming
            if schedule.in_holiday(o.date, holidays)]


def _description(activity: Activity) -> str:
    lines = [activity.summary, f"Cost: {listing.cost_text(activity)}",
             f"Who it is for: {listing.ages_text(activity)}",
             f"Run by {activity.organisation.name}"]
    if activity.term_time_only:
        lines.append("Term time only (not in school holidays).")
    if activity.schedule_notes:
        lines.append(activity.schedule_notes)
    lines.append(public_url("public.activity", slug=activity.slug))
    return output_text("\n".join(line for line in lines if line))


def add_events(calendar: Calendar, activity: Activity, now: dt.datetime) -> int:
    """One VEVENT per timetable line (repeating ones with an RRULE); returns how many."""
    if activity.status == "closed":
        return 0
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    host = public_host() or "sitedir"
    added = 0
    for entry in activity.schedule:
        first = _first_session(activity, entry, now)
        if first is None:
            continue
        uid = f"{child_id(activity.uuid, 'schedule:' + schedule_key(entry))}@{host}"
        event = _timed_event(activity, uid, entry.title, first.date, entry.start_time,
                             entry.end_time, zone)
        if entry.date is None:
            day = ICAL_DAYS[entry.weekday or 0]
            event.add("rrule", {"freq": "monthly", "byday": [f"{w}{day}" for w in entry.weeks]}
                      if entry.weeks else {"freq": "weekly", "byday": day})
            for exdate in _holiday_exdates(activity, entry, now, zone):
                event.add("exdate", exdate)
        calendar.add_component(event)
        added += 1
    return added


def _timed_event(activity: Activity, uid: str, title: str, date: dt.date, start: dt.time,
                 end: dt.time, zone: ZoneInfo) -> Event:
    """An event for the activity at one date and time, with its link, place and summary."""
    event = Event()
    event.add("uid", uid)
    event.add("summary", header_text(f"{activity.title} – {title}" if title else activity.title))
    event.add("dtstart", dt.datetime.combine(date, start, tzinfo=zone))
    event.add("dtend", dt.datetime.combine(date, end, tzinfo=zone))
    event.add("dtstamp", (activity.updated_at or dt.datetime(2000, 1, 1)).replace(
        tzinfo=dt.timezone.utc))
    event.add("url", public_url("public.activity", slug=activity.slug))
    event.add("location", event_location(activity))
    event.add("description", _description(activity))
    return event


def add_next_event(calendar: Calendar, activity: Activity) -> int:
    """Only the next session, as one event (no repeats); returns how many (0 or 1)."""
    occurrence = listing.next_session(activity) if activity.status != "closed" else None
    if occurrence is None:
        return 0
    key = f"next:{occurrence.date.isoformat()}:{occurrence.start:%H%M}"
    calendar.add_component(_timed_event(
        activity, f"{child_id(activity.uuid, key)}@{public_host() or 'sitedir'}",
        occurrence.title, occurrence.date, occurrence.start, occurrence.end,
        ZoneInfo(current_app.config["TIMEZONE"])))
    return 1


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//sitedir//community activities//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", header_text(name))
    calendar.add("x-wr-timezone", current_app.config["TIMEZONE"])
    return calendar


def _ics(calendar: Calendar, filename: str) -> Response:
    calendar.add_missing_timezones()
    return revalidated(Response(calendar.to_ical(), mimetype="text/calendar",
                                headers={"Content-Disposition": f'inline; filename="{filename}"'}))


@bp.get("/activities/<slug>.ics")
def activity_ics(slug: str):
    activity = db.first_or_404(
        select(Activity).options(*FULL_ACTIVITY).where(Activity.slug == slug))
    calendar = _calendar(activity.title)
    if request.args.get("session") == "next":  # "Add the next session" only
        add_next_event(calendar, activity)
        return _ics(calendar, f"{activity.slug}-next.ics")
    add_events(calendar, activity, listing.local_now())
    return _ics(calendar, f"{activity.slug}.ics")


@bp.get("/search.ics")
def search_ics():
    """The first SEARCH_ICS_LIMIT results of a search (same parameters as /search)."""
    from .. import search
    from . import search_views

    try:
        parsed = search_views.parse(request.args)
    except search_views.ParamError as error:
        abort(400, description=f"{error.parameter}: {error.message}")
    if parsed.place_error is not None:
        abort(400, description=f"near: {parsed.place_error.message}")
    parsed.request.page, parsed.request.per_page = 1, SEARCH_ICS_LIMIT
    result = search.get_service().search(parsed.request)
    uuids = [hit.uuid for hit in result.hits]
    by_uuid = {a.uuid: a for a in db.session.scalars(
        select(Activity).options(*FULL_ACTIVITY).where(Activity.uuid.in_(uuids)))}
    calendar = _calendar(f"{current_app.config['SITE_NAME']}: search results")
    now = listing.local_now()
    for uuid in uuids:
        if uuid in by_uuid:
            add_events(calendar, by_uuid[uuid], now)
    return _ics(calendar, "search.ics")


# -- schema.org JSON-LD --------------------------------------------------------------------

def _schedule_ld(entry: ScheduleEntry, timezone: str) -> dict[str, Any]:
    data: dict[str, Any] = {"@type": "Schedule", "startTime": f"{entry.start_time:%H:%M}",
                            "endTime": f"{entry.end_time:%H:%M}", "scheduleTimezone": timezone}
    if entry.date is not None:
        data.update(startDate=entry.date.isoformat(), endDate=entry.date.isoformat())
        return data
    data.update(repeatFrequency="P1M" if entry.weeks else "P1W",
                byDay=f"https://schema.org/{SCHEMA_DAYS[entry.weekday or 0]}")
    if entry.weeks:
        data["byMonthWeek"] = entry.weeks if len(entry.weeks) > 1 else entry.weeks[0]
    return data


def event_location(activity: Activity) -> str:
    """Where, for a calendar: the full address, or only the area for a home-based group."""
    where = listing.public_location(activity)
    if where is None or where.approximate:
        return listing.place_text(activity)
    return ", ".join([where.label, *where.lines, where.town, where.postcode]).replace(", ,", ",")


def _place_ld(activity: Activity) -> dict[str, Any] | None:
    where = listing.public_location(activity)
    if where is None:
        return None
    venue = where.venue
    place: dict[str, Any] = {"@type": "Place", "@id": f"urn:uuid:{venue.uuid}"}
    if where.approximate:
        place.update(name=where.label, address={
            "@type": "PostalAddress", "addressLocality": where.town,
            "postalCode": where.postcode, "addressCountry": "GB"})
        return place
    place.update(name=where.label, address={
        "@type": "PostalAddress", "streetAddress": ", ".join(where.lines),
        "addressLocality": where.town, "postalCode": where.postcode, "addressCountry": "GB"})
    if where.exact_point is not None:
        place["geo"] = {"@type": "GeoCoordinates", "latitude": where.exact_point[0],
                        "longitude": where.exact_point[1]}
    if venue.accessibility:
        place["amenityFeature"] = [{"@type": "LocationFeatureSpecification", "name": t.name,
                                    "value": True} for t in venue.accessibility]
    return place


def activity_jsonld(activity: Activity) -> dict[str, Any]:
    """schema.org Event (with eventSchedule), its Organization and Place, as one @graph."""
    organisation = activity.organisation
    org_ld: dict[str, Any] = {"@type": "Organization", "@id": f"urn:uuid:{organisation.uuid}",
                              "name": organisation.name,
                              "url": public_url("public.organisation", slug=organisation.slug)}
    for key, value in (("sameAs", link_target(organisation.website)),
                       ("email", organisation.email),
                       ("telephone", organisation.phone), ("description", organisation.summary)):
        if value:
            org_ld[key] = value
    place = _place_ld(activity)
    online = "online" in activity.formats or "phone" in activity.formats
    mode = ("Mixed" if online else "Offline") if place else "Online"
    event: dict[str, Any] = {
        "@type": "Event", "@id": f"urn:uuid:{activity.uuid}", "name": activity.title,
        "description": activity.summary, "url": public_url("public.activity", slug=activity.slug),
        "organizer": {"@id": org_ld["@id"]},
        "eventAttendanceMode": f"https://schema.org/{mode}EventAttendanceMode",
        "eventStatus": "https://schema.org/EventCancelled" if activity.status == "closed"
        else "https://schema.org/EventScheduled",
        "isAccessibleForFree": activity.cost_type == "free",
        "eventSchedule": [_schedule_ld(entry, current_app.config["TIMEZONE"])
                          for entry in activity.schedule],
        "offers": {"@type": "Offer", "price": str(activity.cost_amount or 0),
                   "priceCurrency": "GBP", "description": listing.cost_text(activity)},
    }
    if activity.age_min is not None or activity.age_max is not None:
        event["typicalAgeRange"] = f"{activity.age_min or 0}-{activity.age_max or ''}"
    upcoming = listing.next_session(activity) if activity.status != "closed" else None
    if upcoming is not None:
        zone = ZoneInfo(current_app.config["TIMEZONE"])
        event["startDate"] = dt.datetime.combine(upcoming.date, upcoming.start,
                                                 tzinfo=zone).isoformat()
        event["endDate"] = dt.datetime.combine(upcoming.date, upcoming.end,
                                               tzinfo=zone).isoformat()
    locations: list[dict[str, Any]] = []
    if place:
        locations.append({"@id": place["@id"]})
    if online:
        locations.append({"@type": "VirtualLocation",
                          "url": public_url("public.activity", slug=activity.slug)})
    if locations:
        event["location"] = locations if len(locations) > 1 else locations[0]
    graph = [event, org_ld] + ([place] if place else [])
    return {"@context": "https://schema.org", "@graph": graph}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["activity_jsonld"] = activity_jsonld
