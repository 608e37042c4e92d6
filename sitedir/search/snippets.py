"""Snippets: the part of a listing's description around the words searched for, marked.

Whoosh's highlighter runs the whole analyzer chain over every hit's text on every request (a
quarter of a search page's time). Here only the words that start like a searched term are
looked at, each through a per-process memo of the analyzer (a word is analysed once per
process, not once per hit per request). Only the first SOURCE_CHARS of a description are
looked at, which caps the work per hit.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

from markupsafe import Markup, escape
from whoosh.support.charset import accent_map

from .. import indexing

SOURCE_CHARS = 1500  # the start of the description that snippets are taken from
FRAGMENTS = 2  # marked passages per snippet, joined with " … "
CONTEXT_CHARS = 60  # text kept either side of a marked word
FRAGMENT_CHARS = 160
_WORD = re.compile(r"\w+(?:\.?\w+)*")  # the index's RegexTokenizer pattern
_ANALYZER = indexing.SCHEMA["body"].analyzer
PROBE_CHARS = 4  # letters of a term looked for to find the words it came from
# Accented letters folded one for one (é → e) as the index's CharsetFilter does, so positions
# in the folded text are positions in the text.
_FOLD = {code: plain for code, plain in accent_map.items() if len(plain) == 1}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@lru_cache(maxsize=65536)
def index_terms(word: str) -> frozenset[str]:
    """The terms the index made of one word ("Knitting" → {"knit"}; stop words → none)."""
    return frozenset(token.text for token in _ANALYZER(word))


def _windows(text: str, marks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Up to FRAGMENTS passages around the marks, widened to whole words, overlaps merged."""
    windows: list[tuple[int, int]] = []
    for start, end in marks:
        if windows and start - CONTEXT_CHARS <= windows[-1][1]:
            low = windows[-1][0]
            if end + CONTEXT_CHARS - low <= FRAGMENT_CHARS:
                windows[-1] = (low, min(len(text), end + CONTEXT_CHARS))
            continue
        if len(windows) == FRAGMENTS:
            break
        windows.append((max(0, start - CONTEXT_CHARS), min(len(text), end + CONTEXT_CHARS)))
    widened = []
    for low, high in windows:
        while low > 0 and not text[low - 1].isspace():
            low -= 1
        while high < len(text) and not text[high].isspace():
            high += 1
        widened.append((low, high))
    return widened


def _marks(text: str, wanted: set[str]) -> list[tuple[int, int]]:
    """Where the words that the index reads as one of `wanted` are, in order.

    Each term's first letters are looked for with str.find in the lower-cased, accent-folded
    text (C speed), and only the words found there are analysed (memoised). A stem keeps the
    start of its word, so this finds them; the rare word whose stem changes its first letters
    (dying → die) goes unmarked, which a snippet can afford.
    """
    folded = text.lower()
    if not folded.isascii():  # fold only the letters that need it (translate goes one by one)
        folded = _NON_ASCII.sub(lambda letter: _FOLD.get(ord(letter.group()), letter.group()),
                                folded)
    if len(folded) != len(text):  # a letter whose lower case is longer: no shared positions
        return []
    marks = set()
    for term in wanted:
        probe = term[:PROBE_CHARS]
        position = folded.find(probe)
        while position != -1:
            if position == 0 or not folded[position - 1].isalnum():
                word = _WORD.match(folded, position)
                if word and index_terms(word.group()) & wanted:
                    marks.add(word.span())
            position = folded.find(probe, position + 1)
    return sorted(marks)


def snippet(text: str, terms: Iterable[str]) -> Markup | None:
    """The passages of `text` holding any of the index `terms`, HTML-escaped, words <mark>ed."""
    wanted = set(terms)
    if not text or not wanted:
        return None
    text = text[:SOURCE_CHARS]
    marks = _marks(text, wanted)
    if not marks:
        return None
    pieces = []
    for low, high in _windows(text, marks):
        out, position = [], low
        for start, end in marks:
            if low <= start and end <= high:
                out.append(escape(text[position:start]))
                out.append(Markup("<mark>%s</mark>") % text[start:end])
                position = end
        out.append(escape(text[position:high]))
        pieces.append(Markup("").join(out).strip())
    return Markup(" … ").join(pieces)
