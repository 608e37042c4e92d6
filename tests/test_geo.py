"""sitedir.geo without the app: postcodes, names, distances, grid cells and the geocoder."""
from __future__ import annotations

import gzip
import hashlib
import json
import math
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitedir import geo
from sitedir.geo import (
    AmbiguousPlace,
    Gazetteer,
    Locator,
    Place,
    PlaceError,
    TTLCache,
    UnknownPlace,
    find_postcode_in_text,
    grid_cell,
    grid_cells_covering,
    haversine_miles,
    make_geocoder,
    name_key,
    normalise_postcode,
)

from tests.conftest import examples

# Leeds and York railway stations as Wikipedia's infoboxes give them:
# Leeds 53°47′38″N 1°32′49″W, York 53°57′30″N 1°05′35″W.
LEEDS_STATION = (53 + 47 / 60 + 38 / 3600, -(1 + 32 / 60 + 49 / 3600))
YORK_STATION = (53 + 57 / 60 + 30 / 3600, -(1 + 5 / 60 + 35 / 3600))
# A point on Harehills Lane in LS9 8AB's sector, for "near" checks.
LS9_8AB = (53.796, -1.532)


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


# --- postcodes -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("LS9 8AB", "LS9 8AB"),
    ("ls98ab", "LS9 8AB"),
    ("  ls9   8ab ", "LS9 8AB"),
    ("EC1A1BB", "EC1A 1BB"),
    ("W1A 0AX", "W1A 0AX"),
    ("M1 1AE", "M1 1AE"),
    ("DN55 1PT", "DN55 1PT"),
    ("gir 0aa", "GIR 0AA"),
    ("LS9", "LS9"),
    ("ls98", "LS98"),        # an outcode of its own, not LS9 + sector 8
    ("ls9 8", "LS9 8"),      # a sector needs its space
    ("SW1P", "SW1P"),
    ("", None),
    ("Leeds", None),
    ("LS9 8A", None),
    ("Q1 1AA", None),        # Q never starts a postcode
    ("LS9 8CA", None),       # C is never in the inward code
    ("LS9 8AB X", None),
    ("AAA1 1AA", None),
    ("LS9-8AB", None),
    ("12345", None),
    ("LS9 8AB" * 3, None),
])
def test_normalise_postcode(text: str, expected: str | None) -> None:
    assert normalise_postcode(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("ls98ab", "LS9 8AB"),
    ("LS9", None),
    ("LS9 8", None),
])
def test_normalise_postcode_full_only(text: str, expected: str | None) -> None:
    assert normalise_postcode(text, full_only=True) == expected


@pytest.mark.parametrize(("postcode", "area"), [
    ("LS9 8AB", "LS"), ("M1 1AE", "M"), ("EC1A 1BB", "EC"), ("W1A 0AX", "W"), ("BT1", "BT"),
])
def test_postcode_area(postcode: str, area: str) -> None:
    assert geo.postcode_area(postcode) == area


@pytest.mark.parametrize(("text", "expected"), [
    ("2 Harehills Lane, Leeds LS9 8AB", "LS9 8AB"),
    ("Leeds ls98ab", "LS9 8AB"),
    ("Route A1 to Leeds", None),
    ("LS9", None),
])
def test_find_postcode_in_text(text: str, expected: str | None) -> None:
    assert find_postcode_in_text(text) == expected


@pytest.mark.parametrize(("a", "b"), [
    ("St Albans", "saint albans"),
    ("St. Helens", "st helens"),
    ("King's Lynn", "kings lynn"),
    ("Stratford-upon-Avon", "stratford upon avon"),
    ("Dùn Èideann", "dun eideann"),
    ("Brighton & Hove", "brighton and hove"),
    ("  HEBDEN   bridge ", "Hebden Bridge"),
])
def test_name_key_matches_spellings(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


# --- distances -----------------------------------------------------------------------------

def test_haversine_by_hand() -> None:
    # One degree along a meridian is R·π/180; half the equator is π·R.
    radius = 6371.0088 / 1.609344
    assert haversine_miles(0, 0, 1, 0) == pytest.approx(radius * math.pi / 180, rel=1e-12)
    assert haversine_miles(0, 0, 0, 180) == pytest.approx(math.pi * radius, rel=1e-12)
    assert haversine_miles(53.8, -1.5, 53.8, -1.5) == 0


def test_haversine_leeds_to_york_stations() -> None:
    # Spherical law of cosines, computed separately: cos c = sin φ1 sin φ2 + cos φ1 cos φ2 cos Δλ
    # gives c = 0.0054816075 rad, × 3958.7613 mi = 21.7004 miles (geopy's great_circle agrees;
    # the ellipsoidal geodesic is 21.758 miles, 0.27 % longer).
    distance = haversine_miles(*LEEDS_STATION, *YORK_STATION)
    assert distance == pytest.approx(21.7004, abs=1e-4)
    assert haversine_miles(*YORK_STATION, *LEEDS_STATION) == pytest.approx(distance, rel=1e-12)


# --- grid cells ----------------------------------------------------------------------------

def _destination(lat: float, lon: float, bearing: float, miles: float) -> tuple[float, float]:
    """The point `miles` from (lat, lon) along `bearing` degrees, on haversine's sphere."""
    angle = miles / geo.EARTH_RADIUS_MILES
    phi1, lambda1, theta = math.radians(lat), math.radians(lon), math.radians(bearing)
    phi2 = math.asin(math.sin(phi1) * math.cos(angle)
                     + math.cos(phi1) * math.sin(angle) * math.cos(theta))
    lambda2 = lambda1 + math.atan2(math.sin(theta) * math.sin(angle) * math.cos(phi1),
                                   math.cos(angle) - math.sin(phi1) * math.sin(phi2))
    return math.degrees(phi2), math.degrees(lambda2)


@settings(max_examples=examples(300), deadline=None)
@given(
    lat=st.floats(49.9, 60.9),
    lon=st.floats(-8.6, 1.7),
    radius=st.floats(1, 25),
    bearing=st.floats(0, 360),
    fraction=st.floats(0, 1),
)
def test_grid_cells_cover_every_point_within_the_radius(
        lat: float, lon: float, radius: float, bearing: float, fraction: float) -> None:
    point = _destination(lat, lon, bearing, radius * fraction)
    assert haversine_miles(lat, lon, *point) <= radius * (1 + 1e-9) + 1e-9
    assert grid_cell(*point) in grid_cells_covering(lat, lon, radius)


@settings(max_examples=examples(300), deadline=None)
@given(lat=st.floats(49.9, 60.9), lon=st.floats(-8.6, 1.7), radius=st.floats(1, 25),
       bearing=st.floats(0, 360))
def test_grid_cells_cover_the_edge_of_the_circle(
        lat: float, lon: float, radius: float, bearing: float) -> None:
    # Points exactly on the circle are the hardest case for the cell distance bound.
    point = _destination(lat, lon, bearing, radius)
    assert grid_cell(*point) in grid_cells_covering(lat, lon, radius)


@pytest.mark.parametrize("radius", [5, 25])
def test_grid_covering_reaches_the_circles_poleward_bulge(radius: float) -> None:
    # A circle's easternmost point is not level with its centre but poleward of it (by 0.0016°
    # at 25 miles). Put the centre just under a row boundary and that point just inside the
    # next column: only the cell north-east of the centre holds it, and a covering that
    # clamps latitude naively misses that cell. Random sampling almost never lands here.
    angle = radius / geo.EARTH_RADIUS_MILES
    lat = 53.80 - 0.00005
    east_lat = math.degrees(math.asin(math.sin(math.radians(lat)) / math.cos(angle)))
    reach = math.degrees(math.asin(math.sin(angle) / math.cos(math.radians(lat))))
    lon = -1.52 - reach + 1e-7  # -1.52 is a column boundary (19 × 0.08)
    point = (east_lat, lon + reach - 1e-8)
    assert east_lat > 53.80 and point[1] > -1.52
    assert haversine_miles(lat, lon, *point) <= radius
    assert grid_cell(*point) != grid_cell(lat, lon)
    assert grid_cell(*point) in grid_cells_covering(lat, lon, radius)


@pytest.mark.parametrize(("radius", "most_cells"), [(0, 1), (1, 4), (5, 16), (25, 210)])
def test_grid_covering_stays_small(radius: float, most_cells: int) -> None:
    cells = grid_cells_covering(*LS9_8AB, radius)
    assert grid_cell(*LS9_8AB) in cells
    assert len(cells) == len(set(cells)) <= most_cells


def test_grid_covering_rejects_silly_radii() -> None:
    with pytest.raises(ValueError):
        grid_cells_covering(*LS9_8AB, -1)
    with pytest.raises(ValueError):
        grid_cells_covering(*LS9_8AB, 500)


# --- the gazetteer -------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "kind", "name", "near", "within_miles"), [
    ("LS9 8AB", "sector", "LS9 8AB", LS9_8AB, 1.0),     # sector centroid stands in
    ("ls98ab", "sector", "LS9 8AB", LS9_8AB, 1.0),
    ("LS9 8", "sector", "LS9 8", LS9_8AB, 1.0),
    ("LS9", "outcode", "LS9", LS9_8AB, 2.0),
    ("Leeds LS9 8AB", "sector", "LS9 8AB", LS9_8AB, 1.0),  # a postcode in an address
    ("Hebden Bridge", "place", "Hebden Bridge", (53.7417, -2.0139), 1.0),
    ("hebden bridge", "place", "Hebden Bridge", (53.7417, -2.0139), 1.0),
    ("otley", "place", "Otley", (53.905, -1.694), 1.0),   # not the Suffolk village
    ("Morley", "place", "Morley", (53.740, -1.599), 1.0),
    ("saint albans", "place", "St Albans", (51.750, -0.336), 1.0),
    ("St. Albans", "place", "St Albans", (51.750, -0.336), 1.0),
    ("Casnewydd", "place", "Newport", (51.588, -2.998), 1.0),  # Welsh name
    ("Newport, Isle of Wight", "place", "Newport", (50.701, -1.291), 1.0),
    ("Newport (Isle of Wight)", "place", "Newport", (50.701, -1.291), 1.0),
    ("Newport, Wales", "place", "Newport", (51.588, -2.998), 1.0),
    ("kings lynn", "place", "King's Lynn", (52.752, 0.395), 1.0),
    ("53.7965, -1.5324", "coordinates", "53.7965, -1.5324", LS9_8AB, 0.1),
])
def test_resolve(gazetteer: Gazetteer, query: str, kind: str, name: str,
                 near: tuple[float, float], within_miles: float) -> None:
    place = gazetteer.resolve(query)
    assert (place.kind, place.name) == (kind, name)
    assert haversine_miles(place.latitude, place.longitude, *near) < within_miles


def test_ambiguous_name_offers_choices_that_resolve_back(gazetteer: Gazetteer) -> None:
    with pytest.raises(AmbiguousPlace) as caught:
        gazetteer.resolve("Newport")
    choices = caught.value.choices
    assert {"Newport"} == {choice.name for choice in choices}
    assert {"Isle of Wight", "Telford and Wrekin", "Pembrokeshire"} <= {c.area for c in choices}
    assert choices[0].area == "Newport"  # the city in Wales is the biggest
    assert "more than one place called “Newport”" in str(caught.value)
    for choice in choices:
        assert gazetteer.resolve(choice.label) == choice


@pytest.mark.parametrize("query", ["Newcastle", "Richmond", "Otley, Suffolk"])
def test_more_ambiguous_names(gazetteer: Gazetteer, query: str) -> None:
    with pytest.raises(AmbiguousPlace) as caught:
        gazetteer.resolve(query)
    assert len(caught.value.choices) >= 2


def test_home_area_settles_ambiguity(gazetteer: Gazetteer) -> None:
    assert gazetteer.resolve("Newport", near=(50.69, -1.30)).area == "Isle of Wight"
    woodbridge = (52.094, 1.318)
    assert gazetteer.resolve("Otley", near=woodbridge).longitude > 1  # the Suffolk one
    assert gazetteer.lookup("Otley", near=woodbridge)[0].longitude > 1


@pytest.mark.parametrize(("query", "words"), [
    ("Nowhereville", "could not find a place called “Nowhereville”"),
    ("BT1 1AA", "postcode BT1 1AA"),        # Northern Ireland is left out of the shipped data
    ("WC9 9ZZ", "postcode WC9 9ZZ"),   # a valid shape, no such district
    ("48.85, 2.35", "outside the UK"),
    ("   ", "Enter a postcode"),
    ("x" * 500, "not a long address"),
])
def test_unknown(gazetteer: Gazetteer, query: str, words: str) -> None:
    with pytest.raises(UnknownPlace) as caught:
        gazetteer.resolve(query)
    assert isinstance(caught.value, PlaceError) and isinstance(caught.value, ValueError)
    assert words in str(caught.value)
    assert gazetteer.lookup(query) == []


def test_full_postcode_table_wins_over_the_sector(gazetteer: Gazetteer) -> None:
    table = {"LS9 8AB": (53.79647, -1.53244)}
    precise = Gazetteer(postcode_lookup=table.get)
    assert precise.resolve("ls9 8ab") == Place("LS9 8AB", "postcode", 53.79647, -1.53244,
                                               "City and Borough of Leeds")
    assert precise.resolve("LS9 8AD").kind == "sector"  # not in the table: falls back


def test_gazetteer_data_matches_its_manifest() -> None:
    manifest = json.loads((geo.DATA_DIR / "gazetteer.json").read_text())
    assert manifest["format"] == geo.DATA_FORMAT
    for name, facts in manifest["files"].items():
        data = (geo.DATA_DIR / name).read_bytes()
        assert len(data) == facts["bytes"]
        assert hashlib.sha256(data).hexdigest() == facts["sha256"]
    total = sum(path.stat().st_size for path in geo.DATA_DIR.iterdir())
    assert total < 3_000_000
    with gzip.open(geo.DATA_DIR / "outcodes.csv.gz", "rt") as handle:
        assert sum(1 for _ in handle) - 1 == manifest["rows"]["outcodes"]


def test_gazetteer_loads_once_per_process(gazetteer: Gazetteer) -> None:
    # How fast it loads and looks up is a benchmark's business (timed asserts fail on a busy
    # machine); what must hold is that every Gazetteer shares the one loaded copy.
    assert gazetteer.tables is Gazetteer().tables
    assert gazetteer.load_seconds > 0


# --- the optional geocoder -----------------------------------------------------------------

def test_no_geocoder_by_default() -> None:
    assert make_geocoder({}) is None
    assert make_geocoder({"GEOCODER": "", "GEOCODER_URL": "http://example.org"}) is None
    assert make_geocoder({"GEOCODER": "nominatim", "GEOCODER_URL": ""}) is None
    with pytest.raises(ValueError, match="GEOCODER"):
        make_geocoder({"GEOCODER": "google", "GEOCODER_URL": "http://example.org"})


@pytest.mark.parametrize("service", ["nominatim", "photon"])
def test_geocoder_failure_falls_back_to_the_gazetteer(service: str) -> None:
    # Port 9 (discard) is closed here: a real connection that really fails.
    geocoder = make_geocoder({"GEOCODER": service, "GEOCODER_URL": "http://127.0.0.1:9",
                              "GEOCODER_TIMEOUT": 2})
    assert geocoder is not None
    locator = Locator(geocoder=geocoder)
    place = locator.find_place("LS9 8AB")  # the geocoder is asked first for a full postcode
    assert place.kind == "sector"
    assert geocoder.errors == 1 and geocoder.last_error is not None
    with pytest.raises(UnknownPlace):
        locator.find_place("Nowhereville")  # skipped during the back-off: no second timeout
    assert geocoder.calls == 1
    assert locator.find_place("Hebden Bridge").name == "Hebden Bridge"


class _FakeNominatim(BaseHTTPRequestHandler):
    """A tiny real Nominatim-shaped HTTP service (answers /search with JSON)."""

    queries: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        query = parse_qs(urlsplit(self.path).query).get("q", [""])[0]
        type(self).queries.append(query)
        if query == "Harehills":
            results = [{"lat": "53.8075", "lon": "-1.5122", "display_name":
                        "Harehills, Leeds, West Yorkshire, England, United Kingdom"}]
        elif query == "Paris":
            results = [{"lat": "48.8566", "lon": "2.3522", "display_name": "Paris, France"}]
        else:
            results = []
        body = json.dumps(results).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def nominatim_url() -> Iterator[str]:
    _FakeNominatim.queries = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeNominatim)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_geocoder_finds_what_the_gazetteer_lacks_and_caches_it(nominatim_url: str) -> None:
    geocoder = make_geocoder({"GEOCODER": "nominatim", "GEOCODER_URL": nominatim_url})
    locator = Locator(geocoder=geocoder)
    place = locator.find_place("Harehills")
    assert place == Place("Harehills", "place", 53.8075, -1.5122, "Leeds, West Yorkshire")
    assert locator.find_place("harehills") == place
    assert _FakeNominatim.queries == ["Harehills"]  # the second came from the cache
    assert locator.find_place("Otley").area == "City and Borough of Leeds"  # gazetteer first
    with pytest.raises(UnknownPlace):
        locator.find_place("Paris")  # outside the UK: ignored
    assert _FakeNominatim.queries == ["Harehills", "Paris"]


def test_ttl_cache_expires_and_evicts() -> None:
    cache = TTLCache(maxsize=2, ttl=0.05)
    cache.set("a", 1)
    cache.set("b", None)
    assert cache.get("a") == (True, 1)
    assert cache.get("b") == (True, None)  # a cached "not found"
    cache.set("c", 3)  # evicts the least recently used, "a"
    assert cache.get("a") == (False, None)
    time.sleep(0.06)
    assert cache.get("c") == (False, None)


def test_home_setting_biases_the_locator() -> None:
    assert Locator(home="PO30").find_place("Newport").area == "Isle of Wight"
    assert Locator(home="50.69,-1.30").find_place("Newport").area == "Isle of Wight"
    with pytest.raises(AmbiguousPlace):
        Locator(home="").find_place("Newport")
    assert Locator(home="Nowhereville").home_point() is None


def test_import_does_not_need_flask_at_module_level() -> None:
    modules = sorted(Path(geo.__file__).parent.glob("*.py"))
    assert len(modules) > 1  # the package and its layers
    for module in modules:
        top_level = [line for line in module.read_text().splitlines()
                     if line.startswith(("import ", "from ")) and "TYPE_CHECKING" not in line]
        assert not [line for line in top_level if "flask" in line or "sqlalchemy" in line], \
            module.name
