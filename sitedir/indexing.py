"""The search index: its schema, `to_document()`, rebuild-and-swap, the change-log indexer, CLI.

The database is the truth and this index is a cache of it. Only one process per node writes it:
the indexer (`flask index worker`, or a thread in the one-process server) follows the
ListingChange log from the position stored in the index itself (one document, committed with the
documents it describes: see sitedir/changelog.py), so each node's index follows the log on its
own; `flask index rebuild` builds a fresh index in a temporary folder and swaps it in. Web
workers only ever read (see sitedir/search.py).
"""
from __future__ import annotations

import datetime as dt
import gc
import hashlib
import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

import click
import Stemmer
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from whoosh import columns, fields, index
from whoosh.index import TOC, LockError
from whoosh.analysis import (
    CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter,
)
from whoosh.support.charset import accent_map

from . import activity_rows, changelog, geo, listing, segment_writer
from .activity_rows import ActivityRow
from .changelog import Position
from .extensions import db
from .models import WEEKDAYS, Activity, ListingChange, ScheduleEntry, utcnow
from .segment_writer import SegmentBuilder

log = logging.getLogger(__name__)

REPO_DIR = Path(__file__).resolve().parent.parent
TIMES_OF_DAY = ("morning", "afternoon", "evening")
WRITER_TIMEOUT = 10.0  # seconds to wait for the index lock (a rebuild may hold it)
PARALLEL_REBUILD_FROM = 5000  # listings; below this, starting processes costs more than it saves
# Documents per segment a rebuild writes: a builder holds their words and values until the
# segment is written (at this size its process peaked at 269 MB, 150 of them while writing),
# and a search reads a few segments as fast as one.
SEGMENT_DOCS = 25_000


# What a listing's index document holds and how its text becomes terms, beyond what the
# schema's fields show: 2 when the stemmer became Snowball's and the digest a hash of the values.
# An index written with another (an older TOC has none: 1) is rebuilt (schema_outdated).
DOCUMENT_FORMAT = 2

_stemmers = threading.local()  # a PyStemmer stemmer is not safe to share between threads


def stem(word: str) -> str:
    """The English (Porter2) Snowball stem of a word (knitting → knit, cycling → cycl)."""
    try:
        return _stemmers.english.stemWord(word)
    except AttributeError:
        _stemmers.english = Stemmer.Stemmer("english")
        return _stemmers.english.stemWord(word)


def text_analyzer():
    """Words for matching: lower case, accents folded (café → cafe), Porter2 stems (knit)."""
    # Whoosh's default stemmer turns "knitting" into "knitt" and misses cycle/cycling; its
    # own Porter2 is pure Python (a twentieth of a rebuild) and an older Snowball (evening → even).
    return (RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter()
            | StemFilter(stemfn=stem))


def spelling_analyzer():
    """Whole words, unstemmed, for "did you mean": suggestions must be real words."""
    return RegexTokenizer(r"[^\W\d_]{3,}") | LowercaseFilter() | CharsetFilter(accent_map)


def build_schema() -> fields.Schema:
    """The index schema. Kept as one object in the app: never read back `ix.schema` per request."""
    analyzer = text_analyzer()
    schema = fields.Schema(
        # The stable public id: updates and deletes address documents by it, views join on it.
        uuid=fields.ID(unique=True, stored=True, sortable=True),
        # A hash of the document: `flask index check` spots stale entries, not just missing ones.
        # Stored only: nothing searches it, and a term per listing cost rebuild time and memory.
        digest=fields.STORED(),
        # Titles weigh most: a person searching "Knit and Natter" wants that group first.
        title=fields.TEXT(analyzer=analyzer, field_boost=3.0, stored=True),
        # Lower-cased title: sort by name, and spot an exact title match to rank it first.
        title_sort=fields.ID(sortable=True),
        # The one-line summary on its own: it says what the activity is, so it weighs more
        # than the long description (which repeats it, for snippets).
        summary=fields.TEXT(analyzer=analyzer),
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
        # Only on the one position document (POSITION_UUID): how far this index has read the
        # change log, as JSON. Kept in the index so it commits atomically with the documents.
        log_position=fields.STORED(),
    )
    schema.document_format = DOCUMENT_FORMAT  # (pickled with the schema into each TOC)
    return schema


SCHEMA = build_schema()
# The uuid of the document that holds the index's change-log position. It is not a listing:
# marked closed, so search (which leaves closed listings out) never shows it.
POSITION_UUID = "~change-log-position"


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


def to_document(activity: Activity | ActivityRow) -> dict[str, Any]:
    """The index document of one activity: a pure function of the loaded record (a mapped
    Activity with its relationships loaded, or a plain row)."""
    venue = activity.venue
    categories = activity.categories
    needs = activity.needs
    where = listing.public_location(activity)
    point = where.point if where else None
    doc: dict[str, Any] = {
        "uuid": activity.uuid,
        "title": activity.title,
        "title_sort": " ".join(activity.title.lower().split()),
        "summary": activity.summary or "",
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
    # The values in their fixed order, joined: half the time of hashing them as sorted JSON.
    doc["digest"] = hashlib.sha256("\x1f".join(map(str, doc.values())).encode(
        "utf-8", "surrogatepass")).hexdigest()[:16]
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


def _activities(uuids: Iterable[str] | None = None,
                id_range: tuple[int, int] | None = None) -> Iterator[ActivityRow]:
    """Activities as plain rows (activity_rows.py), by id: those named, those with ids in
    `id_range` (inclusive), or all."""
    if uuids is not None:
        yield from activity_rows.rows_by_uuids(uuids)
        return
    query = select(Activity.id).order_by(Activity.id)
    if id_range is not None:
        query = query.where(Activity.id.between(*id_range))
    yield from activity_rows.rows_by_ids(list(db.session.scalars(query)))


# ---- the index's own change-log position --------------------------------------------------

def position_document(position: Position) -> dict[str, Any]:
    """The document that records `position` inside the index (replaced by every commit)."""
    return {"uuid": POSITION_UUID, "status": "closed", "log_position": position.to_json()}


def read_position(reader: Any) -> Position | None:
    """The position stored in an index, from a searcher or a writer's searcher; None if absent."""
    stored = reader.document(uuid=POSITION_UUID)
    return Position.from_json(stored["log_position"]) if stored else None


# The position last read per index folder, by generation: a new TOC (a commit or a swap)
# always has a higher generation, so an unchanged generation means an unchanged position, and
# a poll or /healthz need not open a searcher.
_known_positions: dict[str, tuple[int, Position | None]] = {}


def _position_at(ix: index.Index, path: Path) -> tuple[int, Position | None]:
    """(generation, position) of the index at `path` as it is now."""
    known = _known_positions.get(str(path))
    if known is not None and known[0] == ix.latest_generation():
        return known
    with ix.searcher() as searcher:
        found = (searcher.reader().generation(), read_position(searcher))
    _known_positions[str(path)] = found
    return found


def index_position(path: Path | None = None) -> Position | None:
    """The position of the index at `path` (this node's), or None when it has none."""
    path = path or index_dir()
    if not index.exists_in(str(path)):
        return None
    return _position_at(open_index(path, create=False), path)[1]


# ---- rebuild ----------------------------------------------------------------------------------

def remove_leftovers(target: Path) -> list[Path]:
    """Delete temporary folders that killed rebuilds left beside the index (call under its lock)."""
    removed = []
    for leftover in target.parent.glob(f".{target.name}-*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
            removed.append(leftover)
    return removed


def rebuild(app: Flask | None = None, progress: bool = False, parallel: bool = True) -> int:
    """Build a complete index in a temporary folder beside the live one, then swap it in."""
    app = app or current_app
    target = index_dir(app)
    target.parent.mkdir(parents=True, exist_ok=True)
    live = open_index(target)
    # Hold the live index's lock while building, so the worker cannot write into an index
    # that is about to be replaced (it waits, then writes into the new one).
    lock = live.lock("WRITELOCK")
    if not lock.acquire(blocking=True):
        raise RuntimeError("The search index is locked by another writer")
    temp = None
    try:
        # Holding the lock, no other rebuild of this index runs: any temp folder is a leftover.
        for leftover in remove_leftovers(target):
            log.info("Removed %s, left by a rebuild that did not finish", leftover)
        temp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        count = _build_into(temp, progress, parallel)
        _swap(temp, target)
    finally:
        lock.release()
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    return count


def _build_into(folder: Path, progress: bool, parallel: bool) -> int:
    """Index every activity and the change-log position into new segments in `folder`."""
    # The position is read before the documents (in the same snapshot when serial), so a
    # change that commits while this runs is not covered by it and the indexer applies it
    # afterwards; a document read later than the position is harmless (replays re-read it).
    changelog.begin_snapshot()
    try:
        position = changelog.snapshot_position()
        ids = list(db.session.scalars(select(Activity.id).order_by(Activity.id)))
        fresh = index.create_in(str(folder), SCHEMA)
        procs = min(os.cpu_count() or 1, 4) if parallel and len(ids) >= PARALLEL_REBUILD_FROM \
            else 1
        with click.progressbar(length=len(ids), label="Indexing activities",
                               file=None if progress else open(os.devnull, "w")) as bar:
            if procs == 1:
                segments = _build_segments(fresh, None, position, bar.update)
            else:
                segments = _build_in_processes(folder, ids, procs, position)
                bar.update(len(ids))
    finally:
        db.session.commit()  # end the snapshot
    TOC(SCHEMA, segments, fresh.latest_generation() + 1).write(fresh.storage, fresh.indexname)
    return len(ids)


def _build_segments(ix: index.Index, id_range: tuple[int, int] | None,
                    position: Position | None, progress: Any = None) -> list[Any]:
    """Segments of the activities whose ids fall in `id_range` (all when None), SEGMENT_DOCS
    at most each, the last one with the position document when given."""
    segments = []
    builder = SegmentBuilder(ix)
    # The cyclic collector would re-walk the segment's growing values over and over (a third
    # of the loading time at 20k listings; collecting every 5,000 listings instead still cost
    # 0.3 s per 10k): it is held off while a segment is built, and runs once after it. Reading
    # and indexing listings makes no cycles to speak of (a builder's peak memory was the same).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for activity in _activities(id_range=id_range):
            builder.add(to_document(activity))
            if progress is not None:
                progress(1)
            if builder.docnum >= SEGMENT_DOCS:  # postings are held in memory until written
                segments.append(builder.finish())
                builder = SegmentBuilder(ix)
                gc.collect()
        if position is not None:
            builder.add(position_document(position))
        if builder.docnum:
            segments.append(builder.finish())
    finally:
        if was_enabled:
            gc.enable()
    return segments


# The app a forked builder process works for (set before forking; fork copies it).
_forked_app: Flask | None = None


def _build_in_processes(folder: Path, ids: list[int], procs: int, position: Position) -> list:
    """Split the ids into `procs` runs and build each run's segments in a forked process."""
    global _forked_app
    _forked_app = current_app._get_current_object()
    size = -(-len(ids) // procs)
    runs = [(ids[start], ids[min(start + size, len(ids)) - 1])
            for start in range(0, len(ids), size)]
    db.session.commit()  # no connection or transaction of ours may cross the fork
    segment_writer.preload()
    with multiprocessing.get_context("fork").Pool(len(runs)) as pool:
        built = pool.starmap(_build_run, [
            (str(folder), run, position.to_json() if number == len(runs) - 1 else None)
            for number, run in enumerate(runs)])
    return [segment for segments in built for segment in segments]


def _build_run(folder: str, id_range: tuple[int, int], position_json: str | None) -> list:
    """In a forked process: build the segments of one id range (see _build_in_processes)."""
    assert _forked_app is not None
    with _forked_app.app_context():
        db.engine.dispose(close=False)  # the parent's pooled connections are not ours to use
        position = Position.from_json(position_json) if position_json else None
        segments = _build_segments(index.open_dir(folder, schema=SCHEMA), id_range, position)
        db.session.remove()
        return segments


def _swap(built: Path, target: Path) -> None:
    """Move the built segments into `target`, then publish them with a TOC one generation up."""
    # This is what a Whoosh commit itself does: new segment files have fresh random names, the
    # TOC is written last (atomically, by rename) with a higher generation, then unused files go.
    # Readers keep their open handles to old segments and pick up the new TOC on refresh();
    # a reader that races the clean-up retries (see search.py).
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import _DEF_INDEX_NAME

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


# ---- the change-log indexer ------------------------------------------------------------------

def _apply(ix: index.Index, batch: changelog.Batch, generation: int, timeout: float) -> bool:
    """Write a batch and its new position in one commit; False if the index moved meanwhile."""
    # (plain writer() gives up at once if locked; compound files are copied into memory by
    # every reader, see segment_writer.finish)
    writer = ix.writer(timeout=timeout, compound=False)
    try:
        if writer.generation != generation + 1:  # a rebuild swapped in while we read
            writer.cancel()
            return False
        found = set()
        for activity in _activities(batch.uuids):
            writer.update_document(**to_document(activity))
            found.add(activity.uuid)
        for gone in batch.uuids - found:
            writer.delete_by_term("uuid", gone)
        writer.update_document(**position_document(batch.advanced))
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    return True


def drain(batch_size: int = 200, timeout: float = WRITER_TIMEOUT) -> int:
    """Apply the next changes after this index's position; returns how many it applied."""
    path = index_dir()
    ix = open_index(path)
    generation, position = _position_at(ix, path)
    if position is None:
        raise RuntimeError("The search index has no change-log position: rebuild it")
    batch = changelog.read_changes(position, batch_size)
    db.session.commit()  # end the read
    if not batch.rows and batch.advanced == position:
        return 0
    # Updates re-read each listing as it is now, so replaying a change is harmless: the
    # position only ever moves forward with the documents it covers.
    if not _apply(ix, batch, generation, timeout):
        return drain(batch_size, timeout)
    _known_positions[str(path)] = (generation + 1, batch.advanced)
    return batch.rows


def drain_all(batch_size: int = 200) -> int:
    """Apply changes until the index has caught up with the log (building it if it must)."""
    _ensure_current_index()
    handled = 0
    while True:
        done = drain(batch_size)
        if not done:
            return handled
        handled += done


class NodeReporter:
    """Tells the registry where this node's index is: when it moves, and every HEARTBEAT s."""

    HEARTBEAT = 10.0
    PRUNE_EVERY = 3600.0

    def __init__(self, app: Flask) -> None:
        self.name = changelog.node_name(app, index_dir(app))
        self.retention = dt.timedelta(days=float(app.config["INDEX_LOG_RETENTION_DAYS"]))
        self.last: tuple[Position | None, float] = (None, -self.HEARTBEAT)
        self.last_prune = time.monotonic() - self.PRUNE_EVERY + 60  # first prune after a minute

    def tick(self) -> None:
        position = index_position()
        if position is None:
            return
        if position != self.last[0] or time.monotonic() - self.last[1] >= self.HEARTBEAT:
            changelog.report(self.name, position, changelog.lag_seconds(position))
            self.last = (position, time.monotonic())
        if time.monotonic() - self.last_prune >= self.PRUNE_EVERY:
            pruned = changelog.prune(self.retention)
            self.last_prune = time.monotonic()
            if pruned:
                log.info("Pruned %s change-log rows every node has applied", pruned)


def _ensure_current_index() -> None:
    """Build the index when there is none, when changes it has not applied were pruned, or
    when it was written with another schema (an upgrade changed what is indexed)."""
    position = index_position()
    outdated = position is not None and schema_outdated(index_dir())
    if changelog.must_rebuild(position) or outdated:
        log.info("Search index %s: building one", "missing or without a change-log position"
                 if position is None else "of an older schema" if outdated
                 else "behind the pruned change log")
        rebuild(parallel=False)  # never fork from a thread of a threaded server


def _schema_shape(schema: fields.Schema) -> list[Any]:
    fields_ = [(name, type(field).__name__, bool(field.stored), bool(field.indexed),
                type(field.format).__name__ if field.format else None)
               for name, field in sorted(schema.items())]
    return [getattr(schema, "document_format", 1), *fields_]


def schema_outdated(path: Path) -> bool:
    """True when the index at `path` was written with a schema other than SCHEMA."""
    written = index.open_dir(str(path)).schema  # the one its TOC was written with
    return _schema_shape(written) != _schema_shape(SCHEMA)


def run_worker(app: Flask, stop: threading.Event | None = None, once: bool = False) -> None:
    """Follow the change log every INDEXER_POLL_SECONDS into this node's index, until `stop`."""
    stop = stop or threading.Event()
    poll = float(app.config["INDEXER_POLL_SECONDS"])
    with app.app_context():
        reporter = NodeReporter(app)
    while not stop.is_set():
        with app.app_context():
            try:
                drain_all()
                reporter.tick()
            except LockError:
                log.info("Search index locked (a rebuild is running); waiting")
                db.session.rollback()
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
        indexed = {fields_["uuid"]: fields_["digest"] for fields_ in searcher.all_stored_fields()
                   if fields_["uuid"] != POSITION_UUID}
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


@index_cli.command("worker", help="Follow the change log into this node's index as it grows.")
@click.option("--once", is_flag=True, help="Catch up with the change log once and exit.")
def worker_command(once: bool) -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    click.echo(f"Indexer {changelog.node_name(app, index_dir(app))} following the change log every "
               f"{app.config['INDEXER_POLL_SECONDS']} s (Ctrl+C to stop)")
    try:
        run_worker(app, once=once)
    except KeyboardInterrupt:
        pass


@index_cli.command("check", help="Compare the database and the index; exit 1 if they differ.")
def check_command() -> None:
    found = differences()
    position = index_position()
    if position is None:
        click.echo("The index has no change-log position. `flask index rebuild` fixes the index.")
        raise SystemExit(1)
    waiting = changelog.behind(position)
    if not any(found.values()):
        click.echo(f"The index matches the database ({waiting} changes not applied yet).")
        return
    for kind, uuids in found.items():
        if uuids:
            click.echo(f"{len(uuids)} {kind}: {', '.join(uuids[:10])}"
                       + (" ..." if len(uuids) > 10 else ""))
    click.echo(f"{waiting} changes not applied yet. `flask index rebuild` fixes the index.")
    raise SystemExit(1)


@index_cli.command("status", help="Every node's index: position in the change log and lag.")
def status_command() -> None:
    this = changelog.node_name(current_app, index_dir())
    position = index_position()
    if position is not None:  # this node's figures, fresh, even if its indexer is not running
        changelog.report(this, position, changelog.lag_seconds(position))
    head = db.session.scalar(select(func.max(ListingChange.id))) or 0
    click.echo(f"Change log: head {head}, pruned through {changelog.pruned_through()}")
    now = utcnow()
    click.echo(f"{'node':<50} {'position':>9} {'behind':>7} {'lag s':>8} {'seen s ago':>10}")
    for node in changelog.nodes():
        node_position = Position(node.position)
        behind = changelog.behind(node_position)
        lag = changelog.lag_seconds(node_position, now)
        mark = " (this node)" if node.name == this else ""
        click.echo(f"{node.name + mark:<50} {node.position:>9} {behind:>7} {lag:>8.1f} "
                   f"{(now - node.last_seen).total_seconds():>10.0f}")


def health(app: Flask | None = None) -> tuple[bool, dict[str, Any]]:
    """This node's readiness: its index exists and lags at most INDEX_MAX_LAG_SECONDS."""
    app = app or current_app
    position = index_position(index_dir(app))
    if position is None:
        return False, {"index": "missing"}
    lag = changelog.lag_seconds(position)
    limit = float(app.config["INDEX_MAX_LAG_SECONDS"])
    return lag <= limit, {"index": "ready" if lag <= limit else "behind",
                          "index_position": position.upto,
                          "index_lag_seconds": round(lag, 1), "max_lag_seconds": limit}


def init_app(app: Flask) -> None:
    app.cli.add_command(index_cli)
