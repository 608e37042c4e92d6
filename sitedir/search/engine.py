"""Search: a query in, ids + scores + snippets + facet counts + distances out.

Views never see a Whoosh object. The process keeps one searcher and refreshes it per request
(opening one costs ~50 ms at 20k listings). Filters, the distance prefilter and facet counts are
bitmaps (Python ints, one bit per document) built from postings and cached per searcher, so a
facet count is one AND and one popcount, and words are matched and ranked the same way (see
`_rank`). Word bitmaps and phrase answers are also kept per segment, so a commit re-reads only
its new segment. Whoosh analyses, parses and stores; phrases are checked here from the
postings' positions (`SearcherCache.phrase_bits`); snippets.py marks snippets.
"""
from __future__ import annotations

import datetime as dt
import heapq
import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from markupsafe import Markup
from whoosh.query import And, AndNot, Not, NullQuery, NumericRange, Or, Query, Term
from whoosh.searching import Searcher

from .. import geo, indexing
from ..vocabulary import Vocabulary
from . import snippets, spelling, words as search_words
from .query import AND_PARSER, OR_PARSER, normal_title, parse_query
from .words import FIELD_WEIGHTS, Concept, Matched

FACET_FIELDS = ("category", "helps", "cost", "day", "time", "format", "join", "access")
SORTS = ("relevance", "distance", "name", "reviewed")
# Terms whose bitmaps are all kept (a bounded set: filter values, statuses, grid cells); any
# other term (words, exact titles typed) goes through an LRU, since people type without end.
KEPT_FIELDS = frozenset(FACET_FIELDS + ("status", "located", "cell"))
# Stale, full and on-a-break listings sink below open ones that match as well; never hidden.
SINK_FACTOR = 0.5
EXACT_TITLE_BONUS = 1e6  # the listing whose title is exactly the query comes first
PHRASE_WEIGHT = 1.5  # the words typed, in order, in a title, summary or description
MAX_TIERS = 512  # score groups; beyond this, lighter words stop refining the order
WORD_CACHE_SIZE = 2048  # word bitmaps kept per searcher (N/8 bytes each: 12 KB at 100k)
SEGMENT_WORD_CACHE_SIZE = 2048  # and per segment, so they outlive a commit
MATCH_CACHE_SIZE = 256  # recent queries' match bitmaps kept per searcher (N/8 bytes each)
# A phrase is checked among the candidates alone up to this many, or when they are under
# 1/PHRASE_WHOLE_SHARE of a segment's documents holding the words; else the whole segment, kept.
PHRASE_ALONE_UP_TO = 300
PHRASE_WHOLE_SHARE = 4
MAX_MAP_POINTS = 1000  # more markers than this make the map slow and unreadable


@dataclass
class SearchRequest:
    """What to look for; every field has the meaning of the URL parameter of the same name."""

    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)  # facet field → chosen keys
    age: int | None = None
    near: tuple[float, float] | None = None
    radius_miles: float | None = None
    include_online: bool = True
    sort: str = ""  # "" picks relevance with words, distance with a place, name otherwise
    page: int = 1
    per_page: int = 20
    want_points: bool = False  # every result's point, for the map
    correct_spelling: bool = True  # run a confident correction when the words find nothing


class IndexUnavailable(RuntimeError):
    """The index is empty or cannot be read (a fresh install before `flask index rebuild`)."""


@dataclass
class Hit:
    """One result: the activity's uuid, its score, distance and a highlighted snippet."""

    uuid: str
    score: float
    distance_miles: float | None
    latitude: float | None
    longitude: float | None
    snippet: Markup | None


@dataclass
class SearchResult:
    total: int
    page: int
    pages: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    suggestion: str | None  # "did you mean" text, when a spelling looks wrong
    sort: str
    matched_all_words: bool = True
    also_showing: list[str] = field(default_factory=list)  # other words that found results
    corrected_from: str | None = None  # the words typed, when a correction was searched
    searched_text: str = ""  # the words searched (the correction, when there was one)
    unmatched_words: list[str] = field(default_factory=list)  # typed words nothing had
    # Every result's point (uuid, lat, lon), for the map of all results, not just this page.
    points: list[tuple[str, float, float]] = field(default_factory=list)


# ---- bitmaps ----------------------------------------------------------------------------------

def bits_from_docs(docs: Iterable[int]) -> int:
    """A bitmap with the given document numbers set."""
    docs = docs if isinstance(docs, (list, tuple)) else list(docs)
    if not docs:
        return 0
    array = bytearray((max(docs) >> 3) + 1)
    for doc in docs:
        array[doc >> 3] |= 1 << (doc & 7)
    return int.from_bytes(array, "little")


def posting_values(matcher: Any, wanted: set[int]) -> dict[int, bytes]:
    """The raw posting values (positions, for a phrase) of the wanted documents, read a block
    at a time: skip_to() and value_as() per document were most of a phrase check."""
    if not hasattr(matcher, "_read_ids"):  # a one-posting term kept in the term info
        return {doc: matcher.value() for doc in matcher.all_ids() if doc in wanted}
    found: dict[int, bytes] = {}
    targets = sorted(wanted)
    next_target = 0  # the first wanted document not yet passed
    while matcher.is_active() and next_target < len(targets):
        last = matcher.block_max_id()
        if last >= targets[next_target]:  # else the block holds none of them: not even read
            if matcher._ids is None:
                matcher._read_ids()
            ids = matcher._ids
            hits = [index for index in range(matcher._i, len(ids)) if ids[index] in wanted]
            if hits:
                if matcher._values is None:
                    matcher._read_values()
                values = matcher._values
                for index in hits:
                    found[ids[index]] = values[index]
            while next_target < len(targets) and targets[next_target] <= last:
                next_target += 1
        matcher._next_block()
    return found


def posting_ids(matcher: Any) -> list[int]:
    """A term's document numbers from its raw matcher, a block at a time: Whoosh's all_ids()
    steps one posting at a time in Python, most of the first search of a common word."""
    if not hasattr(matcher, "_read_ids"):  # a one-posting term kept in the term info
        return list(matcher.all_ids())
    found: list[int] = []
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        found.extend(matcher._ids[matcher._i:])
        matcher._next_block()
    return found


_BITS_OF_BYTE = [tuple(i for i in range(8) if value >> i & 1) for value in range(256)]


def docs_from_bits(bits: int) -> list[int]:
    """The document numbers set in a bitmap, ascending."""
    docs: list[int] = []
    if bits <= 0:
        return docs
    data = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    for position, value in enumerate(data):
        if value:
            base = position << 3
            docs.extend(base + i for i in _BITS_OF_BYTE[value])
    return docs


class _SegmentData:
    """What one index segment contributes, without its deletions: bitmaps, columns, orders.

    Segments never change once written (deletions are kept apart), so this survives refreshes:
    after a commit only the new small segment is read, not the whole index again (the first
    search after a commit at 100k listings was 436 ms when word bitmaps and the name order were
    rebuilt for the whole index).
    """

    def __init__(self) -> None:
        self.bits: dict[tuple[str, str], int] = {}  # filter terms: few, all kept
        self.words: OrderedDict[tuple[str, str], int] = OrderedDict()  # word terms: an LRU
        self.columns: dict[str, list[Any]] = {}
        self.orders: dict[str, list[int]] = {}  # sort → the segment's documents in that order
        self.stale: dict[int, int] = {}  # first fresh day → documents reviewed before it
        self.terms: dict[str, list[str]] = {}  # facet field → its terms in this segment
        # (field, stems) → documents with the stems in a row: an LRU like the words
        self.phrases: OrderedDict[tuple[str, tuple[str, ...]], int] = OrderedDict()


_SEGMENTS: OrderedDict[str, _SegmentData] = OrderedDict()
_SEGMENTS_LOCK = threading.Lock()
MAX_SEGMENTS_KEPT = 64  # across all indexes and threads of the process


def _segment_data(segment_id: str) -> _SegmentData:
    with _SEGMENTS_LOCK:
        data = _SEGMENTS.get(segment_id)
        if data is None:
            data = _SEGMENTS[segment_id] = _SegmentData()
            if len(_SEGMENTS) > MAX_SEGMENTS_KEPT:
                _SEGMENTS.popitem(last=False)
        else:
            _SEGMENTS.move_to_end(segment_id)
        return data


def _raw_matcher(leaf: Any, fieldname: str, text: str) -> Any:
    """A segment's raw postings of one term: SegmentReader.postings() would filter out
    deletions, which change with every update, and what is read from these is kept."""
    return leaf._terms.matcher(fieldname, leaf._text_to_bytes(fieldname, text),
                               leaf.schema[fieldname].format)


def _leaf_phrase(leaf: Any, fieldname: str, stems: list[str], local: int) -> int:
    """Which of a segment's documents in `local` (each holding every stem) have the stems in
    a row, by their positions."""
    wanted = set(docs_from_bits(local))
    decode = leaf.schema[fieldname].format.decoder("positions")
    values = {stem: posting_values(_raw_matcher(leaf, fieldname, stem), wanted)
              for stem in set(stems)}
    rest = list(enumerate(stems[1:], 1))
    found = 0
    for doc in wanted:  # every one holds every stem: the bitmaps said so
        at = {stem: set(decode(found_values[doc])) for stem, found_values in values.items()}
        if any(all(start + step in at[stem] for step, stem in rest) for start in at[stems[0]]):
            found |= 1 << doc
    return found


class SearcherCache:
    """Bitmaps and per-document columns for one searcher generation (discarded with it)."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self._bits: dict[tuple[str, str], int] = {}
        self._words: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._queries: dict[Any, Any] = {}
        self._matches: OrderedDict[Any, int] = OrderedDict()
        self._columns: dict[str, list[Any]] = {}
        self._leaves = [(leaf, offset, _segment_data(leaf.segment().segment_id()))
                        for leaf, offset in self.reader.leaf_readers()
                        if leaf.doc_count_all() and hasattr(leaf, "segment")]
        self.live = 0
        for leaf, offset, _data in self._leaves:
            whole = (1 << leaf.doc_count_all()) - 1
            self.live |= (whole & ~bits_from_docs(leaf.deleted_docs_set)) << offset
        self.searchable = self.live & ~self.term_bits("status", "closed")

    def term_bits(self, fieldname: str, text: str) -> int:
        """Documents containing a term; facet terms are kept, word terms in a bounded LRU."""
        key = (fieldname, text)
        store = self._bits if fieldname in KEPT_FIELDS else self._words
        found = store.get(key)
        if found is None:
            found = 0
            for leaf, offset, data in self._leaves:
                found |= self._leaf_bits(leaf, data, key, words=store is self._words) << offset
            found &= self.live
            store[key] = found
            if store is self._words and len(store) > WORD_CACHE_SIZE:
                self._words.popitem(last=False)
        elif store is self._words:
            self._words.move_to_end(key)
        return found

    @staticmethod
    def _leaf_bits(leaf: Any, data: _SegmentData, key: tuple[str, str], words: bool) -> int:
        """A segment's postings of one term, deletions included (they are masked by `live`)."""
        store = data.words if words else data.bits
        found = store.get(key)
        if found is None:
            fieldname, text = key
            found = 0
            if key in leaf:
                found = bits_from_docs(posting_ids(_raw_matcher(leaf, fieldname, text)))
            with _SEGMENTS_LOCK:  # segment data is shared by every index reader of the process
                store[key] = found
                if words and len(store) > SEGMENT_WORD_CACHE_SIZE:
                    store.popitem(last=False)
        elif words:
            with _SEGMENTS_LOCK:
                if key in store:
                    store.move_to_end(key)
        return found

    def phrase_bits(self, fieldname: str, stems: list[str], within: int) -> int:
        """Documents of `within` that have the stems one after another in a field: what
        Whoosh's Phrase finds, reading positions only of documents that hold every stem.

        Whoosh's Phrase walked every document with all the words in the whole index, a third
        of a search the page cache did not have even when a place or filters left a few
        candidates. Per segment: an answer kept from before is used; few candidates, or a
        small share of the documents holding the words (a place search), are checked on
        their own; otherwise (a search with no place) the whole segment is checked once and
        its answer kept with the segment, so it outlives a commit as the word bitmaps do."""
        holding = self.live
        for stem in set(stems):
            holding &= self.term_bits(fieldname, stem)
        key = (fieldname, tuple(stems))
        found = 0
        for leaf, offset, data in self._leaves if holding & within else ():
            in_segment = holding >> offset & (1 << leaf.doc_count_all()) - 1
            local = in_segment & within >> offset
            if not local:
                continue
            with _SEGMENTS_LOCK:
                kept = data.phrases.get(key)
                if kept is not None:
                    data.phrases.move_to_end(key)
            count = local.bit_count()
            if kept is None and count > PHRASE_ALONE_UP_TO \
                    and count * PHRASE_WHOLE_SHARE >= in_segment.bit_count():
                kept = self._segment_phrase(leaf, data, key)
            if kept is not None:
                found |= (kept & local) << offset
            else:
                found |= _leaf_phrase(leaf, fieldname, stems, local) << offset
        return found

    def _segment_phrase(self, leaf: Any, data: _SegmentData,
                        key: tuple[str, tuple[str, ...]]) -> int:
        """A segment's documents with the stems in a row (deletions included, as _leaf_bits),
        kept with the segment's other data."""
        fieldname, stems = key
        holding = -1
        for stem in set(stems):
            holding &= self._leaf_bits(leaf, data, (fieldname, stem), words=True)
        found = _leaf_phrase(leaf, fieldname, list(stems), holding) if holding > 0 else 0
        with _SEGMENTS_LOCK:
            data.phrases[key] = found
            if len(data.phrases) > SEGMENT_WORD_CACHE_SIZE:
                data.phrases.popitem(last=False)
        return found

    def query_bits(self, key: Any, query: Query) -> int:
        """Documents matching a query, remembered for the most recent MATCH_CACHE_SIZE queries."""
        found = self._matches.get(key)
        if found is None:
            found = bits_from_docs(self.searcher.docs_for_query(query))
            self._matches[key] = found
            if len(self._matches) > MATCH_CACHE_SIZE:
                self._matches.popitem(last=False)
        else:
            self._matches.move_to_end(key)
        return found

    def column(self, fieldname: str) -> list[Any]:
        """Every document's value of a column field (deleted ones too), by document number."""
        if fieldname not in self._columns:
            values: list[Any] = []
            for leaf, _offset, data in self._leaves:
                values.extend(self._leaf_column(leaf, data, fieldname))
            self._columns[fieldname] = values
        return self._columns[fieldname]

    def stale_bits(self, fresh_since: int) -> int:
        """Documents last reviewed before the given day number."""
        key = ("__stale__", fresh_since)
        if key not in self._queries:
            found = 0
            for leaf, offset, data in self._leaves:
                local = data.stale.get(fresh_since)
                if local is None:
                    reviewed = self._leaf_column(leaf, data, "reviewed")
                    local = data.stale[fresh_since] = bits_from_docs(
                        doc for doc, day in enumerate(reviewed) if day < fresh_since)
                found |= local << offset
            self._queries[key] = found
        return self._queries[key]

    def _leaf_column(self, leaf: Any, data: _SegmentData, fieldname: str) -> list[Any]:
        if fieldname not in data.columns:
            data.columns[fieldname] = list(leaf.column_reader(fieldname))
        return data.columns[fieldname]

    def sort_key(self, sort: str) -> Callable[[int], Any]:
        """A document's place in name order, or in "most recently reviewed first" order."""
        titles = self.column("title_sort")
        if sort == "reviewed":
            reviewed = self.column("reviewed")
            return lambda doc: (-reviewed[doc], titles[doc])
        return titles.__getitem__

    def ordered(self, sort: str) -> Iterator[int]:
        """Every document (closed and deleted ones too: callers filter) in `sort` order, lazily.

        Each segment's order is sorted once and kept with the segment; the index's order is
        their merge, walked only as far as the caller reads (a page of browsing reads a few
        hundred), so a commit costs a sort of the new segment only."""
        key = ("__runs__", sort)
        runs = self._queries.get(key)
        if runs is None:
            runs = []
            for leaf, offset, data in self._leaves:
                local = data.orders.get(sort)
                if local is None:
                    titles = self._leaf_column(leaf, data, "title_sort")
                    if sort == "reviewed":
                        reviewed = self._leaf_column(leaf, data, "reviewed")
                        local = sorted(range(len(titles)),
                                       key=lambda d: (-reviewed[d], titles[d]))
                    else:
                        local = sorted(range(len(titles)), key=titles.__getitem__)
                    data.orders[sort] = local
                runs.append(local if not offset else [offset + doc for doc in local])
            self._queries[key] = runs
        if len(runs) == 1:
            return iter(runs[0])
        # Ties keep document order: merge prefers the earlier segment, and each run is stable.
        return heapq.merge(*runs, key=self.sort_key(sort))

    def field_terms(self, fieldname: str) -> list[str]:
        """Every term of a (facet) field, in order; each segment's are read once and kept."""
        key = ("__terms__", fieldname)
        if key not in self._queries:
            found: set[str] = set()
            for leaf, _offset, data in self._leaves:
                terms = data.terms.get(fieldname)
                if terms is None:
                    terms = data.terms[fieldname] = [_text(t) for t in leaf.lexicon(fieldname)]
                found.update(terms)
            self._queries[key] = sorted(found)
        return self._queries[key]


# ---- the searcher of the process ---------------------------------------------------------------

class SearchService:
    """One index directory, one searcher (and its cache) per process, shared by its threads.

    A cache per thread made memory grow with the thread count (waitress's 8 threads kept 8
    copies of every bitmap and column: 637 MB at 20k listings) and made every thread rebuild
    its own after each commit. Searches hold a lock while they read the index: the searcher's
    files and the caches' LRU dicts are not safe to share unguarded, and a search is a few
    milliseconds of pure Python, which the GIL would serialise anyway; rendering and SQL, the
    larger part of a request, run outside it.
    """

    def __init__(self, path_getter: Callable[[], Any], stale_after_days: int = 365,
                 vocabulary_getter: Callable[[], Vocabulary] = Vocabulary) -> None:
        self._path_getter = path_getter
        self._stale_after_days = stale_after_days
        self._vocabulary = vocabulary_getter  # the words people use, read at query time
        self._lock = threading.RLock()
        self._current: SearcherCache | None = None

    def cache(self) -> SearcherCache:
        """The process's up-to-date searcher cache, opening or refreshing as needed."""
        with self._lock:
            current = self._current
            for attempt in range(20):
                try:
                    if current is None:
                        ix = indexing.open_index(self._path_getter())
                        current = SearcherCache(ix.searcher())
                    else:
                        current = self._refreshed(current)
                    break
                except (FileNotFoundError, OSError, EOFError, ValueError):
                    # A commit deleted the files this searcher or TOC named: start afresh.
                    if current is not None:
                        _close_quietly(current.searcher)
                    current = None
                    if attempt == 19:
                        self._current = None
                        raise
                    time.sleep(0.005 * (attempt + 1))
            self._current = current
            return current

    def _refreshed(self, current: SearcherCache) -> SearcherCache:
        """The same cache while the index is unchanged, else one on a newly opened searcher.

        Not Searcher.refresh(): Whoosh-Reloaded 2.7.5's reader reuse adds the old reader's
        segments to the new ones, so after a merge or a rebuild every document was found
        twice. Segment data is cached by segment id anyway (_segment_data), so a new
        searcher re-reads only what changed.
        """
        ix = current.searcher._ix  # the FileIndex it came from; re-reads the TOC each time
        if ix.latest_generation() == current.reader.generation():
            return current
        fresh = SearcherCache(ix.searcher())
        _close_quietly(current.searcher)
        return fresh

    def version(self) -> tuple[int, int]:
        """What search results depend on besides the request: the index generation and the
        vocabulary in use. A page kept under an older version is stale."""
        vocab = self._vocabulary()
        with self._lock:
            return self.cache().reader.generation(), id(vocab)

    def close(self) -> None:
        """Close the process's searcher (tests, shutdown)."""
        with self._lock:
            if self._current is not None:
                _close_quietly(self._current.searcher)
                self._current = None

    def search(self, request: SearchRequest) -> SearchResult:
        """Run a search; a moved-away segment file mid-query is retried on a fresh searcher."""
        for attempt in range(3):
            try:
                vocab = self._vocabulary()
                with self._lock:
                    return _run(self.cache(), request, self._stale_after_days, vocab)
            except (FileNotFoundError, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def matching_uuids(self, text: str) -> set[str] | None:
        """The uuid of every indexed listing, closed ones included, that has all these words;
        None when the words hold nothing searchable (only stop words, a lone AND). No ranking,
        no snippets. Raises IndexUnavailable when the index is empty or unreadable."""
        if not parse_query(text, AND_PARSER):
            return None
        vocab = self._vocabulary()
        for _attempt in range(2):
            try:
                with self._lock:
                    cache = self.cache()
                    if not cache.live:
                        break
                    bits = _words_bits(cache, text, vocab) & cache.live
                    uuids = cache.column("uuid")
                    return {_text(uuids[doc]) for doc in docs_from_bits(bits)}
            except (OSError, EOFError, ValueError):
                self.close()  # a commit moved files under this searcher: open a fresh one
        raise IndexUnavailable("the search index is empty or unreadable")


def _close_quietly(searcher: Searcher) -> None:
    try:
        searcher.close()
    except Exception:  # noqa: BLE001 - already broken; nothing more to release
        pass


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


# ---- running a search ------------------------------------------------------------------------

def _filter_bits(cache: SearcherCache, request: SearchRequest) -> dict[str, int]:
    """One bitmap per active filter: within a filter the choices are ORed, across them ANDed."""
    pieces: dict[str, int] = {}
    for fieldname, values in request.filters.items():
        if values:
            bits = 0
            for value in values:
                bits |= cache.term_bits(fieldname, value)
            pieces[fieldname] = bits
    if request.age is not None:
        age = request.age
        pieces["age"] = cache.query_bits(("age", age), And([
            NumericRange("age_min", None, age), NumericRange("age_max", age, None)]))
    return pieces


def _near_bits(cache: SearcherCache, request: SearchRequest,
               base: int) -> tuple[int, dict[int, float]]:
    """Listings within the radius (grid-cell prefilter, exact haversine), plus online ones."""
    assert request.near is not None
    lat, lon = request.near
    distances: dict[int, float] = {}
    located = cache.term_bits("located", "1")
    if request.radius_miles is None:
        candidates = base & located
    else:
        cells = 0
        for cell in geo.grid_cells_covering(lat, lon, request.radius_miles):
            cells |= cache.term_bits("cell", cell)
        candidates = base & cells
    lats, lons = cache.column("lat_e6"), cache.column("lon_e6")
    within = []
    limit = request.radius_miles if request.radius_miles is not None else math.inf
    for doc in docs_from_bits(candidates):
        miles = geo.haversine_miles(lat, lon, lats[doc] / 1e6, lons[doc] / 1e6)
        if miles <= limit:
            distances[doc] = miles
            within.append(doc)
    bits = bits_from_docs(within)
    if request.include_online:
        bits |= base & ~located & (cache.term_bits("format", "online")
                                   | cache.term_bits("format", "phone"))
    return bits, distances


def _units(query: Query) -> list[Query]:
    """The positive leaves of a query (words per field, phrases): what a match is scored on."""
    if isinstance(query, (And, Or)):
        return [unit for sub in query.subqueries for unit in _units(sub)]
    if isinstance(query, AndNot):
        return _units(query.a)
    if isinstance(query, Not) or query is NullQuery:
        return []
    return [query]


def _rank(cache: SearcherCache, query: Query, candidates: int,
          request: SearchRequest, stale_after_days: int) -> list[tuple[float, int]]:
    """Score tiers, best first: (score, bitmap of the documents with that score).

    A match scores the field weight times the IDF of each word or phrase it contains, a bit
    lower when stale, and far higher when its title is exactly the words typed. Scores are
    computed for whole groups at once by splitting the candidate bitmap on each word's bitmap,
    so ranking every match costs bitmap operations, not a loop over documents.
    """
    live = max(1, cache.searchable.bit_count())
    weighted = []
    for unit in _units(query):
        everywhere = match_bits(cache, unit)
        if everywhere & candidates:
            field_weight = FIELD_WEIGHTS.get(getattr(unit, "fieldname", ""), 1.0)
            idf = math.log(1 + live / everywhere.bit_count())
            weighted.append((field_weight * idf, everywhere & candidates))
    weighted.sort(key=lambda pair: -pair[0])
    tiers = [(0.0, candidates)]
    for weight, bits in weighted:
        if len(tiers) > MAX_TIERS:  # many words: the lightest ones no longer split the order
            break
        tiers = _split(tiers, bits, lambda score, w=weight: score + w)
    tiers = _split(tiers, sunk_bits(cache, stale_after_days), _sink)
    exact = cache.term_bits("title_sort", normal_title(request.text))
    tiers = _split(tiers, exact, lambda score: score + EXACT_TITLE_BONUS)
    return sorted(tiers, key=lambda tier: -tier[0])


def sunk_bits(cache: SearcherCache, stale_after_days: int) -> int:
    """Listings that sink on every list: not reviewed lately, full, or on a break."""
    fresh_since = _today().toordinal() - stale_after_days
    return (cache.stale_bits(fresh_since) | cache.term_bits("status", "full")
            | cache.term_bits("status", "on_break"))


def _sink(score: float) -> float:
    """Lower the relevance part of a score, keeping how many of the words it has."""
    covered = score // search_words.COVERAGE_BONUS * search_words.COVERAGE_BONUS
    return covered + (score - covered) * SINK_FACTOR


def _rank_words(cache: SearcherCache, words: _Words, candidates: int,
                stale_after_days: int) -> list[tuple[float, int]]:
    """Score tiers for plain words: each concept's best place, phrase, sinking, exact title."""
    live = max(1, cache.searchable.bit_count())
    tiers = [(0.0, candidates)]
    for concept, matched in zip(words.concepts, words.found):
        if len(tiers) > MAX_TIERS:  # many words: the lightest ones no longer split the order
            break
        tiers = search_words.split_levels(
            tiers, search_words.concept_levels(matched, candidates, live, concept.optional))
        tiers = search_words.split_levels(
            tiers, search_words.mention_levels(matched, candidates, live))
    phrase = _phrase_bits(cache, words.concepts, candidates)
    if phrase:
        gain = PHRASE_WEIGHT * math.log(1 + live / phrase.bit_count())
        tiers = _split(tiers, phrase, lambda score: score + gain)
    tiers = _split(tiers, sunk_bits(cache, stale_after_days), _sink)
    exact = cache.term_bits("title_sort", normal_title(words.text))
    tiers = _split(tiers, exact, lambda score: score + EXACT_TITLE_BONUS)
    return sorted(tiers, key=lambda tier: -tier[0])


PHRASE_FIELDS = ("title", "summary", "body")


def _phrase_bits(cache: SearcherCache, concepts: list[Concept], candidates: int) -> int:
    """Candidates with all the typed words in order in one text field."""
    stems = [stem for concept in concepts for stem in concept.alternatives[0].stems]
    if len(stems) < 2:
        return 0
    found = 0
    for name in PHRASE_FIELDS:
        found |= cache.phrase_bits(name, stems, candidates & ~found)
    return found


def _split(tiers: list[tuple[float, int]], bits: int,
           change: Callable[[float], float]) -> list[tuple[float, int]]:
    """Each tier split in two: its documents in `bits` get a changed score."""
    if not bits:
        return tiers
    result = []
    for score, tier in tiers:
        inside = tier & bits
        if inside:
            result.append((change(score), inside))
        outside = tier & ~bits
        if outside:
            result.append((score, outside))
    return result


def _today() -> dt.date:
    from ..listing import local_now

    return local_now().date()


def _facets(cache: SearcherCache, base: int, pieces: dict[str, int]) -> dict[str, dict[str, int]]:
    """Counts per facet value; a facet's own choices are left out of its counts (so the other
    values show what choosing them as well would add)."""
    facets: dict[str, dict[str, int]] = {}
    everything = base
    for bits in pieces.values():
        everything &= bits
    for fieldname in FACET_FIELDS:
        scope = everything
        if fieldname in pieces:
            scope = base
            for other, bits in pieces.items():
                if other != fieldname:
                    scope &= bits
        facets[fieldname] = {
            value: (scope & cache.term_bits(fieldname, value)).bit_count()
            for value in cache.field_terms(fieldname)}
    return facets


def _page_of(cache: SearcherCache, final: int, sort: str, tiers: list[tuple[float, int]],
             distances: dict[int, float], start: int,
             stop: int) -> tuple[list[int], dict[int, float]]:
    """Documents start..stop of the results in the chosen order, and their scores."""
    titles = cache.column("title_sort")
    if sort == "relevance":
        return _page_of_tiers(cache, tiers, start, stop)
    if sort == "distance":
        ranked = sorted(docs_from_bits(final),
                        key=lambda d: (distances.get(d, math.inf), titles[d]))
        return ranked[start:stop], {}
    # Name and review order do not depend on the query: walk the searcher's presorted list and
    # stop at the page's end, so browsing 100k listings costs no sort.
    return _walk(cache, sort, final, start, stop), {}


def _page_of_tiers(cache: SearcherCache, tiers: list[tuple[float, int]], start: int,
                   stop: int) -> tuple[list[int], dict[int, float]]:
    """Best tier first; within a tier (equal scores), by name."""
    page: list[int] = []
    scores: dict[int, float] = {}
    skipped = 0
    for score, bits in tiers:
        size = bits.bit_count()
        if skipped + size <= start:
            skipped += size
            continue
        offset = max(0, start - skipped)
        taken = _walk(cache, "name", bits, offset, offset + stop - start - len(page))
        page.extend(taken)
        scores.update((doc, score) for doc in taken)
        skipped += size
        if len(page) >= stop - start:
            break
    return page, scores


def _walk(cache: SearcherCache, sort: str, wanted_bits: int, start: int, stop: int) -> list[int]:
    """Items start..stop, in name (or review) order, of the documents set in `wanted_bits`."""
    if wanted_bits.bit_count() * 4 < len(cache.column("title_sort")):
        # Not dense: pick the page from these documents (nsmallest is sorted()[:n], stable).
        # Walking the index's order to find them would pass four or more others per hit.
        return heapq.nsmallest(stop, docs_from_bits(wanted_bits),
                               key=cache.sort_key(sort))[start:]
    wanted = wanted_bits.to_bytes((wanted_bits.bit_length() + 7) // 8 or 1, "little")
    size = len(wanted)
    page: list[int] = []
    seen = 0
    for doc in cache.ordered(sort):
        if doc >> 3 < size and wanted[doc >> 3] >> (doc & 7) & 1:
            if seen >= start:
                page.append(doc)
                if len(page) == stop - start:
                    break
            seen += 1
    return page


def match_bits(cache: SearcherCache, query: Query) -> int:
    """Every document a parsed query matches, as a bitmap, without scoring.

    Words and their AND/OR/NOT are bitmap operations on cached postings (microseconds); only
    phrases and other positional queries go through Whoosh's matchers.
    """
    if isinstance(query, Term):
        return cache.term_bits(query.fieldname, _text(query.text))
    if isinstance(query, And):
        bits = cache.live
        for sub in query.subqueries:
            bits &= match_bits(cache, sub)
        return bits
    if isinstance(query, Or):
        bits = 0
        for sub in query.subqueries:
            bits |= match_bits(cache, sub)
        return bits
    if isinstance(query, AndNot):
        return match_bits(cache, query.a) & ~match_bits(cache, query.b)
    if isinstance(query, Not):
        return cache.live & ~match_bits(cache, query.query)
    if query is NullQuery:
        return 0
    return cache.query_bits(("q", repr(query)), query)


def _text_match(cache: SearcherCache, request: SearchRequest,
                allowed: int) -> tuple[Query | None, int, bool]:
    """The parsed words and every document they match (a bitmap); when no listing has all
    the words, listings with any of them."""
    query = parse_query(request.text, AND_PARSER)
    if query is None:
        return None, 0, True
    matched = match_bits(cache, query)
    if matched & allowed:
        return query, matched, True
    or_query = parse_query(request.text, OR_PARSER)
    if or_query is None:
        return query, matched, True
    or_matched = match_bits(cache, or_query)
    return or_query, or_matched, not or_matched & allowed


@dataclass
class _Words:
    """Plain words read as concepts, and what each matches in this searcher."""

    text: str
    concepts: list[Concept]
    found: list[Matched]
    bits: int = 0  # what the search shows: every concept, or (when nothing has all) any
    all_words: bool = True
    corrected_from: str | None = None
    suggestion: str | None = None

    @property
    def unmatched(self) -> list[str]:
        return [c.text for c, m in zip(self.concepts, self.found)
                if not m.bits and not c.optional]

    def snippet_query(self) -> Query:
        return Or([Term("body", stem) for concept in self.concepts
                   for alternative in concept.alternatives for stem in alternative.stems])


def read_concepts(cache: SearcherCache, text: str,
                  vocab: Vocabulary) -> tuple[list[Concept], list[Matched]]:
    """Plain words → concepts (vocabulary and word forms added) and where each is found."""
    concepts = search_words.read_words(text, vocab, indexing.SCHEMA["title"].analyzer)
    search_words.add_word_forms(cache, concepts)
    return concepts, [search_words.match(cache, concept) for concept in concepts]


def _all_of(cache: SearcherCache, concepts: list[Concept], found: list[Matched]) -> int:
    """Listings with every concept that matters (sentence words are optional)."""
    bits = cache.live
    for concept, matched in zip(concepts, found):
        if not concept.optional:
            bits &= matched.bits
    return bits


def _any_of(concepts: list[Concept], found: list[Matched]) -> int:
    bits = 0
    for concept, matched in zip(concepts, found):
        if not concept.optional:
            bits |= matched.bits
    return bits


def _word_match(cache: SearcherCache, request: SearchRequest, allowed: int,
                vocab: Vocabulary) -> _Words | None:
    """Plain words: every concept if any listing has them all, else any; with spelling help."""
    concepts, found = read_concepts(cache, request.text, vocab)
    if not concepts:
        return None
    words = _Words(request.text, concepts, found)
    typed_count = (_all_of(cache, concepts, found) & allowed).bit_count()
    corrected = spelling.correct(cache, request.text, words.concepts, words.found, allowed,
                                 vocab) \
        if any(not m.bits & cache.searchable for m in found) else None
    if corrected is not None:
        text, new_concepts, new_found, confident = corrected
        count = (_all_of(cache, new_concepts, new_found) & allowed).bit_count()
        if count and not typed_count and confident and request.correct_spelling:
            words = _Words(text, new_concepts, new_found, corrected_from=request.text)
        elif count > typed_count:
            words.suggestion = text
    words.bits = _all_of(cache, words.concepts, words.found)
    if not words.bits & allowed and len(words.found) > 1:
        words.all_words = False
        words.bits = _any_of(words.concepts, words.found)
    return words


def _words_bits(cache: SearcherCache, text: str, vocab: Vocabulary) -> int:
    """Every listing with all the words, read as the search page reads them (vocabulary,
    word forms; no spelling correction and no falling back to some of the words)."""
    if search_words.has_syntax(text):
        query = parse_query(text, AND_PARSER)
        return 0 if query is None else match_bits(cache, query)
    concepts, found = read_concepts(cache, text, vocab)
    return _all_of(cache, concepts, found) if concepts else 0


def _hits(cache: SearcherCache, docs: list[int], scores: dict[int, float],
          distances: dict[int, float], query: Query | None) -> list[Hit]:
    lats, lons = cache.column("lat_e6"), cache.column("lon_e6")
    located = cache.term_bits("located", "1")
    uuids = cache.column("uuid")
    terms = _snippet_terms(query) if query is not None else set()
    hits = []
    for doc in docs:
        has_point = bool(located >> doc & 1)
        hits.append(Hit(
            uuid=_text(uuids[doc]), score=scores.get(doc, 0.0), distance_miles=distances.get(doc),
            latitude=lats[doc] / 1e6 if has_point else None,
            longitude=lons[doc] / 1e6 if has_point else None,
            # Stored text is read only for a snippet: unpickling it is the slow part of a hit.
            snippet=snippets.snippet(cache.searcher.stored_fields(doc).get("body") or "", terms)
            if terms else None))
    return hits


def _points(cache: SearcherCache, final: int) -> list[tuple[str, float, float]]:
    lats, lons, uuids = cache.column("lat_e6"), cache.column("lon_e6"), cache.column("uuid")
    located = final & cache.term_bits("located", "1")
    return [(_text(uuids[doc]), lats[doc] / 1e6, lons[doc] / 1e6)
            for doc in docs_from_bits(located)[:MAX_MAP_POINTS]]


def _run(cache: SearcherCache, request: SearchRequest, stale_after_days: int,
         vocab: Vocabulary) -> SearchResult:
    base = cache.searchable
    pieces = _filter_bits(cache, request)
    distances: dict[int, float] = {}
    if request.near is not None:
        near, distances = _near_bits(cache, request, base)
        base &= near
    final = base
    for bits in pieces.values():
        final &= bits
    start = (request.page - 1) * request.per_page
    query, matched_all_words, tiers, words = None, True, [], None
    if request.text and not search_words.has_syntax(request.text):
        words = _word_match(cache, request, final, vocab)
        if words is not None:
            base &= words.bits
            final &= words.bits
            matched_all_words = words.all_words
            query = words.snippet_query()
            tiers = _rank_words(cache, words, final, stale_after_days)
    elif request.text:
        query, matched, matched_all_words = _text_match(cache, request, final)
        base &= matched
        final &= matched
        if query is not None:
            tiers = _rank(cache, query, final, request, stale_after_days)
    sort = request.sort or "relevance"
    if sort == "relevance" and query is None:
        sort = "distance" if request.near else "name"
    total = final.bit_count()
    pages = max(1, math.ceil(total / request.per_page))
    page_docs, scores = _page_of(cache, final, sort, tiers, distances, start,
                                 start + request.per_page)
    result = SearchResult(
        total=total, page=request.page, pages=pages,
        hits=_hits(cache, page_docs, scores, distances, query),
        facets=_facets(cache, base, pieces), suggestion=None, sort=sort,
        matched_all_words=matched_all_words, searched_text=request.text,
        points=_points(cache, final) if request.want_points else [])
    if words is not None:
        result.suggestion = words.suggestion
        result.corrected_from = words.corrected_from
        result.searched_text = words.text
        result.unmatched_words = words.unmatched if not words.all_words else []
        result.also_showing = search_words.also_showing(
            words.concepts, words.found, bits_from_docs(page_docs) & final)
    elif request.text and total < 3:
        result.suggestion = _suggest(cache, request.text)
    return result


def _snippet_terms(query: Query) -> set[str]:
    """The body terms a snippet marks: the same for every hit of a page, so worked out once."""
    return {_text(text) for fieldname, text in query.iter_all_terms() if fieldname == "body"}


_WORD_RE = re.compile(r"[^\W\d_]+")
_SPELLING = indexing.spelling_analyzer()


def _suggest(cache: SearcherCache, text: str) -> str | None:
    """"Did you mean": each unknown word swapped for the commonest indexed word near it."""
    reader = cache.reader
    changed = False
    out = []
    for word in _WORD_RE.findall(text.lower()):
        folded = _SPELLING(word)
        tokens = [t.text for t in folded]
        key = tokens[0] if tokens else word
        if len(key) < 3 or ("spell", key) in reader or word in ("and", "or", "not"):
            out.append(word)
            continue
        best = None
        for distance in (1, 2):
            options = list(reader.terms_within("spell", key, distance, prefix=1))
            if options:
                best = max(options, key=lambda t: (reader.doc_frequency("spell", t), t))
                break
        if best:
            out.append(best)
            changed = True
        else:
            out.append(word)
    return " ".join(out) if changed else None
