"""content/taxonomy-map.yaml: how another directory's taxonomy terms become ours.

A feed's terms (the LGA Community Services and Needs and Circumstances lists, OpenActive
activities, a council's own) are matched by id, code or label to our categories, needs and
accessibility features. A term the map does not know is kept on the import record and
reported; it never becomes a public category unless an entry says `create: true`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ..models import TAXONOMIES

Target = Annotated[str, StringConstraints(
    pattern=r"^(category|need|accessibility):[a-z0-9]+(-[a-z0-9]+)*$")]


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[str] = []
    codes: list[str] = []
    labels: list[str] = []
    vocabularies: list[str] = []  # only match a label when the term's taxonomy is one of these
    to: Annotated[list[Target], Field(min_length=1)]
    create: bool = False  # make a target term we do not have yet (with the first label as name)


class MapIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    terms: list[EntryIn] = []


def _key(text: Any) -> str:
    return " ".join(str(text or "").lower().replace("&", "and").split())


@dataclass
class Match:
    """Where one feed term goes: our (taxonomy, key) pairs, and whether they may be created."""

    targets: list[tuple[str, str]]
    create: bool = False
    name: str = ""


@dataclass
class TaxonomyMap:
    by_id: dict[str, Match] = field(default_factory=dict)
    by_code: dict[str, Match] = field(default_factory=dict)
    by_label: dict[str, list[tuple[set[str], Match]]] = field(default_factory=dict)

    def find(self, term_id: str, code: str, name: str, vocabulary: str) -> Match | None:
        """The entry for a feed term: by id, then code, then label (within its vocabulary)."""
        for table, value in ((self.by_id, term_id), (self.by_code, _key(code))):
            if value and value in table:
                return table[value]
        for vocabularies, match in self.by_label.get(_key(name), []):
            if not vocabularies or _key(vocabulary) in vocabularies:
                return match
        return None


class MapError(ValueError):
    """The map file is wrong; the message names the file and entry."""


def build_map(data: Any, where: str) -> TaxonomyMap:
    try:
        parsed = MapIn.model_validate(data or {})
    except ValidationError as error:
        first = error.errors()[0]
        place = ".".join(str(part) for part in first["loc"])
        raise MapError(f"{where}: {place}: {first['msg']}") from None
    table = TaxonomyMap()
    for entry in parsed.terms:
        targets = [tuple(target.split(":", 1)) for target in entry.to]
        assert all(taxonomy in TAXONOMIES for taxonomy, _ in targets)
        name = entry.labels[0] if entry.labels else ""
        match = Match(targets, entry.create, name)
        for term_id in entry.ids:
            table.by_id.setdefault(term_id.strip(), match)
        for code in entry.codes:
            table.by_code.setdefault(_key(code), match)
        vocabularies = {_key(v) for v in entry.vocabularies}
        for label in entry.labels:
            table.by_label.setdefault(_key(label), []).append((vocabularies, match))
    return table


def load_map(path: Path) -> TaxonomyMap:
    """The map in `path`; an empty map if the file does not exist."""
    if not path.is_file():
        return TaxonomyMap()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise MapError(f"{path}: {error}") from None
    return build_map(data, str(path))
