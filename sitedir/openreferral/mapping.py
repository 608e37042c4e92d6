"""Our models ⇄ Open Referral UK 3.0 objects: the one place that knows both shapes.

Ids. Activities, organisations, venues and terms publish their own `uuid` columns (service,
organization, location and taxonomy_term ids). Objects we have no table for get ids derived
with uuid5 from their parent's uuid and a name that does not change while the thing itself
does not change, so they are stable across requests, exports and re-imports:

- service_at_location: uuid5(activity.uuid, "service_at_location:" + venue.uuid)
- schedule:            uuid5(activity.uuid, "schedule:" + weekday/weeks/date/times)
- cost_option:         uuid5(activity.uuid, "cost_option")
- contact / its phone: uuid5(activity.uuid, "contact") / uuid5(activity.uuid, "contact:phone")
- attribute:           uuid5(activity.uuid or venue.uuid, "attribute:" + term.uuid)
- address:             uuid5(venue.uuid, "address")
- accessibility:       uuid5(venue.uuid, "accessibility:" + term.uuid)
- taxonomy:            uuid5(SITEDIR_NAMESPACE, "taxonomy:" + category|need|accessibility)

Exporting leaves out optional fields that are empty; fields the spec requires stay, even "".
Importing turns an ORUK v3 service (or a v1 one, first reshaped by `v1_to_v3`) into an
`ActivityRecord`; a value we cannot use raises `RecordError` naming the field.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app

from .. import listing, schedule
from ..links import public_url
from ..models import Activity, Organisation, ScheduleEntry, Term, slugify

# Fixed forever: changing it would change every taxonomy id we have published.
SITEDIR_NAMESPACE = uuid.UUID("6f1c2b9e-3d4a-5e8f-9a7b-2c1d0e4f5a6b")
PROFILE_URL = "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md"
TAXONOMIES = {
    "category": ("Activity types", "What kind of activity or group it is."),
    "need": ("Who it helps", "Needs and situations an activity is set up especially to help with."),
    "accessibility": ("Accessibility", "Access features of the activity or its venue."),
}
STATUS_OUT = {"running": "active", "full": "active", "on_break": "temporarily closed",
              "closed": "inactive"}
STATUS_IN = {"active": "running", "temporarily closed": "on_break", "inactive": "closed",
             "defunct": "closed"}
ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
HIDDEN_ADDRESS = "Address given when you get in touch"
TERM_TIME_NOTE = "Term time only (not in school holidays)."


def child_id(parent_uuid: str, name: str) -> str:
    """A stable id for an object that lives inside a parent with a uuid."""
    return str(uuid.uuid5(uuid.UUID(parent_uuid), name))


def taxonomy_id(taxonomy: str) -> str:
    return str(uuid.uuid5(SITEDIR_NAMESPACE, f"taxonomy:{taxonomy}"))


TAXONOMY_BY_ID = {taxonomy_id(name): name for name in TAXONOMIES}


def _compact(data: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """Leave out optional fields that are empty; keep required ones whatever they hold."""
    return {key: value for key, value in data.items()
            if key in required or value not in (None, "", [], {})}


def _join_text(first: str, rest: str) -> str:
    return "\n\n".join(part for part in (first.strip(), rest.strip()) if part)


def split_text(text: str, limit: int = 300) -> tuple[str, str]:
    """'Summary\\n\\nDescription' back into its two parts (summary at most `limit` characters)."""
    text = (text or "").strip()
    first, _, rest = text.partition("\n\n")
    if len(first) <= limit:
        return first.strip(), rest.strip()
    return "", text


def activity_url(activity: Activity) -> str:
    return public_url("public.activity", slug=activity.slug)


# -- our models → ORUK ---------------------------------------------------------------------

def taxonomy_out(name: str, *, with_terms: list[Term] | None = None) -> dict[str, Any]:
    title, description = TAXONOMIES[name]
    data: dict[str, Any] = {"id": taxonomy_id(name), "name": title, "description": description,
                            "version": "1"}
    if with_terms is not None:
        data["taxonomy_terms"] = [term_out(term) for term in with_terms]
    return data


def term_out(term: Term) -> dict[str, Any]:
    return _compact({
        "id": term.uuid, "code": term.key, "name": term.name, "description": term.description,
        "taxonomy": TAXONOMIES[term.taxonomy][0], "taxonomy_id": taxonomy_id(term.taxonomy),
    }, required=("id", "name", "description", "taxonomy"))


def attribute_out(owner_uuid: str, entity: str, term: Term) -> dict[str, Any]:
    return {"id": child_id(owner_uuid, f"attribute:{term.uuid}"), "link_id": owner_uuid,
            "link_type": term.taxonomy, "link_entity": entity,
            "taxonomy_term_id": term.uuid, "taxonomy_term": term_out(term)}


def organization_out(organisation: Organisation) -> dict[str, Any]:
    identifiers = []
    if organisation.charity_number:
        identifiers.append({
            "id": child_id(organisation.uuid, "identifier:charity"),
            "organization_id": organisation.uuid, "identifier_scheme": "GB-CHC",
            "identifier_type": "Charity number", "identifier": organisation.charity_number})
    return _compact({
        "id": organisation.uuid, "name": organisation.name,
        "description": _join_text(organisation.summary, organisation.description),
        "email": organisation.email, "website": organisation.website,
        "organization_identifiers": identifiers,
    }, required=("id", "name", "description"))


def address_out(where: listing.PublicLocation) -> dict[str, Any]:
    region = current_app.config["OPENREFERRAL_STATE_PROVINCE"]
    venue = where.venue
    return {
        "id": child_id(venue.uuid, "address"), "location_id": venue.uuid,
        "address_1": HIDDEN_ADDRESS if where.approximate else ", ".join(where.lines),
        "city": where.town, "state_province": region, "postal_code": where.postcode,
        "country": "GB", "address_type": "physical",
    }


def location_out(where: listing.PublicLocation, *, full: bool = True) -> dict[str, Any]:
    """A venue as the page shows it; for a private home only the area, and no coordinates
    (an approximate point would read as exact to another system)."""
    venue = where.venue
    point = where.exact_point
    data: dict[str, Any] = {
        "id": venue.uuid, "location_type": "physical", "name": where.label,
        "description": where.directions,
        "latitude": point[0] if point else None, "longitude": point[1] if point else None,
    }
    if full:
        data["addresses"] = [address_out(where)]
        data["accessibility"] = [
            {"id": child_id(venue.uuid, f"accessibility:{term.uuid}"), "location_id": venue.uuid,
             "description": term.name} for term in venue.accessibility]
        data["attributes"] = [attribute_out(venue.uuid, "location", term)
                              for term in venue.accessibility]
    return _compact(data, required=("id",))


def service_at_location_id(activity: Activity) -> str | None:
    if activity.venue is None or not activity.in_person:
        return None
    return child_id(activity.uuid, f"service_at_location:{activity.venue.uuid}")


def schedule_key(entry: ScheduleEntry) -> str:
    weeks = ",".join(str(week) for week in entry.weeks or [])
    return (f"{entry.weekday}|{weeks}|{entry.date or ''}|"
            f"{entry.start_time:%H:%M}|{entry.end_time:%H:%M}")


def schedule_notes_out(activity: Activity) -> str:
    return " ".join(part for part in (
        TERM_TIME_NOTE if activity.term_time_only else "", activity.schedule_notes) if part)


def formats_text(formats: list[str]) -> str:
    return " and ".join(listing.FORMAT_LABELS[f] for f in formats if f in listing.FORMAT_LABELS)


def schedule_out(activity: Activity, entry: ScheduleEntry) -> dict[str, Any]:
    line = schedule.describe(entry)
    data: dict[str, Any] = {
        "id": child_id(activity.uuid, f"schedule:{schedule_key(entry)}"),
        "service_id": activity.uuid,
        "opens_at": f"{entry.start_time:%H:%M}", "closes_at": f"{entry.end_time:%H:%M}",
        "description": f"{line} – {entry.title}" if entry.title else line,
        "notes": schedule_notes_out(activity),
        "attending_type": formats_text(activity.formats),
    }
    if entry.date is not None:
        data.update(valid_from=entry.date.isoformat(), valid_to=entry.date.isoformat(),
                    dtstart=entry.date.isoformat())
    elif entry.weeks:
        day = ICAL_DAYS[entry.weekday or 0]
        data.update(freq="MONTHLY", interval=1,
                    byday=",".join(f"{week}{day}" for week in entry.weeks))
    else:
        data.update(freq="WEEKLY", interval=1, byday=ICAL_DAYS[entry.weekday or 0])
    return _compact(data, required=("id",))


def cost_options_out(activity: Activity) -> list[dict[str, Any]]:
    data: dict[str, Any] = {
        "id": child_id(activity.uuid, "cost_option"), "service_id": activity.uuid,
        "amount": float(activity.cost_amount) if activity.cost_amount is not None
        else (0 if activity.cost_type == "free" else None),
        "currency": "GBP", "amount_description": listing.cost_text(activity),
        "option": activity.cost_notes,
    }
    return [_compact(data, required=("id",))]


def contacts_out(activity: Activity) -> list[dict[str, Any]]:
    if not (activity.contact_name or activity.contact_phone or activity.contact_email):
        return []
    phones = [{"id": child_id(activity.uuid, "contact:phone"), "number": activity.contact_phone}
              ] if activity.contact_phone else []
    return [_compact({"id": child_id(activity.uuid, "contact"), "service_id": activity.uuid,
                      "name": activity.contact_name, "email": activity.contact_email,
                      "phones": phones}, required=("id",))]


def _alert(activity: Activity) -> str:
    return listing.status_text(activity) if activity.status in ("full", "on_break") else ""


def service_out(activity: Activity, *, full: bool = True) -> dict[str, Any]:
    """A service: with every related object when `full`, else its one-to-one fields only."""
    data: dict[str, Any] = {
        "id": activity.uuid, "organization_id": activity.organisation.uuid,
        "name": activity.title, "description": _join_text(activity.summary, activity.description),
        "url": activity_url(activity), "email": activity.contact_email,
        "status": STATUS_OUT.get(activity.status, "active"),
        "minimum_age": activity.age_min, "maximum_age": activity.age_max,
        "assured_date": activity.last_reviewed.isoformat() if activity.last_reviewed else None,
        "alert": _alert(activity),
        "last_modified": activity.updated_at.strftime("%Y-%m-%dT%H:%M:%S.") +
        f"{activity.updated_at.microsecond // 1000:03d}Z" if activity.updated_at else None,
        "organization": organization_out(activity.organisation),
    }
    if full:
        sal_id = service_at_location_id(activity)
        data["service_at_locations"] = [] if sal_id is None else [
            {"id": sal_id, "service_id": activity.uuid, "location_id": activity.venue.uuid,
             "location": location_out(listing.public_location(activity))}]
        data["schedules"] = [schedule_out(activity, entry) for entry in activity.schedule]
        data["cost_options"] = cost_options_out(activity)
        data["contacts"] = contacts_out(activity)
        data["attributes"] = [attribute_out(activity.uuid, "service", term)
                              for term in activity.terms]
    return _compact(data, required=("id", "name", "status", "url"))


def service_at_location_out(activity: Activity, *, full: bool = True) -> dict[str, Any]:
    """The link between an in-person activity and its venue, with both sides."""
    assert activity.venue is not None
    service = service_out(activity, full=full)
    service.pop("service_at_locations", None)  # it is the object we are in
    return {"id": service_at_location_id(activity), "service_id": activity.uuid,
            "location_id": activity.venue.uuid,
            "location": location_out(listing.public_location(activity), full=full),
            "service": service}


# -- ORUK → import records -----------------------------------------------------------------

class RecordError(ValueError):
    """A value in a feed we cannot use; the message names the field."""


@dataclass
class TermRecord:
    external_id: str
    taxonomy: str
    key: str
    name: str
    description: str = ""


@dataclass
class OrganisationRecord:
    external_id: str
    name: str
    summary: str = ""
    description: str = ""
    website: str = ""
    email: str = ""
    phone: str = ""
    charity_number: str = ""


@dataclass
class VenueRecord:
    external_id: str
    name: str
    address_lines: list[str] = field(default_factory=list)
    town: str = ""
    postcode: str = ""
    latitude: float | None = None
    longitude: float | None = None
    directions: str = ""
    hidden: bool = False
    accessibility: list[TermRecord] = field(default_factory=list)


@dataclass
class ScheduleRecord:
    weekday: int | None
    weeks: list[int]
    date: dt.date | None
    start: dt.time
    end: dt.time
    title: str = ""


@dataclass
class ActivityRecord:
    """One service from a feed, in our terms, ready for `importer.apply_record`."""

    external_id: str
    title: str
    organisation: OrganisationRecord
    summary: str = ""
    description: str = ""
    venue: VenueRecord | None = None
    formats: list[str] = field(default_factory=lambda: ["in_person"])
    age_min: int | None = None
    age_max: int | None = None
    hide_address: bool = False
    schedule: list[ScheduleRecord] = field(default_factory=list)
    schedule_notes: str = ""
    term_time_only: bool = False
    status: str = "running"
    waiting_list: bool = False
    break_until: dt.date | None = None
    cost_type: str = "free"
    cost_amount: Decimal | None = None
    cost_per: str = ""
    cost_notes: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    terms: list[TermRecord] = field(default_factory=list)
    last_reviewed: dt.date | None = None
    slug_hint: str = ""
    warnings: list[str] = field(default_factory=list)


def _text(value: Any, where: str, limit: int | None = None) -> str:
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise RecordError(f"{where}: must be text")
    text = str(value).strip()
    if limit is not None and len(text) > limit:
        raise RecordError(f"{where}: longer than {limit} characters")
    return text


def _id(value: Any, where: str) -> str:
    text = _text(value, where, 200)
    if not text:
        raise RecordError(f"{where}: missing")
    return text


def _age(value: Any, where: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RecordError(f"{where}: must be a number") from None
    if isinstance(value, bool) or number != number or not 0 <= number <= 120:
        raise RecordError(f"{where}: must be an age from 0 to 120")
    return int(number)


def _coordinate(value: Any, where: str, bound: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RecordError(f"{where}: must be a number") from None
    if isinstance(value, bool) or not -bound <= number <= bound:
        raise RecordError(f"{where}: must be between -{bound} and {bound}")
    return number


TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")


def parse_time(value: Any, where: str) -> dt.time:
    """'10:00', '10:00:00', '10:00Z' or '10:00+01:00' as a local wall-clock time."""
    match = TIME.match(str(value or "").strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise RecordError(f"{where}: must be a time like 10:00")
    return dt.time(int(match[1]), int(match[2]))


def _date(value: Any, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise RecordError(f"{where}: must be a date like 2026-01-31") from None


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RecordError(f"{where}: must be a list")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecordError(f"{where}: must be an object")
    return value


def parse_term(data: Any, where: str, link_type: str = "") -> TermRecord | None:
    """A taxonomy term, placed in one of our three taxonomies, or None if it fits none."""
    data = _object(data, where)
    name = _text(data.get("name") or data.get("term"), f"{where}.name", 120)
    if not name:
        raise RecordError(f"{where}.name: missing")
    detail = data.get("taxonomy_detail") if isinstance(data.get("taxonomy_detail"), dict) else {}
    names = {str(value).strip().lower() for value in (
        data.get("taxonomy"), detail.get("name"), link_type) if value}
    taxonomy = TAXONOMY_BY_ID.get(str(data.get("taxonomy_id") or detail.get("id") or ""))
    for key, (title, _) in TAXONOMIES.items():
        if taxonomy is None and (key in names or title.lower() in names):
            taxonomy = key
    if taxonomy is None:
        return None
    code = _text(data.get("code"), f"{where}.code", 80)
    key = code if re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", code) else slugify(name, 80)
    return TermRecord(external_id=_id(data.get("id"), f"{where}.id"), taxonomy=taxonomy,
                      key=key, name=name,
                      description=_text(data.get("description"), f"{where}.description"))


def _parse_attributes(items: Any, where: str, warnings: list[str]) -> list[TermRecord]:
    terms = []
    for index, item in enumerate(_list(items, where)):
        at = f"{where}[{index}]"
        item = _object(item, at)
        term_data = item.get("taxonomy_term")
        if term_data is None:
            warnings.append(f"{at}: no taxonomy_term, ignored")
            continue
        term = parse_term(term_data, f"{at}.taxonomy_term", str(item.get("link_type") or ""))
        if term is None:
            warnings.append(f"{at}.taxonomy_term: {term_data.get('name')!r} is not in one of "
                            "our taxonomies, ignored")
        else:
            terms.append(term)
    return terms


def parse_organisation(data: Any, where: str = "organization") -> OrganisationRecord:
    data = _object(data, where)
    summary, description = split_text(_text(data.get("description"), f"{where}.description"))
    charity = ""
    for index, item in enumerate(_list(data.get("organization_identifiers"),
                                       f"{where}.organization_identifiers")):
        if isinstance(item, dict) and item.get("identifier_scheme") == "GB-CHC":
            charity = _text(item.get("identifier"),
                            f"{where}.organization_identifiers[{index}].identifier", 20)
    name = _text(data.get("name"), f"{where}.name", 200)
    if not name:
        raise RecordError(f"{where}.name: missing")
    return OrganisationRecord(
        external_id=_id(data.get("id"), f"{where}.id"), name=name, summary=summary,
        description=description,
        website=_text(data.get("website") or data.get("url"), f"{where}.website", 300),
        email=_text(data.get("email"), f"{where}.email", 254), charity_number=charity)


def parse_location(data: Any, where: str) -> VenueRecord:
    data = _object(data, where)
    addresses = [a for a in _list(data.get("addresses"), f"{where}.addresses")
                 if isinstance(a, dict)]
    address = next((a for a in addresses if a.get("address_type") in (None, "physical")),
                   addresses[0] if addresses else {})
    line = _text(address.get("address_1"), f"{where}.addresses[0].address_1")
    hidden = line == HIDDEN_ADDRESS
    lines = [] if hidden else [part.strip() for part in line.split(",") if part.strip()]
    extra = _text(address.get("address_2"), f"{where}.addresses[0].address_2")
    if extra:
        lines.append(extra)
    town = _text(address.get("city"), f"{where}.addresses[0].city", 100)
    name = _text(data.get("name"), f"{where}.name", 200) or (lines[0] if lines else town)
    if not name:
        raise RecordError(f"{where}.name: missing (and no address to name it by)")
    warnings: list[str] = []
    return VenueRecord(
        external_id=_id(data.get("id"), f"{where}.id"), name=name, address_lines=lines,
        town=town, postcode=_text(address.get("postal_code"),
                                  f"{where}.addresses[0].postal_code", 10).upper(),
        latitude=_coordinate(data.get("latitude"), f"{where}.latitude", 90),
        longitude=_coordinate(data.get("longitude"), f"{where}.longitude", 180),
        directions=_text(data.get("description"), f"{where}.description"), hidden=hidden,
        accessibility=[term for term in _parse_attributes(
            data.get("attributes"), f"{where}.attributes", warnings)
            if term.taxonomy == "accessibility"])


def _parse_byday(byday: str, monthly: bool, where: str) -> list[tuple[int, int | None]]:
    """'TU' → [(1, None)]; '1MO,-1MO' → [(0, 1), (0, -1)]."""
    found = []
    for part in byday.replace(" ", "").upper().split(","):
        match = re.fullmatch(r"([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)", part)
        if not match:
            raise RecordError(f"{where}.byday: {part!r} is not a day like TU or 1MO")
        week = int(match[1]) if match[1] else None
        if week is not None and (not monthly or week not in (1, 2, 3, 4, -1)):
            raise RecordError(f"{where}.byday: {part!r} is not supported")
        found.append((ICAL_DAYS.index(match[2]), week))
    return found


def parse_schedule(data: Any, where: str, notes: list[str],
                   warnings: list[str]) -> list[ScheduleRecord]:
    """One ORUK schedule as our timetable lines; what we cannot represent goes into notes."""
    data = _object(data, where)
    description = _text(data.get("description"), f"{where}.description")
    freq = str(data.get("freq") or "").upper()
    opens, closes = data.get("opens_at"), data.get("closes_at")
    if not opens or not closes:
        warnings.append(f"{where}: no opens_at/closes_at, kept as a note")
        notes.append(description)
        return []
    start = parse_time(opens, f"{where}.opens_at")
    end = parse_time(closes, f"{where}.closes_at")
    if end <= start:
        raise RecordError(f"{where}.closes_at: must be after opens_at")
    interval = data.get("interval") or 1
    if freq in ("WEEKLY", "MONTHLY") and str(interval) not in ("1", "1.0") \
            or freq not in ("", "WEEKLY", "MONTHLY") or data.get("bymonthday"):
        warnings.append(f"{where}: a {freq.lower() or 'custom'} pattern we cannot show as a "
                        "timetable line, kept as a note")
        notes.append(description)
        return []
    if freq:
        entries = _repeating(str(data.get("byday") or ""), freq, start, end, where)
    else:
        date = _date(data.get("valid_from") or data.get("dtstart"), f"{where}.valid_from")
        if date is None:
            warnings.append(f"{where}: neither a repeating pattern nor a date, kept as a note")
            notes.append(description)
            return []
        entries = [ScheduleRecord(None, [], date, start, end)]
    _titles(entries, description, notes)
    return entries


def _repeating(byday: str, freq: str, start: dt.time, end: dt.time,
               where: str) -> list[ScheduleRecord]:
    """Weekly or monthly lines, one per weekday named in byday."""
    by_day: dict[int, list[int]] = {}
    for weekday, week in _parse_byday(byday, freq == "MONTHLY", where):
        by_day.setdefault(weekday, [])
        if week is not None:
            by_day[weekday].append(week)
    if freq == "MONTHLY" and any(not weeks for weeks in by_day.values()):
        raise RecordError(f"{where}.byday: a monthly day needs a week number like 1MO")
    return [ScheduleRecord(weekday, sorted(weeks, key=lambda w: (w < 0, w)), None, start, end)
            for weekday, weeks in by_day.items()]


def _titles(entries: list[ScheduleRecord], description: str, notes: list[str]) -> None:
    """Our own export writes '<plain timetable line> – <session title>': take the title back;
    any other description is kept as a note."""
    for entry in entries:
        line = schedule.describe(_as_entry(entry))
        if description.startswith(f"{line} – "):
            entry.title = description.removeprefix(f"{line} – ")[:200]
        elif description and description != line and len(entries) == 1:
            notes.append(description)


@dataclass
class _EntryView:
    weekday: int | None
    weeks: list[int]
    date: dt.date | None
    start_time: dt.time
    end_time: dt.time
    title: str = ""


def _as_entry(record: ScheduleRecord) -> _EntryView:
    return _EntryView(record.weekday, record.weeks, record.date, record.start, record.end)


def _parse_cost(record: ActivityRecord, options: list[Any]) -> None:
    if not options:
        return
    first = _object(options[0], "cost_options[0]")
    try:
        amount = None if first.get("amount") in (None, "") else Decimal(str(first["amount"]))
    except InvalidOperation:
        raise RecordError("cost_options[0].amount: must be a number") from None
    if amount is not None and (not amount.is_finite() or amount < 0 or amount >= 1000000):
        raise RecordError("cost_options[0].amount: must be a price from 0 to 999999")
    words = _text(first.get("amount_description"), "cost_options[0].amount_description")
    lowered = words.lower()
    if lowered.startswith("pay what you can"):
        record.cost_type = "pay_what_you_can"
    elif amount and amount > 0:
        record.cost_type = "paid"
    else:
        record.cost_type = "free"
    record.cost_amount = amount if amount and amount > 0 else None
    record.cost_per = next((key for key, phrase in listing.PERIOD_WORDS.items()
                            if phrase in lowered), "") if record.cost_amount else ""
    notes = [_text(first.get("option"), "cost_options[0].option")]
    if words and words.lower() not in ("free", lowered_cost_text(record)):
        notes.append(words)
    notes += [_text(o.get("amount_description") or o.get("option"), f"cost_options[{i}]")
              for i, o in enumerate(options[1:], 1) if isinstance(o, dict)]
    record.cost_notes = ". ".join(note for note in notes if note)


def lowered_cost_text(record: ActivityRecord) -> str:
    return listing.cost_text(record).lower()  # type: ignore[arg-type]


def _parse_status(record: ActivityRecord, status: str, alert: str) -> None:
    if status and status not in STATUS_IN:
        raise RecordError(f"status: {status!r} is not one of {', '.join(STATUS_IN)}")
    record.status = STATUS_IN.get(status, "running")
    if record.status == "running" and alert.startswith("Full"):
        record.status = "full"
        record.waiting_list = "waiting list" in alert
    if record.status == "on_break" and alert.startswith("On a break until "):
        try:
            record.break_until = dt.datetime.strptime(
                alert.removeprefix("On a break until "), "%A %d %B %Y").date()
        except ValueError:
            pass


def _parse_formats(record: ActivityRecord, schedules: list[Any]) -> None:
    attending = next((s.get("attending_type") for s in schedules
                      if isinstance(s, dict) and s.get("attending_type")), "")
    wanted = [key for key, label in listing.FORMAT_LABELS.items()
              if label.lower() in str(attending).lower()]
    if not wanted:
        wanted = ["in_person"] if record.venue else ["online"]
    if "in_person" in wanted and record.venue is None:
        wanted.remove("in_person")
        wanted = wanted or ["online"]
    record.formats = wanted


def parse_service(data: Any) -> ActivityRecord:
    """A fully nested ORUK v3 service as an ActivityRecord; raises RecordError."""
    data = _object(data, "service")
    warnings: list[str] = []
    external_id = _id(data.get("id"), "id")
    title = _text(data.get("name"), "name", 200)
    if not title:
        raise RecordError("name: missing")
    organization = data.get("organization")
    if not isinstance(organization, dict):
        raise RecordError("organization: missing (every activity needs the organisation "
                          "that runs it)")
    summary, description = split_text(_text(data.get("description"), "description"))
    contacts = [c for c in _list(data.get("contacts"), "contacts") if isinstance(c, dict)]
    contact = contacts[0] if contacts else {}
    phones = [p for p in _list(contact.get("phones"), "contacts[0].phones") if isinstance(p, dict)]
    record = ActivityRecord(
        external_id=external_id, title=title, summary=summary,
        description=description, organisation=parse_organisation(organization),
        age_min=_age(data.get("minimum_age"), "minimum_age"),
        age_max=_age(data.get("maximum_age"), "maximum_age"),
        contact_name=_text(contact.get("name"), "contacts[0].name", 120),
        contact_email=_text(contact.get("email") or data.get("email"), "email", 254),
        contact_phone=_text(phones[0].get("number") if phones else "",
                            "contacts[0].phones[0].number", 40),
        last_reviewed=_date(data.get("assured_date"), "assured_date"),
        warnings=warnings)
    if record.age_min is not None and record.age_max is not None \
            and record.age_min > record.age_max:
        raise RecordError("minimum_age: is above maximum_age")
    _parse_status(record, str(data.get("status") or "").lower(),
                  _text(data.get("alert"), "alert"))
    links = [s for s in _list(data.get("service_at_locations"), "service_at_locations")]
    if links:
        link = _object(links[0], "service_at_locations[0]")
        record.venue = parse_location(link.get("location"), "service_at_locations[0].location")
        record.hide_address = record.venue.hidden
        if len(links) > 1:
            warnings.append(f"service_at_locations: {len(links)} locations; only the first is "
                            "kept (an activity meets in one place)")
    schedules = _list(data.get("schedules"), "schedules")
    notes: list[str] = []
    for index, item in enumerate(schedules):
        record.schedule += parse_schedule(item, f"schedules[{index}]", notes, warnings)
    shared = next((s.get("notes") for s in schedules if isinstance(s, dict) and s.get("notes")),
                  "")
    shared = _text(shared, "schedules[0].notes")
    if shared.startswith(TERM_TIME_NOTE):
        record.term_time_only = True
        shared = shared.removeprefix(TERM_TIME_NOTE).strip()
    record.schedule_notes = " ".join(dict.fromkeys(n for n in [shared, *notes] if n))
    _parse_formats(record, schedules)
    _parse_cost(record, _list(data.get("cost_options"), "cost_options"))
    record.terms = _parse_attributes(data.get("attributes"), "attributes", warnings)
    return record


# -- ORUK v1 → v3 shape --------------------------------------------------------------------

def v1_to_v3(data: Any) -> Any:
    """Reshape an ORUK v1 service (regular_schedules, physical_addresses, service_taxonomys,
    eligibilys) into the v3 shape `parse_service` reads. Unknown shapes pass through."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    eligibility = next((e for e in data.get("eligibilys") or [] if isinstance(e, dict)), {})
    out.setdefault("minimum_age", eligibility.get("minimum_age"))
    out.setdefault("maximum_age", eligibility.get("maximum_age"))
    if isinstance(data.get("organization"), dict):
        organization = dict(data["organization"])
        organization.setdefault("website", organization.get("url"))
        out["organization"] = organization
    out["schedules"] = data.get("schedules") or data.get("regular_schedules") or []
    links = []
    for link in data.get("service_at_locations") or []:
        if not isinstance(link, dict) or not isinstance(link.get("location"), dict):
            links.append(link)
            continue
        location = dict(link["location"])
        location.setdefault("addresses", location.get("physical_addresses") or [])
        links.append({**link, "location": location})
    out["service_at_locations"] = links
    attributes = list(data.get("attributes") or [])
    for item in data.get("service_taxonomys") or []:
        taxonomy = item.get("taxonomy") if isinstance(item, dict) else None
        if isinstance(taxonomy, dict):
            attributes.append({"id": item.get("id"), "taxonomy_term": {
                "id": taxonomy.get("id"), "name": taxonomy.get("name"),
                "taxonomy": taxonomy.get("vocabulary")}})
    out["attributes"] = attributes
    return out
