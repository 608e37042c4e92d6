"""The locator: the order in which a query is tried (find_place), and the app's copy of it."""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from .gazetteer import Gazetteer, PostcodeLookup, QUALIFIER_NOISE
from .online import OnlineGeocoder
from .places import MAX_QUERY_LENGTH, Place, PlaceError, UnknownPlace, name_key, parse_coordinates
from .postcodes import normalise_postcode

log = logging.getLogger(__name__)

# How long a process trusts its copy of the local place names; `flask content load` in another
# process (the usual case) is seen within this time, and a load in this process at once.
LOCAL_PLACES_TTL_SECONDS = 60.0

LocalPlaces = Callable[[], "Mapping[str, Place]"]  # name_key → Place, aliases included


class Locator:
    """Puts the postcode table, the gazetteer and the optional geocoder in the right order."""

    def __init__(self, *, postcode_table: PostcodeLookup | None = None,
                 geocoder: OnlineGeocoder | None = None, home: str = "",
                 data_dir: str | Path | None = None,
                 local_places: LocalPlaces | None = None) -> None:
        self.postcode_table = postcode_table
        self.geocoder = geocoder
        self.home = home
        self.local_places = local_places
        self.gazetteer = Gazetteer(data_dir, postcode_lookup=self._exact_postcode)
        self._home_point: tuple[float, float] | None = None
        self._home_resolved = False
        self._local: tuple[float, Mapping[str, Place]] | None = None

    def find_place(self, query: str) -> Place:
        """The place a search means; raises UnknownPlace or AmbiguousPlace (both PlaceError)."""
        # The operator's own names come first, so "Rothwell" in a Leeds install is Leeds's.
        local = self.local_place(query)
        if local is not None:
            return local
        near = self.home_point()
        candidates = self.gazetteer._candidates(query, near)
        if candidates:
            return self.gazetteer._choose(query, candidates, near)
        text = " ".join(query.split())
        # Unknown names (villages, streets) and outcodes go to the online geocoder if there is
        # one; full postcodes have already been to it, via _exact_postcode.
        if (self.geocoder is not None and text and len(text) <= MAX_QUERY_LENGTH
                and parse_coordinates(text) is None
                and normalise_postcode(text, full_only=True) is None):
            place = self.geocoder(text)
            if place is not None:
                return place
        raise UnknownPlace(query)

    def home_point(self) -> tuple[float, float] | None:
        """GEO_HOME as a point (coordinates, a postcode or a place name), or None."""
        if not self._home_resolved:
            self._home_resolved = True
            if self.home.strip():
                try:
                    place = self.local_place(self.home) or self.gazetteer.resolve(self.home)
                except PlaceError as error:
                    log.warning("GEO_HOME %r: %s", self.home, error)
                else:
                    self._home_point = (place.latitude, place.longitude)
        return self._home_point

    def local_place(self, query: str) -> Place | None:
        """The local place a query names ("Rothwell", "rothwell, Leeds"), or None."""
        if self.local_places is None:
            return None
        text = " ".join(query.split())
        if not text or len(text) > MAX_QUERY_LENGTH:
            return None
        text = re.sub(r"\s*\(([^)]*)\)\s*", r", \1", text)
        name, _, qualifier = text.partition(",")
        place = self._local_table().get(name_key(name))
        if place is None:
            return None
        # "Rothwell, Leeds" is ours; "Rothwell, Northamptonshire" is for the gazetteer.
        qualifier_key = QUALIFIER_NOISE.sub("", name_key(qualifier)).strip()
        if qualifier_key and f" {qualifier_key} " not in f" {name_key(place.area)} ":
            return None
        return place

    def forget_local_places(self) -> None:
        """Drop the cached local names, so the next lookup reads them afresh."""
        self._local = None

    def _local_table(self) -> Mapping[str, Place]:
        cached = self._local
        if cached is None or cached[0] < time.monotonic():
            assert self.local_places is not None
            cached = (time.monotonic() + LOCAL_PLACES_TTL_SECONDS, self.local_places())
            self._local = cached
        return cached[1]

    def _exact_postcode(self, postcode: str) -> tuple[float, float] | None:
        if self.postcode_table is not None:
            point = self.postcode_table(postcode)
            if point is not None:
                return point
        if self.geocoder is not None:
            place = self.geocoder(postcode)
            if place is not None:
                return place.latitude, place.longitude
        return None


EXTENSION_KEY = "sitedir.geo"


def get_locator() -> Locator:
    """The current app's Locator."""
    from flask import current_app

    return current_app.extensions[EXTENSION_KEY]


def find_place(query: str) -> Place:
    """Turn what someone typed into one Place; raises PlaceError with a message to show."""
    return get_locator().find_place(query)


def lookup_postcode_in_db(postcode: str) -> tuple[float, float] | None:
    """A full postcode's point from the imported `postcode` table (needs an app context)."""
    from sqlalchemy import select

    from sitedir.extensions import db
    from sitedir.models import Postcode

    row = db.session.execute(
        select(Postcode.latitude, Postcode.longitude).where(Postcode.postcode == postcode)
    ).first()
    return (row[0], row[1]) if row is not None else None


def local_places_in_db() -> dict[str, Place]:
    """Every local place (content/places.yaml) by the name_key of its name and other names."""
    from sqlalchemy import select

    from sitedir.extensions import db
    from sitedir.models import LocalPlace

    rows = db.session.scalars(select(LocalPlace).order_by(LocalPlace.id)).all()
    places = {row.key: Place(row.name, "place", row.latitude, row.longitude, row.area)
              for row in rows}
    for row in rows:
        for alias in row.also_known_as or ():
            places.setdefault(name_key(alias), places[row.key])
    return places


def forget_local_places() -> None:
    """After a content load: this app's Locator rereads the local places on its next lookup."""
    from flask import current_app

    locator = current_app.extensions.get(EXTENSION_KEY)
    if locator is not None:
        locator.forget_local_places()
