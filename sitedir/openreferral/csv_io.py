"""CSV import and export: one row per activity, for people who keep listings in a spreadsheet
(`flask export csv FILE`, edit it, `flask import csv FILE`). Rows are applied like any other
import (`importer.import_records`): each in its own savepoint, reported row by row.
"""
from __future__ import annotations

import csv
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from ..extensions import db
from ..models import (
    COST_PERIODS, COST_TYPES, FORMATS, STATUSES, WEEKDAYS, Activity, ScheduleEntry, Term,
    slugify,
)
from . import mapping
from .importer import (
    REPORT_OPTION, STRICT_OPTION, FeedError, exit_for, import_records, print_report,
)
from .mapping import ActivityRecord, OrganisationRecord, RecordError, TermRecord, VenueRecord

CSV_COLUMNS = (
    "id", "slug", "title", "organisation_id", "organisation", "organisation_website",
    "organisation_email", "organisation_phone", "summary", "description", "categories",
    "helps", "accessibility", "formats", "venue_id", "venue", "address", "town", "postcode",
    "latitude", "longitude", "hide_address", "schedule", "schedule_notes", "term_time_only",
    "status", "cost_type", "cost_amount", "cost_per", "cost_notes", "age_min", "age_max",
    "contact_name", "contact_phone", "contact_email", "last_reviewed",
)
SCHEDULE_CELL = re.compile(
    r"^(?:(?P<date>\d{4}-\d{2}-\d{2})|(?P<day>[a-z]+)(?: weeks (?P<weeks>-?\d(?:,-?\d)*))?)"
    r" (?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})(?: \((?P<title>.*)\))?$")


def schedule_cell(entries: Iterable[ScheduleEntry]) -> str:
    """'tuesday 10:00-12:00; monday weeks 1,3 18:00-20:00; 2026-12-01 10:00-12:00 (Carols)'"""
    parts = []
    for entry in entries:
        when = entry.date.isoformat() if entry.date else WEEKDAYS[entry.weekday or 0]
        if entry.weeks:
            when += " weeks " + ",".join(str(week) for week in entry.weeks)
        text = f"{when} {entry.start_time:%H:%M}-{entry.end_time:%H:%M}"
        parts.append(f"{text} ({entry.title})" if entry.title else text)
    return "; ".join(parts)


def parse_schedule_cell(text: str) -> list[dict[str, Any]]:
    """A schedule cell as timetable lines (the shape of inputs.ScheduleIn)."""
    entries = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        match = SCHEDULE_CELL.match(part.lower() if "(" not in part else
                                    part[:part.index("(")].lower() + part[part.index("("):])
        if not match:
            raise RecordError(f"schedule: {part!r} is not like 'tuesday 10:00-12:00', "
                              "'monday weeks 1,3 18:00-20:00' or '2026-12-01 10:00-12:00'")
        start = mapping.parse_time(match["start"], "schedule")
        end = mapping.parse_time(match["end"], "schedule")
        if end <= start:
            raise RecordError(f"schedule: {part!r} ends before it starts")
        if match["date"]:
            date = mapping.parse_date(match["date"], "schedule")
            entries.append(mapping.timetable_line(None, [], date, start, end,
                                                  match["title"] or ""))
            continue
        if match["day"] not in WEEKDAYS:
            raise RecordError(f"schedule: {match['day']!r} is not a day of the week")
        weeks = [int(w) for w in (match["weeks"] or "").split(",") if w]
        if any(week not in (1, 2, 3, 4, -1) for week in weeks):
            raise RecordError(f"schedule: weeks in {part!r} must be 1, 2, 3, 4 or -1 (last)")
        entries.append(mapping.timetable_line(match["day"], weeks, None, start, end,
                                              match["title"] or ""))
    return entries


def activity_row(activity: Activity) -> dict[str, str]:
    venue, organisation = activity.venue, activity.organisation

    def keys(taxonomy: str) -> str:
        return "; ".join(term.key for term in activity.terms_of(taxonomy))

    return {
        "id": activity.uuid, "slug": activity.slug, "title": activity.title,
        "organisation_id": organisation.uuid, "organisation": organisation.name,
        "organisation_website": organisation.website, "organisation_email": organisation.email,
        "organisation_phone": organisation.phone, "summary": activity.summary,
        "description": activity.description, "categories": keys("category"),
        "helps": keys("need"), "accessibility": keys("accessibility"),
        "formats": "; ".join(activity.formats), "venue_id": venue.uuid if venue else "",
        "venue": venue.name if venue else "",
        "address": ", ".join(venue.address_lines) if venue else "",
        "town": venue.town if venue else "", "postcode": venue.postcode if venue else "",
        "latitude": "" if not venue or venue.latitude is None else str(venue.latitude),
        "longitude": "" if not venue or venue.longitude is None else str(venue.longitude),
        "hide_address": "yes" if activity.hide_address else "",
        "schedule": schedule_cell(activity.schedule), "schedule_notes": activity.schedule_notes,
        "term_time_only": "yes" if activity.term_time_only else "", "status": activity.status,
        "cost_type": activity.cost_type,
        "cost_amount": "" if activity.cost_amount is None else str(activity.cost_amount),
        "cost_per": activity.cost_per, "cost_notes": activity.cost_notes,
        "age_min": "" if activity.age_min is None else str(activity.age_min),
        "age_max": "" if activity.age_max is None else str(activity.age_max),
        "contact_name": activity.contact_name, "contact_phone": activity.contact_phone,
        "contact_email": activity.contact_email,
        "last_reviewed": activity.last_reviewed.isoformat() if activity.last_reviewed else "",
    }


def export_csv(path: Path) -> int:
    """Write every activity as one CSV row; returns the number of rows."""
    activities = db.session.scalars(select(Activity).order_by(Activity.slug)).all()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for activity in activities:
            writer.writerow(activity_row(activity))
    return len(activities)


def _choice(row: dict[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = (row.get(name) or "").strip().lower() or default
    if value not in allowed:
        raise RecordError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _known_terms(row: dict[str, str], column: str, taxonomy: str) -> list[TermRecord]:
    terms = []
    for key in filter(None, (k.strip() for k in (row.get(column) or "").split(";"))):
        term = db.session.scalar(select(Term).where(Term.taxonomy == taxonomy, Term.key == key))
        if term is None:
            raise RecordError(f"{column}: {key!r} is not a {taxonomy} key in taxonomy.yaml")
        terms.append(TermRecord(term.uuid, taxonomy, key, term.name, term.description))
    return terms


def _yes(row: dict[str, str], name: str) -> bool:
    return (row.get(name) or "").strip().lower() in ("yes", "y", "true", "1")


def _csv_organisation(cell: dict[str, str], read: mapping.Lenient) -> OrganisationRecord:
    """The row's organisation; the spreadsheet has no column for its summary and description,
    so an import leaves ours as they are."""
    return OrganisationRecord(
        external_id=cell.get("organisation_id") or slugify(cell["organisation"]),
        fields={"name": cell["organisation"][:200],
                "website": read.website(cell.get("organisation_website"),
                                        "organisation_website"),
                "email": cell.get("organisation_email", ""),
                "phone": cell.get("organisation_phone", "")})


def _csv_venue(cell: dict[str, str]) -> VenueRecord | None:
    """The row's venue; no columns for its directions and accessibility either."""
    if not cell.get("venue"):
        return None
    return VenueRecord(
        external_id=cell.get("venue_id") or slugify(
            f"{cell['venue']} {cell.get('postcode', '')}"),
        fields={"name": cell["venue"][:200],
                "address": [p.strip() for p in cell.get("address", "").split(",") if p.strip()],
                "town": cell.get("town", "")[:100], "postcode": cell.get("postcode", "")[:10],
                "latitude": mapping.parse_coordinate(cell.get("latitude"), "latitude", 90),
                "longitude": mapping.parse_coordinate(cell.get("longitude"), "longitude", 180)})


def _csv_formats(cell: dict[str, str]) -> list[str]:
    formats = [f.strip() for f in cell.get("formats", "").split(";") if f.strip()] or \
        (["in_person"] if cell.get("venue") else ["online"])
    for value in formats:
        if value not in FORMATS:
            raise RecordError(f"formats: {value!r} is not one of {', '.join(FORMATS)}")
    return formats


def _csv_cost(cell: dict[str, str]) -> dict[str, Any]:
    try:
        amount = Decimal(cell["cost_amount"]) if cell.get("cost_amount") else None
    except InvalidOperation:
        raise RecordError("cost_amount: must be a number like 3.50") from None
    cost_type = _choice(cell, "cost_type", COST_TYPES, "free")
    if cost_type == "paid" and amount is None:  # a feed may not say; a spreadsheet must
        raise RecordError("cost_amount: a paid activity needs a price")
    return {"type": cost_type, "amount": amount,
            "per": _choice(cell, "cost_per", ("",) + COST_PERIODS, "") or None,
            "notes": cell.get("cost_notes", "")}


def csv_row_to_record(row: dict[str, str]) -> ActivityRecord:
    """One spreadsheet row as an ActivityRecord; raises RecordError naming the column. There
    are no columns for waiting_list and break_until: an import leaves ours as they are."""
    cell = {key: (value or "").strip() for key, value in row.items() if key}
    for required in ("title", "organisation"):
        if not cell.get(required):
            raise RecordError(f"{required}: missing")
    read = mapping.Lenient([])
    organisation = _csv_organisation(cell, read)
    fields: dict[str, Any] = {
        "title": cell["title"][:200], "summary": cell.get("summary", "")[:300],
        "description": cell.get("description", ""), "formats": _csv_formats(cell),
        "age_min": read.value(mapping.parse_age, cell.get("age_min"), "age_min"),
        "age_max": read.value(mapping.parse_age, cell.get("age_max"), "age_max"),
        "hide_address": _yes(cell, "hide_address"),
        "schedule": parse_schedule_cell(cell.get("schedule", "")),
        "schedule_notes": cell.get("schedule_notes", ""),
        "term_time_only": _yes(cell, "term_time_only"),
        "status": _choice(cell, "status", STATUSES, "running"), "cost": _csv_cost(cell),
        "contact": {"name": cell.get("contact_name", "")[:120],
                    "phone": cell.get("contact_phone", "")[:40],
                    "email": cell.get("contact_email", "")[:254]}}
    last_reviewed = mapping.parse_date(cell.get("last_reviewed"), "last_reviewed")
    if last_reviewed is not None:
        fields["last_reviewed"] = last_reviewed
    return ActivityRecord(
        external_id=cell.get("id") or cell.get("slug") or slugify(
            f"{cell['organisation']} {cell['title']}"),
        fields=fields, organisation=organisation, venue=_csv_venue(cell),
        terms=_known_terms(cell, "categories", "category") + _known_terms(cell, "helps", "need")
        + _known_terms(cell, "accessibility", "accessibility"),
        slug_hint=cell.get("slug", ""), warnings=read.warnings)


def read_csv(path: Path) -> list[tuple[str, Any]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = {"title", "organisation"} - set(reader.fieldnames or ())
            if missing:
                raise FeedError(f"{path}: no {', '.join(sorted(missing))} column")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise FeedError(f"{path}: {error}") from None
    found: list[tuple[str, Any]] = []
    for number, row in enumerate(rows, 2):  # row 1 is the header
        label = f"row {number}"
        try:
            found.append((label, csv_row_to_record(row)))
        except RecordError as error:
            found.append((label, error))
    return found


# -- commands ------------------------------------------------------------------------------

@click.command("csv")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@REPORT_OPTION
@STRICT_OPTION
def import_csv_command(path: Path, report_file: Path | None, strict: bool) -> None:
    """Import a spreadsheet with one row per activity (columns as `flask export csv`)."""
    try:
        items = read_csv(path)
    except FeedError as error:
        raise click.ClickException(f"{error}. Nothing was imported.") from None
    report = import_records(items, "csv", length=len(items), show_progress=True)
    print_report(report, str(path), report_file)
    exit_for(report, strict)


export_cli = AppGroup("export", help="Write listings out for other tools.")


@export_cli.command("csv")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def export_csv_command(path: Path) -> None:
    """Write every activity as one CSV row (open it in a spreadsheet, edit, import it back)."""
    click.echo(f"Exported {export_csv(path)} activities to {path}")
