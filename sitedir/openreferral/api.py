"""The Open Referral UK 3.0 read API: /openreferral/services, /service_at_locations, taxonomies.

Lists use the ORUK envelope (total_items, total_pages, page_number, size, first_page,
last_page, empty, contents). page is 1-based; a page past the end is an empty page, not an
error; a parameter we cannot read is a 400 whose message names it. search= goes through the
site's search index (stemming, accent folding, the public query syntax); every other filter,
the order and the pages are SQL.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from typing import Any, Callable

from flask import Response, abort, current_app, jsonify, request, url_for
from sqlalchemy import Select, String, and_, cast, func, or_, select
from sqlalchemy.orm import selectinload

from .. import geo, listing, search
from ..extensions import db
from ..freshness import sink_order
from ..models import FULL_ACTIVITY, Activity, Organisation, ScheduleEntry, Term
from . import bp, mapping
from .openapi import openapi_document

DAYS = {**{day: index for index, day in enumerate(mapping.ICAL_DAYS)},
        **{name.upper(): index for index, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}}
CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
MAX_SEARCH_LENGTH = 200
# Up to this many search matches are handed to SQL as an IN list (well inside SQLite's and
# PostgreSQL's bind-parameter limits); a less selective search is intersected in Python.
MAX_IN_LIST = 2000
# The site's public parser: words, "phrases", AND/OR/NOT, brackets; no wildcards or fields.
_warned_no_index = False


@bp.after_request
def _cors(response: Response) -> Response:
    """ORUK compliance: every response may be read by any web page."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# -- parameters ----------------------------------------------------------------------------

def _bad(name: str, message: str) -> None:
    abort(400, description=f"{name}: {message}")


def _int_param(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"\d{1,9}", raw.strip()):
        _bad(name, f"must be a whole number from {low} to {high}")
    value = int(raw)
    if not low <= value <= high:
        _bad(name, f"must be a whole number from {low} to {high}")
    return value


def _number_param(name: str, low: float, high: float) -> float | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        _bad(name, f"must be a number from {low:g} to {high:g}")
    return value


def _uuid_param(name: str) -> list[str] | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    values = [part.strip() for part in raw.split(",") if part.strip()]
    try:
        return [str(uuid.UUID(value)) for value in values][:50]
    except ValueError:
        _bad(name, "must be a UUID (or several, comma-separated)")
    return None  # unreachable: abort raised


def _time_param(name: str) -> Any:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    match = CLOCK.match(raw.strip())
    if not match:
        _bad(name, "must be a time like 09:30 (24-hour clock)")
    import datetime as dt
    return dt.time(int(match[1]), int(match[2]))


def _day_param() -> int | None:
    raw = request.args.get("day")
    if raw is None or raw == "":
        return None
    day = DAYS.get(raw.strip().upper())
    if day is None:
        _bad("day", "must be a day: MO, TU, WE, TH, FR, SA, SU or its name")
    return day


def _search_param() -> str:
    raw = (request.args.get("search") or "").strip()
    if len(raw) > MAX_SEARCH_LENGTH:
        _bad("search", f"must be at most {MAX_SEARCH_LENGTH} characters")
    return raw


# -- filters -------------------------------------------------------------------------------

def _filtered_activities() -> tuple[Select[tuple[Activity]], set[str] | None]:
    """Activities matching the ORUK service filters in the request.

    The second value, when not None, is the set of uuids the search words matched, still to be
    applied (too many for an IN list); otherwise the words are already part of the query.
    """
    query = select(Activity)
    query, matched = _search_filter(query, _search_param())
    term_ids = _uuid_param("taxonomy_term_id")
    if term_ids is not None:
        query = query.where(Activity.terms.any(Term.uuid.in_(term_ids)))
    taxonomy_ids = _uuid_param("taxonomy_id")
    if taxonomy_ids is not None:
        names = [mapping.TAXONOMY_BY_ID[t] for t in taxonomy_ids if t in mapping.TAXONOMY_BY_ID]
        query = query.where(Activity.terms.any(Term.taxonomy.in_(names)))
    # The spec's wording: services whose minimum age is at least this, whose maximum age is at
    # most this. No recorded minimum counts as 0; no recorded maximum as no upper limit.
    minimum = _number_param("minimum_age", 0, 150)
    if minimum is not None:
        query = query.where(func.coalesce(Activity.age_min, 0) >= minimum)
    maximum = _number_param("maximum_age", 0, 150)
    if maximum is not None:
        query = query.where(Activity.age_max.is_not(None), Activity.age_max <= maximum)
    query = _schedule_filter(_changed_filter(query))
    return query, matched


def _changed_filter(query: Select[tuple[Activity]]) -> Select[tuple[Activity]]:
    """modified_after= and organization_id=."""
    moment = _datetime_param("modified_after")
    if moment is not None:
        query = query.where(Activity.updated_at >= moment)
    organisations = _uuid_param("organization_id")
    if organisations is not None:
        query = query.where(Activity.organisation.has(Organisation.uuid.in_(organisations)))
    return query


def _datetime_param(name: str) -> dt.datetime | None:
    """An ISO 8601 date or date-time (Z or an offset; none means UTC) as naive UTC."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw.replace(" ", "+").replace("Z", "+00:00"))
    except ValueError:
        _bad(name, f"{raw[:40]!r} is not a date-time like 2026-11-30T09:00:00Z or a date "
                   "like 2026-11-30")
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def _flag_param(name: str) -> bool:
    raw = (request.args.get(name) or "").strip().lower()
    if raw in ("", "false", "0", "no"):
        return False
    if raw in ("true", "1", "yes"):
        return True
    _bad(name, f"{raw[:40]!r} is not true or false")
    return False  # unreachable: abort raised


def _format_param() -> str:
    raw = (request.args.get("format") or "json").strip().lower()
    if raw not in ("json", "ndjson"):
        _bad("format", f"{raw[:40]!r} is not json or ndjson")
    return raw


def _search_filter(query: Select[tuple[Activity]],
                   raw: str) -> tuple[Select[tuple[Activity]], set[str] | None]:
    """search=: the uuids the index matches, as an IN list or (when many) left to the caller.

    Words that parse to nothing searchable (only stop words, a lone AND) filter nothing, as
    on the search page. Every listing must have all the words: unlike the search page there
    is no fall back to any of them, because a filter that widens itself would surprise an API
    client combining it with others.
    """
    text = search.clean_text(raw, MAX_SEARCH_LENGTH)
    if not text:
        return query, None
    try:
        matched = search.get_service().matching_uuids(text)
    except search.IndexUnavailable:
        _warn_no_index()
        return _like_filter(query, text), None
    if matched is None:
        return query, None
    if len(matched) <= MAX_IN_LIST:
        return query.where(Activity.uuid.in_(sorted(matched))), None
    return query, matched


def _warn_no_index() -> None:
    """Closed listings are matched too (this API lists them as "inactive"). On an empty or
    unreadable index, as on a fresh install before `flask index rebuild`, answer with the
    cruder LIKE filter rather than a 503: an open-data feed that goes dark until an operator
    step is worse than one that matches words a little less cleverly."""
    global _warned_no_index
    if not _warned_no_index:
        _warned_no_index = True
        current_app.logger.warning(
            "Open Referral search= is using a LIKE filter: the search index is empty or "
            "unreadable (run `flask index rebuild`)")


def _like_filter(query: Select[tuple[Activity]], text: str) -> Select[tuple[Activity]]:
    """Every word a substring of the title, summary, description or organisation name."""
    for word in text.lower().split()[:10]:
        like = f"%{word.replace('%', '').replace('_', '')}%"
        query = query.where(or_(
            func.lower(Activity.title).like(like), func.lower(Activity.summary).like(like),
            func.lower(Activity.description).like(like),
            Activity.organisation.has(func.lower(Organisation.name).like(like))))
    return query


def _schedule_filter(query: Select[tuple[Activity]]) -> Select[tuple[Activity]]:
    """day, start_time and end_time must all hold for one timetable line."""
    day, start, end = _day_param(), _time_param("start_time"), _time_param("end_time")
    conditions = []
    if day is not None:
        # a dated line matches when its date falls on that day (SQLite and PostgreSQL differ
        # on weekday functions, so dated lines are checked in Python below)
        conditions.append(or_(ScheduleEntry.weekday == day, ScheduleEntry.date.is_not(None)))
    if start is not None:
        conditions.append(ScheduleEntry.start_time >= start)
    if end is not None:
        conditions.append(ScheduleEntry.end_time <= end)
    if not conditions:
        return query
    matching = select(ScheduleEntry.id, ScheduleEntry.activity_id, ScheduleEntry.date,
                      ScheduleEntry.weekday).where(and_(*conditions))
    ids = {row.activity_id for row in db.session.execute(matching)
           if day is None or row.date is None or row.date.weekday() == day}
    return query.where(Activity.id.in_(ids))


# -- pages ---------------------------------------------------------------------------------

def _page_params() -> tuple[int, int]:
    limit = int(current_app.config["OPENREFERRAL_MAX_PER_PAGE"])
    per_page = _int_param("per_page", min(50, limit), 1, limit)
    page = _int_param("page", 1, 1, 10**6)
    return page, per_page


def envelope(total: int, page: int, per_page: int, contents: list[Any]) -> dict[str, Any]:
    """The ORUK paginated list."""
    total_pages = math.ceil(total / per_page)
    return {"total_items": total, "total_pages": total_pages, "page_number": page,
            "size": len(contents), "first_page": page == 1,
            "last_page": page >= total_pages, "empty": not contents, "contents": contents}


def _paged(query: Select[Any], order: Any, render: Callable[[Any], Any],
           options: tuple[Any, ...] = ()) -> Response:
    page, per_page = _page_params()
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(query.options(*options).order_by(*order)
                              .limit(per_page).offset((page - 1) * per_page)).all()
    return jsonify(envelope(total, page, per_page, [render(row) for row in rows]))


def _paged_activities(query: Select[tuple[Activity]], matched: set[str] | None,
                      render: Callable[[Activity], Any], options: tuple[Any, ...]) -> Response:
    """A page of activities in list order (freshness.sink_order: open and fresh first, then id,
    so pages never overlap), in SQL when possible.

    With a large set of search matches, the filtered ids are read in order and the matches
    kept in Python; only the page's activities are then loaded.
    """
    order = (*sink_order(listing.local_now().date()), Activity.id)
    if matched is None:
        return _paged(query, order, render, options)
    page, per_page = _page_params()
    ids = [row.id for row in db.session.execute(
        query.with_only_columns(Activity.id, Activity.uuid).order_by(*order))
        if row.uuid in matched]
    window = ids[(page - 1) * per_page: page * per_page]
    by_id = {activity.id: activity for activity in db.session.scalars(
        select(Activity).options(*options).where(Activity.id.in_(window)))}
    return jsonify(envelope(len(ids), page, per_page, [render(by_id[i]) for i in window]))


# -- endpoints -----------------------------------------------------------------------------

@bp.get("/")
def index():
    return jsonify({"version": "3.0", "profile": mapping.PROFILE_URL,
                    "openapi_url": url_for("openreferral.openapi", _external=True)})


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(request.url_root.rstrip("/") + bp.url_prefix))


def _activity_by_uuid(value: str) -> Activity:
    return db.first_or_404(select(Activity).options(*FULL_ACTIVITY).where(Activity.uuid == value),
                           description=f"No service with id {value}")


@bp.get("/services/<value>")
def service(value: str):
    return jsonify(mapping.service_out(_activity_by_uuid(value)))


def _origin() -> tuple[float, float] | None:
    """The point of ?postcode=, or None; 400 if it cannot be found."""
    raw = (request.args.get("postcode") or "").strip()
    if not raw:
        if request.args.get("proximity"):
            _bad("proximity", "needs a postcode to measure from")
        return None
    postcode = geo.normalise_postcode(raw)
    if postcode is None:
        _bad("postcode", "must be a UK postcode like LS9 8AB or an outcode like LS9")
    try:
        place = geo.find_place(postcode)
        return place.latitude, place.longitude
    except geo.PlaceError:
        pass
    point = geo.lookup_postcode_in_db(postcode)
    if point is None:
        _bad("postcode", f"{postcode} was not found")
    return point


def _nearest(query: Select[tuple[Activity]], matched: set[str] | None,
             origin: tuple[float, float], proximity: float | None) -> list[tuple[float, Activity]]:
    """(metres, activity) nearest first, within `proximity` metres if given.

    Distances need every candidate's coordinates: filtered and sorted in Python (a directory
    holds thousands of listings, not millions). Hidden addresses are never located.
    """
    measured = []
    for activity in db.session.scalars(query.options(*FULL_ACTIVITY)):
        where = listing.public_location(activity)
        if where is None or where.exact_point is None:
            continue
        if matched is not None and activity.uuid not in matched:
            continue
        metres = geo.haversine_miles(origin[0], origin[1], *where.exact_point) * 1609.344
        if proximity is None or metres <= proximity:
            measured.append((metres, activity.title, activity))
    measured.sort(key=lambda item: (item[0], item[1]))
    return [(metres, activity) for metres, _, activity in measured]


def _renderer(what: str) -> Callable[[Activity], dict[str, Any]]:
    """minimal= (id and last_modified only), full= (fully nested) or the one-to-one fields."""
    full, minimal = _flag_param("full"), _flag_param("minimal")
    if minimal:
        return lambda activity: mapping.minimal_out(activity, what)
    out = mapping.service_out if what == "service" else mapping.service_at_location_out
    return lambda activity: out(activity, full=full)


def _listing(query: Select[tuple[Activity]], matched: set[str] | None,
             what: str) -> Response:
    """The shared end of /services and /service_at_locations: near a postcode or by title,
    as a page or (format=ndjson) every result, one JSON object a line."""
    render, ndjson = _renderer(what), _format_param() == "ndjson"
    origin = _origin()
    proximity = _number_param("proximity", 1, 1_000_000)
    if origin is not None:
        rows = [(round(metres), activity) for metres, activity in
                _nearest(query, matched, origin, proximity)]
    elif ndjson:
        rows = [(None, activity) for activity in db.session.scalars(
            query.options(*FULL_ACTIVITY).order_by(Activity.title, Activity.id))
            if matched is None or activity.uuid in matched]
    else:
        # A page of services' own fields needs only their organisations loaded.
        light = what == "service" and not _flag_param("full")
        return _paged_activities(query, matched, render, (
            selectinload(Activity.organisation),) if light else FULL_ACTIVITY)

    def item(metres: int | None, activity: Activity) -> dict[str, Any]:
        data = render(activity)
        return data if metres is None else {**data, "distance": metres}

    if ndjson:
        lines = "".join(json.dumps(item(m, a), ensure_ascii=False) + "\n" for m, a in rows)
        return Response(lines, mimetype="application/x-ndjson")
    page, per_page = _page_params()
    window = rows[(page - 1) * per_page: page * per_page]
    return jsonify(envelope(len(rows), page, per_page, [item(m, a) for m, a in window]))


@bp.get("/services")
def services():
    query, matched = _filtered_activities()
    return _listing(query, matched, "service")


@bp.get("/service_at_locations")
def service_at_locations():
    query, matched = _filtered_activities()
    query = query.join(Activity.venue).where(cast(Activity.formats, String).like('%in_person%'))
    return _listing(query, matched, "service_at_location")


@bp.get("/service_at_locations/<value>")
def service_at_location(value: str):
    # The id is derived from the activity and venue uuids, so look it up through both.
    candidates = db.session.scalars(
        select(Activity).options(*FULL_ACTIVITY).join(Activity.venue)).all()
    for activity in candidates:
        if mapping.service_at_location_id(activity) == value:
            return jsonify(mapping.service_at_location_out(activity))
    abort(404, description=f"No service_at_location with id {value}")


@bp.get("/taxonomies")
def taxonomies():
    page, per_page = _page_params()
    items = [mapping.taxonomy_out(name) for name in mapping.TAXONOMIES]
    window = items[(page - 1) * per_page: page * per_page]
    return jsonify(envelope(len(items), page, per_page, window))


@bp.get("/taxonomies/<value>")
def taxonomy(value: str):
    name = mapping.TAXONOMY_BY_ID.get(value)
    if name is None:
        abort(404, description=f"No taxonomy with id {value}")
    terms = db.session.scalars(select(Term).where(Term.taxonomy == name)
                               .order_by(Term.position)).all()
    return jsonify(mapping.taxonomy_out(name, with_terms=list(terms)))


@bp.get("/taxonomy_terms")
def taxonomy_terms():
    query = select(Term)
    taxonomy_ids = _uuid_param("taxonomy_id")
    if taxonomy_ids is not None:
        query = query.where(Term.taxonomy.in_(
            [mapping.TAXONOMY_BY_ID[t] for t in taxonomy_ids if t in mapping.TAXONOMY_BY_ID]))
    return _paged(query, (Term.taxonomy, Term.position, Term.id), mapping.term_out)


@bp.get("/taxonomy_terms/<value>")
def taxonomy_term(value: str):
    term = db.first_or_404(select(Term).where(Term.uuid == value),
                           description=f"No taxonomy_term with id {value}")
    return jsonify(mapping.term_out(term))
