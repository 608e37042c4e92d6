"""The optional online geocoder (geopy), cached, falling back to the gazetteer on any error."""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from .places import Place, UK_BOUNDS, in_uk, name_key
from .postcodes import normalise_postcode

log = logging.getLogger(__name__)


class TTLCache:
    """A small thread-safe LRU cache whose entries expire after `ttl` seconds."""

    def __init__(self, maxsize: int = 1024, ttl: float = 86400.0) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, Any]:
        """(True, value) for a live entry, else (False, None)."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return False, None
            if item[0] < time.monotonic():
                del self._items[key]
                return False, None
            self._items.move_to_end(key)
            return True, item[1]

    def set(self, key: str, value: Any) -> None:
        """Store a value, evicting the least recently used entry when full."""
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)


class OnlineGeocoder:
    """A geopy geocoder made safe to call from a request: cached, bounded to the UK, and quiet
    on failure (after an error it is skipped for `backoff` seconds so a dead service costs one
    timeout, not one per search)."""

    def __init__(self, geocoder: Any, service: str, *, timeout: float = 3.0,
                 cache: TTLCache | None = None, backoff: float = 60.0) -> None:
        self.geocoder = geocoder
        self.service = service
        self.timeout = timeout
        self.cache = cache if cache is not None else TTLCache()
        self.backoff = backoff
        self.errors = 0
        self.calls = 0
        self.last_error: Exception | None = None
        self._skip_until = 0.0

    def __call__(self, query: str) -> Place | None:
        """The place the service finds for a query, or None (not found, failed or skipped)."""
        postcode = normalise_postcode(query, full_only=True)
        key = postcode or name_key(query)
        if not key:
            return None
        hit, cached = self.cache.get(key)
        if hit:
            return cached
        if time.monotonic() < self._skip_until:
            return None
        self.calls += 1
        try:
            location = self._geocode(postcode or query.strip())
        except Exception as error:  # noqa: BLE001  any failure means "use the gazetteer"
            self.errors += 1
            self.last_error = error
            self._skip_until = time.monotonic() + self.backoff
            log.warning("geocoder %s failed for %r: %s", self.service, query, error)
            return None
        place = self._to_place(location, postcode)
        self.cache.set(key, place)
        return place

    def _geocode(self, text: str) -> Any:
        if self.service == "photon":
            from geopy.point import Point

            south, west, north, east = UK_BOUNDS
            return self.geocoder.geocode(text, exactly_one=True, timeout=self.timeout,
                                         bbox=[Point(south, west), Point(north, east)])
        return self.geocoder.geocode(text, exactly_one=True, timeout=self.timeout,
                                     country_codes="gb")

    @staticmethod
    def _to_place(location: Any, postcode: str | None) -> Place | None:
        if location is None or not in_uk(location.latitude, location.longitude):
            return None
        parts = [part.strip() for part in (location.address or "").split(",") if part.strip()]
        parts = [part for part in parts if part not in ("United Kingdom", "UK")]
        if postcode:
            return Place(postcode, "postcode", location.latitude, location.longitude)
        name = parts[0] if parts else ""
        return Place(name, "place", location.latitude, location.longitude, ", ".join(parts[1:3]))


GEOCODER_SERVICES = ("nominatim", "photon")


def make_geocoder(app_config: Mapping[str, Any]) -> OnlineGeocoder | None:
    """The configured online geocoder, or None when GEOCODER is '' (gazetteer only)."""
    service = str(app_config.get("GEOCODER") or "").strip().lower()
    if not service:
        return None
    if service not in GEOCODER_SERVICES:
        raise ValueError(f"GEOCODER must be '', 'nominatim' or 'photon', not {service!r}")
    url = str(app_config.get("GEOCODER_URL") or "").strip()
    if not url:
        log.warning("GEOCODER=%s but GEOCODER_URL is empty: using the gazetteer only", service)
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(url if "://" in url else f"https://{url}")
    domain = parts.netloc + parts.path.rstrip("/")
    timeout = float(app_config.get("GEOCODER_TIMEOUT") or 3)
    user_agent = str(app_config.get("GEOCODER_USER_AGENT") or "sitedir")
    if service == "nominatim":
        from geopy.geocoders import Nominatim

        geocoder: Any = Nominatim(domain=domain, scheme=parts.scheme, user_agent=user_agent,
                                  timeout=timeout)
    else:
        from geopy.geocoders import Photon

        geocoder = Photon(domain=domain, scheme=parts.scheme, user_agent=user_agent,
                          timeout=timeout)
    return OnlineGeocoder(geocoder, service, timeout=timeout)
