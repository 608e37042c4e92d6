"""Counting without tracking: what a page or a search adds, batched in memory, flushed safely.

The request only adds to an in-process batch under a lock (microseconds, no I/O; even the
words of an unmet search are normalised at flush time). A background
thread writes the batch every INSIGHT_FLUSH_SECONDS in ONE transaction of additive upserts, so a
counter moves by a whole batch or not at all: a process killed mid-flush leaves every counter as
it was, and one killed between flushes loses at most that interval's page views. Recommendations
are never counted here: they are read from their own table, committed with the form.
"""
from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import re
import threading
from collections import Counter
from typing import Any

from flask import Flask, Response, current_app, request
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import geo
from ..extensions import db
from ..models import Activity
from .models import SearchCount, UnmetSearch, UsageCount

log = logging.getLogger(__name__)

EXTENSION_KEY = "insight"
UNMET_BELOW = 3  # a search with fewer results than this is unmet demand
MAX_PENDING_ROWS = 50_000  # unmet rows held while the database is unreachable
# Automated clients, by words in their user agent (lower case). No user agent at all counts as
# automated too. Plain substring tests: a tenth of the time of one big regular expression.
BOT_MARKERS = (
    "bot", "crawl", "spider", "slurp", "archiver", "scrap", "fetch", "monitor", "preview",
    "headless", "lighthouse", "curl", "wget", "python", "httpx", "aiohttp", "java/", "go-http",
    "okhttp", "libwww", "axios", "node-fetch", "facebookexternalhit", "embedly", "pingdom",
    "uptime",
)
# Pages that count as one event for the listing named by their URL (slug, or a
# recommendation's token for the print sheet). New events from other modules: `count_event`.
ENDPOINT_EVENTS = {
    "public.activity": ("slug", "view"),
    "feeds.activity_ics": ("slug", "calendar"),
    "connect.print_sheet": ("token", "print"),
}
AGE_BANDS = ((17, "0-17"), (24, "18-24"), (64, "25-64"), (200, "65+"))
_EMAIL = re.compile(r"\S+@\S+")


def is_bot(user_agent: str | None) -> bool:
    if not user_agent:
        return True
    agent = user_agent.lower()
    return any(marker in agent for marker in BOT_MARKERS)


def today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


# ---- what is kept of a search ------------------------------------------------------------------

_analyzer: Any = None


def normalise_words(text: str) -> str:
    """The search's own normalised words, sorted, without anything containing a digit.

    Digits go because they carry postcodes, phone numbers and house numbers, never a need.
    """
    global _analyzer
    from .. import search

    text = _EMAIL.sub(" ", text or "")
    normaliser = getattr(search, "normalise_words", None)  # the vocabulary's, when it exists
    if normaliser is not None:
        tokens = list(normaliser(text))
    else:
        if _analyzer is None:
            from ..indexing import text_analyzer
            _analyzer = text_analyzer()
        tokens = [token.text for token in _analyzer(text)]
    words = sorted({token for token in tokens if not any(ch.isdigit() for ch in token)})
    return " ".join(words)[:200].strip()


def area_of(place: geo.Place | None) -> str:
    """A postcode's outcode ("LS9"), or a named place's label; never a full postcode or a point."""
    if place is None or place.kind == "coordinates":
        return ""
    postcode = geo.normalise_postcode(place.name)
    if postcode is not None or place.kind in ("postcode", "sector", "outcode"):
        return (postcode or place.name).split()[0][:10].upper()
    label = place.label
    if geo.find_postcode_in_text(label) or any(ch.isdigit() for ch in label):
        return ""  # an online geocoder's street address: not an area
    return label[:60]


def describe_filters(parsed: Any) -> str:
    """'category=walking;day=monday;free=1;age=65+': the chosen filters, ages as bands only."""
    parts = [f"{name}={','.join(values)}" for name, values in sorted(parsed.filters.items())]
    if parsed.free:
        parts.append("free=1")
    age = parsed.request.age
    if age is not None:
        parts.append("age=" + next(band for top, band in AGE_BANDS if age <= top))
    return ";".join(parts)[:300]


# ---- the batch ---------------------------------------------------------------------------------

class Recorder:
    """One process's pending counts; `flush()` writes them in one transaction."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.usage: Counter[tuple[str, str, dt.date, str]] = Counter()
        self.searches: Counter[tuple[dt.date, str, str, str]] = Counter()
        self.unmet: list[dict[str, Any]] = []
        self._thread_pid: int | None = None
        self._stop = threading.Event()

    # Called on the request path: no I/O.
    def count_event(self, key_kind: str, key: str, event: str) -> None:
        with self.lock:
            self.usage[(key_kind, key, today(), event)] += 1
        self._ensure_thread()

    def count_search(self, area: str, categories: list[str], unmet_row: dict | None) -> None:
        day = today()
        with self.lock:
            for category in categories or [""]:
                self.searches[(day, area, category, "searches")] += 1
                if unmet_row is not None:
                    self.searches[(day, area, category, "unmet")] += 1
            if unmet_row is not None and len(self.unmet) < MAX_PENDING_ROWS:
                self.unmet.append({"day": day, **unmet_row})
        self._ensure_thread()

    def _ensure_thread(self) -> None:
        """One flusher thread per process (started lazily, so a forked worker gets its own)."""
        interval = float(self.app.config["INSIGHT_FLUSH_SECONDS"])
        if interval <= 0 or self._thread_pid == os.getpid():
            return
        with self.lock:
            if self._thread_pid == os.getpid():
                return
            self._thread_pid = os.getpid()
        threading.Thread(target=self._run, args=(interval,), name="insight-flush",
                         daemon=True).start()
        atexit.register(self.flush_in_app)

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.flush_in_app()

    def stop(self) -> None:
        self._stop.set()

    def flush_in_app(self) -> int:
        with self.app.app_context():
            try:
                return self.flush()
            except Exception:  # noqa: BLE001 - kept for the next flush, never lost silently
                log.exception("insight: could not write counts; keeping them for the next try")
                return 0

    def flush(self) -> int:
        """Write everything pending in one transaction; on failure put it back. Returns rows."""
        with self.lock:
            usage, searches, unmet = self.usage, self.searches, self.unmet
            self.usage, self.searches, self.unmet = Counter(), Counter(), []
        if not (usage or searches or unmet):
            return 0
        try:
            written = _write(usage, searches, unmet)
            db.session.commit()
        except Exception:
            db.session.rollback()
            with self.lock:
                self.usage.update(usage)
                self.searches.update(searches)
                self.unmet[:0] = unmet[:MAX_PENDING_ROWS - len(self.unmet)]
            raise
        return written


def _upsert(model: Any, keys: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Add each row's numbers to the existing row with the same keys (or insert it)."""
    if not rows:
        return
    insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" \
        else sqlite_insert
    statement = insert(model).values(rows)
    numbers = [name for name in rows[0] if name not in keys]
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: getattr(model, name) + statement.excluded[name] for name in numbers})
    db.session.execute(statement)


def _activity_uuids(usage: Counter) -> dict[tuple[str, str], list[str]]:
    """(key kind, key) → the listings it names: slugs and print-sheet tokens resolved in bulk."""
    from ..connect.models import Recommendation, RecommendationItem

    slugs = {key for kind, key, _day, _event in usage if kind == "slug"}
    tokens = {key for kind, key, _day, _event in usage if kind == "token"}
    uuids = {key: [key] for kind, key, _day, _event in usage if kind == "uuid"}
    names: dict[tuple[str, str], list[str]] = {("uuid", k): v for k, v in uuids.items()}
    if slugs:
        for slug, uuid in db.session.execute(
                select(Activity.slug, Activity.uuid).where(Activity.slug.in_(slugs))):
            names[("slug", slug)] = [uuid]
    if tokens:
        for token, uuid in db.session.execute(
                select(Recommendation.token, RecommendationItem.activity_uuid)
                .join(RecommendationItem.recommendation).where(Recommendation.token.in_(tokens))):
            names.setdefault(("token", token), []).append(uuid)
    return names


def _write(usage: Counter, searches: Counter, unmet: list[dict[str, Any]]) -> int:
    names = _activity_uuids(usage) if usage else {}
    per_listing: Counter[tuple[str, dt.date, str]] = Counter()
    for (kind, key, day, event), count in usage.items():
        for uuid in names.get((kind, key), []):  # a slug deleted meanwhile counts for nobody
            per_listing[(uuid, day, event)] += count
    _upsert(UsageCount, ("activity_uuid", "day", "event"),
            [{"activity_uuid": uuid, "day": day, "event": event, "count": count}
             for (uuid, day, event), count in per_listing.items()])
    grouped: dict[tuple[dt.date, str, str], dict[str, int]] = {}
    for (day, area, category, column), count in searches.items():
        grouped.setdefault((day, area, category), {"searches": 0, "unmet": 0})[column] += count
    _upsert(SearchCount, ("day", "area", "category"),
            [{"day": day, "area": area, "category": category, **numbers}
             for (day, area, category), numbers in grouped.items()])
    if unmet:
        db.session.execute(UnmetSearch.__table__.insert(), [
            {"day": row["day"], "words": normalise_words(row["text"]), "filters": row["filters"],
             "area": row["area"], "results": row["results"]} for row in unmet])
    return len(per_listing) + len(grouped) + len(unmet)


# ---- the hooks ---------------------------------------------------------------------------------

def recorder() -> Recorder:
    return current_app.extensions[EXTENSION_KEY]


def on_search(sender: Flask, parsed: Any, result: Any, **_extra: Any) -> None:
    """A first page of results: count it for its area and category; keep it if it was unmet."""
    if parsed.request.page != 1 or is_bot(request.user_agent.string):
        return
    area = area_of(parsed.place)
    unmet_row = None
    if result.total < UNMET_BELOW:
        # The words are normalised at flush time, in the background, not in the request.
        unmet_row = {"text": parsed.request.text, "filters": describe_filters(parsed),
                     "area": area, "results": int(result.total)}
    recorder().count_search(area, parsed.filters.get("category", []), unmet_row)


def after_request(response: Response) -> Response:
    """Count a listing's page, calendar file or print sheet served to a person."""
    counted = ENDPOINT_EVENTS.get(request.endpoint or "")
    # 304: a person's browser checking its cached copy (ETag) is a view too.
    if counted is None or request.method != "GET" or response.status_code not in (200, 304):
        return response
    key_kind, event = counted
    key = (request.view_args or {}).get(key_kind)
    if key and not is_bot(request.user_agent.string):
        recorder().count_event(key_kind, str(key), event)
    return response
