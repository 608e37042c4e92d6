"""How search reads plain words: each typed word or known phrase becomes a "concept" that
matches the words typed, their other forms (knitters → knit) and what the vocabulary says
people also mean by them (low mood → depression, anxiety), each weighted below the words
typed. Ranking gives each concept the weight of the best field it is found in (title above
summary, categories and needs, above the description and the organisation's name).

Only text without search syntax comes here; quotes, brackets and AND/OR/NOT keep the parser.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from ..vocabulary import Alternative, Vocabulary

TEXT_FIELDS = ("title", "summary", "topics", "body", "organisation", "place")
# How much a concept found in each field says about a listing; a word spread over several
# fields (ANYWHERE) counts least.
FIELD_WEIGHTS = {"title": 3.0, "summary": 2.0, "topics": 2.0, "body": 1.0, "place": 1.0,
                 "organisation": 0.8}
KEY_WEIGHTS = {"category": 2.0, "helps": 2.0, "access": 1.0}  # a taxonomy key the vocabulary
# names counts as its category or need name; a venue's access features say less about an activity
ANYWHERE_WEIGHT = 0.7
MENTION_WEIGHT = 0.2  # the typed word in the description too (a tie-breaker)
OPTIONAL_WEIGHT = 0.1  # a sentence word counts this much of a word that matters
FORM_WEIGHT = 0.9  # another form of the typed word (knitters → knit)
COVERAGE_BONUS = 100.0  # per concept found: a listing with every word beats one with some
# Words of a sentence typed to a search box ("something for my mum who is lonely") that say
# little about which activity: they are searched, but a listing need not have them, and they
# add little to its score.
SENTENCE_WORDS = frozenset("""
    activity activities thing things something anything someone somebody person people
    looking look want wants wanted need needs needed like would help find finding get go
    going try trying mum dad son daughter husband wife partner friend client patient
    he she they him her them his hers their since near nearby local around area place places
    somewhere anywhere good nice new recently lately really bit little lot lots week weekly
    join joining suitable suit ideas idea please
""".split())
_SYNTAX = re.compile(r"[\"()]|\b(?:AND|OR|NOT)\b")
_AGENT_ENDINGS = ("er", "ist")  # knitter, cyclist: the person doing it → the activity


@dataclass
class Concept:
    """One thing the person asked for, and every way of finding it."""

    text: str  # as typed
    alternatives: list[Alternative]  # the first is the words typed
    from_vocabulary: bool = False
    optional: bool = False  # a sentence word: a listing need not have it
    corrected_from: str = ""  # the typed word, when this is a spelling correction


@dataclass
class Matched:
    """A concept's bitmaps in one searcher: everywhere, and per (alternative, field)."""

    bits: int = 0
    levels: list[tuple[float, int]] = field(default_factory=list)  # (weight, docs), unsorted
    found_by: list[tuple[Alternative, int]] = field(default_factory=list)
    typed_in_body: int = 0


def has_syntax(text: str) -> bool:
    """Quotes, brackets or AND/OR/NOT: the person wrote a query, not words."""
    return bool(_SYNTAX.search(text))


def read_words(text: str, vocabulary: Vocabulary, analyzer: Any) -> list[Concept]:
    """Typed words → concepts, longest vocabulary phrase first ("sight loss" is one)."""
    tokens = [(token.text, token.startchar, token.endchar)
              for token in analyzer(text, chars=True, positions=True)]
    concepts: list[Concept] = []
    start = 0
    while start < len(tokens):
        for length in range(max(1, min(vocabulary.longest, len(tokens) - start)), 0, -1):
            stems = tuple(t[0] for t in tokens[start:start + length])
            found = vocabulary.lookup(stems)
            if found is not None or length == 1:
                typed = text[tokens[start][1]:tokens[start + length - 1][2]]
                # "art club" finds only what "art" finds already: not worth matching
                others = [alternative for alternative in found or []
                          if alternative.key or not set(stems) <= set(alternative.stems)]
                concepts.append(Concept(
                    typed, [Alternative(typed, stems, weight=1.0)] + others,
                    from_vocabulary=found is not None,
                    optional=found is None and typed.lower() in SENTENCE_WORDS))
                start += length
                break
    return _merged(concepts)


def _merged(concepts: list[Concept]) -> list[Concept]:
    """The same word typed twice is one concept; sentence words are optional only beside
    words that are not ("help" alone is searched as it is)."""
    seen: dict[tuple[str, ...], Concept] = {}
    for concept in concepts:
        seen.setdefault(concept.alternatives[0].stems, concept)
    merged = list(seen.values())
    if all(concept.optional for concept in merged):
        for concept in merged:
            concept.optional = False
    return merged


def add_word_forms(cache: Any, concepts: list[Concept]) -> None:
    """Agent nouns find their activity (knitters → knit, cyclists → cycling, swimmers → swim)
    when the activity is far more common in the index than the word typed."""
    for concept in concepts:
        typed = concept.alternatives[0]
        if len(typed.stems) != 1:
            continue
        stem = typed.stems[0]
        if concept.from_vocabulary:  # "walkers" is in the walking group: walk is its form
            roots = {(root,) for root in agent_roots(stem)}
            concept.alternatives = [
                replace(a, weight=FORM_WEIGHT) if a.stems in roots and not a.key else a
                for a in concept.alternatives]
            continue
        typed_count = word_bits(cache, stem).bit_count()
        for root in agent_roots(stem):
            if word_bits(cache, root).bit_count() > 2 * typed_count:
                concept.alternatives.append(Alternative(root, (root,), weight=FORM_WEIGHT))
                break


def agent_roots(stem: str) -> list[str]:
    """Stems an agent noun may come from: knitter → knitt, knit; baker → bak, bake."""
    roots: list[str] = []
    for ending in _AGENT_ENDINGS:
        if stem.endswith(ending) and len(stem) - len(ending) >= 3:
            root = stem[:-len(ending)]
            roots += [root, root + "e"]
            if len(root) > 3 and root[-1] == root[-2]:
                roots.append(root[:-1])
    return roots


def word_bits(cache: Any, stem: str) -> int:
    """Documents with a stem in any text field."""
    bits = 0
    for fieldname in TEXT_FIELDS:
        bits |= cache.term_bits(fieldname, stem)
    return bits


def _alternative_bits(cache: Any, alternative: Alternative) -> tuple[int, dict[str, int]]:
    """Documents with every word of the alternative anywhere, and per field."""
    if alternative.key_field:
        bits = cache.term_bits(alternative.key_field, alternative.key)
        return bits, {"__key__": bits}
    anywhere = cache.live
    per_field = {name: cache.live for name in TEXT_FIELDS}
    for stem in alternative.stems:
        anywhere &= word_bits(cache, stem)
        for name in TEXT_FIELDS:
            per_field[name] &= cache.term_bits(name, stem)
    return anywhere, per_field


def match(cache: Any, concept: Concept) -> Matched:
    """Where a concept is found, and with which weight in each place."""
    matched = Matched()
    for alternative in concept.alternatives:
        anywhere, per_field = _alternative_bits(cache, alternative)
        if not anywhere:
            continue
        matched.bits |= anywhere
        matched.found_by.append((alternative, anywhere))
        if alternative is concept.alternatives[0]:
            matched.typed_in_body = per_field.get("body", 0)
        for name, bits in per_field.items():
            if bits:
                weight = KEY_WEIGHTS[alternative.key_field] if name == "__key__" \
                    else FIELD_WEIGHTS[name]
                matched.levels.append((alternative.weight * weight, bits))
        matched.levels.append((alternative.weight * ANYWHERE_WEIGHT, anywhere))
    return matched


def concept_levels(matched: Matched, candidates: int, live_count: int,
                   optional: bool = False) -> list[tuple[float, int]]:
    """Disjoint (score, docs) groups: each document scores its best place for the concept."""
    rarity = math.log(1 + live_count / max(1, matched.bits.bit_count()))
    if optional:
        return [(OPTIONAL_WEIGHT * rarity * weight, bits & candidates)
                for weight, bits in _best_first(matched.levels) if bits & candidates]
    return [(COVERAGE_BONUS + rarity * weight, bits & candidates)
            for weight, bits in _best_first(matched.levels) if bits & candidates]


def _best_first(levels: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """Levels made disjoint, each document only in its heaviest; levels of equal weight are
    one (there are few distinct weights), so splitting score tiers by them stays cheap."""
    merged: dict[float, int] = {}
    for weight, bits in levels:
        key = round(weight, 6)
        merged[key] = merged.get(key, 0) | bits
    result = []
    assigned = 0
    for weight in sorted(merged, reverse=True):
        new = merged[weight] & ~assigned
        if new:
            result.append((weight, new))
            assigned |= new
    return result


def mention_levels(matched: Matched, candidates: int, live_count: int) -> list[tuple[float, int]]:
    """A small extra for the words typed also being in the description: breaks ties between
    listings whose best place for the word is the same."""
    if not matched.found_by:
        return []
    rarity = math.log(1 + live_count / max(1, matched.bits.bit_count()))
    return [(MENTION_WEIGHT * rarity, matched.typed_in_body & candidates)]


def split_levels(tiers: list[tuple[float, int]],
                 levels: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """Each tier split by disjoint levels; documents in a level gain its score."""
    if not levels:
        return tiers
    result = []
    for score, tier in tiers:
        rest = tier
        for gain, bits in levels:
            inside = rest & bits
            if inside:
                result.append((score + gain, inside))
                rest &= ~bits
        if rest:
            result.append((score, rest))
    return result


def also_showing(concepts: list[Concept], found: list[Matched], shown: int) -> list[str]:
    """The other words that found some of the results shown, for "Also showing: ...": only
    words that brought in a listing the typed words did not find."""
    labels: list[str] = []
    for concept, matched in zip(concepts, found):
        typed_bits = matched.found_by[0][1] if matched.found_by and \
            matched.found_by[0][0] is concept.alternatives[0] else 0
        for alternative, bits in matched.found_by:
            if alternative is concept.alternatives[0] or not bits & shown & ~typed_bits:
                continue
            if alternative.label.lower() not in {concept.text.lower(), *map(str.lower, labels)}:
                labels.append(alternative.label)
    return labels
