"""A place found for a query, the errors a person sees, and matching keys for names."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .postcodes import normalise_postcode

# South, west, north, east: the Isles of Scilly to Shetland, St Kilda to Lowestoft, and all of
# Northern Ireland. The Channel Islands and Rockall fall outside on purpose.
UK_BOUNDS = (49.8, -8.7, 60.95, 1.8)
MAX_QUERY_LENGTH = 120
_COORDINATES_RE = re.compile(r"^\s*([-+]?\d{1,2}(?:\.\d+)?)\s*,\s*([-+]?\d{1,3}(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Place:
    """A point found for a query; `kind` says how precise it is."""

    name: str
    kind: str  # 'postcode' | 'sector' | 'outcode' | 'place' | 'coordinates'
    latitude: float
    longitude: float
    area: str = ""  # county or local authority, for telling namesakes apart

    @property
    def label(self) -> str:
        """'Newport, Isle of Wight': also a query that resolves back to this place."""
        return f"{self.name}, {self.area}" if self.area and self.kind == "place" else self.name


class PlaceError(ValueError):
    """A query did not lead to one place; str(error) is a message for the person searching."""

    def __init__(self, query: str, message: str) -> None:
        super().__init__(message)
        self.query = query
        self.message = message


class UnknownPlace(PlaceError):
    """Nothing matched the query."""

    def __init__(self, query: str, message: str | None = None) -> None:
        if message is None:
            message = _unknown_message(query)
        super().__init__(query, message)


class AmbiguousPlace(PlaceError):
    """Several places match; `choices` are in order of likelihood."""

    def __init__(self, query: str, choices: list[Place]) -> None:
        name = re.split(r"[,(]", " ".join(query.split()), maxsplit=1)[0].strip()
        super().__init__(query, f"There is more than one place called “{name}”. "
                                "Choose the one you mean.")
        self.choices = choices


def _unknown_message(query: str) -> str:
    text = query.strip()
    if not text:
        return "Enter a postcode or the name of a town or village."
    postcode = normalise_postcode(text)
    if postcode:
        return (f"We could not find the postcode {postcode}. Check it, or enter the name of "
                "a town or village.")
    if parse_coordinates(text) is not None:
        return "That location is outside the UK. Enter a UK postcode or place name."
    if len(text) > MAX_QUERY_LENGTH:
        return "Enter a postcode or the name of a town or village, not a long address."
    return (f"We could not find a place called “{text}”. Check the spelling, or enter a "
            "postcode.")


_WORD_ALIASES = {"saint": "st"}


def name_key(text: str) -> str:
    """A matching key: 'St. Anne’s-on-Sea' and 'saint annes on sea' both give 'st annes on sea'."""
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    text = text.replace("&", " and ")
    text = re.sub(r"['’‘`]", "", text)  # "King's Lynn" is typed "Kings Lynn" as often
    words = re.split(r"[\W_]+", text)
    return " ".join(_WORD_ALIASES.get(word, word) for word in words if word)


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """'53.79, -1.53' → (53.79, -1.53); None unless it is a valid latitude,longitude pair."""
    match = _COORDINATES_RE.match(text)
    if not match:
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def in_uk(lat: float, lon: float) -> bool:
    """True inside the UK bounding box."""
    south, west, north, east = UK_BOUNDS
    return south <= lat <= north and west <= lon <= east
