"""The offline gazetteer shipped in sitedir/data/: postcode sectors, outcodes and places."""
from __future__ import annotations

import csv
import gzip
import logging
import re
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .grid import haversine_miles
from .places import (
    AmbiguousPlace, MAX_QUERY_LENGTH, Place, UnknownPlace, in_uk, name_key, parse_coordinates,
)
from .postcodes import find_postcode_in_text, normalise_postcode

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DATA_FORMAT = 1  # bump when the gazetteer file layout changes
# An ambiguous name resolves to its biggest namesake when that is at least this many times the
# population of the next ("Otley" → the West Yorkshire town of 14,668, not the Suffolk village
# of 676) — otherwise the person chooses ("Newport": 161,506 in Wales, 24,884 on Wight).
DOMINANT_POPULATION_RATIO = 10
# With a home area set (GEO_HOME), a namesake this close to it wins when it is the only one.
HOME_RADIUS_MILES = 30.0
MAX_CHOICES = 8

PostcodeLookup = Callable[[str], "tuple[float, float] | None"]


@dataclass(frozen=True)
class _Named:
    """A gazetteer place with what ranking needs."""

    place: Place
    population: int
    country: str


@dataclass
class _Tables:
    outcodes: dict[str, tuple[float, float, str]]
    sectors: dict[str, tuple[float, float]]
    places: list[_Named]
    by_name: dict[str, list[int]]
    by_alternate: dict[str, list[int]]
    sorted_names: list[str]
    load_seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def _read_gz_csv(path: Path) -> Iterator[list[str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)  # header
        yield from reader


_LOAD_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _load_tables(data_dir: str) -> _Tables:
    """Read the gazetteer files once per process (about 60 ms)."""
    started = time.perf_counter()
    directory = Path(data_dir)
    outcodes = {code: (float(lat), float(lon), area)
                for code, lat, lon, _count, area in _read_gz_csv(directory / "outcodes.csv.gz")}
    sectors = {code: (float(lat), float(lon))
               for code, lat, lon, _count in _read_gz_csv(directory / "sectors.csv.gz")}
    places: list[_Named] = []
    by_name: dict[str, list[int]] = {}
    by_alternate: dict[str, list[int]] = {}
    for name, lat, lon, population, area, country, alternates, _id in _read_gz_csv(
            directory / "places.csv.gz"):
        index = len(places)
        places.append(_Named(Place(name, "place", float(lat), float(lon), area),
                             int(population or 0), country))
        by_name.setdefault(name_key(name), []).append(index)
        for alternate in alternates.split("|") if alternates else ():
            by_alternate.setdefault(name_key(alternate), []).append(index)
    tables = _Tables(outcodes, sectors, places, by_name, by_alternate, sorted(by_name))
    tables.load_seconds = time.perf_counter() - started
    tables.counts = {"outcodes": len(outcodes), "sectors": len(sectors), "places": len(places),
                     "alternate_names": len(by_alternate)}
    log.info("gazetteer loaded in %.0f ms: %s", tables.load_seconds * 1000, tables.counts)
    return tables


QUALIFIER_NOISE = re.compile(r"\b(?:uk|united kingdom|gb|great britain|britain)$")


class Gazetteer:
    """Offline place finder over sitedir/data; data loads on first use and is shared."""

    def __init__(self, data_dir: str | Path | None = None,
                 postcode_lookup: PostcodeLookup | None = None) -> None:
        self.data_dir = str(Path(data_dir) if data_dir is not None else DATA_DIR)
        self.postcode_lookup = postcode_lookup
        self._tables: _Tables | None = None

    @property
    def tables(self) -> _Tables:
        """The loaded data (loads it on first access)."""
        if self._tables is None:
            with _LOAD_LOCK:  # the first requests of a threaded server arrive together
                self._tables = _load_tables(self.data_dir)
        return self._tables

    def sector_point(self, sector: str) -> tuple[float, float] | None:
        """The centre of a postcode sector ('LS8 5'), or None if the gazetteer has no such
        sector."""
        return self.tables.sectors.get(sector)

    @property
    def load_seconds(self) -> float:
        """How long the one-off load of the data files took."""
        return self.tables.load_seconds

    def lookup(self, query: str, near: tuple[float, float] | None = None) -> list[Place]:
        """Places matching the query, most likely first; empty when nothing matches."""
        return [named.place for named in self._candidates(query, near)]

    def resolve(self, query: str, near: tuple[float, float] | None = None) -> Place:
        """The one place a query means; raises UnknownPlace or AmbiguousPlace."""
        candidates = self._candidates(query, near)
        if not candidates:
            raise UnknownPlace(query)
        return self._choose(query, candidates, near)

    def nearest_outcode(self, lat: float, lon: float) -> Place | None:
        """The postcode district whose centre is nearest the point (a readable stand-in for
        a device's coordinates); None outside the UK."""
        if not in_uk(lat, lon):
            return None
        outcodes = self.tables.outcodes
        if not outcodes:
            return None
        code = min(outcodes, key=lambda c: haversine_miles(lat, lon, *outcodes[c][:2]))
        centre_lat, centre_lon, area = outcodes[code]
        return Place(code, "outcode", centre_lat, centre_lon, area)

    # How a query is read, in order: coordinates, postcode shapes, a postcode inside an
    # address, then names.
    def _candidates(self, query: str, near: tuple[float, float] | None) -> list[_Named]:
        text = " ".join(query.split())
        if not text or len(text) > MAX_QUERY_LENGTH:
            return []
        coordinates = parse_coordinates(text)
        if coordinates is not None:
            lat, lon = coordinates
            if not in_uk(lat, lon):
                return []
            return [_Named(Place(f"{lat:.4f}, {lon:.4f}", "coordinates", lat, lon), 0, "")]
        postcode = normalise_postcode(text) or find_postcode_in_text(text)
        if postcode is not None:
            place = self._postcode(postcode)
            return [_Named(place, 0, "")] if place else []
        return self._names(text, near)

    def _postcode(self, postcode: str) -> Place | None:
        tables = self.tables
        outcode, _, inward = postcode.partition(" ")
        area = tables.outcodes.get(outcode, (0.0, 0.0, ""))[2]
        if len(inward) == 3 and self.postcode_lookup is not None:
            point = self.postcode_lookup(postcode)
            if point is not None:
                return Place(postcode, "postcode", point[0], point[1], area)
        # The point is the sector's or outcode's centre; the kind says so, the name stays as typed.
        if inward:
            sector = tables.sectors.get(f"{outcode} {inward[0]}")
            if sector is not None:
                return Place(postcode, "sector", sector[0], sector[1], area)
        if outcode in tables.outcodes:
            lat, lon, _area = tables.outcodes[outcode]
            return Place(postcode, "outcode", lat, lon, area)
        return None

    def _names(self, text: str, near: tuple[float, float] | None) -> list[_Named]:
        tables = self.tables
        text = re.sub(r"\s*\(([^)]*)\)\s*", r", \1", text)  # "Newport (Isle of Wight)"
        name, _, qualifier = text.partition(",")
        indexes = self._match(name_key(text)) if qualifier else []
        unmatched_qualifier = False
        if not indexes:
            indexes = self._match(name_key(name))
            qualifier_key = QUALIFIER_NOISE.sub("", name_key(qualifier)).strip()
            if qualifier_key:
                # "Newport, Isle of Wight" or "Newport, Wales"; an unknown qualifier ("Otley,
                # Suffolk" when that Otley's area is "near Woodbridge") leaves the choice open.
                wanted = f" {qualifier_key} "
                filtered = [i for i in indexes
                            if wanted in f" {name_key(tables.places[i].place.area)} "
                            or wanted in f" {name_key(tables.places[i].country)} "]
                unmatched_qualifier = not filtered
                indexes = filtered or indexes
        candidates = sorted((tables.places[i] for i in indexes),
                            key=lambda named: self._rank(named, near))
        if unmatched_qualifier and len(candidates) > 1:
            # Mark the list so _choose asks rather than picking the biggest.
            candidates = [_Named(c.place, 0, c.country) for c in candidates]
        return candidates

    def _match(self, key: str) -> list[int]:
        tables = self.tables
        if not key:
            return []
        exact = tables.by_name.get(key) or tables.by_alternate.get(key) or []
        if len(key) < 4:
            return list(exact)
        # Names that start with the query as whole words: "Newcastle" also means "Newcastle
        # upon Tyne" and "Newcastle-under-Lyme", which outrank the small Newcastle in County
        # Down; but "Newport" does not drag in Newport Pagnell, smaller than Newport itself.
        biggest = max((tables.places[i].population for i in exact), default=-1)
        prefix = key + " "
        found = list(exact)
        names = tables.sorted_names
        for position in range(bisect_left(names, prefix), len(names)):
            candidate = names[position]
            if not candidate.startswith(prefix):
                break
            found.extend(i for i in tables.by_name[candidate]
                         if tables.places[i].population > biggest)
        return found

    @staticmethod
    def _rank(named: _Named, near: tuple[float, float] | None) -> tuple:
        if near is None:
            return (-named.population, named.place.name, named.place.area)
        miles = haversine_miles(*near, named.place.latitude, named.place.longitude)
        return (miles > HOME_RADIUS_MILES, -named.population, named.place.name, named.place.area)

    @staticmethod
    def _choose(query: str, candidates: list[_Named], near: tuple[float, float] | None) -> Place:
        if len(candidates) == 1:
            return candidates[0].place
        if near is not None:
            close = [c for c in candidates if haversine_miles(
                *near, c.place.latitude, c.place.longitude) <= HOME_RADIUS_MILES]
            if len(close) == 1:
                return close[0].place
        first, second = candidates[0], candidates[1]
        if first.population >= DOMINANT_POPULATION_RATIO * max(second.population, 1):
            return first.place
        raise AmbiguousPlace(query, [c.place for c in candidates[:MAX_CHOICES]])
