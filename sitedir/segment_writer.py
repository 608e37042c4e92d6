"""Write a whole Whoosh segment from documents in one pass: the rebuild's fast path.

Whoosh's own writer spends most of a rebuild on machinery a fresh, complete build does not need:
a token object pushed through a generator per filter for every word, a posting pool sorted
through temporary files, a per-posting field-length lookup at commit and an `add_posting` call
per posting. Here a document only has its words looked up (each distinct word is analysed once
per process: a directory repeats its words) and its values set aside; `finish()` then groups
the whole segment's words into postings with array operations (numpy) and writes each term's
postings, a block at a time, in Whoosh's own file format. The segment holds what Whoosh's writer
would put in it (tests/test_segment_writer.py compares every term, posting, term statistic,
stored field, length and column), so reading, updates and merges are unchanged.

An analyzer made only of parts `fast_form` knows (a regex tokenizer, lower case, a character
map, stop words, a stemmer) gets a fast form; any other indexed field goes through Whoosh's
`field.index()` as before.
"""
from __future__ import annotations

import hashlib
import pickle
import re
import struct
import zlib
from array import array
from functools import partial
from collections.abc import Iterable
from typing import Any, Callable

from whoosh import fields, formats
from whoosh.analysis import (
    CharsetFilter, IDTokenizer, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter,
)
from whoosh.codec import default_codec
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.filedb import filetables
from whoosh.filedb.filetables import md5_hash
from whoosh.index import FileIndex
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.util.numlists import GrowableArray

_group = re.Match.group


class WordAnalysis:
    """A word analyzer as a lookup: each distinct word's term is computed once.

    Made from the analyzer itself (`fast_form`), so the schema stays the one definition of how
    text becomes terms: each filter of the chain becomes a step applied to a word. Terms are
    numbered (`term_ids`, 0 for a word the chain drops) so that a segment's words can be grouped
    as arrays of numbers.
    """

    def __init__(self, pattern: Any, steps: list[Callable[[str], str | None]],
                 renumber: bool) -> None:
        self.words = _word_finder(pattern)
        self._steps = steps
        self.renumber = renumber
        self.terms: list[bytes] = [b""]  # term id → the term's UTF-8 bytes
        self.term_ids = _TermIds(self)

    def term_of(self, word: str) -> str | None:
        """The term a token becomes, or None when the chain drops it (stop word, too short)."""
        term: str | None = word
        for step in self._steps:
            term = step(term)
            if term is None:
                return None
        return term


class _TermIds(dict):
    """word → term id; a word not seen before is analysed on first lookup."""

    def __init__(self, analysis: WordAnalysis) -> None:
        super().__init__()
        self._analysis = analysis
        self._ids: dict[bytes, int] = {}

    def __missing__(self, word: str) -> int:
        term = self._analysis.term_of(word)
        number = 0
        if term is not None:
            encoded = term.encode("utf-8")
            number = self._ids.get(encoded, 0)
            if not number:
                terms = self._analysis.terms
                number = self._ids[encoded] = len(terms)
                terms.append(encoded)
        self[word] = number
        return number


def _word_finder(pattern: Any) -> Callable[[str], list[str]]:
    """A function listing the tokens (whole matches) of a text: `findall` of the pattern with
    its groups made non-capturing (findall is much faster than a Match object per token)."""
    if pattern.groups:
        source = _non_capturing(pattern.pattern)
        plain = None
        if source is not None:
            try:
                plain = re.compile(source, pattern.flags)
            except re.error:
                plain = None
        if plain is None or plain.groups:
            finditer = pattern.finditer
            return lambda text: list(map(_group, finditer(text)))
        pattern = plain
    return pattern.findall


def _non_capturing(source: str) -> str | None:
    """`source` with each capturing group made non-capturing; None where that could change
    what matches (back-references, named groups)."""
    out = []
    index, end = 0, len(source)
    in_class = False
    while index < end:
        char = source[index]
        if char == "\\":
            following = source[index + 1:index + 2]
            if following.isdigit() or following == "g":
                return None
            out.append(source[index:index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            # A ] right after [ or [^ is a literal member of the class.
            lead = 2 if source[index + 1:index + 2] == "^" else 1
            if source[index + lead:index + lead + 1] == "]":
                out.append(source[index:index + lead + 1])
                index += lead + 1
                continue
        elif char == "(":
            if source[index + 1:index + 2] != "?":
                out.append("(?:")
                index += 1
                continue
            if source[index + 2:index + 3] in ("P", "<") and \
                    source[index + 2:index + 4] not in ("<=", "<!"):
                return None  # a named group, or a reference to one
        out.append(char)
        index += 1
    return "".join(out)


def fast_form(analyzer: Any) -> WordAnalysis | None:
    """The analyzer as a WordAnalysis, or None when it has a part this module does not know."""
    parts = list(getattr(analyzer, "items", [analyzer]))
    tokenizer, filters = parts[0], parts[1:]
    if type(tokenizer) is not RegexTokenizer or tokenizer.gaps:
        return None
    steps: list[Callable[[str], str | None]] = []
    renumber = False
    for part in filters:
        kind = type(part)
        if kind is LowercaseFilter:
            steps.append(str.lower)
        elif kind is CharsetFilter:
            steps.append(partial(_translate, charmap=part.charmap))
        elif kind is StopFilter:  # (indexing always removes stop words)
            steps.append(partial(_unless_stopped, stops=part.stops, smallest=part.min,
                                 largest=part.max))
            renumber = renumber or part.renumber
        elif kind is StemFilter:
            steps.append(partial(_stem, stem=part._stem, ignore=part.ignore))
        else:
            return None
    return WordAnalysis(tokenizer.expression, steps, renumber)


def _translate(word: str, charmap: Any) -> str:
    return word.translate(charmap)


def _unless_stopped(word: str, stops: frozenset, smallest: int, largest: int | None) -> str | None:
    if len(word) < smallest or (largest is not None and len(word) > largest) or word in stops:
        return None
    return word


def _stem(word: str, stem: Callable[[str], str], ignore: frozenset) -> str:
    return word if word in ignore else stem(word)


# Whoosh compresses every postings block; the block of a term in a few documents is a few dozen
# bytes, which zlib makes longer, not shorter, at the cost of setting up a compressor each time.
COMPRESS_FROM = 128  # bytes of pickled block data


# Whoosh pickles a block's data with protocol 2, which writes each value's bytes as a call to
# _codecs.encode on a latin-1 string: five times slower to pickle than protocol 4's plain bytes,
# a third larger, and slower to read back. Whoosh reads blocks with pickle.loads, which takes
# any protocol.
BLOCK_PROTOCOL = 4

# A document's stored fields (its uuid, title, digest and text for snippets) are compressed one
# document at a time, where zlib saves little (at 20k listings 10.3 MB became 7.1 MB) and took a
# tenth of a rebuild: they are kept in zlib's uncompressed form, which STORED_COLUMN's reader
# takes as it is (zlib.decompress, a copy).
STORED_LEVEL = 0

SHORT_TEXT = 160  # characters
SHORT_TEXTS_KEPT = 50_000  # per field and segment


class _WordField:
    """A word field's tokens while a segment is built, as term ids (see WordAnalysis)."""

    __slots__ = ("analysis", "tokens", "docs", "counts", "_words", "_lookup", "_short")

    def __init__(self, analysis: WordAnalysis) -> None:
        self.analysis = analysis
        self.tokens = array("i")  # every document's term ids, one after another
        self.docs = array("I")  # the documents that have the field, in order
        self.counts = array("I")  # how many tokens each of those has
        self._words = analysis.words
        self._lookup = analysis.term_ids.__getitem__
        # Short texts repeat (an organisation's name, a venue's place, a set of topics): their
        # term ids are kept, so each is tokenised once.
        self._short: dict[str, list[int]] = {}

    def add(self, docnum: int, text: str) -> None:
        if type(text) is not str:  # (documents come from indexing.to_document)
            raise TypeError(f"expected text, got {type(text).__name__}")
        short = len(text) <= SHORT_TEXT
        ids = self._short.get(text) if short else None
        if ids is None:
            ids = list(map(self._lookup, self._words(text)))  # each token's term id, 0: dropped
            if short and len(self._short) < SHORT_TEXTS_KEPT:
                self._short[text] = ids
        if ids:
            self.tokens.extend(ids)
            self.docs.append(docnum)
            self.counts.append(len(ids))


class _ItemField:
    """Any other indexed field (ids, keywords, numbers): its values, analysed by Whoosh's own
    `field.index()` when the segment is written, once per distinct value."""

    __slots__ = ("field", "docs", "values")

    def __init__(self, field: Any) -> None:
        self.field = field
        self.docs: list[int] = []
        self.values: list[Any] = []

    def add(self, docnum: int, value: Any) -> None:
        self.docs.append(docnum)
        self.values.append(value)


class SegmentBuilder:
    """Adds documents to one new segment of `ix`; `finish()` writes it and returns the segment.

    The caller publishes the returned segments in a TOC (see indexing._build_into)."""

    def __init__(self, ix: FileIndex) -> None:
        self.schema = ix.schema
        self.codec = default_codec()
        self.storage = ix.storage
        self.segment = self.codec.new_segment(self.storage, ix.indexname)
        self._analyses = _text_analyses(self.schema)
        # fieldname → (its collector's add, stored?, its column's values), on first sight
        self._plans: dict[str, tuple] = {}
        self._adders: dict[tuple[str, ...], Callable] = {}  # field names → their _adder
        self._indexed: dict[str, _WordField | _ItemField] = {}
        self._columns: dict[str, list[tuple[int, Any]]] = {}
        # Stored fields go to their column as each document comes (pickled, then in a zlib
        # stream, as STORED_COLUMN keeps them: see STORED_LEVEL), not held until the segment is
        # written. (Made with the first document: a builder given none leaves no files behind.)
        self._perdoc: Any = None
        self._stored: Any = None
        self.docnum = 0

    def _plan(self, fieldname: str) -> tuple:
        field = self.schema[fieldname]
        add = None
        if field.indexed:
            analysis = self._analyses.get(fieldname)
            collected = _WordField(analysis) if analysis is not None else _ItemField(field)
            self._indexed[fieldname] = collected
            add = collected.add
        column = self._columns.setdefault(fieldname, []) if field.column_type else None
        plan = self._plans[fieldname] = (add, bool(field.stored), column)
        return plan

    def _adder(self, names: tuple[str, ...]) -> Callable[[Any, int], dict[str, Any]]:
        """A function adding a document of these fields, in this order, that returns its stored
        fields: one statement per field, made from their plans (looping over the fields and
        looking each one's plan up was a third of the time it took to add a document)."""
        namespace: dict[str, Any] = {}
        lines = []
        for number, name in enumerate(names):
            if name.startswith("_"):  # (Whoosh's writer ignores such names too)
                continue
            add, store, column = self._plans.get(name) or self._plan(name)
            value = f"v{number}"
            lines.append(f"    if {value} is not None:")
            if add is not None:
                namespace[f"add{number}"] = add
                lines.append(f"        add{number}(docnum, {value})")
            if store:
                lines.append(f"        stored[{name!r}] = {value}")
            if column is not None:
                namespace[f"column{number}"] = column.append
                lines.append(f"        column{number}((docnum, {value}))")
            if lines[-1].endswith(":"):
                lines.pop()
        unpack = "".join(f"v{number}, " for number in range(len(names)))
        source = "\n".join(["def add(values, docnum):", "    stored = {}",
                            f"    {unpack}= values" if names else "", *lines, "    return stored"])
        exec(source, namespace)  # noqa: S102 - names are schema fields (_plan refuses others)
        adder = self._adders[names] = namespace["add"]
        return adder

    def add(self, document: dict[str, Any]) -> None:
        """Add one document (the same mapping Whoosh's `add_document` takes)."""
        docnum = self.docnum
        names = tuple(document)
        adder = self._adders.get(names) or self._adder(names)
        stored = adder(document.values(), docnum)
        if stored:
            if self._stored is None:
                self._perdoc = self.codec.per_document_writer(self.storage, self.segment)
                self._stored = self._perdoc._get_column("_stored")._child
            VarBytesColumn.Writer.add(self._stored, docnum, zlib.compress(
                pickle.dumps(stored, 2), STORED_LEVEL))
        self.docnum += 1

    def finish(self) -> Any:
        """Write the postings, lengths, stored fields and columns; returns the Whoosh segment."""
        lengths: dict[str, tuple[dict[int, int], int]] = {}  # field → its length bytes, total
        fieldwriter = self.codec.field_writer(self.storage, self.segment)
        postfile, limit = fieldwriter._postfile, self.codec._blocklimit
        for fieldname in sorted(self._indexed):
            field = self.schema[fieldname]
            collected = self._indexed[fieldname]
            if isinstance(collected, _WordField):
                postings, length_bytes, total = _word_postings(collected, field)
            else:
                postings, length_bytes, total = _item_postings(collected, field)
            fieldwriter.start_field(fieldname, field)
            if postings is not None:
                key = pack_ushort(fieldwriter._fieldid)
                _add_terms(fieldwriter._tindex, [
                    (key + tbytes, terminfo) for tbytes, terminfo in _write_postings(
                        postfile, limit, postings, field.format.fixed_value_size())])
            fieldwriter.finish_field()
            if length_bytes:
                lengths[fieldname] = (length_bytes, total)
        fieldwriter.close()
        self._write_per_document(lengths)
        segment = self.segment
        # Left as separate files, not assembled into one compound file: Whoosh copies each part
        # of a compound file into memory whenever a searcher opens it (BufferFile wraps the
        # mmap in a BytesIO), which at 20k listings doubled a process's memory (242 → 121 MB)
        # and slowed the first search after each commit (30 → 22 ms).
        segment.set_doc_count(self.docnum)
        return segment

    def _write_per_document(self, lengths: dict[str, tuple[dict[int, int], int]]) -> None:
        """Stored fields, field lengths and columns, as Whoosh's per-document writer keeps them."""
        perdoc = self._perdoc or self.codec.per_document_writer(self.storage, self.segment)
        for fieldname, (doc_lengths, total) in lengths.items():
            name = f"_{fieldname}_len"
            perdoc._create_column(name, LENGTHS_COLUMN)
            _write_column(perdoc._get_column(name), LENGTHS_COLUMN,
                          sorted(doc_lengths.items()), self.docnum)
            perdoc._fieldlengths[fieldname] = total
        for fieldname, values in self._columns.items():
            if not values:
                continue
            field = self.schema[fieldname]
            perdoc._create_column(fieldname, field.column_type)
            to_column = field.to_column_value
            _write_column(perdoc._get_column(fieldname), field.column_type,
                          [(docnum, to_column(value)) for docnum, value in values], self.docnum)
        perdoc._doccount = self.docnum
        perdoc._indoc = False
        perdoc.close()


def _add_terms(tindex: Any, items: list[tuple[bytes, bytes]]) -> None:
    """`tindex.add(key, value)` for each of a field's terms, keys in order (an OrderedHashWriter,
    the segment's term index), with one write for them all."""
    if not items:
        return
    if items[0][0] <= tindex.lastkey:
        raise ValueError(f"Keys must increase: {tindex.lastkey!r}..{items[0][0]!r}")
    dbfile, buckets = tindex.dbfile, tindex.buckets
    hashfn = _md5_hash if tindex.hashfn is md5_hash else tindex.hashfn
    position = dbfile.tell()
    positions, records = [], []
    for key, value in items:
        record = _KEY_VALUE_LENGTHS(len(key), len(value)) + key + value
        positions.append(position)
        records.append(record)
        hashed = hashfn(key)
        buckets[hashed & 255].append((hashed, position))
        position += len(record)
    dbfile.write(b"".join(records))
    _extend(tindex.index, positions)
    tindex.lastkey = items[-1][0]


_KEY_VALUE_LENGTHS = filetables._lengths.pack


def _md5_hash(key: bytes) -> int:
    """filetables.md5_hash: the low 32 bits of the key's MD5, read from its last four bytes."""
    return int.from_bytes(hashlib.md5(key, usedforsecurity=False).digest()[-4:], "big")


def _extend(numbers: GrowableArray, more: list[int]) -> None:
    """`numbers.append(n)` for each of `more`: its array retyped once for the largest."""
    if more:
        largest = max(more)
        try:
            array(numbers.array.typecode, [largest])
        except (OverflowError, AttributeError):  # (AttributeError: it is a list already)
            if isinstance(numbers.array, array):
                numbers._retype(largest)
        numbers.array.extend(more)


def _write_column(writer: Any, column: Any, values: list[tuple[int, Any]], count: int) -> None:
    """A column's values (docnum, value), in docnum order, through its writer; a numeric column
    (lengths, coordinates) as one packed run, the bytes its writer makes a value at a time:
    every row up to the last that is not the default; a bytes column (names for sorting) as
    its writer's add() would leave it, in one write."""
    if type(writer) is VarBytesColumn.Writer:
        _write_bytes_column(writer, values)
        return
    if type(column) is not NumericColumn:
        for docnum, value in values:
            writer.add(docnum, value)
        return
    default = column._default
    rows = [default] * count
    for docnum, value in values:
        rows[docnum] = value
    while rows and rows[-1] == default:
        rows.pop()
    writer._dbfile.write(struct.pack(f"!{len(rows)}{column._typecode}", *rows))
    writer._count = len(rows)


def _write_bytes_column(writer: Any, values: list[tuple[int, bytes]]) -> None:
    """VarBytesColumn.Writer.add(docnum, value) for each value, with one write."""
    base, upto = writer._offset_base, writer._count
    lengths: list[int] = []
    offsets: list[int] = []
    for docnum, value in values:
        if docnum > upto:  # the documents between have no value (its fill())
            lengths += [0] * (docnum - upto)
            offsets += [base] * (docnum - upto)
        lengths.append(len(value))
        offsets.append(base)
        base += len(value)
        upto = docnum + 1
    writer._dbfile.write(b"".join(value for _docnum, value in values))
    _extend(writer._lengths, lengths)
    _extend(writer._offsets, offsets)
    writer._offset_base, writer._count = base, upto


class _Postings:
    """A field's postings, term after term in term order, as arrays (what finish() writes):
    term i's postings are docs[bounds[i]:bounds[i + 1]], each with its weight, its encoded
    value (values is None when the format keeps none) and its document's field length as a
    byte (length_to_byte; 0 for none; length_bytes is None when the field keeps no lengths)."""

    __slots__ = ("terms", "bounds", "docs", "weights", "values", "length_bytes")

    def __init__(self, terms: list[bytes], bounds: Any, docs: Any, weights: Any,
                 values: Any, length_bytes: Any) -> None:
        self.terms, self.bounds, self.docs = terms, bounds, docs
        self.weights, self.values, self.length_bytes = weights, values, length_bytes


def _write_postings(postfile: Any, limit: int, postings: _Postings,
                    fixed: int | None) -> Iterable[tuple[bytes, bytes]]:
    """Write each term's postings into a segment's postings file as Whoosh's W3PostingsWriter
    would (a header, then blocks of at most `limit` postings, the last one's length negative),
    and yield each term's bytes with its W3TermInfo as bytes. What each block and each term
    needs (document gaps, lowest and highest weights and lengths) is worked out for the whole
    field at once; only the pickling and compressing is done a block at a time."""
    np = preload()
    docs, weights, lbytes = postings.docs, postings.weights, postings.length_bytes
    bounds = postings.bounds
    term_starts, sizes = bounds[:-1], np.diff(bounds)
    within = np.arange(len(docs)) - np.repeat(term_starts, sizes)  # place in its term's list
    starts = np.flatnonzero(within % limit == 0)  # each block's first posting
    del within
    gaps = np.diff(docs, prepend=0)
    gaps[starts] = docs[starts]  # a block's first document is written whole
    lows, highs = np.minimum.reduceat(weights, starts), np.maximum.reduceat(weights, starts)
    term_weights = np.add.reduceat(weights.astype(np.float64), term_starts).tolist()
    term_highs = np.maximum.reduceat(weights, term_starts).tolist()
    if lbytes is None:
        block_low = block_high = np.zeros(len(starts), dtype=np.int64)
        term_low = term_high = np.zeros(len(sizes), dtype=np.int64)
    else:  # the lowest length byte of the documents that have a length, 0 when none has
        counted = np.where(lbytes == 0, 256, lbytes)
        block_high = np.maximum.reduceat(lbytes, starts)
        block_low = np.where(block_high > 0, np.minimum.reduceat(counted, starts), 0)
        term_high = np.maximum.reduceat(lbytes, term_starts)
        term_low = np.where(term_high > 0, np.minimum.reduceat(counted, term_starts), 0)
        del counted
    ends = np.append(starts[1:], len(docs))
    blocks = zip(starts.tolist(), ends.tolist(), docs[ends - 1].tolist(), lows.tolist(),
                 highs.tolist(), block_low.tolist(), block_high.tolist())
    values = postings.values
    offset = postfile.tell()
    write = postfile.write
    for tbytes, count, end, weight_sum, high_weight, low_byte, high_byte, first, last in zip(
            postings.terms, sizes.tolist(), bounds[1:].tolist(), term_weights, term_highs,
            term_low.tolist(), term_high.tolist(), docs[term_starts].tolist(),
            docs[bounds[1:] - 1].tolist()):
        parts = [WHOOSH3_HEADER_MAGIC]
        while True:
            start, stop, last_doc, lowest, highest, low, high = next(blocks)
            if lowest == highest:
                mini_weights = None if lowest == 1.0 else lowest
            else:
                mini_weights = tuple(weights[start:stop].tolist())
            if values is None or fixed == 0:
                mini_values = None
            elif fixed is None:  # (Whoosh keeps only non-empty values)
                mini_values = tuple(filter(None, values[start:stop].tolist()))
            else:
                mini_values = b"".join(values[start:stop].tolist())
            data = pickle.dumps((tuple(gaps[start:stop].tolist()), mini_weights, mini_values),
                                BLOCK_PROTOCOL)
            level = 3 if len(data) >= COMPRESS_FROM else 0
            if level:
                data = deflate(data, level)
            block = pickle.dumps((stop - start, last_doc, highest if highest > 0 else 0, level,
                                  low, high), 2) + data
            parts += (pack_int(-len(block) if stop == end else len(block)), block)
            if stop == end:
                break
        written = b"".join(parts)
        write(written)
        # W3TermInfo.to_bytes for postings written out (never inlined: Whoosh's inline limit
        # is one posting, so a term with postings always has a block in the file).
        yield tbytes, _TERMINFO(False, weight_sum, count, low_byte, high_byte,
                                high_weight if high_weight > 0 else 0, first, last) \
            + pack_long(offset) + pack_int(len(written))
        offset += len(written)


_TERMINFO = W3TermInfo._struct.pack


def deflate(data: bytes, level: int) -> bytes:
    """zlib.compress(data, level), with a window no larger than the data needs: the same bytes
    out for data under the window's size, and setting up a full 32 KB window took most of the
    time for the short values an index compresses one at a time."""
    return zlib.compress(data, level, min(15, max(9, len(data).bit_length())))


def _word_postings(collected: _WordField,
                   field: Any) -> tuple[_Postings | None, dict[int, int], int]:
    """A word field's postings (None when it has none); each document's length (tokens kept)
    as a byte; the field's total length. All from the segment's token arrays at once."""
    np = preload()

    analysis = collected.analysis
    tokens = np.frombuffer(collected.tokens, dtype=np.int32)
    if not len(tokens):
        return None, {}, 0
    # (Intermediate arrays are dropped as soon as they are used: a 25,000-listing segment's
    # body field has 1.6 million tokens, and every array of them costs 6-13 MB.)
    counts = np.frombuffer(collected.counts, dtype=np.uint32).astype(np.int64)
    owners = np.frombuffer(collected.docs, dtype=np.uint32)
    entry = np.repeat(np.arange(len(counts), dtype=np.int32), counts)  # each token's document
    starts = np.cumsum(counts) - counts
    keep = tokens != 0
    kept_upto = np.cumsum(keep)
    kept_before = kept_upto[starts] - keep[starts]
    kept = kept_upto[starts + counts - 1] - kept_before  # the document's length
    del kept_upto
    where = np.flatnonzero(keep)
    del keep
    if not len(where):  # every word dropped (stop words)
        return None, {}, 0
    tokens, entry = tokens[where], entry[where]
    positions = (where - starts[entry]).astype(np.int32)  # the token's place in its document
    del where
    if analysis.renumber:  # StopFilter(renumber=True): kept words numbered on from the first
        rank = (np.arange(len(tokens)) - kept_before[entry]).astype(np.int32)
        first = np.zeros(len(counts), dtype=np.int32)
        leading = rank == 0
        first[entry[leading]] = positions[leading]
        positions = first[entry] + rank
        del rank, leading
    order = np.argsort(tokens, kind="stable")  # by term; documents and positions stay in order
    tokens, entry, positions = tokens[order], entry[order], positions[order]
    del order
    begins = np.empty(len(tokens), dtype=bool)
    begins[0] = True
    begins[1:] = (tokens[1:] != tokens[:-1]) | (entry[1:] != entry[:-1])
    post_starts = np.flatnonzero(begins)  # the first token of each posting
    del begins
    freqs = np.diff(np.append(post_starts, len(tokens)))
    post_terms = tokens[post_starts]
    del tokens
    post_docs = owners[entry[post_starts]]
    weights = (freqs * field.format.field_boost).astype(np.float32)
    if type(field.format) is formats.Positions:  # Positions.encode: the count, pickled gaps
        firsts = positions[post_starts]
        single = [pack_uint(1) + pickle.dumps([p], 2) for p in range(int(firsts.max()) + 1)]
        values = np.array(single, dtype=object)[firsts]
        multi = np.flatnonzero(freqs > 1)
        if len(multi):
            gaps = np.diff(positions, prepend=0)
            gaps[post_starts] = firsts
            gap_list = gaps[np.repeat(freqs > 1, freqs)].tolist()  # the repeated terms' only
            begin = 0
            for number, freq in zip(multi.tolist(), freqs[multi].tolist()):
                values[number] = pack_uint(freq) + pickle.dumps(gap_list[begin:begin + freq], 2)
                begin += freq
            del gaps, gap_list
    else:  # Frequency.encode
        values = np.array([pack_uint(freq) for freq in range(int(freqs.max()) + 1)],
                          dtype=object)[freqs]
    del positions
    entry_bytes = _length_bytes(np, kept)
    post_bytes = entry_bytes[entry[post_starts]]
    del entry, post_starts
    # The terms in the order of their bytes, and their postings gathered into that order (each
    # array replaced as it is gathered, so that only one copy of it is held).
    term_starts = np.flatnonzero(np.diff(post_terms, prepend=-1))
    sizes = np.diff(np.append(term_starts, len(post_terms)))
    names = [analysis.terms[term] for term in post_terms[term_starts].tolist()]
    order = np.array(sorted(range(len(names)), key=names.__getitem__), dtype=np.int64)
    sizes = sizes[order]
    bounds = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(sizes, out=bounds[1:])
    gather = np.arange(len(post_terms)) + np.repeat(term_starts[order] - bounds[:-1], sizes)
    del post_terms, term_starts
    post_docs = post_docs[gather].astype(np.int64)
    weights = weights[gather]
    values = values[gather]
    post_bytes = post_bytes[gather]
    del gather
    postings = _Postings([names[number] for number in order.tolist()], bounds, post_docs,
                         weights, values, post_bytes)
    has_length = kept > 0
    return postings, dict(zip(owners[has_length].tolist(), entry_bytes[has_length].tolist())), \
        int(kept.sum())


def preload() -> Any:
    """numpy, imported: only a rebuild needs it (web processes do not load it), and a rebuild
    that forks builders imports it first, so they do not each import it."""
    import numpy
    return numpy


def _length_bytes(np: Any, lengths: Any) -> Any:
    """length_to_byte of each of an array of lengths."""
    found = np.searchsorted(_LENGTH_STEPS, lengths, side="left")
    found[lengths >= _LONGEST] = 255
    return found


# Whoosh's length_to_byte(n) is bisect_left(_LENGTH_STEPS, n), or 255 from _LONGEST on
# (tests/test_segment_writer.py checks the two agree).
_LENGTH_STEPS = [byte_to_length(number) for number in range(256)]
_LONGEST = 106374


def _item_postings(collected: _ItemField,
                   field: Any) -> tuple[_Postings | None, dict[int, int], int]:
    """Another indexed field's postings (None when it has none) and its lengths (scorable
    fields only). Documents are grouped by value, so a value repeated across the segment (a
    category, a grid cell) is analysed once and its documents join each of its terms at once."""
    by_value: dict[Any, list[int]] = {}
    for docnum, value in zip(collected.docs, collected.values):
        docs = by_value.get(value)
        if docs is None:
            by_value[value] = [docnum]
        else:
            docs.append(docnum)
    parts: dict[bytes, list[tuple[list[int], float, bytes]]] = {}
    lengths: dict[int, int] = {}
    index = _whole_value_items(field) or field.index
    for value, docs in by_value.items():
        length = 0
        for tbytes, freq, weight, vbytes in index(value):
            parts.setdefault(tbytes, []).append((docs, weight, vbytes))
            length += freq
        if length and field.scorable:
            lengths.update(dict.fromkeys(docs, length))
    length_bytes = {doc: length_to_byte(length) for doc, length in lengths.items()}
    if not parts:
        return None, length_bytes, 0
    terms = sorted(parts)
    bounds, docs, weights, values = [0], [], [], []
    for tbytes in terms:
        pieces = parts[tbytes]
        if len(pieces) == 1:
            found, weight, vbytes = pieces[0]
            docs += found
            weights += [weight] * len(found)
            values += [vbytes] * len(found)
        elif len({(weight, vbytes) for _docs, weight, vbytes in pieces}) == 1:
            found = sorted(doc for piece in pieces for doc in piece[0])  # (a document has
            docs += found                                                # one value: no repeats)
            weights += [pieces[0][1]] * len(found)
            values += [pieces[0][2]] * len(found)
        else:
            merged = sorted((doc, weight, vbytes) for found, weight, vbytes in pieces
                            for doc in found)
            docs += [doc for doc, _weight, _vbytes in merged]
            weights += [weight for _doc, weight, _vbytes in merged]
            values += [vbytes for _doc, _weight, vbytes in merged]
        bounds.append(len(docs))
    np = preload()
    held = np.empty(len(values), dtype=object)
    held[:] = values
    postings = _Postings(terms, np.array(bounds, dtype=np.int64), np.array(docs, dtype=np.int64),
                         np.array(weights, dtype=np.float32), held,  # (weights as Whoosh has)
                         np.array([length_bytes.get(doc, 0) for doc in docs], dtype=np.int64)
                         if lengths else None)
    return postings, length_bytes, sum(lengths.values())


def _whole_value_items(field: Any) -> Callable[[Any], list] | None:
    """`field.index` for an ID field that keeps its text as it is (uuid): the value itself is
    the one term. None for any other field."""
    if type(field) is not fields.ID or type(field.analyzer) is not IDTokenizer \
            or type(field.format) is not formats.Existence:
        return None
    boost = field.format.field_boost

    def items(value: Any) -> list:
        if type(value) is not str:
            return list(field.index(value))
        return [(value.encode("utf-8"), 1, boost, b"")]
    return items


def _text_analyses(schema: Any) -> dict[str, WordAnalysis]:
    """The fields whose analysis has a fast form: word fields with Positions or Frequency.
    Fields sharing one analyzer share one WordAnalysis (its words are looked up once)."""
    found: dict[str, WordAnalysis] = {}
    by_analyzer: dict[int, WordAnalysis | None] = {}
    for name, field in schema.items():
        analyzer = getattr(field, "analyzer", None)
        if field.indexed and analyzer is not None and type(field.format) in (
                formats.Positions, formats.Frequency) and not field.separate_spelling() \
                and not field.vector:
            if id(analyzer) not in by_analyzer:
                by_analyzer[id(analyzer)] = fast_form(analyzer)
            analysis = by_analyzer[id(analyzer)]
            if analysis is not None:
                found[name] = analysis
    return found
