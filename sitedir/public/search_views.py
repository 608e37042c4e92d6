"""/search and /search.json: URL parameters in, the search service's ids joined to records out.

Every filter is a URL parameter, so each result page is a link that can be shared. The HTML page
works without JavaScript; the map is an enhancement over the list.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import (
    Blueprint, Flask, abort, current_app, jsonify, redirect, render_template, request, url_for,
)
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from .. import activity_rows, cards, geo, indexing, listing, page_cache, search
from ..activity_rows import ActivityRow
from ..extensions import db
from ..templating import activity_url
from ..models import FORMATS, JOIN_METHODS, WEEKDAYS, Activity, Term
from ..pagination import Pagination
from ..signals import search_done

bp = Blueprint("search", __name__)

RADII = (1, 3, 5, 10, 25)
DEFAULT_RADIUS = 5
MAX_PAGE = 10_000
MAX_AGE = 120
SORT_LABELS = {"relevance": "Best match", "distance": "Nearest first", "name": "Name (A to Z)",
               "reviewed": "Recently reviewed"}
TIME_LABELS = {"morning": "Morning (before midday)", "afternoon": "Afternoon (midday to 5pm)",
               "evening": "Evening (after 5pm)"}
# The multi-valued filters: URL parameter → (index field, taxonomy or fixed choices).
TERM_FILTERS = {"category": "category", "helps": "need", "access": "accessibility"}
FIXED_FILTERS: dict[str, tuple[str, ...]] = {
    "day": WEEKDAYS, "time": indexing.TIMES_OF_DAY, "format": FORMATS, "join": JOIN_METHODS}
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off", "")


class ParamError(ValueError):
    """A URL parameter that cannot be used; `parameter` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


@dataclass
class Parsed:
    """The validated parameters plus what the page needs to show them."""

    request: search.SearchRequest
    near_text: str = ""
    place: geo.Place | None = None
    place_error: geo.PlaceError | None = None
    free: bool = False
    radius: int = DEFAULT_RADIUS
    filters: dict[str, list[str]] = field(default_factory=dict)
    # Filters read from the typed words ("saturday", "free", "teens") and applied, by parameter
    from_words: dict[str, Any] = field(default_factory=dict)
    typed_filter_words: list[str] = field(default_factory=list)
    typed_text: str = ""  # the words as typed, before filter words were taken out
    words_not_applied: bool = False  # they found nothing, so the search ran without them


# ---- parameters --------------------------------------------------------------------------------

def _flag(args: MultiDict, name: str, default: bool) -> bool:
    values = args.getlist(name)
    if not values:
        return default
    raw = values[-1]  # a checkbox after its hidden "0" default: the last one wins
    if raw.strip().lower() in TRUE_WORDS:
        return True
    if raw.strip().lower() in FALSE_WORDS:
        return False
    raise ParamError(name, f"{name} must be 1 or 0")


def _int(args: MultiDict, name: str, low: int, high: int) -> int | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise ParamError(name, f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _term_keys(taxonomy: str) -> set[str]:
    return set(db.session.scalars(select(Term.key).where(Term.taxonomy == taxonomy)))


def _filters(args: MultiDict) -> dict[str, list[str]]:
    chosen: dict[str, list[str]] = {}
    for name in (*TERM_FILTERS, *FIXED_FILTERS):
        values = [value for value in args.getlist(name) if value != ""]
        if not values:
            continue
        allowed = (_term_keys(TERM_FILTERS[name]) if name in TERM_FILTERS
                   else set(FIXED_FILTERS[name]))
        unknown = [value for value in values if value not in allowed]
        if unknown:
            raise ParamError(name, f"{name} has no value {unknown[0][:40]!r}")
        chosen[name] = sorted(set(values))
    return chosen


def _text(args: MultiDict) -> str:
    try:
        return search.clean_text(args.get("q", ""),
                                 int(current_app.config["SEARCH_MAX_QUERY_LENGTH"]))
    except search.QueryTooLong as error:
        raise ParamError("q", str(error)) from None


def _radius(args: MultiDict) -> int:
    raw = args.get("radius", "").strip()
    if not raw:
        return DEFAULT_RADIUS
    if raw not in {str(r) for r in RADII}:
        raise ParamError("radius", "radius must be one of " + ", ".join(map(str, RADII)) + " miles")
    return int(raw)


def _sort(args: MultiDict, has_place: bool) -> str:
    sort = args.get("sort", "").strip()
    if sort and sort not in search.SORTS:
        raise ParamError("sort", "sort must be one of " + ", ".join(search.SORTS))
    if sort == "distance" and not has_place:
        raise ParamError("sort", "Enter a postcode or place to sort by distance")
    return sort


def _place(near_text: str) -> geo.Place:
    locator = current_app.extensions.get(geo.EXTENSION_KEY)
    if locator is None:  # geo not wired into this app: the offline gazetteer still works
        locator = current_app.extensions[geo.EXTENSION_KEY] = geo.Locator()
    return locator.find_place(near_text)


def parse(args: MultiDict) -> Parsed:
    """Validate every parameter; raises ParamError naming the first bad one."""
    filters = _filters(args)
    free = _flag(args, "free", False)
    index_filters = {field_name: values for field_name, values in filters.items()}
    if free:
        index_filters["cost"] = ["free"]
    near_text = " ".join(args.get("near", "").split())
    if len(near_text) > geo.MAX_QUERY_LENGTH:
        raise ParamError("near", "Enter a postcode or the name of a town or village, "
                                 "not a long address")
    parsed = Parsed(search.SearchRequest(
        text=_text(args), filters=index_filters, age=_int(args, "age", 0, MAX_AGE),
        include_online=_flag(args, "online", True),
        correct_spelling=not _flag(args, "exact", False),
        page=_int(args, "page", 1, MAX_PAGE) or 1,
        per_page=int(current_app.config["PAGE_SIZE"])),
        near_text=near_text, free=free, radius=_radius(args), filters=filters)
    if near_text:
        try:
            parsed.place = _place(near_text)
        except geo.PlaceError as error:
            parsed.place_error = error
        else:
            parsed.request.near = (parsed.place.latitude, parsed.place.longitude)
            parsed.request.radius_miles = parsed.radius
    parsed.request.sort = _sort(args, parsed.place is not None)
    if not _flag(args, "exact", False):
        _read_filter_words(parsed)
    return parsed


def _read_filter_words(parsed: Parsed) -> None:
    """Apply the day, time, cost, format and age words typed in the text (said on the page,
    with a link back to the plain words); not when the URL already sets that filter."""
    words = search.read_filter_words(parsed.request.text)
    if not words.found:
        return
    request = parsed.request
    wanted = {"day": words.days, "time": words.times, "format": words.formats}
    if any(values and name in parsed.filters for name, values in wanted.items()) \
            or (words.free and parsed.free) or (words.age is not None and request.age is not None):
        return
    parsed.typed_text, parsed.typed_filter_words = request.text, words.typed
    request.text = words.text
    for name, values in wanted.items():
        if values:
            parsed.from_words[name] = values
            parsed.filters[name] = request.filters[name] = values
    if words.free:
        parsed.from_words["free"] = parsed.free = True
        request.filters["cost"] = ["free"]
    if words.age is not None:
        parsed.from_words["age"] = request.age = words.age


def _undo_filter_words(parsed: Parsed) -> None:
    """Search the other words without the filters read from the words (or, when the words
    were all filters, the words as typed)."""
    request = parsed.request
    request.text = request.text or parsed.typed_text
    for name in ("day", "time", "format"):
        if name in parsed.from_words:
            parsed.filters.pop(name, None)
            request.filters.pop(name, None)
    if "free" in parsed.from_words:
        parsed.free = False
        request.filters.pop("cost", None)
    if "age" in parsed.from_words:
        request.age = None
    parsed.words_not_applied = True


# ---- joining ids to records --------------------------------------------------------------------

def _records(hits: list[search.Hit]) -> list[tuple[ActivityRow, search.Hit]]:
    """Each hit with its activity, read as a plain row (building the ORM objects was over a
    third of a search page the page cache does not have)."""
    by_uuid = {row.uuid: row for row in activity_rows.rows_by_uuids(hit.uuid for hit in hits)}
    # The index can briefly name a listing deleted a moment ago: skip it rather than fail.
    return [(by_uuid[hit.uuid], hit) for hit in hits if hit.uuid in by_uuid]


def _run(parsed: Parsed, want_points: bool = False) -> search.SearchResult:
    """The search; when filters read from the words leave nothing, the words as typed."""
    parsed.request.want_points = want_points
    result = search.get_service().search(parsed.request)
    if not result.total and parsed.from_words:
        _undo_filter_words(parsed)
        result = search.get_service().search(parsed.request)
    return result


def _labels() -> dict[str, dict[str, str]]:
    """Display names of every facet value, in the order they are listed."""
    labels: dict[str, dict[str, str]] = {}
    terms = db.session.execute(
        select(Term.taxonomy, Term.key, Term.name).order_by(Term.position)).all()
    for name, taxonomy in TERM_FILTERS.items():
        labels[name] = {term.key: term.name for term in terms if term.taxonomy == taxonomy}
    labels["day"] = {day: day.title() for day in WEEKDAYS}
    labels["time"] = dict(TIME_LABELS)
    labels["format"] = dict(listing.FORMAT_LABELS)
    labels["join"] = dict(listing.JOIN_LABELS)
    labels["cost"] = {"free": "Free"}
    return labels


def _facets(result: search.SearchResult, parsed: Parsed) -> dict[str, list[dict[str, Any]]]:
    index_field = {"category": "category", "helps": "helps", "access": "access", "day": "day",
                   "time": "time", "format": "format", "join": "join", "free": "cost"}
    facets = {}
    for name, labels in _labels().items():
        param = "free" if name == "cost" else name
        counts = result.facets.get(index_field[param], {})
        chosen = ["free"] if param == "free" and parsed.free else parsed.filters.get(param, [])
        facets[param] = [{"value": "1" if param == "free" else key, "label": label,
                          "count": counts.get(key, 0), "selected": key in chosen}
                         for key, label in labels.items()]
    return facets


# The filter panel's groups, in order: URL parameter and legend.
FILTER_GROUPS = (("category", "Type of activity"), ("helps", "Who it helps"), ("free", "Cost"),
                 ("day", "Day"), ("time", "Time of day"), ("format", "How it runs"),
                 ("join", "How to join"), ("access", "Accessibility"))
# Long lists: values that would give nothing are left out (unless chosen).
ONLY_MATCHING = ("category", "helps", "access")


@dataclass(slots=True)
class FilterOption:
    """One checkbox of the filter panel, ready to print."""

    id: str
    value: str
    label: str
    count: int
    selected: bool


def filter_groups(facets: dict[str, list[dict[str, Any]]]
                  ) -> list[tuple[str, str, list[FilterOption]]]:
    """(parameter, legend, checkboxes) for each group of the filter panel that has any."""
    groups = []
    for name, legend in FILTER_GROUPS:
        options = [FilterOption(id="f-free" if name == "free" else f"f-{name}-{item['value']}",
                                value=item["value"],
                                label="Free only" if name == "free" else item["label"],
                                count=item["count"], selected=item["selected"])
                   for item in facets.get(name, [])
                   if name not in ONLY_MATCHING or item["count"] or item["selected"]]
        if options:
            groups.append((name, legend, options))
    return groups


# ---- JSON ---------------------------------------------------------------------------------------

def _filters_from_words(parsed: Parsed) -> dict[str, Any] | None:
    """The filters read from the typed words, and whether they were applied."""
    if not parsed.from_words:
        return None
    return {"words": parsed.typed_filter_words, "filters": parsed.from_words,
            "applied": not parsed.words_not_applied}


def filter_words_text(parsed: Parsed) -> str:
    """ "on Saturday, in the evening, free, online, open to age 15": the filters read from
    the words, as the page says them."""
    found = parsed.from_words
    parts = []
    if found.get("day"):
        parts.append("on " + " or ".join(day.title() for day in found["day"]))
    if found.get("time"):
        parts.append("in the " + " or ".join(found["time"]))
    if "free" in found:
        parts.append("free")
    parts += [listing.FORMAT_LABELS.get(value, value).lower() for value in found.get("format", [])]
    if "age" in found:
        parts.append(f"open to age {found['age']}")
    return ", ".join(parts)


def json_error(parameter: str, message: str, status: int = 400,
               **extra: Any):
    body = {"error": {"status": status, "message": message, "parameter": parameter, **extra}}
    return jsonify(body), status


def _result_json(activity: ActivityRow, hit: search.Hit) -> dict[str, Any]:
    session = listing.next_session(activity) if activity.status != "closed" else None
    where = listing.public_location(activity)
    point = where.point if where else None
    item: dict[str, Any] = {
        "slug": activity.slug, "title": activity.title, "uuid": activity.uuid,
        "url": url_for("public.activity", slug=activity.slug, _external=True),
        "summary": activity.summary, "organisation": activity.organisation.name,
        "categories": [term.key for term in activity.categories],
        "helps": [term.key for term in activity.needs],
        "formats": list(activity.formats), "cost": listing.cost_text(activity),
        "free": activity.cost_type == "free", "status": activity.status,
        "next_session": session.date.isoformat() if session else None,
        "next_session_text": listing.session_text(activity, session),
        "place": listing.place_text(activity),
        "latitude": point[0] if point else None, "longitude": point[1] if point else None,
        "approximate_location": bool(point and where.approximate),
        "last_reviewed": activity.last_reviewed.isoformat() if activity.last_reviewed else None,
        "stale": listing.is_stale(activity),
        "snippet": str(hit.snippet) if hit.snippet else None,
    }
    if hit.distance_miles is not None or activity.in_person:
        item["distance_miles"] = (round(hit.distance_miles, 1)
                                  if hit.distance_miles is not None else None)
    return item


def _parse_for_json() -> tuple[Parsed | None, Any]:
    """The JSON endpoints' parameters, or the 400 that names the bad one."""
    try:
        parsed = parse(request.args)
    except ParamError as error:
        return None, json_error(error.parameter, error.message)
    if parsed.place_error is not None:
        choices = [{"name": p.name, "label": p.label, "area": p.area}
                   for p in getattr(parsed.place_error, "choices", [])]
        return None, json_error("near", parsed.place_error.message, choices=choices)
    return parsed, None


@bp.get("/search.json")
def search_json():
    parsed, refused = _parse_for_json()
    if parsed is None:
        return refused
    result = _run(parsed)
    if parsed.request.page > result.pages:
        return json_error("page", f"page must be from 1 to {result.pages}")
    results = [_result_json(activity, hit) for activity, hit in _records(result.hits)]
    if parsed.place is None:
        for item in results:
            item.pop("distance_miles", None)
    body: dict[str, Any] = {
        "total": result.total, "page": result.page, "pages": result.pages,
        "per_page": parsed.request.per_page, "sort": result.sort, "results": results,
        "facets": _facets(result, parsed), "did_you_mean": result.suggestion,
        "searched": result.searched_text, "corrected_from": result.corrected_from,
        "also_showing": result.also_showing, "unmatched_words": result.unmatched_words,
        "matched_all_words": result.matched_all_words,
        "filters_from_words": _filters_from_words(parsed),
    }
    if parsed.place is not None:
        body["near"] = {"name": parsed.place.label, "kind": parsed.place.kind,
                        "latitude": round(parsed.place.latitude, 4),
                        "longitude": round(parsed.place.longitude, 4),
                        "radius_miles": parsed.radius}
    return jsonify(body)


# ---- HTML ---------------------------------------------------------------------------------------

def url_with(args: MultiDict, *, remove: tuple[str, str | None] | None = None,
             **changes: Any) -> str:
    """The current search with one value removed and/or some parameters replaced; page reset."""
    params = MultiDict(args)
    params.pop("page", None)
    if remove is not None:
        name, value = remove
        kept = [v for v in params.getlist(name) if value is not None and v != value]
        params.setlist(name, kept)
    for name, value in changes.items():
        params.setlist(name, [] if value is None else [str(value)])
    return url_for("search.search_page", **params.to_dict(flat=False))


def _map_points(result: search.SearchResult) -> list[dict[str, Any]]:
    """A marker for every located result (all pages of it), in the search's order."""
    if not result.points:
        return []
    found = {uuid: (slug, title, hidden) for uuid, slug, title, hidden in db.session.execute(
        select(Activity.uuid, Activity.slug, Activity.title, Activity.hide_address).where(
            Activity.uuid.in_([uuid for uuid, _lat, _lon in result.points])))}
    # A group in a private home has its point rounded by the index (listing.public_location).
    return [{"lat": lat, "lon": lon, "title": found[uuid][1], "url": activity_url(found[uuid][0]),
             "approximate": bool(found[uuid][2])}
            for uuid, lat, lon in result.points if uuid in found]


def _has_located_results(result: search.SearchResult, parsed: Parsed) -> bool:
    """Whether the map could show anything: some result meets in person. The page carries no
    points; the map asks /search/points.json for them when it opens."""
    chosen = parsed.filters.get("format")
    if chosen and "in_person" not in chosen:
        return False
    return bool(result.total and result.facets.get("format", {}).get("in_person"))


@bp.get("/search/points.json")
def search_points():
    """The map's markers for a search: the same parameters as /search, every result's point."""
    parsed, refused = _parse_for_json()
    if parsed is None:
        return refused
    return jsonify({"points": _map_points(_run(parsed, want_points=True))})


PLACE_WORDS_MILES = 30  # a place name in the words is offered as "near" only this close to home


def place_in_words(parsed: Parsed) -> tuple[geo.Place, str, str] | None:
    """A town, neighbourhood or postcode typed with the words ("walks in otley"), when no
    place was given: offered as a one-click "near" search, never applied unasked."""
    text = parsed.request.text
    if parsed.near_text or not text:
        return None
    locator = current_app.extensions.get(geo.EXTENSION_KEY)
    if locator is None:
        return None
    words = text.split()
    home = locator.home_point()
    for size in (2, 1):
        for start in range(len(words) - size + 1):
            typed = " ".join(words[start:start + size])
            place = _known_place(locator, typed, home)
            if place is not None:
                rest = search.tidy_words(" ".join(words[:start] + words[start + size:]))
                return place, typed, rest
    return None


def _known_place(locator: geo.Locator, typed: str,
                 home: tuple[float, float] | None) -> geo.Place | None:
    if len(typed) < 3 or typed.lower() in search.SENTENCE_WORDS:
        return None
    place = locator.local_place(typed)
    if place is not None:
        return place
    if geo.normalise_postcode(typed) is not None or not typed.replace(" ", "").isalpha():
        found = locator.gazetteer.lookup(typed, home)
        return found[0] if found else None
    if home is None:
        return None
    for place in locator.gazetteer.lookup(typed, home)[:1]:
        if place.kind == "place" and geo.name_key(place.name) == geo.name_key(typed) and \
                geo.haversine_miles(*home, place.latitude, place.longitude) <= PLACE_WORDS_MILES:
            return place
    return None


def chosen_filters(facets: dict[str, list[dict[str, Any]]], parsed: Parsed | None,
                   args: MultiDict) -> list[tuple[str, str]]:
    """Each chosen filter as (label, link to the same search without it): the removable tags
    above the results and the n of "Filter (n selected)"."""
    if parsed is None:
        return []
    # A filter read from the typed words is removed by searching the words as typed.
    chosen = [("Free only" if name == "free" else item["label"],
               url_with(args, exact=1) if name in parsed.from_words
               else url_with(args, remove=(name, item["value"])))
              for name, values in facets.items() for item in values if item["selected"]]
    if parsed.request.age is not None:
        chosen.append((f"Age {parsed.request.age}", url_with(args, exact=1)
                       if "age" in parsed.from_words else url_with(args, age=None)))
    if not parsed.request.include_online:
        chosen.append(("No online or phone activities", url_with(args, online=None)))
    return chosen


def _empty_advice(parsed: Parsed, args: MultiDict) -> list[tuple[str, str]]:
    """Links that are likely to find something when nothing matched."""
    advice = []
    if parsed.place is not None:
        wider = [r for r in RADII if r > parsed.radius]
        if wider:
            advice.append((f"Search within {wider[0]} miles instead of {parsed.radius}",
                           url_with(args, radius=wider[0])))
    if parsed.filters or parsed.free or parsed.request.age is not None:
        keep = {name: args.get(name) for name in ("q", "near", "radius") if args.get(name)}
        advice.append(("Remove all filters", url_for("search.search_page", **keep)))
    if parsed.request.text:
        advice.append(("Search without words, to see everything that matches your filters",
                       url_with(args, q=None)))
    return advice


def _near_coordinates_as_outcode(near: str) -> str:
    """'53.800,-1.540' (what "Use my location" sends) → 'LS9': the nearest postcode
    district, so the page, the box and a shared link show a place name, not coordinates."""
    point = geo.parse_coordinates(near)
    if point is None:
        return near
    locator = current_app.extensions.get(geo.EXTENSION_KEY)
    gazetteer = locator.gazetteer if locator is not None else geo.Gazetteer()
    place = gazetteer.nearest_outcode(*point)
    return place.name if place is not None else near


def canonical_args(args: MultiDict) -> MultiDict:
    """The same search without empty or redundant parameters: no `age=&sort=`, one `online`
    value and only when it is not the default, no radius without a place, no page 1."""
    clean: MultiDict = MultiDict()
    for name, value in args.items(multi=True):
        if value.strip():
            clean.add(name, value)
    online = clean.getlist("online")
    if online:
        last = online[-1].strip().lower()
        clean.setlist("online", [] if last in TRUE_WORDS else ["0"] if last in FALSE_WORDS
                      else online)
    if "near" in clean:
        clean["near"] = _near_coordinates_as_outcode(" ".join(clean["near"].split()))
    elif clean.get("radius", "").strip() in {str(r) for r in RADII}:
        clean.poplist("radius")  # a valid distance means nothing without a place
    if clean.get("page", "").strip() == "1":
        clean.poplist("page")
    return clean


def _needs_redirect(args: MultiDict, clean: MultiDict) -> bool:
    return list(args.items(multi=True)) != list(clean.items(multi=True))


@bp.get("/search")
def search_page():
    args = request.args
    clean = canonical_args(args)
    if _needs_redirect(args, clean):  # without JavaScript the form sends every empty field
        return redirect(url_for("search.search_page", **clean.to_dict(flat=False)))
    try:
        parsed = parse(args)
    except ParamError as error:
        return render_template("search/search.html", error=error, args=args, parsed=None,
                               filter_groups=filter_groups({}), **_page_context()), 400
    if parsed.place_error is not None:
        return render_template("search/search.html", parsed=parsed, args=args,
                               place_error=parsed.place_error, filter_groups=filter_groups({}),
                               **_page_context())
    html, status, (parsed, result) = page_cache.cached_page(
        (request.full_path, *search.get_service().version()), lambda: _render_results(parsed))
    search_done.send(current_app._get_current_object(), parsed=parsed, result=result)
    return html, status


def _render_results(parsed: Parsed) -> tuple[str, int, tuple[Parsed, search.SearchResult]]:
    """The search page with results: (html, status, what the search_done signal needs)."""
    result = _run(parsed)  # no map markers: the map asks /search/points.json when it opens
    if parsed.request.page > result.pages:
        abort(404)
    records = _records(result.hits)
    pagination = Pagination(result.page, parsed.request.per_page, result.total)
    facets = _facets(result, parsed)
    args = request.args
    html = render_template(
        "search/search.html", parsed=parsed, args=args, result=result, cards=_cards(records),
        pagination=pagination, filter_groups=filter_groups(facets),
        chosen=chosen_filters(facets, parsed, args),
        has_map=_has_located_results(result, parsed), advice=_empty_advice(parsed, args),
        place_offer=place_in_words(parsed),
        **_page_context())
    return html, 200, (parsed, result)


def _cards(records: list[tuple[ActivityRow, search.Hit]]) -> list[cards.Card]:
    today = listing.local_now().date()
    return [cards.card_for(activity, distance_miles=hit.distance_miles, snippet=hit.snippet,
                           show_next=True, today=today) for activity, hit in records]


def _page_context() -> dict[str, Any]:
    return {"RADII": RADII, "SORT_LABELS": SORT_LABELS, "url_with": url_with,
            "filter_words_text": filter_words_text,
            "DEFAULT_RADIUS": DEFAULT_RADIUS}


def init_app(app: Flask) -> None:
    """Register the search pages."""
    app.register_blueprint(bp)
