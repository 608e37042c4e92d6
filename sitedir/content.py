"""content/ → validated records → the database, and back out again.

`flask content check` validates every file and names the file and field of each error;
`flask content load` upserts (running it twice changes nothing the second time);
`flask content export DIR` writes the database back out in the same format.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import click
from flask.cli import with_appcontext
import yaml
from flask import Flask, current_app
from sqlalchemy import select

from . import geo, vocabulary
from . import models as m
from .models import set_changed
from .extensions import db
from .site_details import SiteDetailsMissing, content_problems, unset_operator_settings
from .inputs import (
    SLUG, ActivityIn, CalendarIn, LocalPlaceIn, OrganisationIn, PageIn, ScheduleIn, TaxonomyIn,
    VenueIn, validate_into,
)

PAGE_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.DOTALL)


@dataclass
class Catalogue:
    """Everything in a content folder, validated."""

    taxonomy: TaxonomyIn | None = None
    calendar: CalendarIn = field(default_factory=CalendarIn)
    pages: dict[str, PageIn] = field(default_factory=dict)
    venues: dict[str, VenueIn] = field(default_factory=dict)
    organisations: dict[str, OrganisationIn] = field(default_factory=dict)
    places: list[LocalPlaceIn] = field(default_factory=list)
    vocabulary: list[vocabulary.VocabularyGroupIn] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    broken_venues: set[str] = field(default_factory=set)

    @property
    def activity_count(self) -> int:
        return sum(len(org.activities) for org in self.organisations.values())


def _read_yaml(path: Path, root: Path, errors: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        errors.append(f"{_rel(path, root)}: not valid YAML: {exc}".replace("\n", " "))
        return None


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def read_catalogue(root: Path) -> Catalogue:
    """Read and validate a content folder; problems are collected in .errors, never raised."""
    cat = Catalogue()
    errors = cat.errors
    taxonomy_file = root / "taxonomy.yaml"
    if not taxonomy_file.exists():
        errors.append(f"{_rel(taxonomy_file, root)}: missing")
    else:
        cat.taxonomy = validate_into(TaxonomyIn, _read_yaml(taxonomy_file, root, errors),
                                     _rel(taxonomy_file, root), errors)
    calendar_file = root / "calendar.yaml"
    if calendar_file.exists():
        cat.calendar = validate_into(CalendarIn, _read_yaml(calendar_file, root, errors) or {},
                                     _rel(calendar_file, root), errors) or CalendarIn()
    _read_pages(root, cat)
    _read_places(root, cat)
    _read_venues(root, cat)
    _read_organisations(root, cat)
    _check_references(root, cat)
    _read_vocabulary(root, cat)
    return cat


def _read_vocabulary(root: Path, cat: Catalogue) -> None:
    path = root / vocabulary.FILE_NAME
    if not path.exists():
        return
    keys = None
    if cat.taxonomy is not None:
        keys = {name: {t.key for t in getattr(cat.taxonomy, name)}
                for name in ("categories", "needs", "accessibility")}
    cat.vocabulary, errors = vocabulary.read_vocabulary(
        path, _rel(path, root), _read_yaml(path, root, cat.errors), keys)
    cat.errors.extend(errors)


def _read_pages(root: Path, cat: Catalogue) -> None:
    for path in sorted((root / "pages").glob("*.md")):
        where = _rel(path, root)
        if not re.fullmatch(SLUG, path.stem):
            cat.errors.append(f"{where}: file name must be a slug (a-z, 0-9, hyphens)")
            continue
        match = PAGE_FRONT_MATTER.match(path.read_text(encoding="utf-8"))
        if not match:
            cat.errors.append(f"{where}: must start with --- front matter (title, summary) ---")
            continue
        try:
            front = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            cat.errors.append(f"{where}: front matter is not valid YAML: {exc}".replace("\n", " "))
            continue
        if not isinstance(front, dict):
            cat.errors.append(f"{where}: front matter must be key: value lines")
            continue
        page = validate_into(PageIn, {**front, "body": match.group(2)}, where, cat.errors)
        if page:
            cat.pages[path.stem] = page


def _read_places(root: Path, cat: Catalogue) -> None:
    path = root / "places.yaml"
    if not path.exists():
        return
    where = _rel(path, root)
    data = _read_yaml(path, root, cat.errors)
    if data is None:
        return
    if not isinstance(data, list):
        cat.errors.append(f"{where}: must be a list of places")
        return
    seen: dict[str, str] = {}
    for index, item in enumerate(data):
        place = validate_into(LocalPlaceIn, item, where, cat.errors, prefix=f"[{index}]")
        if place is None:
            continue
        names = [("name", place.name)] + [(f"also_known_as[{i}]", alias)
                                          for i, alias in enumerate(place.also_known_as)]
        for field_name, name in names:
            key = geo.name_key(name)
            if not key:
                cat.errors.append(f"{where}: [{index}].{field_name}: needs letters or digits")
            elif key in seen and seen[key] != f"[{index}]":
                cat.errors.append(f"{where}: [{index}].{field_name}: {name!r} is also "
                                  f"{seen[key]}'s name")
            seen.setdefault(key, f"[{index}]")
        cat.places.append(place)


def _read_venues(root: Path, cat: Catalogue) -> None:
    for path in sorted((root / "directory" / "venues").glob("*.yaml")):
        where = _rel(path, root)
        data = _read_yaml(path, root, cat.errors)
        if data is None:
            continue
        if not isinstance(data, list):
            cat.errors.append(f"{where}: must be a list of venues")
            continue
        for index, item in enumerate(data):
            venue = validate_into(VenueIn, item, where, cat.errors, prefix=f"[{index}]")
            if venue is None:
                if isinstance(item, dict) and isinstance(item.get("slug"), str):
                    cat.broken_venues.add(item["slug"])  # don't also blame its activities
                continue
            if venue.slug in cat.venues:
                cat.errors.append(f"{where}: [{index}].slug: {venue.slug} is used twice")
            cat.venues[venue.slug] = venue


def _read_organisations(root: Path, cat: Catalogue) -> None:
    for path in sorted((root / "directory" / "organisations").glob("*.yaml")):
        where = _rel(path, root)
        if not re.fullmatch(SLUG, path.stem):
            cat.errors.append(f"{where}: file name must be a slug (a-z, 0-9, hyphens)")
            continue
        data = _read_yaml(path, root, cat.errors)
        if data is None:
            continue
        if not isinstance(data, dict):
            cat.errors.append(f"{where}: must be a mapping of organisation fields")
            continue
        # Activities are validated one by one, so one bad activity doesn't hide the others'.
        items = data.get("activities") or []
        organisation = validate_into(OrganisationIn, {**data, "activities": []}, where, cat.errors)
        if not isinstance(items, list):
            cat.errors.append(f"{where}: activities: must be a list")
            continue
        activities = [validate_into(ActivityIn, item, where, cat.errors, prefix=f"activities[{i}]")
                      for i, item in enumerate(items)]
        if organisation:
            organisation.activities = activities
            cat.organisations[path.stem] = organisation


def _check_references(root: Path, cat: Catalogue) -> None:
    """Cross-file rules: taxonomy keys exist, venues exist, activity slugs are unique."""
    if cat.taxonomy is None:
        return
    keys = {
        "categories": {t.key for t in cat.taxonomy.categories},
        "helps": {t.key for t in cat.taxonomy.needs},
        "accessibility": {t.key for t in cat.taxonomy.accessibility},
    }
    for slug, venue in cat.venues.items():
        for key in venue.accessibility:
            if key not in keys["accessibility"]:
                cat.errors.append(f"venue {slug}: accessibility: unknown feature {key!r}")
    seen: dict[str, str] = {}
    for org_slug, organisation in cat.organisations.items():
        where = f"content/directory/organisations/{org_slug}.yaml"
        for index, activity in enumerate(organisation.activities):
            if activity is not None:  # invalid ones are already reported
                _check_activity(cat, keys, seen, f"{where}: activities[{index}]", activity)


def _check_activity(cat: Catalogue, keys: dict[str, set[str]], seen: dict[str, str], at: str,
                    activity: ActivityIn) -> None:
    where = at.split(":")[0]
    if activity.slug in seen:
        cat.errors.append(f"{at}.slug: {activity.slug} is also used in {seen[activity.slug]}")
    seen[activity.slug] = where
    for name in ("categories", "helps", "accessibility"):
        for key in getattr(activity, name):
            if key not in keys[name]:
                cat.errors.append(f"{at}.{name}: unknown key {key!r}")
    if activity.venue and activity.venue not in cat.venues.keys() | cat.broken_venues:
        cat.errors.append(f"{at}.venue: no venue with slug {activity.venue!r}")


# -- loading into the database ------------------------------------------------------------

def _by_slug(model: type, slug: str) -> Any:
    return db.session.scalar(select(model).where(model.slug == slug))


def load_catalogue(cat: Catalogue) -> dict[str, int]:
    """Upsert a validated catalogue in one transaction; returns counts of what it holds."""
    assert cat.taxonomy is not None and not cat.errors
    terms = _load_taxonomy(cat.taxonomy)
    _load_holidays(cat.calendar)
    for position, (slug, page) in enumerate(sorted(cat.pages.items(),
                                                   key=lambda item: (item[1].order, item[0]))):
        row = _by_slug(m.Page, slug) or m.Page(slug=slug)
        db.session.add(row)
        set_changed(row, title=page.title, summary=page.summary, body=page.body, position=position)
    venues = {slug: _load_venue(slug, venue, terms) for slug, venue in cat.venues.items()}
    for slug, organisation in cat.organisations.items():
        _load_organisation(slug, organisation, venues, terms)
    _load_places(cat.places, str(current_app.config.get("SITE_AREA") or ""))
    vocabulary.load_vocabulary(cat.vocabulary)
    db.session.commit()
    geo.forget_local_places()
    vocabulary.forget()
    return {"pages": len(cat.pages), "venues": len(venues),
            "organisations": len(cat.organisations), "activities": cat.activity_count,
            "places": len(cat.places), "vocabulary groups": len(cat.vocabulary)}


def _load_places(places: list[LocalPlaceIn], site_area: str) -> None:
    """Upsert local place names by key; names no longer in places.yaml are deleted."""
    current = {row.key: row for row in db.session.scalars(select(m.LocalPlace))}
    wanted = set()
    for place in places:
        key = geo.name_key(place.name)
        wanted.add(key)
        row = current.get(key) or m.LocalPlace(key=key)
        db.session.add(row)
        latitude, longitude = place.point
        set_changed(row, name=place.name, latitude=latitude, longitude=longitude,
                    area=place.area or site_area, postcode_sectors=list(place.postcode_sectors),
                    also_known_as=list(place.also_known_as))
    for key, row in current.items():
        if key not in wanted:
            db.session.delete(row)


def _load_taxonomy(taxonomy: TaxonomyIn) -> dict[tuple[str, str], m.Term]:
    terms: dict[tuple[str, str], m.Term] = {}
    for name, items in (("category", taxonomy.categories), ("need", taxonomy.needs),
                        ("accessibility", taxonomy.accessibility)):
        for position, item in enumerate(items):
            term = db.session.scalar(
                select(m.Term).where(m.Term.taxonomy == name, m.Term.key == item.key))
            if term is None:
                term = m.Term(taxonomy=name, key=item.key)
                db.session.add(term)
            set_changed(term, name=item.name, description=item.description, position=position)
            terms[(name, item.key)] = term
    return terms


def _load_holidays(calendar: CalendarIn) -> None:
    wanted = [(h.name, h.start, h.end) for h in calendar.school_holidays]
    current = db.session.scalars(select(m.SchoolHoliday).order_by(m.SchoolHoliday.id)).all()
    if [(h.name, h.start, h.end) for h in current] != wanted:
        for holiday in current:
            db.session.delete(holiday)
        db.session.add_all(m.SchoolHoliday(name=n, start=s, end=e) for n, s, e in wanted)


def _load_venue(slug: str, venue: VenueIn, terms: dict) -> m.Venue:
    row = _by_slug(m.Venue, slug) or m.Venue(slug=slug)
    upsert_venue(row, venue, [terms[("accessibility", key)] for key in venue.accessibility])
    return row


def _given(item: BaseModel, columns: dict[str, dict[str, Any]],
           partial: bool) -> dict[str, Any]:
    """The column values to write: every field's, or with `partial` only those of the fields
    the source gave (an import leaves what its feed has no field for as it is)."""
    return {column: value for name, values in columns.items()
            if not partial or name in item.model_fields_set for column, value in values.items()}


def upsert_venue(row: m.Venue, item: VenueIn, features: list[m.Term], *,
                 partial: bool = False) -> None:
    """Write a validated venue onto its row, touching only what differs."""
    db.session.add(row)
    set_changed(row, **_given(item, {
        "name": {"name": item.name}, "address": {"address": "\n".join(item.address)},
        "town": {"town": item.town}, "postcode": {"postcode": item.postcode},
        "latitude": {"latitude": item.latitude}, "longitude": {"longitude": item.longitude},
        "directions": {"directions": item.directions}}, partial))
    if (not partial or "accessibility" in item.model_fields_set) and \
            row.accessibility != features:
        row.accessibility = features


def _load_organisation(slug: str, organisation: OrganisationIn, venues: dict,
                       terms: dict) -> None:
    row = _by_slug(m.Organisation, slug) or m.Organisation(slug=slug)
    upsert_organisation(row, organisation)
    for activity in organisation.activities:
        upsert_activity(row, activity, venues, terms)


ORGANISATION_COLUMNS = ("name", "summary", "description", "website", "email", "phone",
                        "charity_number")


def upsert_organisation(row: m.Organisation, item: OrganisationIn, *,
                        partial: bool = False) -> None:
    """Write a validated organisation (not its activities) onto its row."""
    db.session.add(row)
    set_changed(row, **_given(item, {name: {name: getattr(item, name)}
                                     for name in ORGANISATION_COLUMNS}, partial))


def _activity_columns(item: ActivityIn) -> dict[str, dict[str, Any]]:
    """Each input field of an activity → the columns it is stored in."""
    return {
        "title": {"title": item.title}, "summary": {"summary": item.summary},
        "description": {"description": item.description},
        "formats": {"formats": list(item.formats)}, "age_min": {"age_min": item.age_min},
        "age_max": {"age_max": item.age_max}, "hide_address": {"hide_address": item.hide_address},
        "online_details": {"online_details": item.online_details},
        "schedule_notes": {"schedule_notes": item.schedule_notes},
        "term_time_only": {"term_time_only": item.term_time_only},
        "status": {"status": item.status}, "waiting_list": {"waiting_list": item.waiting_list},
        "break_until": {"break_until": item.break_until},
        "cost": {"cost_type": item.cost.type, "cost_amount": item.cost.amount,
                 "cost_per": item.cost.per or "", "cost_notes": item.cost.notes},
        "join": {"join_how": item.join.how, "referral_from": list(item.join.referral_from),
                 "join_notes": item.join.notes},
        "first_visit": {"bring_friend": item.first_visit.bring_friend,
                        "what_to_bring": item.first_visit.what_to_bring,
                        "welcome": item.first_visit.welcome},
        "contact": {"contact_name": item.contact.name, "contact_phone": item.contact.phone,
                    "contact_email": item.contact.email},
        "last_reviewed": {"last_reviewed": item.last_reviewed},
    }


def upsert_activity(organisation: m.Organisation, item: ActivityIn, venues: dict,
                    terms: dict, *, row: m.Activity | None = None, partial: bool = False) -> None:
    """Create or update one activity from validated input, touching only what differs: the
    row with its slug (or `row`, which an import found by its feed id). Content files and the
    edit forms give every field; an import gives `partial` ones (see `_given`)."""
    row = row or _by_slug(m.Activity, item.slug) or m.Activity(slug=item.slug)
    db.session.add(row)  # SQLAlchemy 2 no longer cascades into the session along backrefs
    if row.organisation is not organisation:
        row.organisation = organisation
    set_changed(row, **_given(item, _activity_columns(item), partial))
    venue = venues[item.venue] if item.venue else None
    if row.venue is not venue:
        row.venue = venue
    wanted_terms = sorted(
        [terms[("category", k)] for k in dict.fromkeys(item.categories)]
        + [terms[("need", k)] for k in dict.fromkeys(item.helps)]
        + [terms[("accessibility", k)] for k in dict.fromkeys(item.accessibility)],
        key=lambda term: (term.taxonomy, term.position))
    if sorted(row.terms, key=lambda term: (term.taxonomy, term.position)) != wanted_terms:
        row.terms = wanted_terms
    wanted_schedule = [_schedule_key(entry) for entry in item.schedule]
    if Counter(map(_schedule_key_of, row.schedule)) != Counter(wanted_schedule):
        row.schedule = [
            m.ScheduleEntry(weekday=weekday, weeks=list(weeks), date=date, start_time=start,
                            end_time=end, title=title)
            for weekday, weeks, date, start, end, title in wanted_schedule]


ScheduleKey = tuple[Any, ...]


def _schedule_key(entry: ScheduleIn) -> ScheduleKey:
    weekday = m.WEEKDAYS.index(entry.day) if entry.day else None
    return (weekday, tuple(entry.weeks), entry.date, entry.start, entry.end, entry.title)


def _schedule_key_of(entry: m.ScheduleEntry) -> ScheduleKey:
    return (entry.weekday, tuple(entry.weeks or ()), entry.date, entry.start_time,
            entry.end_time, entry.title)


# -- exporting back to files ----------------------------------------------------------------

def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value not in ("", None, [], {})}


def activity_record(activity: m.Activity) -> dict[str, Any]:
    """One activity as its content-file record (the shape ActivityIn reads)."""
    schedule = []
    for entry in activity.schedule:
        item: dict[str, Any] = {}
        if entry.date:
            item["date"] = entry.date
        else:
            item["day"] = m.WEEKDAYS[entry.weekday]
            item["weeks"] = list(entry.weeks or [])
        item.update(start=entry.start_time.strftime("%H:%M"),
                    end=entry.end_time.strftime("%H:%M"), title=entry.title)
        schedule.append(_drop_empty(item))
    cost = _drop_empty({"type": activity.cost_type,
                        "amount": float(activity.cost_amount) if activity.cost_amount else None,
                        "per": activity.cost_per, "notes": activity.cost_notes})
    return _drop_empty({
        "slug": activity.slug, "title": activity.title, "summary": activity.summary,
        "description": activity.description,
        "categories": [t.key for t in activity.categories],
        "helps": [t.key for t in activity.needs],
        "age_min": activity.age_min, "age_max": activity.age_max,
        "formats": list(activity.formats),
        "venue": activity.venue.slug if activity.venue else None,
        "hide_address": activity.hide_address or None,
        "online_details": activity.online_details, "schedule": schedule,
        "schedule_notes": activity.schedule_notes,
        "term_time_only": activity.term_time_only or None, "status": activity.status,
        "waiting_list": activity.waiting_list or None, "break_until": activity.break_until,
        "cost": cost,
        "join": _drop_empty({"how": activity.join_how, "referral_from": activity.referral_from,
                             "notes": activity.join_notes}),
        "first_visit": _drop_empty({"bring_friend": activity.bring_friend,
                                    "what_to_bring": activity.what_to_bring,
                                    "welcome": activity.welcome}),
        "accessibility": [t.key for t in activity.terms_of("accessibility")],
        "contact": _drop_empty({"name": activity.contact_name, "phone": activity.contact_phone,
                                "email": activity.contact_email}),
        "last_reviewed": activity.last_reviewed,
    })


class _Dumper(yaml.SafeDumper):
    """Block-style YAML with multi-line text as | blocks, so exports diff well in git."""


def _str_representer(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str_representer)


def _dump(data: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                              width=100), encoding="utf-8")


def export_catalogue(root: Path) -> dict[str, int]:
    """Write the database out as a content folder that `read_catalogue` reads back."""
    taxonomy: dict[str, list] = {"categories": [], "needs": [], "accessibility": []}
    section = {"category": "categories", "need": "needs", "accessibility": "accessibility"}
    for term in db.session.scalars(select(m.Term).order_by(m.Term.taxonomy, m.Term.position)):
        taxonomy[section[term.taxonomy]].append(
            _drop_empty({"key": term.key, "name": term.name, "description": term.description}))
    _dump(taxonomy, root / "taxonomy.yaml")
    holidays = db.session.scalars(select(m.SchoolHoliday).order_by(m.SchoolHoliday.start)).all()
    _dump({"school_holidays": [{"name": h.name, "start": h.start, "end": h.end}
                               for h in holidays]}, root / "calendar.yaml")
    pages = db.session.scalars(select(m.Page).order_by(m.Page.position)).all()
    (root / "pages").mkdir(parents=True, exist_ok=True)
    for page in pages:
        front = yaml.dump(_drop_empty({"title": page.title, "summary": page.summary,
                                       "order": page.position}),
                          Dumper=_Dumper, sort_keys=False, allow_unicode=True)
        (root / "pages" / f"{page.slug}.md").write_text(f"---\n{front}---\n{page.body}",
                                                        encoding="utf-8")
    venues = db.session.scalars(select(m.Venue).order_by(m.Venue.slug)).all()
    _dump([_drop_empty({
        "slug": v.slug, "name": v.name, "address": v.address_lines, "town": v.town,
        "postcode": v.postcode, "latitude": v.latitude, "longitude": v.longitude,
        "accessibility": [t.key for t in v.accessibility], "directions": v.directions,
    }) for v in venues], root / "directory" / "venues" / "venues.yaml")
    places = _export_places(root)
    groups = vocabulary.export_vocabulary()
    if groups:
        _dump(groups, root / vocabulary.FILE_NAME)
    organisations = db.session.scalars(select(m.Organisation).order_by(m.Organisation.slug)).all()
    for org in organisations:
        _dump(_drop_empty({
            "name": org.name, "summary": org.summary, "description": org.description,
            "website": org.website, "email": org.email, "phone": org.phone,
            "charity_number": org.charity_number,
            "activities": [activity_record(a) for a in org.activities],
        }), root / "directory" / "organisations" / f"{org.slug}.yaml")
    return {"pages": len(pages), "venues": len(venues), "organisations": len(organisations),
            "activities": sum(len(org.activities) for org in organisations), "places": places,
            "vocabulary groups": len(groups)}


def _export_places(root: Path) -> int:
    """Write places.yaml (if there are local places); returns how many."""
    site_area = str(current_app.config.get("SITE_AREA") or "")
    rows = db.session.scalars(select(m.LocalPlace).order_by(m.LocalPlace.name)).all()
    if rows:
        _dump([_drop_empty({
            "name": row.name, "postcode_sectors": list(row.postcode_sectors or []),
            # A sector list is the source; its mean is only written when there is none.
            "latitude": None if row.postcode_sectors else row.latitude,
            "longitude": None if row.postcode_sectors else row.longitude,
            "area": "" if row.area == site_area else row.area,
            "also_known_as": list(row.also_known_as or []),
        }) for row in rows], root / "places.yaml")
    return len(rows)


# -- the `flask content` commands -----------------------------------------------------------

def content_dir(app: Flask | None = None) -> Path:
    """The configured content folder."""
    app = app or current_app
    return Path(app.config["CONTENT_DIR"] or Path(app.root_path).parent / "content")


@click.group("content", help="Check, load and export the content/ folder.")
def content_cli() -> None:
    pass


def _read_or_fail(path: Path) -> Catalogue:
    cat = read_catalogue(path)
    if cat.errors:
        for error in cat.errors:
            click.echo(error, err=True)
        raise click.ClickException(f"{len(cat.errors)} problem(s) in {path}")
    return cat


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{value} {name}" for name, value in counts.items())


@content_cli.command("check")
@click.option("--path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Content folder to check (default: CONTENT_DIR).")
@with_appcontext
def check_command(path: Path | None) -> None:
    """Validate every content file; print each problem with its file and field."""
    path = path or content_dir()
    cat = _read_or_fail(path)
    problems = content_problems(cat.pages, current_app.config)
    problems += [f"{name} is not set (an operator detail the pages show)"
                 for name in unset_operator_settings(current_app.config)]
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"{len(problems)} unfilled placeholder(s) or operator "
                                   f"detail(s) in {path}")
    click.echo(f"{path}: OK — {len(cat.pages)} pages, {len(cat.venues)} venues, "
               f"{len(cat.organisations)} organisations, {cat.activity_count} activities, "
               f"{len(cat.places)} local place names, {len(cat.vocabulary)} vocabulary groups")


@content_cli.command("load")
@click.option("--path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Content folder to load (default: CONTENT_DIR).")
def load_command(path: Path | None) -> None:
    """Validate, then upsert the content folder into the database (idempotent)."""
    path = path or content_dir()
    counts = load_catalogue(_read_or_fail(path))
    click.echo(f"Loaded {_counts(counts)} from {path}")


@content_cli.command("export")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
def export_command(target: Path) -> None:
    """Write the database out as a content folder at TARGET."""
    counts = export_catalogue(target)
    click.echo(f"Exported {_counts(counts)} to {target}")


def require_site_details(app: Flask, content_root: Path | None = None) -> None:
    """Production start-up check: every operator detail set, no placeholder in the pages."""
    catalogue = read_catalogue(content_root or content_dir(app))
    problems = [f"{name} is not set" for name in unset_operator_settings(app.config)]
    problems += content_problems(catalogue.pages, app.config)
    if problems:
        raise SiteDetailsMissing("The site cannot start in production until these are "
                                 "filled in:\n  " + "\n  ".join(problems))


def init_app(app: Flask) -> None:
    app.cli.add_command(content_cli)
