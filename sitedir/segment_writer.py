"""Write a whole Whoosh segment from documents in one pass: the rebuild's fast path.

Whoosh's own writer spends most of a rebuild on machinery a fresh, complete build does not need:
a token object pushed through a generator per filter for every word, a posting pool sorted
through temporary files, a per-posting field-length lookup at commit and an `add_posting` call
per posting. Here the words of a document are analysed with a per-process memo (a directory
repeats its words: the 20k-listing benchmark has a few thousand distinct ones), postings are
kept per term in memory, and each term's postings go to Whoosh's own codec a block at a time.
The segment holds what Whoosh's writer would put in it (tests/test_segment_writer.py compares
every term, posting, term statistic, stored field, length and column), in Whoosh's own file
format, so reading, updates and merges are unchanged.

An analyzer made only of parts `fast_form` knows (a regex tokenizer, lower case, a character
map, stop words, a stemmer) gets a fast form; any other indexed field goes through Whoosh's
`field.index()` as before.
"""
from __future__ import annotations

import pickle
from array import array
from functools import partial
from typing import Any, Callable

from whoosh import formats
from whoosh.analysis import (
    CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter,
)
from whoosh.codec import default_codec
from whoosh.index import FileIndex
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte


class WordAnalysis:
    """A word analyzer's terms and positions, computed once per distinct word.

    Made from the analyzer itself (`fast_form`), so the schema stays the one definition of how
    text becomes terms: each filter of the chain becomes a step applied to a word, and a word's
    result is remembered (a directory repeats its words: the 20k-listing benchmark has a few
    thousand distinct ones).
    """

    def __init__(self, pattern: Any, steps: list[Callable[[str], str | None]],
                 renumber: bool) -> None:
        self._finditer = pattern.finditer
        self._steps = steps
        self._renumber = renumber
        self._memo: dict[str, bytes | None] = {}

    def term_of(self, word: str) -> str | None:
        """The term a token becomes, or None when the chain drops it (stop word, too short)."""
        term: str | None = word
        for step in self._steps:
            term = step(term)
            if term is None:
                return None
        return term

    def positions(self, text: str) -> tuple[dict[bytes, list[int]], int]:
        """Each term's (UTF-8) positions in `text`, and how many tokens were kept (the length)."""
        memo = self._memo
        found: dict[bytes, list[int]] = {}
        kept = 0
        first = None
        for index, match in enumerate(self._finditer(text)):
            word = match.group(0)
            term = memo.get(word, False)
            if term is False:
                text = self.term_of(word)
                term = memo[word] = text.encode("utf-8") if text is not None else None
            if term is None:
                continue
            if self._renumber:  # StopFilter(renumber=True): kept words numbered on from the first
                if first is None:
                    first = index
                position = first + kept
            else:
                position = index
            kept += 1
            spot = found.get(term)
            if spot is None:
                found[term] = [position]
            else:
                spot.append(position)
        return found, kept


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


KEYWORD_MEMO_SIZE = 200_000  # repeated filter values (categories, cells) analysed once


class _Postings:
    """One term's postings while a segment is built: document numbers, weights, values."""

    __slots__ = ("docs", "weights", "values")

    def __init__(self) -> None:
        self.docs = array("I")
        self.weights: list[float] = []
        self.values: list[bytes] = []


class SegmentBuilder:
    """Adds documents to one new segment of `ix`; `finish()` writes it and returns the segment.

    The caller publishes the returned segments in a TOC (see indexing._build_into)."""

    def __init__(self, ix: FileIndex) -> None:
        self.schema = ix.schema
        self.codec = default_codec()
        self.storage = ix.storage
        self.segment = self.codec.new_segment(self.storage, ix.indexname)
        self.perdoc = self.codec.per_document_writer(self.storage, self.segment)
        self._analyses = _text_analyses(self.schema)
        self._postings: dict[str, dict[bytes, _Postings]] = {}
        self._lengths: dict[str, array] = {}  # field → quantised length per document
        self._encoded: dict[Any, bytes] = {}  # a term's positions in a field → posting value
        self._keyword_items: dict[tuple[str, Any], list[tuple[bytes, int, float, bytes]]] = {}
        self.docnum = 0

    def add(self, document: dict[str, Any]) -> None:
        """Add one document (the same mapping Whoosh's `add_document` takes)."""
        docnum = self.docnum
        perdoc = self.perdoc
        schema = self.schema
        perdoc.start_doc(docnum)
        for fieldname in sorted(document):
            value = document[fieldname]
            if value is None or fieldname.startswith("_"):
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                length = self._index(field, fieldname, value, docnum)
            perdoc.add_field(fieldname, field, value if field.stored else None, length)
            column = field.column_type
            if column:
                perdoc.add_column_value(fieldname, column, field.to_column_value(value))
        perdoc.finish_doc()
        self.docnum += 1

    def _index(self, field: Any, fieldname: str, value: Any, docnum: int) -> int:
        """Record the field's postings for this document; returns its length (0: unscored)."""
        terms = self._postings.setdefault(fieldname, {})
        analysis = self._analyses.get(fieldname) if isinstance(value, str) else None
        if analysis is not None:
            length = self._add_words(terms, field.format, analysis, value, docnum)
        else:
            items = self._field_items(field, fieldname, value)
            length = sum(freq for _t, freq, _w, _v in items) if field.scorable else 0
            for tbytes, _freq, weight, vbytes in items:
                postings = terms.get(tbytes)
                if postings is None:
                    postings = terms[tbytes] = _Postings()
                postings.docs.append(docnum)
                postings.weights.append(weight)
                postings.values.append(vbytes)
        if length:
            lengths = self._lengths.setdefault(fieldname, array("I"))
            lengths.extend(bytes(docnum + 1 - len(lengths)))  # zeros for documents without it
            lengths[docnum] = byte_to_length(length_to_byte(length))
        return length

    def _add_words(self, terms: dict[bytes, _Postings], format_: Any, analysis: WordAnalysis,
                   value: str, docnum: int) -> int:
        """A word field's postings, valued as its format (Positions or Frequency) encodes them."""
        found, length = analysis.positions(value)
        boost = format_.field_boost
        with_positions = type(format_) is formats.Positions
        encoded = self._encoded
        for tbytes, positions in found.items():
            postings = terms.get(tbytes)
            if postings is None:
                postings = terms[tbytes] = _Postings()
            postings.docs.append(docnum)
            freq = len(positions)
            postings.weights.append(boost if freq == 1 else freq * boost)
            if with_positions:  # Positions.encode: the count, then the pickled gaps
                key = positions[0] if freq == 1 else tuple(positions)
                vbytes = encoded.get(key)
                if vbytes is None:
                    gaps = [b - a for a, b in zip([0] + positions, positions)]
                    vbytes = encoded[key] = pack_uint(freq) + pickle.dumps(gaps, 2)
            else:  # Frequency.encode
                vbytes = pack_uint(freq)
            postings.values.append(vbytes)
        return length

    def _field_items(self, field: Any, fieldname: str, value: Any) -> list:
        """Whoosh's own analysis (ids, keywords, numbers), remembered for repeated values."""
        key = (fieldname, value)
        items = self._keyword_items.get(key)
        if items is None:
            items = list(field.index(value))
            # Unique, stored and sortable values (uuid, digest, name order) rarely repeat.
            if not (field.unique or field.stored or field.column_type) \
                    and len(self._keyword_items) < KEYWORD_MEMO_SIZE:
                self._keyword_items[key] = items
        return items

    def finish(self) -> Any:
        """Write the postings and close the segment's files; returns the Whoosh segment."""
        self.perdoc.close()
        fieldwriter = self.codec.field_writer(self.storage, self.segment)
        for fieldname in sorted(self._postings):
            fieldobj = self.schema[fieldname]
            fieldwriter.start_field(fieldname, fieldobj)
            lengths = self._lengths.get(fieldname)
            for tbytes in sorted(self._postings[fieldname]):
                fieldwriter.start_term(tbytes)
                _write_postings(fieldwriter._postwriter, self._postings[fieldname][tbytes],
                                lengths)
                fieldwriter.finish_term()
            fieldwriter.finish_field()
        fieldwriter.close()
        self._postings.clear()
        segment = self.segment
        # Left as separate files, not assembled into one compound file: Whoosh copies each part
        # of a compound file into memory whenever a searcher opens it (BufferFile wraps the
        # mmap in a BytesIO), which at 20k listings doubled a process's memory (242 → 121 MB)
        # and slowed the first search after each commit (30 → 22 ms).
        segment.set_doc_count(self.docnum)
        return segment


def _write_postings(postwriter: Any, postings: _Postings, lengths: array | None) -> None:
    """One term's postings, a block at a time, in the codec's format (as `add_posting` would)."""
    limit = postwriter._blocklimit
    docs, weights, values = postings.docs, postings.weights, postings.values
    total = len(docs)
    for start in range(0, total, limit):
        end = min(start + limit, total)
        block_docs = docs[start:end]
        postwriter._ids = block_docs
        postwriter._weights = array("f", weights[start:end])
        postwriter._values = [v for v in values[start:end] if v]
        postwriter._maxweight = max(0, max(weights[start:end]))
        if lengths is not None:
            block_lengths = [lengths[doc] for doc in block_docs if doc < len(lengths)]
            block_lengths = [n for n in block_lengths if n]
        else:
            block_lengths = []
        postwriter._minlength = min(block_lengths) if block_lengths else None
        postwriter._maxlength = max(block_lengths) if block_lengths else 0
        if end < total:
            postwriter._write_block()
    # The last (or only) block: inlined into the term info when short, as Whoosh does.


def _text_analyses(schema: Any) -> dict[str, WordAnalysis]:
    """The fields whose analysis has a fast form: word fields with Positions or Frequency."""
    found = {}
    for name, field in schema.items():
        analyzer = getattr(field, "analyzer", None)
        if field.indexed and analyzer is not None and type(field.format) in (
                formats.Positions, formats.Frequency) and not field.separate_spelling() \
                and not field.vector:
            analysis = fast_form(analyzer)
            if analysis is not None:
                found[name] = analysis
    return found
