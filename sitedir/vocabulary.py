"""The words people use: content/vocabulary.yaml → the database → search's query expansion.

Each group lists words and phrases for one thing as people and connectors say them ("low mood",
"depression", "feeling down"); a search for any of them also finds the others, weighted below
the word typed, and `related` words and taxonomy keys weighted lower still. The list is read at
query time (cached per process, re-checked every few seconds), so changing it needs no reindex.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select

from . import models as m
from .extensions import db

FILE_NAME = "vocabulary.yaml"
CHECK_SECONDS = 5.0  # how stale another process's edit may look here
KEY_FIELDS = {"categories": "category", "helps": "helps", "access": "access"}  # → index field
TAXONOMY_OF = {"categories": "categories", "helps": "needs", "access": "accessibility"}

Phrase = Annotated[str, Field(min_length=1, max_length=80, pattern=r"\w")]
Key = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=120)]


class VocabularyGroupIn(BaseModel):
    """One group of content/vocabulary.yaml."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    words: Annotated[list[Phrase], Field(min_length=1, max_length=60)]
    related: Annotated[list[Phrase], Field(max_length=60)] = []
    categories: list[Key] = []
    helps: list[Key] = []
    access: list[Key] = []

    @model_validator(mode="after")
    def _finds_something(self) -> VocabularyGroupIn:
        if len(self.words) < 2 and not (self.related or self.categories or self.helps
                                        or self.access):
            raise ValueError("a group needs two words, or a word and related words or keys")
        seen: set[str] = set()
        for word in self.words + self.related:
            if word.lower() in seen:
                raise ValueError(f"{word!r} is listed twice in this group")
            seen.add(word.lower())
        return self


def stems(text: str) -> tuple[str, ...]:
    """A word or phrase as the index's words (lower case, accents folded, stemmed, no stops)."""
    from .indexing import SCHEMA

    return tuple(token.text for token in SCHEMA["title"].analyzer(text))


def read_vocabulary(path: Path, where: str, data: Any,
                    taxonomy_keys: dict[str, set[str]] | None) -> tuple[list[VocabularyGroupIn],
                                                                        list[str]]:
    """Validate the parsed file; returns the groups and every problem, naming file and field."""
    from .content import _validate

    errors: list[str] = []
    if data is None:
        return [], errors
    if not isinstance(data, list):
        return [], [f"{where}: must be a list of groups (each with words: [...])"]
    groups = []
    for index, item in enumerate(data):
        group = _validate(VocabularyGroupIn, item, where, errors, prefix=f"[{index}]")
        if group is not None:
            errors.extend(_group_problems(group, f"{where}: [{index}]", taxonomy_keys))
            groups.append(group)
    return groups, errors


def _group_problems(group: VocabularyGroupIn, at: str,
                    taxonomy_keys: dict[str, set[str]] | None) -> list[str]:
    """Words search cannot use, and taxonomy keys that do not exist."""
    problems = []
    for name in ("words", "related"):
        for number, word in enumerate(getattr(group, name)):
            found = stems(word)
            if not found:
                problems.append(f"{at}.{name}[{number}]: {word!r} has no word search can use "
                                "(only common words like \"the\")")
            elif len(found) == 1 and len(word.split()) > 1:
                # "IT help" would be read as "help", and every "help" typed would expand
                problems.append(f"{at}.{name}[{number}]: {word!r} is read as just "
                                f"{found[0]!r} (common words are left out); reword it")
    for name, taxonomy in TAXONOMY_OF.items():
        for number, key in enumerate(getattr(group, name)):
            if taxonomy_keys is not None and key not in taxonomy_keys[taxonomy]:
                problems.append(f"{at}.{name}[{number}]: unknown key {key!r}")
    return problems


def load_vocabulary(groups: list[VocabularyGroupIn]) -> None:
    """Upsert the groups by position; groups beyond the list are deleted (no commit)."""
    from .content import set_changed

    current = {row.position: row for row in db.session.scalars(select(m.VocabularyGroup))}
    for position, group in enumerate(groups):
        row = current.pop(position, None) or m.VocabularyGroup(position=position)
        db.session.add(row)
        set_changed(row, words=list(group.words), related=list(group.related),
                    categories=list(group.categories), helps=list(group.helps),
                    access=list(group.access))
    for row in current.values():
        db.session.delete(row)


def export_vocabulary() -> list[dict[str, Any]]:
    """The groups as content/vocabulary.yaml holds them."""
    rows = db.session.scalars(select(m.VocabularyGroup).order_by(m.VocabularyGroup.position))
    return [{name: value for name, value in (
        ("words", row.words), ("related", row.related), ("categories", row.categories),
        ("helps", row.helps), ("access", row.access)) if value} for row in rows]


# ---- at query time ---------------------------------------------------------------------------

SYNONYM_WEIGHT = 0.6  # another word of the group counts this much of the word typed
RELATED_WEIGHT = 0.35
KEY_WEIGHT = 0.45  # a listing tagged with a key the group names: below its words in a summary


@dataclass(frozen=True)
class Alternative:
    """Something a typed word also finds: other words (as stems) or a taxonomy key."""

    label: str  # as written in the file, for "Also showing: ..."
    stems: tuple[str, ...] = ()
    key_field: str = ""  # index field of a taxonomy key ("category", "helps", "access")
    key: str = ""
    weight: float = SYNONYM_WEIGHT


@dataclass
class Vocabulary:
    """Typed words (as stems) → what they also find."""

    expansions: dict[tuple[str, ...], list[Alternative]] = field(default_factory=dict)
    longest: int = 0  # most stems in one entry: how far to look ahead in the typed words
    single_words: set[str] = field(default_factory=set)  # one-word entries, for spelling

    @classmethod
    def from_groups(cls, groups: list[dict[str, Any]],
                    names: dict[tuple[str, str], str] | None = None) -> Vocabulary:
        """Compile groups (as exported); `names` labels taxonomy keys (field, key) → name."""
        names = names or {}
        vocabulary = cls()
        for group in groups:
            words = [(word, stems(word)) for word in group.get("words", [])]
            words = [(word, found) for word, found in words if found]
            related = [Alternative(word, found, weight=RELATED_WEIGHT)
                       for word, found in ((w, stems(w)) for w in group.get("related", []))
                       if found]
            keys = [Alternative(names.get((index_field, key), key), key_field=index_field, key=key,
                                weight=KEY_WEIGHT)
                    for name, index_field in KEY_FIELDS.items() for key in group.get(name, [])]
            for word, found in words:
                if word.isalpha():
                    vocabulary.single_words.add(word.lower())
                alternatives = vocabulary.expansions.setdefault(found, [])
                known = {(a.stems, a.key_field, a.key) for a in alternatives}
                for alternative in [Alternative(w, s) for w, s in words if s != found] \
                        + related + keys:
                    if (alternative.stems, alternative.key_field, alternative.key) not in known:
                        alternatives.append(alternative)
                        known.add((alternative.stems, alternative.key_field, alternative.key))
                vocabulary.longest = max(vocabulary.longest, len(found))
        return vocabulary

    def lookup(self, words: tuple[str, ...]) -> list[Alternative] | None:
        return self.expansions.get(words)


class _Cached:
    """The vocabulary of one app, rebuilt when its rows change."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.vocabulary = Vocabulary()
        self.fingerprint: Any = None
        self.checked = -1e9


def _fingerprint() -> Any:
    return tuple(db.session.execute(select(func.count(m.VocabularyGroup.id),
                                           func.max(m.VocabularyGroup.updated_at))).one())


def _key_names() -> dict[tuple[str, str], str]:
    index_field = {"category": "category", "need": "helps", "accessibility": "access"}
    return {(index_field[term.taxonomy], term.key): term.name
            for term in db.session.scalars(select(m.Term))}


def current_vocabulary(app: Flask | None = None) -> Vocabulary:
    """The vocabulary in the database, checked for changes at most every CHECK_SECONDS."""
    app = app or current_app
    cached: _Cached = app.extensions.setdefault("sitedir.vocabulary", _Cached())
    now = time.monotonic()
    if now - cached.checked < CHECK_SECONDS:
        return cached.vocabulary
    with cached.lock:
        if now - cached.checked >= CHECK_SECONDS:
            fingerprint = _fingerprint()
            if fingerprint != cached.fingerprint:
                cached.vocabulary = Vocabulary.from_groups(export_vocabulary(), _key_names())
                cached.fingerprint = fingerprint
            cached.checked = time.monotonic()
    return cached.vocabulary


def forget(app: Flask | None = None) -> None:
    """Make the next search read the vocabulary again (after `flask content load`)."""
    (app or current_app).extensions.pop("sitedir.vocabulary", None)
