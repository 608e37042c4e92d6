"""The search index: its schema, `to_document()`, rebuild-and-swap, the outbox indexer, CLI.

The database is the truth and this index is a cache of it. Only one process writes it: the
indexer (`flask index worker`, or a thread in the one-process server) drains the ListingChange
outbox in batches; `flask index rebuild` builds a fresh index in a temporary folder and swaps it
in. Web workers only ever read (see sitedir/search.py).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select, update
from whoosh import columns, fields, index
from whoosh.analysis import (
    CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter,
)
from whoosh.lang import porter2
from whoosh.support.charset import accent_map

from . import geo, listing
from .extensions import db
from .models import WEEKDAYS, Activity, ListingChange, ScheduleEntry, utcnow, FULL_ACTIVITY

log = logging.getLogger(__name__)

REPO_DIR = Path(__file__).resolve().parent.parent
TIMES_OF_DAY = ("morning", "afternoon", "evening")
WRITER_TIMEOUT = 10.0  # seconds to wait for the index lock (a rebuild may hold it)
PARALLEL_REBUILD_FROM = 5000  # listings; below this, starting processes costs more than it saves


def text_analyzer():  # type: ignore[no-untyped-def]
    """Words for matching: lower case, accents folded (café → cafe), porter2 stems (knit)."""
    # Whoosh's default stemmer turns "knitting" into "knitt" and misses cycle/cycling.
    return (RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter()
            | StemFilter(stemfn=porter2.stem))


def spelling_analyzer():  # type: ignore[no-untyped-def]
    """Whole words, unstemmed, for "did you mean": suggestions must be real words."""
    return RegexTokenizer(r"[^\W\d_]{3,}") | LowercaseFilter() | CharsetFilter(accent_map)


def build_schema() -> fields.Schema:
    """The index schema. Kept as one object in the app: never read back `ix.schema` per request."""
    analyzer = text_analyzer()
    return fields.Schema(
        # The stable public id: updates and deletes address documents by it, views join on it.
        uuid=fields.ID(unique=True, stored=True, sortable=True),
        # A hash of the document: `flask index check` spots stale entries, not just missing ones.
        digest=fields.ID(stored=True),
        # Titles weigh most: a person searching "Knit and Natter" wants that group first.
        title=fields.TEXT(analyzer=analyzer, field_boost=3.0, stored=True),
        # Lower-cased title: sort by name, and spot an exact title match to rank it first.
        title_sort=fields.ID(sortable=True),
        # Summary, description and first-visit words: what it is like; stored for snippets.
        body=fields.TEXT(analyzer=analyzer, stored=True),
        # The organisation's name: people search for groups they have heard of.
        organisation=fields.TEXT(analyzer=analyzer, field_boost=1.5),
        # Category and "who it helps" names, so "dementia" finds listings tagged with it.
        topics=fields.TEXT(analyzer=analyzer, field_boost=1.5),
        # Venue, town and outcode as words: "Harehills" in the box finds groups there.
        place=fields.TEXT(analyzer=analyzer),
        # Unstemmed words of the title, summary and topics: the vocabulary for spelling suggestions.
        spell=fields.TEXT(analyzer=spelling_analyzer(), phrase=False),
        # Filters and facets (exact keys; comma lists so a listing can have several):
        category=fields.KEYWORD(commas=True),
        helps=fields.KEYWORD(commas=True),
        access=fields.KEYWORD(commas=True),  # the venue's features plus the activity's own
        format=fields.KEYWORD(commas=True),  # in_person, online, phone
        join=fields.ID(),  # drop_in, book, referral
        cost=fields.ID(),  # free, paid, pay_what_you_can
        day=fields.KEYWORD(commas=True),  # weekdays the sessions fall on
        time=fields.KEYWORD(commas=True),  # morning, afternoon, evening
        status=fields.ID(),  # closed listings are left out of search
        # Ages as numbers so "age 15" is a range test; missing bounds are stored as 0 and 150.
        # One term per value (shift_step=0): the range is small and its result cached per age.
        age_min=fields.NUMERIC(int, bits=16, signed=False, shift_step=0),
        age_max=fields.NUMERIC(int, bits=16, signed=False, shift_step=0),
        # The grid cell of the venue: a cheap term prefilter before exact haversine distances.
        cell=fields.KEYWORD(commas=True),
        located=fields.ID(),  # "1" when the listing has a point (in person, with coordinates)
        # Coordinates as micro-degree ints in columns only (never searched as terms: the cell
        # does that): every document's point without reading stored fields. A NUMERIC field
        # would index 16 terms per value for range queries we never run, and
        # NUMERIC(float, sortable=True) crashes Whoosh.
        lat_e6=fields.COLUMN(columns.NumericColumn("q", default=0)),
        lon_e6=fields.COLUMN(columns.NumericColumn("q", default=0)),
        # Day number of the last review: sort by "recently reviewed"; fresh ones rank a bit higher.
        reviewed=fields.COLUMN(columns.NumericColumn("i", default=0)),
    )


SCHEMA = build_schema()


def _times_of_day(entries: Iterable[ScheduleEntry]) -> set[str]:
    found = set()
    for entry in entries:
        hour = entry.start_time.hour
        found.add("morning" if hour < 12 else "afternoon" if hour < 17 else "evening")
    return found


def _days(entries: Iterable[ScheduleEntry]) -> set[str]:
    found = set()
    for entry in entries:
        weekday = entry.date.weekday() if entry.date is not None else entry.weekday
        if weekday is not None:
            found.add(WEEKDAYS[weekday])
    return found


def to_document(activity: Activity) -> dict[str, Any]:
    """The index document of one activity: a pure function of the loaded record."""
    venue = activity.venue
    categories = activity.categories
    needs = activity.needs
    where = listing.public_location(activity)
    point = where.point if where else None
    doc: dict[str, Any] = {
        "uuid": activity.uuid,
        "title": activity.title,
        "title_sort": " ".join(activity.title.lower().split()),
        "body": "\n".join(part for part in (
            activity.summary, activity.description, activity.welcome, activity.what_to_bring,
            activity.schedule_notes) if part),
        "organisation": activity.organisation.name,
        "topics": " ".join(term.name for term in categories + needs),
        # The place as the page shows it: a private home's venue name is never searchable.
        "place": " ".join(part for part in (
            where.label, where.town, venue.outcode) if part) if where else "",
        "spell": " ".join((activity.title, activity.summary, activity.organisation.name,
                           *(term.name for term in categories + needs))),
        "category": ",".join(term.key for term in categories),
        "helps": ",".join(term.key for term in needs),
        "access": ",".join(term.key for term in activity.accessibility),
        "format": ",".join(activity.formats),
        "join": activity.join_how,
        "cost": activity.cost_type,
        "day": ",".join(sorted(_days(activity.schedule))),
        "time": ",".join(sorted(_times_of_day(activity.schedule))),
        "status": activity.status,
        "age_min": activity.age_min if activity.age_min is not None else 0,
        "age_max": activity.age_max if activity.age_max is not None else 150,
        "cell": geo.grid_cell(*point) if point else "",
        "located": "1" if point else "0",
        "lat_e6": round(point[0] * 1e6) if point else 0,
        "lon_e6": round(point[1] * 1e6) if point else 0,
        "reviewed": activity.last_reviewed.toordinal() if activity.last_reviewed else 0,
    }
    doc["digest"] = hashlib.sha256(
        json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return doc


# ---- where the index lives, opening it -------------------------------------------------------

def index_dir(app: Flask | None = None) -> Path:
    """SEARCH_INDEX_DIR, or the repository's search_index/ (instance/ when installed)."""
    app = app or current_app
    configured = app.config.get("SEARCH_INDEX_DIR")
    if configured:
        return Path(configured)
    if (REPO_DIR / "setup.cfg").exists():
        return REPO_DIR / "search_index"
    return Path(app.instance_path) / "search_index"


def open_index(path: Path, create: bool = True) -> index.Index:
    """Open (or create, when empty) the index, retrying while a commit renames its files."""
    path.mkdir(parents=True, exist_ok=True)
    for attempt in range(20):
        try:
            if index.exists_in(str(path)):
                return index.open_dir(str(path), schema=SCHEMA)
            if not create:
                raise FileNotFoundError(f"No search index in {path}")
            return index.create_in(str(path), SCHEMA)
        except FileNotFoundError:
            if attempt == 19 or not create and not index.exists_in(str(path)):
                raise
            time.sleep(0.005 * (attempt + 1))  # a commit was deleting old TOCs under us
    raise AssertionError("unreachable")


def _activities(uuids: Iterable[str] | None = None) -> Iterator[Activity]:

    query = select(Activity).options(*FULL_ACTIVITY).order_by(Activity.id)
    if uuids is not None:
        query = query.where(Activity.uuid.in_(list(uuids)))
    yield from db.session.scalars(query.execution_options(yield_per=500))


# ---- rebuild ----------------------------------------------------------------------------------

def rebuild(app: Flask | None = None, progress: bool = False, parallel: bool = True) -> int:
    """Build a complete index in a temporary folder beside the live one, then swap it in."""
    app = app or current_app
    target = index_dir(app)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Changes already in the outbox are covered by this build; later ones are left to the worker.
    cursor = db.session.scalar(select(func.max(ListingChange.id))) or 0
    total = db.session.scalar(select(func.count(Activity.id))) or 0
    live = open_index(target)
    # Hold the live index's lock while building, so the worker cannot write into an index
    # that is about to be replaced (it waits, then writes into the new one).
    lock = live.lock("WRITELOCK")
    if not lock.acquire(blocking=True):
        raise RuntimeError("The search index is locked by another writer")
    temp = Path(tempfile.mkdtemp(prefix=".search_index-", dir=target.parent))
    try:
        fresh = index.create_in(str(temp), SCHEMA)
        # Analysis is the slow part and Python is single-threaded: for big directories, let a
        # second process analyse half the documents (one segment each; no merge needed).
        procs = min(os.cpu_count() or 1, 4) if parallel and total >= PARALLEL_REBUILD_FROM else 1
        writer = fresh.writer(procs=procs, multisegment=procs > 1, limitmb=128)
        count = 0
        with click.progressbar(length=total, label="Indexing activities",
                               file=None if progress else open(os.devnull, "w")) as bar:
            for activity in _activities():
                writer.add_document(**to_document(activity))
                count += 1
                bar.update(1)
        writer.commit(optimize=True)
        _swap(temp, target)
    finally:
        lock.release()
        shutil.rmtree(temp, ignore_errors=True)
    db.session.execute(update(ListingChange).where(
        ListingChange.id <= cursor, ListingChange.processed_at.is_(None)
    ).values(processed_at=utcnow()))
    db.session.commit()
    return count


def _swap(built: Path, target: Path) -> None:
    """Move the built segments into `target`, then publish them with a TOC one generation up."""
    # This is what a Whoosh commit itself does: new segment files have fresh random names, the
    # TOC is written last (atomically, by rename) with a higher generation, then unused files go.
    # Readers keep their open handles to old segments and pick up the new TOC on refresh();
    # a reader that races the clean-up retries (see search.py).
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC, _DEF_INDEX_NAME

    live_gen = index.open_dir(str(target), schema=SCHEMA).latest_generation() \
        if index.exists_in(str(target)) else -1
    toc = TOC.read(FileStorage(str(built)), _DEF_INDEX_NAME, schema=SCHEMA)
    keep = set()
    for path in built.iterdir():
        if not path.name.endswith((".toc", ".lock")):
            os.replace(path, target / path.name)
            keep.add(path.name)
    published = TOC(SCHEMA, toc.segments, live_gen + 1)
    published.write(FileStorage(str(target)), _DEF_INDEX_NAME)
    keep.add(TOC._filename(_DEF_INDEX_NAME, published.generation))
    for path in target.iterdir():
        # Hidden files are not Whoosh's (e.g. the .gitkeep that keeps the folder in git).
        if path.name not in keep and not path.name.endswith(".lock") \
                and not path.name.startswith("."):
            path.unlink(missing_ok=True)


# ---- the outbox indexer -----------------------------------------------------------------------

def drain(batch_size: int = 200, timeout: float = WRITER_TIMEOUT) -> int:
    """Apply one batch of outbox rows to the index; returns how many rows it handled."""
    rows = db.session.scalars(select(ListingChange).where(ListingChange.processed_at.is_(None))
                              .order_by(ListingChange.id).limit(batch_size)).all()
    if not rows:
        return 0
    uuids = {row.activity_uuid for row in rows}
    ix = open_index(index_dir())
    writer = ix.writer(timeout=timeout)  # plain writer() gives up at once if locked
    try:
        found = set()
        for activity in _activities(uuids):
            writer.update_document(**to_document(activity))
            found.add(activity.uuid)
        for gone in uuids - found:
            writer.delete_by_term("uuid", gone)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    # Marked only after the index commit: a crash in between replays the batch (updates are
    # idempotent), so nothing is lost.
    db.session.execute(update(ListingChange).where(ListingChange.id.in_([r.id for r in rows]))
                       .values(processed_at=utcnow()))
    db.session.commit()
    return len(rows)


def drain_all(batch_size: int = 200) -> int:
    """Drain the outbox until it is empty."""
    handled = 0
    while True:
        done = drain(batch_size)
        if not done:
            return handled
        handled += done


def run_worker(app: Flask, stop: threading.Event | None = None, once: bool = False) -> None:
    """Poll the outbox every INDEXER_POLL_SECONDS and apply it, until `stop` is set."""
    stop = stop or threading.Event()
    poll = float(app.config["INDEXER_POLL_SECONDS"])
    with app.app_context():
        if not index.exists_in(str(index_dir())):
            log.info("No search index yet: building one")
            rebuild(parallel=False)  # never fork from a thread of a threaded server
    while not stop.is_set():
        with app.app_context():
            try:
                drain_all()
            except Exception:  # keep indexing after a transient error (locked DB, full disk...)
                log.exception("Indexer batch failed; retrying")
                db.session.rollback()
            finally:
                db.session.remove()
        if once:
            return
        stop.wait(poll)


def start_worker_thread(app: Flask) -> threading.Event:
    """The indexer as a daemon thread, for the one-process server. Set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(app, stop), name="sitedir-indexer",
                              daemon=True)
    thread.start()
    return stop


# ---- check ------------------------------------------------------------------------------------

def differences() -> dict[str, list[str]]:
    """Listings missing from the index, extra in it, or indexed from an older version."""
    expected = {activity.uuid: to_document(activity)["digest"] for activity in _activities()}
    ix = open_index(index_dir())
    with ix.searcher() as searcher:
        indexed = {fields_["uuid"]: fields_["digest"] for fields_ in searcher.all_stored_fields()}
    return {
        "missing": sorted(set(expected) - set(indexed)),
        "extra": sorted(set(indexed) - set(expected)),
        "stale": sorted(u for u in set(expected) & set(indexed) if expected[u] != indexed[u]),
    }


# ---- CLI --------------------------------------------------------------------------------------

index_cli = AppGroup("index", help="Build, check and update the search index.")


@index_cli.command("rebuild", help="Build the whole index in a temporary folder and swap it in.")
def rebuild_command() -> None:
    started = time.perf_counter()
    count = rebuild(progress=True)
    click.echo(f"Indexed {count} activities into {index_dir()} in "
               f"{time.perf_counter() - started:.1f} s")


@index_cli.command("worker", help="Apply listing changes from the outbox as they happen.")
@click.option("--once", is_flag=True, help="Drain the outbox once and exit.")
def worker_command(once: bool) -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"Indexer watching the outbox every {app.config['INDEXER_POLL_SECONDS']} s "
               "(Ctrl+C to stop)")
    try:
        run_worker(app, once=once)
    except KeyboardInterrupt:
        pass


@index_cli.command("check", help="Compare the database and the index; exit 1 if they differ.")
def check_command() -> None:
    found = differences()
    pending = db.session.scalar(select(func.count(ListingChange.id))
                                .where(ListingChange.processed_at.is_(None))) or 0
    if not any(found.values()):
        click.echo(f"The index matches the database ({pending} changes waiting in the outbox).")
        return
    for kind, uuids in found.items():
        if uuids:
            click.echo(f"{len(uuids)} {kind}: {', '.join(uuids[:10])}"
                       + (" ..." if len(uuids) > 10 else ""))
    click.echo(f"{pending} changes waiting in the outbox. `flask index rebuild` fixes the index.")
    raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(index_cli)
