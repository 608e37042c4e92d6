"""Snippets: the part of a listing's description around the words searched for, marked.

Whoosh's highlighter runs the whole analyzer chain over every hit's text on every request (a
quarter of a search page's time). Here the text is split into words with a regular expression
and each distinct word's index terms are looked up in a per-process memo of the analyzer, so a
word is analysed once per process, not once per hit per request; and the words looked at per
hit are capped.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

from markupsafe import Markup, escape

from .. import indexing

SOURCE_CHARS = 1500  # the start of the description that snippets are taken from
MAX_WORDS = 300  # words looked at per hit: bounds the work per page whatever the text
FRAGMENTS = 2  # marked passages per snippet, joined with " … "
CONTEXT_CHARS = 60  # text kept either side of a marked word
FRAGMENT_CHARS = 160
_WORD = re.compile(r"\w+(?:\.?\w+)*")  # the index's RegexTokenizer pattern
_ANALYZER = indexing.SCHEMA["body"].analyzer


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


def snippet(text: str, terms: Iterable[str]) -> Markup | None:
    """The passages of `text` holding any of the index `terms`, HTML-escaped, words <mark>ed."""
    wanted = set(terms)
    if not text or not wanted:
        return None
    text = text[:SOURCE_CHARS]
    marks = []
    for count, match in enumerate(_WORD.finditer(text)):
        if count == MAX_WORDS:
            break
        if index_terms(match.group().lower()) & wanted:
            marks.append(match.span())
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
