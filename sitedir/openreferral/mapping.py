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
`ActivityRecord`: its fields in the shape of the inputs.py models (which the importer validates
them with, and writes through the one upsert), beside the feed's ids; a value we cannot read
is dropped with a warning naming the field, and only a service without an id or a name raises
`RecordError`.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app

from .. import listing, schedule
from ..geo import normalise_postcode
from ..links import public_url
from ..models import WEEKDAYS, Activity, Organisation, ScheduleEntry, Term, slugify
from ..web_address import WebAddressError, link_target, web_address
from .html_text import description_text
from .taxonomy_map import TaxonomyMap

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
# Our extension object on services, organizations and locations: what the UK profile has no
# field for but a round trip needs (public slugs, so links and printed QR codes survive; the
# organisation's phone; address lines that contain commas).
EXTENSION = "x-sitedir"
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


MARKDOWN_BLOCK = re.compile(r"^(?:#{1,6} |[-*+] |\d+\. |> )")


def split_text(text: str, limit: int = 300) -> tuple[str, str]:
    """'Summary\\n\\nDescription' back into its two parts (summary at most `limit` characters).

    The summary is shown as plain text, so it is the first plain paragraph: a description
    that opens with a heading or a list (converted HTML, usually) keeps those in the rest.
    """
    parts = [part.strip() for part in (text or "").strip().split("\n\n") if part.strip()]
    for index, part in enumerate(parts):
        if MARKDOWN_BLOCK.match(part):
            continue
        if len(part) > limit:
            break
        return part, "\n\n".join(parts[:index] + parts[index + 1:])
    return "", "\n\n".join(parts)


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
        "email": organisation.email, "website": link_target(organisation.website),
        "organization_identifiers": identifiers,
        EXTENSION: _compact({"slug": organisation.slug, "phone": organisation.phone}),
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
    if not where.approximate:
        data[EXTENSION] = _compact({"slug": venue.slug, "address_lines": where.lines})
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
        "last_modified": last_modified(activity),
        "organization": organization_out(activity.organisation),
        EXTENSION: {"slug": activity.slug},
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


def last_modified(activity: Activity) -> str | None:
    if activity.updated_at is None:
        return None
    return activity.updated_at.strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{activity.updated_at.microsecond // 1000:03d}Z"


def minimal_out(activity: Activity, what: str) -> dict[str, Any]:
    """minimal=true: just the id and when it last changed (for incremental harvesting)."""
    if what == "service":
        return _compact({"id": activity.uuid, "last_modified": last_modified(activity)},
                        required=("id",))
    return _compact({"id": service_at_location_id(activity), "service_id": activity.uuid,
                     "last_modified": last_modified(activity)}, required=("id",))


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
    create: bool = False  # ours by id or name (a sitedir feed), or the map says create it
    mapped: bool = False  # placed by the taxonomy map (so its feed id is not ours to keep)


@dataclass
class OrganisationRecord:
    """An organisation from a feed: `fields` in the shape of inputs.OrganisationIn (only
    those the feed gives), validated when it is applied."""

    external_id: str
    fields: dict[str, Any]
    slug_hint: str = ""


@dataclass
class VenueRecord:
    """A location from a feed: `fields` in the shape of inputs.ImportedVenueIn (without its
    slug and accessibility, which the importer decides). `hidden`: the feed only shows the
    area of a private home; `accessibility` None: the feed has no field for it."""

    external_id: str
    fields: dict[str, Any]
    hidden: bool = False
    accessibility: list[TermRecord] | None = None
    slug_hint: str = ""


@dataclass
class ActivityRecord:
    """One service from a feed, ready for `importer.apply_record`: `fields` in the shape of
    inputs.ImportedActivityIn (only those the feed has a field for, so a re-import leaves the
    rest as it is), and what an import needs besides: feed ids, terms, warnings."""

    external_id: str
    fields: dict[str, Any]
    organisation: OrganisationRecord
    venue: VenueRecord | None = None
    terms: list[TermRecord] = field(default_factory=list)
    slug_hint: str = ""
    warnings: list[str] = field(default_factory=list)
    unmapped_terms: list[dict[str, str]] = field(default_factory=list)


def timetable_line(day: str | None, weeks: list[int], date: dt.date | None, start: dt.time,
                   end: dt.time, title: str = "") -> dict[str, Any]:
    """One timetable line in the shape of inputs.ScheduleIn."""
    return {"day": day, "weeks": weeks, "date": date, "start": start, "end": end,
            "title": title}


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


def parse_age(value: Any, where: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RecordError(f"{where}: must be a number") from None
    if isinstance(value, bool) or number != number or not 0 <= number <= 120:
        raise RecordError(f"{where}: must be an age from 0 to 120")
    return int(number)


def parse_coordinate(value: Any, where: str, bound: float) -> float | None:
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


def parse_date(value: Any, where: str) -> dt.date | None:
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


def extension(data: dict[str, Any], name: str) -> Any:
    """One value of our extension object, or None (a foreign feed has none)."""
    own = data.get(EXTENSION)
    return own.get(name) if isinstance(own, dict) else None


def _slug_extension(data: dict[str, Any]) -> str:
    slug = extension(data, "slug")
    return slug if isinstance(slug, str) else ""


def quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "...'"


class Lenient:
    """Reads one record's fields: a value we cannot use drops that one field with a warning
    that quotes it, and the rest of the record is kept."""

    def __init__(self, warnings: list[str]) -> None:
        self.warnings = warnings

    def drop(self, where: str, value: Any, reason: str) -> None:
        self.warnings.append(f"{where}: {quote(value)} dropped ({reason})")

    def value(self, parse: Any, value: Any, where: str, *args: Any, default: Any = None) -> Any:
        """parse(value, where, *args), or `default` with a warning if it raises RecordError."""
        try:
            return parse(value, where, *args)
        except RecordError as error:
            self.drop(where, value, str(error).removeprefix(f"{where}: ").removeprefix(
                f"{where}."))
            return default

    def text(self, value: Any, where: str, limit: int | None = None) -> str:
        """Text; a number becomes text, anything else is dropped; too long is cut, with a
        warning."""
        text = self.value(_text, value, where)
        if text is None:
            return ""
        if limit is not None and len(text) > limit:
            self.warnings.append(f"{where}: cut to {limit} characters (was {len(text)})")
            return text[:limit].rstrip()
        return text

    def items(self, value: Any, where: str) -> list[Any]:
        return self.value(_list, value, where, default=[])

    def objects(self, value: Any, where: str) -> list[dict[str, Any]]:
        """The objects of a list; anything else in it is dropped with a warning."""
        found = []
        for index, item in enumerate(self.items(value, where)):
            if isinstance(item, dict):
                found.append(item)
            else:
                self.drop(f"{where}[{index}]", item, "must be an object")
        return found

    def website(self, value: Any, where: str) -> str:
        try:
            return web_address(value)
        except WebAddressError as error:
            self.drop(where, value, str(error))
            return ""


def _own_taxonomy(data: dict[str, Any], link_type: str) -> tuple[str | None, bool]:
    """(one of our three taxonomies, True) when the term carries our taxonomy's id (a sitedir
    feed: its terms may be created); (taxonomy, False) when it only uses a name like ours
    ("Accessibility"): then it may only match a term we already have."""
    detail = data.get("taxonomy_detail") if isinstance(data.get("taxonomy_detail"), dict) else {}
    taxonomy = TAXONOMY_BY_ID.get(str(data.get("taxonomy_id") or detail.get("id") or ""))
    if taxonomy is not None:
        return taxonomy, True
    names = {str(value).strip().lower() for value in (
        data.get("taxonomy"), detail.get("name"), link_type) if value}
    for key, (title, _) in TAXONOMIES.items():
        if key in names or title.lower() in names:
            return key, False
    return None, False


def _vocabulary(data: dict[str, Any]) -> str:
    detail = data.get("taxonomy_detail") if isinstance(data.get("taxonomy_detail"), dict) else {}
    return str(data.get("taxonomy") or detail.get("name") or data.get("vocabulary") or "")


def parse_term(data: Any, where: str, link_type: str = "",
               terms_map: TaxonomyMap | None = None,
               unmapped: list[dict[str, str]] | None = None) -> list[TermRecord]:
    """A feed's taxonomy term as our terms: its own if it is one of ours, else whatever the
    taxonomy map says; a term the map does not know goes to `unmapped` and gives []."""
    data = _object(data, where)
    name = _text(data.get("name") or data.get("term"), f"{where}.name", 120)
    if not name:
        raise RecordError(f"{where}.name: missing")
    term_id = _id(data.get("id"), f"{where}.id")
    code = _text(data.get("code"), f"{where}.code", 80)
    description = _text(data.get("description"), f"{where}.description")
    taxonomy, ours = _own_taxonomy(data, link_type)
    key = code if re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", code) else slugify(name, 80)
    if ours:
        return [TermRecord(external_id=term_id, taxonomy=taxonomy, key=key, name=name,
                           description=description, create=True)]
    match = (terms_map or TaxonomyMap()).find(term_id, code, name, _vocabulary(data))
    if match is None and taxonomy is not None:
        return [TermRecord(external_id=term_id, taxonomy=taxonomy, key=key, name=name,
                           description=description)]
    if match is None:
        if unmapped is not None:
            unmapped.append({"id": term_id, "code": code, "name": name,
                             "taxonomy": _vocabulary(data)})
        return []
    return [TermRecord(external_id=term_id, taxonomy=taxonomy, key=key,
                       name=match.name or name, create=match.create, mapped=True)
            for taxonomy, key in match.targets]


def _parse_attributes(items: Any, where: str, read: Lenient,
                      terms_map: TaxonomyMap | None = None,
                      unmapped: list[dict[str, str]] | None = None) -> list[TermRecord]:
    terms: list[TermRecord] = []
    for index, item in enumerate(read.objects(items, where)):
        at = f"{where}[{index}]"
        term_data = item.get("taxonomy_term")
        if term_data is None:
            read.warnings.append(f"{at}: no taxonomy_term, ignored")
            continue
        before = len(unmapped) if unmapped is not None else 0
        found = read.value(parse_term, term_data, f"{at}.taxonomy_term",
                           str(item.get("link_type") or ""), terms_map, unmapped, default=[])
        if unmapped is not None and len(unmapped) > before:
            term = unmapped[-1]
            read.warnings.append(
                f"{at}.taxonomy_term: {term['name']!r} (taxonomy {term['taxonomy']!r}, id "
                f"{term['id']!r}) is not in the taxonomy map; kept on the import record, "
                "not shown")
        terms += found
    return terms


def parse_organisation(data: Any, where: str = "organization",
                       read: Lenient | None = None) -> OrganisationRecord:
    """An organisation; only a missing id or name is an error, other bad values are dropped."""
    read = read or Lenient([])
    data = _object(data, where)
    name = read.text(data.get("name"), f"{where}.name", 200)
    if not name:
        raise RecordError(f"{where}.name: missing")
    summary, description = split_text(
        description_text(read.text(data.get("description"), f"{where}.description")))
    charity = ""
    for index, item in enumerate(read.objects(data.get("organization_identifiers"),
                                              f"{where}.organization_identifiers")):
        if item.get("identifier_scheme") == "GB-CHC":
            charity = read.text(item.get("identifier"),
                                f"{where}.organization_identifiers[{index}].identifier", 20)
    phones = read.objects(data.get("phones"), f"{where}.phones")
    phone = read.text(extension(data, "phone") or (phones[0].get("number") if phones else ""),
                      f"{where}.phones[0].number", 40)
    fields = {"name": name, "summary": summary, "description": description,
              "website": read.website(data.get("website") or data.get("url"), f"{where}.website"),
              "email": read.text(data.get("email"), f"{where}.email", 254)}
    # A feed without a phone or charity number does not clear ours.
    fields.update({key: value for key, value in (("phone", phone), ("charity_number", charity))
                   if value})
    return OrganisationRecord(external_id=_id(data.get("id"), f"{where}.id"), fields=fields,
                              slug_hint=_slug_extension(data))


def _address(data: dict[str, Any], where: str, read: Lenient) -> dict[str, Any]:
    addresses = read.objects(data.get("addresses"), f"{where}.addresses")
    return next((a for a in addresses if a.get("address_type") in (None, "physical")),
                addresses[0] if addresses else {})


def _point(data: dict[str, Any], where: str, read: Lenient) -> tuple[float | None, float | None]:
    """Both coordinates, or neither: half a point is no use, so one bad value drops both."""
    latitude = read.value(parse_coordinate, data.get("latitude"), f"{where}.latitude", 90)
    longitude = read.value(parse_coordinate, data.get("longitude"), f"{where}.longitude", 180)
    if (latitude is None) != (longitude is None):
        kept = "latitude" if latitude is not None else "longitude"
        read.drop(f"{where}.{kept}", latitude if latitude is not None else longitude,
                  "the other coordinate is missing or was dropped")
        return None, None
    return latitude, longitude


def parse_location(data: Any, where: str, read: Lenient | None = None,
                   terms_map: TaxonomyMap | None = None) -> VenueRecord:
    read = read or Lenient([])
    data = _object(data, where)
    address = _address(data, where, read)
    at = f"{where}.addresses[0]"
    line = read.text(address.get("address_1"), f"{at}.address_1")
    hidden = line == HIDDEN_ADDRESS
    lines = [] if hidden else [part.strip() for part in line.split(",") if part.strip()]
    extra = read.text(address.get("address_2"), f"{at}.address_2")
    if extra:
        lines.append(extra)
    own_lines = extension(data, "address_lines")
    if not hidden and isinstance(own_lines, list) and all(isinstance(x, str) for x in own_lines):
        lines = [x.strip() for x in own_lines if x.strip()]  # our own export: lines as they were
    town = read.text(address.get("city"), f"{at}.city", 100)
    name = read.text(data.get("name"), f"{where}.name", 200) or (lines[0] if lines else town)
    if not name:
        raise RecordError(f"{where}.name: missing (and no address to name it by)")
    postcode = read.text(address.get("postal_code"), f"{at}.postal_code")
    if postcode and not hidden and normalise_postcode(postcode) is None:
        read.drop(f"{at}.postal_code", postcode, "not a UK postcode")
        postcode = ""
    latitude, longitude = _point(data, where, read)
    return VenueRecord(
        external_id=_id(data.get("id"), f"{where}.id"), hidden=hidden,
        fields={"name": name, "address": lines, "town": town, "postcode": postcode,
                "latitude": latitude, "longitude": longitude,
                "directions": read.text(data.get("description"), f"{where}.description")},
        slug_hint=_slug_extension(data),
        accessibility=[term for term in _parse_attributes(
            data.get("attributes"), f"{where}.attributes", read, terms_map)
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
                   warnings: list[str]) -> list[dict[str, Any]]:
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
        date = parse_date(data.get("valid_from") or data.get("dtstart"), f"{where}.valid_from")
        if date is None:
            warnings.append(f"{where}: neither a repeating pattern nor a date, kept as a note")
            notes.append(description)
            return []
        entries = [timetable_line(None, [], date, start, end)]
    _titles(entries, description, notes)
    return entries


def _repeating(byday: str, freq: str, start: dt.time, end: dt.time,
               where: str) -> list[dict[str, Any]]:
    """Weekly or monthly lines, one per weekday named in byday."""
    by_day: dict[int, list[int]] = {}
    for weekday, week in _parse_byday(byday, freq == "MONTHLY", where):
        by_day.setdefault(weekday, [])
        if week is not None:
            by_day[weekday].append(week)
    if freq == "MONTHLY" and any(not weeks for weeks in by_day.values()):
        raise RecordError(f"{where}.byday: a monthly day needs a week number like 1MO")
    return [timetable_line(WEEKDAYS[weekday], sorted(weeks, key=lambda w: (w < 0, w)), None,
                           start, end) for weekday, weeks in by_day.items()]


def _titles(entries: list[dict[str, Any]], description: str, notes: list[str]) -> None:
    """Our own export writes '<plain timetable line> – <session title>': take the title back;
    any other description is kept as a note."""
    for entry in entries:
        line = schedule.describe(_as_entry(entry))
        if description.startswith(f"{line} – "):
            entry["title"] = description.removeprefix(f"{line} – ")[:200]
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


def _as_entry(line: dict[str, Any]) -> _EntryView:
    """A timetable line as schedule.describe reads a stored one."""
    weekday = WEEKDAYS.index(line["day"]) if line["day"] else None
    return _EntryView(weekday, line["weeks"], line["date"], line["start"], line["end"])


def _amount(value: Any, where: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise RecordError(f"{where}: must be a number") from None
    if isinstance(value, bool) or not amount.is_finite() or amount < 0 or amount >= 1000000:
        raise RecordError(f"{where}: must be a price from 0 to 999999")
    return amount


def _parse_cost(fields: dict[str, Any], options: list[dict[str, Any]], read: Lenient) -> None:
    cost: dict[str, Any] = {"type": "free"}
    fields["cost"] = cost
    if not options:
        return
    first = options[0]
    raw = first.get("amount")
    amount = read.value(_amount, raw, "cost_options[0].amount")
    words = read.text(first.get("amount_description"), "cost_options[0].amount_description")
    lowered = words.lower()
    if lowered.startswith("pay what you can"):
        cost["type"] = "pay_what_you_can"
    elif amount and amount > 0 or amount is None and raw not in (None, ""):
        cost["type"] = "paid"  # an unreadable amount ("£3") is still a price: not free
    cost["amount"] = amount if amount and amount > 0 else None
    cost["per"] = next((key for key, phrase in listing.PERIOD_WORDS.items()
                        if phrase in lowered), None) if cost["amount"] else None
    notes = [read.text(first.get("option"), "cost_options[0].option")]
    if amount is None and raw not in (None, ""):
        notes.append(str(raw))  # the price as the feed wrote it, so nothing is lost
    if words and words.lower() not in ("free", lowered_cost_text(cost)):
        notes.append(words)
    notes += [read.text(o.get("amount_description") or o.get("option"), f"cost_options[{i}]")
              for i, o in enumerate(options[1:], 1)]
    cost["notes"] = ". ".join(note for note in notes if note)


def lowered_cost_text(cost: dict[str, Any]) -> str:
    return listing.cost_text(SimpleNamespace(
        cost_type=cost["type"], cost_amount=cost["amount"], cost_per=cost["per"] or "")).lower()


def _parse_status(fields: dict[str, Any], status: str, alert: str, read: Lenient) -> None:
    if status and status not in STATUS_IN:
        read.drop("status", status, f"not one of {', '.join(STATUS_IN)}; listed as running")
        status = ""
    fields.update(status=STATUS_IN.get(status, "running"), waiting_list=False, break_until=None)
    if fields["status"] == "running" and alert.startswith("Full"):
        fields.update(status="full", waiting_list="waiting list" in alert)
    if fields["status"] == "on_break" and alert.startswith("On a break until "):
        try:
            fields["break_until"] = dt.datetime.strptime(
                alert.removeprefix("On a break until "), "%A %d %B %Y").date()
        except ValueError:
            pass


def _parse_formats(fields: dict[str, Any], schedules: list[Any], has_venue: bool) -> None:
    attending = next((s.get("attending_type") for s in schedules
                      if isinstance(s, dict) and s.get("attending_type")), "")
    wanted = [key for key, label in listing.FORMAT_LABELS.items()
              if label.lower() in str(attending).lower()]
    if not wanted:
        wanted = ["in_person"] if has_venue else ["online"]
    if "in_person" in wanted and not has_venue:
        wanted.remove("in_person")
        wanted = wanted or ["online"]
    fields["formats"] = wanted


def _parse_organisation_of(data: dict[str, Any], external_id: str, title: str,
                           read: Lenient) -> OrganisationRecord:
    """The service's organisation; a service without a usable one is listed under an
    organisation named after itself, with a warning, rather than rejected."""
    organization = data.get("organization")
    if isinstance(organization, dict):
        try:
            return parse_organisation(organization, read=read)
        except RecordError as error:
            read.warnings.append(f"{error}; listed under an organisation named after the service")
    else:
        read.drop("organization", organization,
                  "missing or not an object; listed under an organisation named after the service")
    own_id = str(data.get("organization_id") or "").strip() or f"{external_id}/organization"
    return OrganisationRecord(external_id=own_id[:200], fields={"name": title})


def _parse_ages(fields: dict[str, Any], data: dict[str, Any], read: Lenient) -> None:
    age_min = read.value(parse_age, data.get("minimum_age"), "minimum_age")
    age_max = read.value(parse_age, data.get("maximum_age"), "maximum_age")
    if age_min is not None and age_max is not None and age_min > age_max:
        read.drop("minimum_age", age_min, f"above maximum_age {age_max}; both ages dropped")
        age_min = age_max = None
    fields.update(age_min=age_min, age_max=age_max)


def _parse_venue(data: dict[str, Any], read: Lenient,
                 terms_map: TaxonomyMap | None) -> VenueRecord | None:
    links = read.objects(data.get("service_at_locations"), "service_at_locations")
    if not links:
        return None
    try:
        venue = parse_location(links[0].get("location"), "service_at_locations[0].location",
                               read, terms_map)
    except RecordError as error:
        read.drop("service_at_locations[0].location", links[0].get("location"), str(error))
        return None
    if len(links) > 1:
        read.warnings.append(f"service_at_locations: {len(links)} locations; only the first "
                             "is kept (an activity meets in one place)")
    return venue


def _parse_schedules(fields: dict[str, Any], schedules: list[dict[str, Any]],
                     read: Lenient) -> None:
    notes: list[str] = []
    lines: list[dict[str, Any]] = []
    for index, item in enumerate(schedules):
        where = f"schedules[{index}]"
        try:
            lines += parse_schedule(item, where, notes, read.warnings)
        except RecordError as error:
            description = str(item.get("description") or "").strip()
            read.warnings.append(f"{error}; this schedule is kept as a note")
            if description:
                notes.append(description)
    shared = next((s.get("notes") for s in schedules if s.get("notes")), "")
    shared = read.text(shared, "schedules[0].notes")
    term_time_only = shared.startswith(TERM_TIME_NOTE)
    if term_time_only:
        shared = shared.removeprefix(TERM_TIME_NOTE).strip()
    fields.update(schedule=lines, term_time_only=term_time_only,
                  schedule_notes=" ".join(dict.fromkeys(n for n in [shared, *notes] if n)))


def parse_service(data: Any, terms_map: TaxonomyMap | None = None) -> ActivityRecord:
    """A fully nested ORUK v3 service as an ActivityRecord. Only a service without an id or
    a name raises RecordError; any other value we cannot use is dropped with a warning."""
    data = _object(data, "service")
    read = Lenient([])
    external_id = _id(data.get("id"), "id")
    title = read.text(data.get("name"), "name", 200)
    if not title:
        raise RecordError("name: missing")
    summary, description = split_text(description_text(
        read.text(data.get("description"), "description")))
    contacts = read.objects(data.get("contacts"), "contacts")
    contact = contacts[0] if contacts else {}
    phones = read.objects(contact.get("phones"), "contacts[0].phones")
    organisation = _parse_organisation_of(data, external_id, title, read)
    fields: dict[str, Any] = {
        "title": title, "summary": summary, "description": description,
        "contact": {"name": read.text(contact.get("name"), "contacts[0].name", 120),
                    "email": read.text(contact.get("email") or data.get("email"), "email", 254),
                    "phone": read.text(phones[0].get("number") if phones else "",
                                       "contacts[0].phones[0].number", 40)}}
    last_reviewed = read.value(parse_date, data.get("assured_date"), "assured_date")
    if last_reviewed is not None:  # a feed that does not say keeps our review date
        fields["last_reviewed"] = last_reviewed
    record = ActivityRecord(external_id=external_id, fields=fields, organisation=organisation,
                            slug_hint=_slug_extension(data), warnings=read.warnings)
    _parse_ages(fields, data, read)
    _parse_status(fields, read.text(data.get("status"), "status").lower(),
                  read.text(data.get("alert"), "alert"), read)
    record.venue = _parse_venue(data, read, terms_map)
    fields["hide_address"] = bool(record.venue and record.venue.hidden)
    schedules = read.objects(data.get("schedules"), "schedules")
    _parse_schedules(fields, schedules, read)
    _parse_formats(fields, schedules, record.venue is not None)
    _parse_cost(fields, read.objects(data.get("cost_options"), "cost_options"), read)
    record.terms = _parse_attributes(data.get("attributes"), "attributes", read, terms_map,
                                     record.unmapped_terms)
    return record


# -- ORUK v1 → v3 shape --------------------------------------------------------------------

def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def v1_to_v3(data: Any) -> Any:
    """Reshape an ORUK v1 service (regular_schedules, physical_addresses, service_taxonomys,
    eligibilitys) into the v3 shape `parse_service` reads. Unknown shapes pass through."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    # "eligibilitys" is what the v1 reference API writes; "eligibilys" its documentation.
    eligibilities = data.get("eligibilitys") or data.get("eligibilys") or []
    eligibility = next((e for e in eligibilities if isinstance(e, dict)), {}) \
        if isinstance(eligibilities, list) else {}
    out.setdefault("minimum_age", eligibility.get("minimum_age"))
    out.setdefault("maximum_age", eligibility.get("maximum_age"))
    if isinstance(data.get("organization"), dict):
        organization = dict(data["organization"])
        organization.setdefault("website", organization.get("url"))
        out["organization"] = organization
    out["schedules"] = data.get("schedules") or data.get("regular_schedules") or []
    links = []
    for link in _as_list(data.get("service_at_locations")):
        if not isinstance(link, dict) or not isinstance(link.get("location"), dict):
            links.append(link)
            continue
        location = dict(link["location"])
        location.setdefault("addresses", location.get("physical_addresses") or [])
        links.append({**link, "location": location})
    out["service_at_locations"] = links
    attributes = _as_list(data.get("attributes"))
    for item in _as_list(data.get("service_taxonomys")):
        taxonomy = item.get("taxonomy") if isinstance(item, dict) else None
        if isinstance(taxonomy, dict):
            attributes.append({"id": item.get("id"), "taxonomy_term": {
                "id": taxonomy.get("id"), "name": taxonomy.get("name"),
                "taxonomy": taxonomy.get("vocabulary")}})
    out["attributes"] = attributes
    return out
