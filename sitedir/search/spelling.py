"""Spelling help: a typed word the index has never seen → the nearest word that finds results.

Candidates come only from words in the index (and the vocabulary's words, which find results
through their groups), weighed by an edit distance in which a doubled or undoubled letter
costs half (potery → pottery before poetry) and by how many listings they find with the other
words. A correction is confident when it is close, the word is long enough to judge, and no
other candidate is as close and about as common.
"""
from __future__ import annotations

import math
import re
from typing import Any

from .. import indexing, vocabulary
from . import words as search_words
from .words import Concept, Matched

MIN_LENGTH = 3  # shorter words are too ambiguous to correct
MAX_CANDIDATES = 40
_SPELLING = indexing.spelling_analyzer()


def distance(typed: str, word: str) -> float:
    """Damerau-Levenshtein distance; a missed or extra doubled letter costs 0.5."""
    rows = len(typed) + 1
    cols = len(word) + 1
    table = [[0.0] * cols for _ in range(rows)]
    for i in range(rows):
        table[i][0] = float(i)
    for j in range(cols):
        table[0][j] = float(j)
    for i in range(1, rows):
        for j in range(1, cols):
            extra_typed = 0.5 if i > 1 and typed[i - 1] == typed[i - 2] else 1.0
            missed = 0.5 if j > 1 and word[j - 1] == word[j - 2] else 1.0
            best = min(table[i - 1][j] + extra_typed, table[i][j - 1] + missed,
                       table[i - 1][j - 1] + (typed[i - 1] != word[j - 1]))
            if i > 1 and j > 1 and typed[i - 1] == word[j - 2] and typed[i - 2] == word[j - 1]:
                best = min(best, table[i - 2][j - 2] + 1)
            table[i][j] = best
    return table[-1][-1]


def _folded(word: str) -> str:
    tokens = [token.text for token in _SPELLING(word)]
    return tokens[0] if tokens else word.lower()


def _candidates(cache: Any, word: str, known_words: set[str]) -> set[str]:
    limit = 1 if len(word) < 5 else 2
    found: set[str] = set()
    for prefix in (1, 0):
        found.update(cache.reader.terms_within("spell", word, limit, prefix=prefix))
        if found:
            break
    for known in known_words:  # vocabulary words the index may lack ("pilates")
        if abs(len(known) - len(word)) <= limit and (known[0] == word[0] or len(known) == len(
                word)) and distance(word, known) <= limit:
            found.add(known)
    return set(sorted(found)[:MAX_CANDIDATES])


def _best(cache: Any, word: str, others: int, allowed: int,
          vocab: vocabulary.Vocabulary) -> tuple[str, Concept, Matched, bool] | None:
    """The nearest, commonest candidate that finds listings with the other words."""
    analyzer = indexing.SCHEMA["title"].analyzer
    scored = []
    for candidate in _candidates(cache, word, vocab.single_words):
        gap = distance(word, candidate)
        if gap == 0 or gap > (1 if len(word) < 5 else 2):
            continue
        concepts = search_words.read_words(candidate, vocab, analyzer)
        if len(concepts) != 1:
            continue
        matched = search_words.match(cache, concepts[0])
        count = (matched.bits & others & allowed).bit_count()
        if count:
            scored.append((gap - 0.1 * math.log(1 + count), gap, count, candidate,
                           concepts[0], matched))
    if not scored:
        return None
    scored.sort(key=lambda item: (item[0], item[3]))
    _score, gap, count, candidate, concept, matched = scored[0]
    rival = scored[1] if len(scored) > 1 else None
    clear = rival is None or rival[1] > gap or rival[2] * 3 <= count
    confident = clear and (gap <= 1 and len(word) >= 4 or gap <= 2 and len(word) >= 7)
    concept.corrected_from = word
    return candidate, concept, matched, confident


Correction = tuple[str, list[Concept], list[Matched], bool]


def correct(cache: Any, text: str, concepts: list[Concept], found: list[Matched],
            allowed: int, vocab: vocabulary.Vocabulary) -> Correction | None:
    """Each word nothing has replaced by its best correction: (text, concepts, their matches,
    confident?); None when no word could be corrected."""
    new_concepts, new_found = list(concepts), list(found)
    confident = True
    changed = False
    for index, (concept, matched) in enumerate(zip(concepts, found)):
        if matched.bits & cache.searchable or concept.from_vocabulary or concept.optional \
                or len(concept.alternatives[0].stems) != 1:
            continue
        word = _folded(concept.text)
        if len(word) < MIN_LENGTH or not word.isalpha():
            continue
        others = cache.searchable
        for position, other in enumerate(new_found):
            if position != index and other.bits & cache.searchable:
                others &= other.bits
        best = _best(cache, word, others, allowed, vocab)
        if best is None:
            confident = False
            continue
        candidate, new_concepts[index], new_found[index], sure = best
        text = re.sub(r"\b" + re.escape(concept.text) + r"\b", candidate, text, count=1,
                      flags=re.IGNORECASE)
        confident = confident and sure
        changed = True
    if not changed:
        return None
    return text, new_concepts, new_found, confident
