"""Bringing other directories in: `flask import oruk SOURCE` (and the machinery that
`flask import csv FILE` shares: csv_io.py reads the rows).

Every record is validated with the inputs.py models (`validated`: a value that breaks a
field's rule is dropped with a warning) and written through content's upserts, the one writer
of each noun, in its own savepoint, so the outbox hook records each listing change and a
record that fails leaves nothing behind. A feed is read completely
before anything is written: a feed that cannot be read changes nothing. Re-importing is
idempotent: ExternalRecord remembers which of our rows each (source, kind, id) became, and
values are only assigned when they differ.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, TypeVar

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from ..content import set_changed, upsert_activity, upsert_organisation, upsert_venue
from ..extensions import db
from ..venue_points import postcode_point
from ..inputs import (
    ImportedActivityIn, ImportedVenueIn, OrganisationIn, error_path,
)
from ..models import Activity, ListingChange, Organisation, Term, Venue, unique_slug
from . import mapping
from .mapping import ActivityRecord, OrganisationRecord, RecordError, TermRecord, VenueRecord
from .models import ExternalRecord
from .taxonomy_map import MapError, TaxonomyMap, load_map

MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_PAGES = 10_000
COMMIT_EVERY = 100
ModelT = TypeVar("ModelT", bound=BaseModel)


class FeedError(Exception):
    """The feed itself could not be read; nothing was imported."""


@dataclass
class ImportReport:
    """What an import did, record by record: printed as a summary, written with --report."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    warned: int = 0  # records imported with at least one warning
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # pages that could not be read
    placed: Counter[str] = field(default_factory=Counter)  # how venues got their point
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (taxonomy, name)

    def summary(self) -> str:
        return (f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.warned} warned, {len(self.rejected)} rejected")

    def as_json(self, source: str) -> dict[str, Any]:
        return {
            "source": source,
            "summary": {"created": self.created, "updated": self.updated,
                        "unchanged": self.unchanged, "warned": self.warned,
                        "rejected": len(self.rejected), "duplicates": len(self.duplicates),
                        "failed_pages": len(self.failed)},
            "rejected": [{"record": label, "reason": reason} for label, reason in self.rejected],
            "warnings": [{"record": label, "warning": text} for label, text in self.warnings],
            "duplicates": [{"record": label, "detail": text}
                           for label, text in self.duplicates],
            "failed_pages": [{"url": url, "reason": reason} for url, reason in self.failed],
            "venues_placed": dict(self.placed),
            "unmapped_terms": [{"taxonomy": taxonomy, "name": name, "records": count}
                               for (taxonomy, name), count in self.unmapped.most_common()],
        }


@dataclass
class Feed:
    """Everything read from a source: (label, record or error) pairs, and what failed."""

    items: list[tuple[str, Any]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


# -- applying one record -------------------------------------------------------------------

def _valid_uuid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except (ValueError, AttributeError, TypeError):
        return None


def _find(model: type, source: str, kind: str, external_id: str) -> Any:
    """Our row for a feed id: through ExternalRecord, else by a uuid we already use."""
    local = db.session.scalar(select(ExternalRecord.local_uuid).where(
        ExternalRecord.source == source, ExternalRecord.kind == kind,
        ExternalRecord.external_id == external_id))
    candidate = local or _valid_uuid(external_id)
    if candidate is None:
        return None
    return db.session.scalar(select(model).where(model.uuid == candidate))


def _remember(source: str, kind: str, external_id: str, local_uuid: str,
              unmapped_terms: list[dict[str, str]] | None = None) -> None:
    """Record which of our rows a feed id became (and a service's unmapped terms)."""
    row = db.session.scalar(select(ExternalRecord).where(
        ExternalRecord.source == source, ExternalRecord.kind == kind,
        ExternalRecord.external_id == external_id))
    if row is None:
        row = ExternalRecord(source=source, kind=kind, external_id=external_id,
                             local_uuid=local_uuid, unmapped_terms=[])
        db.session.add(row)
    elif row.local_uuid != local_uuid:
        row.local_uuid = local_uuid
    if unmapped_terms is not None and (row.unmapped_terms or []) != unmapped_terms:
        row.unmapped_terms = list(unmapped_terms)


def _new_uuid(model: type, external_id: str) -> str:
    """Keep a feed's UUID as ours when it is free (so a round trip keeps every id)."""
    candidate = _valid_uuid(external_id)
    if candidate and db.session.scalar(select(model.id).where(model.uuid == candidate)) is None:
        return candidate
    return str(uuid.uuid4())


def _free_slug(hint: str, model: type = Activity, own_id: int | None = None) -> str | None:
    """A feed's own slug (our x-sitedir extension, a spreadsheet's slug column), when it is a
    valid one that nothing else uses."""
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", hint or "") or len(hint) > 120:
        return None
    taken = db.session.scalar(select(model.id).where(model.slug == hint))
    return None if taken is not None and taken != own_id else hint


def _honour_slug(row: Any, model: type, hint: str) -> None:
    """Take the feed's slug when it differs and is free (the old one then redirects)."""
    if hint and row.slug != hint and _free_slug(hint, model, row.id) == hint:
        row.slug = hint


def _apply_term(item: TermRecord, source: str, warnings: list[str]) -> Term | None:
    """Our term for a feed term. Only our own taxonomies' terms and map entries marked
    `create` may add a term; anything else must already exist here."""
    term = None if item.mapped else _find(Term, source, "taxonomy_term", item.external_id)
    if term is None:
        term = db.session.scalar(select(Term).where(Term.taxonomy == item.taxonomy,
                                                    Term.key == item.key))
    if term is None and not item.create:
        warnings.append(f"taxonomy map: {item.taxonomy}:{item.key} (for {item.name!r}) is not "
                        "a term of this site and the map does not say create it; ignored")
        return None
    if term is None:
        position = db.session.scalar(select(func.max(Term.position)).where(
            Term.taxonomy == item.taxonomy))
        term = Term(uuid=str(uuid.uuid4()) if item.mapped else _new_uuid(Term, item.external_id),
                    taxonomy=item.taxonomy, key=item.key, name=item.name,
                    description=item.description,
                    position=(position or 0) + 1 if position is not None else 0)
        db.session.add(term)
    if not item.mapped:
        _remember(source, "taxonomy_term", item.external_id, term.uuid)
    return term


def _apply_terms(items: list[TermRecord], source: str, warnings: list[str]) -> list[Term]:
    terms = (_apply_term(item, source, warnings) for item in items)
    return [term for term in terms if term is not None]


def _droppable(data: Any, loc: tuple[Any, ...]) -> tuple[Any, Any] | None:
    """(container, key) of what to drop for an error at `loc`: a list's item, else the
    deepest field; None when the error is about the record as a whole."""
    container, key = None, None
    node = data
    for part in loc:
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            return node, part
        if not isinstance(node, dict) or part not in node:
            break
        container, key, node = node, part, node[part]
    return None if container is None else (container, key)


def validated(model: type[ModelT], data: dict[str, Any], warnings: list[str]) -> ModelT:
    """`data` as `model` (the inputs.py rules). A value that breaks a field's rule is dropped
    with a warning quoting it, and the rest kept (a required part of an object goes with its
    object); a rule about the record as a whole, or a required field of the record itself,
    raises RecordError with the rule's message."""
    data = copy.deepcopy(data)
    reasons: dict[tuple[Any, ...], str] = {}  # what was dropped where, and why
    while True:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
        loc = tuple(error["loc"])
        reason = reasons.get(loc) if error["type"] == "missing" else None
        if reason is not None or error["type"] == "missing":
            loc = loc[:-1]  # a required part: the object it belongs to goes instead
        message = reason or error["msg"].removeprefix("Value error, ")
        found = _droppable(data, loc) if loc else None
        if found is None:
            path = error_path(tuple(error["loc"]))
            raise RecordError(f"{path}: {message}" if path else message) from None
        container, key = found
        warnings.append(f"{error_path(loc)}: {mapping.quote(container[key])} dropped ({message})")
        reasons[loc] = message
        del container[key]


def _apply_organisation(item: OrganisationRecord, source: str,
                        warnings: list[str]) -> Organisation:
    fields = validated(OrganisationIn, item.fields, warnings)
    row = _find(Organisation, source, "organization", item.external_id)
    if row is None:
        row = Organisation(uuid=_new_uuid(Organisation, item.external_id),
                           slug=_free_slug(item.slug_hint, Organisation)
                           or unique_slug(Organisation, fields.name))
    else:
        _honour_slug(row, Organisation, item.slug_hint)
    upsert_organisation(row, fields, partial=True)
    _remember(source, "organization", item.external_id, row.uuid)
    return row


def _placed(item: ImportedVenueIn) -> tuple[float | None, float | None, str]:
    """The venue's point: the feed's own, else its postcode's (exact or approximate)."""
    if item.latitude is not None and item.longitude is not None:
        return item.latitude, item.longitude, ""
    found = postcode_point(item.postcode) if item.postcode else None
    return found if found is not None else (None, None, "")


def _apply_venue(item: VenueRecord, source: str, warnings: list[str]) -> Venue:
    row = _find(Venue, source, "location", item.external_id)
    if row is not None and item.hidden:
        return row  # a redacted view of a venue never overwrites what we know of it
    given = dict(item.fields)
    features = []
    if item.accessibility is not None:  # a spreadsheet has no column for it: ours stays
        features = _apply_terms(item.accessibility, source, warnings)
        given["accessibility"] = [term.key for term in features]
    fields = validated(ImportedVenueIn, {**given, "slug": "new"}, warnings)
    slug = row.slug if row is not None else (
        _free_slug(item.slug_hint, Venue) or unique_slug(Venue, f"{fields.name} {fields.postcode}"))
    latitude, longitude, placed_from = _placed(fields)  # before a half-made row exists
    fields = fields.model_copy(update={"slug": slug, "latitude": latitude, "longitude": longitude})
    if row is None:
        row = Venue(uuid=_new_uuid(Venue, item.external_id), slug=slug)
    upsert_venue(row, fields, features, partial=True)
    set_changed(row, placed_from=placed_from)
    _remember(source, "location", item.external_id, row.uuid)
    return row


def _term_keys(terms: list[Term]) -> dict[str, list[str]]:
    """An activity's terms as the keys inputs.ActivityIn names them by."""
    return {field_name: [term.key for term in terms if term.taxonomy == taxonomy]
            for field_name, taxonomy in (("categories", "category"), ("helps", "need"),
                                         ("accessibility", "accessibility"))}


def apply_record(record: ActivityRecord, source: str) -> str:
    """Create or update one activity (and its organisation, venue, terms); 'created',
    'updated' or 'unchanged'. Call inside a savepoint."""
    last_change = db.session.scalar(select(func.max(ListingChange.id))) or 0
    organisation = _apply_organisation(record.organisation, source, record.warnings)
    venue = _apply_venue(record.venue, source, record.warnings) if record.venue else None
    terms = _apply_terms(record.terms, source, record.warnings)
    db.session.flush()  # new terms get ids, which the comparison below needs
    row = _find(Activity, source, "service", record.external_id)
    created = row is None
    if row is None:
        slug = _free_slug(record.slug_hint) or unique_slug(
            Activity, str(record.fields.get("title", "")))
    else:
        _honour_slug(row, Activity, record.slug_hint)
        slug = row.slug
    fields = validated(ImportedActivityIn, {
        **record.fields, **_term_keys(terms), "slug": slug,
        "venue": venue.slug if venue else None}, record.warnings)
    if row is None:
        row = Activity(uuid=_new_uuid(Activity, record.external_id), slug=slug,
                       last_reviewed=fields.last_reviewed or dt.date.today())
    upsert_activity(organisation, fields, {venue.slug: venue} if venue else {},
                    {(term.taxonomy, term.key): term for term in terms}, row=row, partial=True)
    _remember(source, "service", record.external_id, row.uuid, record.unmapped_terms)
    db.session.flush()
    if created:
        return "created"
    # The outbox hook wrote a row for this activity if (and only if) its listing changed.
    changed = db.session.scalar(select(ListingChange.id).where(
        ListingChange.id > last_change, ListingChange.activity_uuid == row.uuid).limit(1))
    return "updated" if changed else "unchanged"


DUPLICATE_RULES = ("first", "last", "reject")


def _duplicate(record: Any, seen: dict[str, str], label: str, rule: str,
               report: ImportReport) -> bool:
    """True when this record repeats an id seen earlier in the feed and must be skipped."""
    if not isinstance(record, ActivityRecord):
        return False
    first = seen.get(record.external_id)
    if first is None:
        seen[record.external_id] = label
        return False
    report.duplicates.append((label, f"id {record.external_id!r} was already in {first}; "
                              + {"first": "the first one is kept", "last": "this one replaces it",
                                 "reject": "rejected"}[rule]))
    if rule == "reject":
        report.rejected.append((label, f"id {record.external_id!r} repeats {first}"))
    return rule != "last"


def _count(report: ImportReport, label: str, record: ActivityRecord, outcome: str,
           source: str) -> None:
    setattr(report, outcome, getattr(report, outcome) + 1)
    if record.warnings:
        report.warned += 1
        report.warnings += [(label, warning) for warning in record.warnings]
    for term in record.unmapped_terms:
        report.unmapped[(term["taxonomy"], term["name"])] += 1
    venue = record.venue
    if venue is not None and not venue.hidden:
        row = db.session.scalar(select(Venue).join(
            ExternalRecord, ExternalRecord.local_uuid == Venue.uuid).where(
            ExternalRecord.source == source, ExternalRecord.kind == "location",
            ExternalRecord.external_id == venue.external_id))
        if row is not None:
            report.placed[row.placed_from or ("given" if row.latitude is not None
                                              else "unplaced")] += 1


def import_records(items: Iterable[tuple[str, Any]], source: str, *,
                   length: int | None = None, show_progress: bool = False,
                   on_duplicate: str = "first") -> ImportReport:
    """Apply (label, ActivityRecord | RecordError) pairs, each in its own savepoint."""
    report = ImportReport()
    seen: dict[str, str] = {}
    with click.progressbar(items, length=length, label="Importing", file=None,
                           hidden=not show_progress) as progress:
        for count, (label, record) in enumerate(progress, 1):
            if isinstance(record, Exception):
                report.rejected.append((label, str(record)))
                continue
            if _duplicate(record, seen, label, on_duplicate, report):
                continue
            try:
                with db.session.begin_nested():
                    outcome = apply_record(record, source)
            except (RecordError, SQLAlchemyError, ValueError) as error:
                report.rejected.append((label, _reason(error)))
                continue
            _count(report, label, record, outcome, source)
            if count % COMMIT_EVERY == 0:
                db.session.commit()
    db.session.commit()
    return report


def _reason(error: Exception) -> str:
    if isinstance(error, SQLAlchemyError):
        return f"database refused it: {str(error.orig if hasattr(error, 'orig') else error)}"
    return str(error)


# -- reading ORUK feeds --------------------------------------------------------------------

def fetch_json(url: str, timeout: float) -> Any:
    """GET a JSON document with the standard library; FeedError on any failure."""
    request = urllib.request.Request(url, headers={
        "Accept": "application/json", "User-Agent": "sitedir-import"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(MAX_DOCUMENT_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise FeedError(f"{url}: HTTP {error.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise FeedError(f"{url}: {getattr(error, 'reason', error)}") from None
    if len(body) > MAX_DOCUMENT_BYTES:
        raise FeedError(f"{url}: larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        return json.loads(body)
    except ValueError as error:
        raise FeedError(f"{url}: not JSON ({error})") from None


@dataclass
class Fetcher:
    """fetch_json with retries: `retries` more tries after a failure, waiting `wait`, then
    twice that, and so on (a busy council server often answers the second time)."""

    timeout: float
    retries: int = 3
    wait: float = 1.0
    sleep: Any = time.sleep

    def __call__(self, url: str) -> Any:
        for attempt in range(self.retries + 1):
            try:
                return fetch_json(url, self.timeout)
            except FeedError:
                if attempt == self.retries:
                    raise
                self.sleep(self.wait * 2 ** attempt)
        raise AssertionError("unreachable")


V1_KEYS = ("regular_schedules", "service_taxonomys", "eligibilys", "eligibilitys",
           "physical_addresses")


def _entries(page: Any, where: str) -> tuple[str, list[Any], dict[str, Any]]:
    """('3' | '1', entries, paging) from a list page of either version, or a bare list."""
    if isinstance(page, dict) and isinstance(page.get("contents"), list):
        return "3", page["contents"], {"total": page.get("total_items"),
                                       "pages": page.get("total_pages")}
    if isinstance(page, dict) and isinstance(page.get("content"), list):
        return "1", page["content"], {"total": page.get("totalElements"),
                                      "pages": page.get("totalPages"), "last": page.get("last")}
    if isinstance(page, list):
        return "", page, {"total": len(page), "pages": 1}
    if isinstance(page, dict) and "id" in page and "name" in page:
        return "", [page], {"total": 1, "pages": 1}
    raise FeedError(f"{where}: neither an ORUK v3 page (contents), a v1 page (content), "
                    "a list of services nor a service")


def _parse(label: str, document: Any, version: str,
           terms_map: TaxonomyMap | None = None) -> tuple[str, Any]:
    """(label, ActivityRecord) or (label, RecordError) for one service document."""
    if version == "1" or (isinstance(document, dict) and any(k in document for k in V1_KEYS)):
        document = mapping.v1_to_v3(document)
    try:
        return label, mapping.parse_service(document, terms_map)
    except RecordError as error:
        return label, error


def _label(entry: Any, index: int) -> str:
    """'service <id> (<name>)', so a warning names the record a person can look up."""
    if isinstance(entry, dict) and entry.get("id"):
        name = entry.get("name")
        return f"service {entry['id']}" + (f" ({str(name)[:60]})" if name else "")
    return f"entry {index}"


def _last_page(page: int, entries: list[Any], paging: dict[str, Any]) -> bool:
    pages = paging.get("pages")
    if isinstance(pages, int):
        return page >= pages
    return not entries or paging.get("last") is True or paging.get("last") is None


def _about_version(base: str, fetch: Fetcher) -> str:
    try:
        about = fetch(f"{base}/")
    except FeedError:
        return ""
    text = str(about.get("version", "")) if isinstance(about, dict) else ""
    return "3" if text.removeprefix("HSDS-UK-").lstrip("HSDS ").startswith("3") else ""


def read_url_feed(base: str, fetch: Fetcher, echo: Any = None, *,
                  since: str | None = None, terms_map: TaxonomyMap | None = None) -> Feed:
    """Every service of an ORUK API, fully nested, following pages and fetching details.

    A page that still fails after the retries is reported in `failed` and the next page is
    read (when the feed says how many there are); a detail that fails rejects that record.
    """
    base = base.rstrip("/").removesuffix("/services")
    version = _about_version(base, fetch)
    query = f"&modified_after={urllib.parse.quote(since)}" if since else ""
    feed = Feed()
    page, pages = 1, None
    while page <= MAX_PAGES:
        url = f"{base}/services?page={page}&per_page=100{query}"
        try:
            listed_version, entries, paging = _entries(fetch(url), url)
        except FeedError as error:
            feed.failed.append((url, str(error)))
            if pages is None or page >= pages:
                break
            page += 1
            continue
        version = version or listed_version
        pages = paging.get("pages") if isinstance(paging.get("pages"), int) else pages
        if echo:
            echo(f"Read page {page} of {paging.get('pages') or '?'} "
                 f"(ORUK v{version or '3'}) from {base}")
        for entry in entries:
            feed.items.append(_detail(base, entry, len(feed.items), version, fetch, terms_map))
        if _last_page(page, entries, paging):
            break
        page += 1
    return feed


def _detail(base: str, entry: Any, index: int, version: str, fetch: Fetcher,
            terms_map: TaxonomyMap | None) -> tuple[str, Any]:
    label = _label(entry, index)
    if not isinstance(entry, dict) or not entry.get("id"):
        return label, RecordError("id: missing")
    detail_url = f"{base}/services/{urllib.parse.quote(str(entry['id']), safe='')}"
    try:
        detail = fetch(detail_url)
    except FeedError as error:  # one missing record is a rejection, not a dead feed
        return label, RecordError(f"details: {error}")
    return _parse(label, detail, version, terms_map)


def _read_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise FeedError(f"{file}: not readable JSON ({error})") from None


def _saved_details(folder: Path) -> dict[str, Path]:
    """Full services saved beside a list: services/<id>.json, and the validator's own layout
    (service_full.json, named for the one service it holds)."""
    found = {file.stem: file for file in sorted((folder / "services").glob("*.json"))}
    for file in sorted(folder.glob("*service_full.json")):
        document = _read_json(file)
        if isinstance(document, dict) and document.get("id"):
            found.setdefault(str(document["id"]), file)
    return found


def _list_files(path: Path) -> list[Path]:
    if not path.is_dir():
        return [path]
    lists = sorted(path.glob("*service_list.json"))  # the validator's layout
    if lists:
        return lists
    return [file for file in sorted(path.glob("*.json")) if not file.name.endswith(
        ("api_details.json", "_full.json"))]


def read_file_feed(path: Path, terms_map: TaxonomyMap | None = None) -> Feed:
    """Services from saved JSON: a page, a list or a service per file; or a folder of such
    files, with the full details of each service in services/<id>.json or, as the ORUK
    validator saves them, service_list.json beside service_full.json."""
    details = _saved_details(path if path.is_dir() else path.parent)
    feed = Feed()
    for file in _list_files(path):
        document = _read_json(file)
        if isinstance(document, dict) and "version" in document and "id" not in document:
            continue  # the API's / document, saved alongside
        version, entries, _ = _entries(document, str(file))
        for entry in entries:
            label = _label(entry, len(feed.items))
            detail = entry
            saved = details.get(str(entry.get("id"))) if isinstance(entry, dict) else None
            if saved is not None and saved != file:
                try:
                    detail = _read_json(saved)
                except FeedError as error:
                    feed.items.append((label, RecordError(str(error))))
                    continue
            feed.items.append(_parse(label, detail, version, terms_map))
    return feed


def read_oruk(source: str, fetch: Fetcher, echo: Any = None, *, since: str | None = None,
              terms_map: TaxonomyMap | None = None) -> Feed:
    if re.match(r"^https?://", source):
        return read_url_feed(source, fetch, echo, since=since, terms_map=terms_map)
    path = Path(source)
    if not path.exists():
        raise FeedError(f"{source}: no such file or folder, and not an http(s) URL")
    return read_file_feed(path, terms_map)


# -- commands ------------------------------------------------------------------------------

def print_report(report: ImportReport, what: str, report_file: Path | None = None) -> None:
    for label, reason in report.rejected:
        click.echo(f"rejected {label}: {reason}", err=True)
    for url, reason in report.failed:
        click.echo(f"could not read {url}: {reason}", err=True)
    for label, text in report.duplicates:
        click.echo(f"duplicate {label}: {text}", err=True)
    for label, warning in report.warnings:
        click.echo(f"warning {label}: {warning}", err=True)
    for (taxonomy, name), count in report.unmapped.most_common():
        click.echo(f"unmapped term {name!r} (taxonomy {taxonomy!r}) on {count} records: add "
                   "it to content/taxonomy-map.yaml to place it", err=True)
    if report.placed:
        click.echo("venues placed: " + ", ".join(f"{count} {PLACED_WORDS.get(how, how)}"
                                                 for how, count in sorted(report.placed.items())))
    click.echo(f"{what}: {report.summary()}")
    if report_file is not None:
        report_file.write_text(json.dumps(report.as_json(what), indent=2, ensure_ascii=False),
                               encoding="utf-8")


PLACED_WORDS = {"given": "with the feed's own point", "postcode": "from their exact postcode",
                "sector": "approximately, from the postcode sector",
                "outcode": "approximately, from the postcode district",
                "unplaced": "not placed (no point and no postcode we know)"}


def taxonomy_map() -> TaxonomyMap:
    """content/taxonomy-map.yaml of this site (an empty map if it has none)."""
    from ..content import content_dir

    try:
        return load_map(content_dir() / "taxonomy-map.yaml")
    except MapError as error:
        raise click.ClickException(str(error)) from None


def exit_for(report: ImportReport, strict: bool) -> None:
    """Non-zero on a rejection or an unread page; with --strict, on any warning too."""
    if report.rejected or report.failed:
        raise SystemExit(1)
    if strict and (report.warnings or report.duplicates):
        raise SystemExit(2)


import_cli = AppGroup("import", help="Bring listings in from other directories.")
REPORT_OPTION = click.option("--report", "report_file", default=None,
                             type=click.Path(dir_okay=False, path_type=Path),
                             help="Also write the report as JSON to this file.")
STRICT_OPTION = click.option("--strict", is_flag=True,
                             help="Exit non-zero on any warning or duplicate, not only on "
                                  "rejections.")


@import_cli.command("oruk")
@click.argument("source")
@click.option("--source-name", default=None,
              help="A stable name for this feed (default: SOURCE), so re-imports update.")
@REPORT_OPTION
@STRICT_OPTION
@click.option("--all-or-nothing", is_flag=True,
              help="Import nothing if any page or service of the feed cannot be read.")
@click.option("--since", default=None, metavar="DATE",
              help="Only services changed since DATE (ISO 8601), via modified_after.")
@click.option("--on-duplicate", type=click.Choice(DUPLICATE_RULES), default="first",
              show_default=True, help="Which record wins when a feed repeats an id.")
@click.option("--retries", type=click.IntRange(0, 10), default=3, show_default=True,
              help="Tries again after a page or service fails to load.")
@click.option("--retry-wait", type=click.FloatRange(0, 60), default=1.0, show_default=True,
              help="Seconds before the first retry (doubling each time).")
def import_oruk_command(source: str, source_name: str | None, report_file: Path | None,
                        strict: bool, all_or_nothing: bool, since: str | None,
                        on_duplicate: str, retries: int, retry_wait: float) -> None:
    """Import an Open Referral UK v3 or v1 feed: a URL, a saved JSON file or a folder."""
    if since is not None:
        since = _since(since)
    fetch = Fetcher(float(current_app.config["IMPORT_TIMEOUT"]), retries, retry_wait)
    try:
        feed = read_oruk(source, fetch, echo=lambda text: click.echo(text, err=True),
                         since=since, terms_map=taxonomy_map())
    except FeedError as error:
        raise click.ClickException(f"{error}. Nothing was imported.") from None
    if feed.failed and not feed.items:
        raise click.ClickException(f"{feed.failed[0][1]}. Nothing was imported.")
    unread = feed.failed + [(label, str(item)) for label, item in feed.items
                            if isinstance(item, RecordError) and str(item).startswith("details:")]
    if all_or_nothing and unread:
        raise click.ClickException(
            f"{len(unread)} pages or services could not be read (first: {unread[0][1]}). "
            "Nothing was imported (--all-or-nothing).")
    report = import_records(feed.items, source_name or source.rstrip("/"),
                            length=len(feed.items), show_progress=True,
                            on_duplicate=on_duplicate)
    report.failed = feed.failed
    print_report(report, source, report_file)
    exit_for(report, strict)


def _since(text: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date like 2026-11-30 or "
                                 "2026-11-30T09:00:00Z", param_hint="--since") from None
    return moment.isoformat()
