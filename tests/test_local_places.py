"""content/places.yaml: validation, loading, export, and the Locator finding local names first."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from sitedir import geo
from sitedir.content import export_catalogue, load_catalogue, read_catalogue
from sitedir.extensions import db
from sitedir.geo import Locator, Place, haversine_miles
from sitedir.models import ListingChange, LocalPlace
from tests.conftest import FIXTURE_CONTENT, REPO
from tests.search_helpers import rebuild

# Sector centres from sitedir/data/sectors.csv.gz.
LS8_5 = (53.81191, -1.51963)
LS26_0 = (53.75119, -1.48375)
HAREHILLS_TEST_HUB = (53.81420, -1.51350)  # the fixture venue, LS8 5QD


def _places(rows: str, content: Path) -> list[str]:
    (content / "places.yaml").write_text(rows, encoding="utf-8")
    return read_catalogue(content).errors


def test_places_errors_name_the_file_and_field(content_copy: Path) -> None:
    errors = _places("""
- name: Harehills
  postcode_sectors: [LS8 5]
- name: Nowhere
  postcode_sectors: [LS8 0, not a sector]
- name: Floating
- name: Half
  latitude: 53.8
- name: HAREHILLS!
  postcode_sectors: [LS8 5]
- name: Gipton
  postcode_sectors: [LS9 6]
  also_known_as: [Gipton, hare hills, Hare-hills]
""", content_copy)
    assert errors == [
        "content/places.yaml: [1].postcode_sectors[0]: unknown postcode sector 'LS8 0'",
        "content/places.yaml: [1].postcode_sectors[1]: 'not a sector' is not a postcode "
        "sector like \"LS8 5\"",
        "content/places.yaml: [2]: give either postcode_sectors or latitude and longitude",
        "content/places.yaml: [3]: give both latitude and longitude",
        "content/places.yaml: [4].name: 'HAREHILLS!' is also [0]'s name",
    ]
    assert _places("name: Harehills\n", content_copy) == [
        "content/places.yaml: must be a list of places"]


def test_sectors_are_normalised_and_averaged(content_copy: Path) -> None:
    assert _places("- name: Roundhay\n  postcode_sectors: [ls8 1, LS81]\n", content_copy) == [
        "content/places.yaml: [0].postcode_sectors[1]: 'LS81' is not a postcode sector like "
        "\"LS8 5\""]
    _places("- name: Roundhay\n  postcode_sectors: [ls8 1, 'LS8  2']\n", content_copy)
    roundhay = read_catalogue(content_copy).places[0]
    assert roundhay.postcode_sectors == ["LS8 1", "LS8 2"]
    tables = geo.Gazetteer().tables
    mean_lat = (tables.sectors["LS8 1"][0] + tables.sectors["LS8 2"][0]) / 2
    assert roundhay.point[0] == pytest.approx(mean_lat, abs=1e-5)


def test_load_is_idempotent_and_removes_dropped_names(make_app, content_copy: Path) -> None:
    app = make_app()
    with app.app_context():
        def snapshot() -> list[tuple]:
            return [(p.id, p.name, p.key, p.latitude, p.longitude, p.area, p.also_known_as)
                    for p in db.session.scalars(select(LocalPlace).order_by(LocalPlace.id))]

        first = snapshot()
        outbox = db.session.scalar(select(func.count(ListingChange.id)))
        assert [row[1] for row in first] == ["Cross Gates", "Harehills", "Rothwell",
                                             "Temple Newsam"]
        assert first[1][2:6] == ("harehills", *LS8_5, "Leeds")  # area defaults to SITE_AREA
        assert geo.find_place("Rothwell").latitude == pytest.approx(LS26_0[0])
        load_catalogue(read_catalogue(FIXTURE_CONTENT))
        assert snapshot() == first
        assert db.session.scalar(select(func.count(ListingChange.id))) == outbox

        text = (content_copy / "places.yaml").read_text(encoding="utf-8")
        text = text.replace("- name: Rothwell\n  postcode_sectors: [LS26 0]\n",
                            "- name: Gipton\n  postcode_sectors: [LS9 6]\n  area: East Leeds\n")
        (content_copy / "places.yaml").write_text(text, encoding="utf-8")
        load_catalogue(read_catalogue(content_copy))
        after = {row[1]: row for row in snapshot()}
        assert set(after) == {"Cross Gates", "Gipton", "Harehills", "Temple Newsam"}
        assert after["Harehills"] == first[1]  # untouched rows keep their ids
        assert after["Gipton"][5] == "East Leeds"
        # The load forgot this process's cached names: the change shows at once.
        assert geo.find_place("Gipton").area == "East Leeds"
        assert geo.find_place("Rothwell").area == "Northamptonshire"


def test_export_writes_places_back(make_app, tmp_path: Path) -> None:
    app = make_app()
    with app.app_context():
        counts = export_catalogue(tmp_path / "out")
    assert counts["places"] == 4
    assert read_catalogue(tmp_path / "out").places == read_catalogue(FIXTURE_CONTENT).places
    exported = (tmp_path / "out" / "places.yaml").read_text(encoding="utf-8")
    assert "area" not in exported and "latitude: 53.784" in exported
    assert "- name: Harehills\n  postcode_sectors:\n  - LS8 5\n" in exported


def test_local_names_come_before_the_gazetteer(app: Flask) -> None:
    with app.app_context():
        harehills = geo.find_place("Harehills")
        assert harehills == Place("Harehills", "place", *LS8_5, "Leeds")
        assert harehills.label == "Harehills, Leeds"
        assert haversine_miles(*LS8_5, *HAREHILLS_TEST_HUB) < 0.5
        for typed in ("rothwell", "ROTHWELL.", " Rothwell, Leeds ", "Rothwell (Leeds)"):
            assert geo.find_place(typed).latitude == pytest.approx(LS26_0[0]), typed
        # A qualifier that is not the local area means the gazetteer's namesake.
        assert geo.find_place("Rothwell, Northamptonshire").area == "Northamptonshire"
        assert geo.find_place("crossgates").name == "Cross Gates"
        assert geo.find_place("cross-gates").name == "Cross Gates"
        assert geo.find_place("Temple Newsam").latitude == 53.784
        assert geo.find_place("Otley").area == "City and Borough of Leeds"  # still GeoNames
        assert geo.find_place("LS8 5").kind == "sector"


def test_locator_caches_local_names_until_told_to_forget() -> None:
    calls = []

    def local_places() -> dict[str, Place]:
        calls.append(1)
        return {"st annes": Place("St Anne's", "place", 53.8, -1.5, "Leeds")}

    locator = Locator(local_places=local_places, home="")
    assert locator.find_place("Saint Annes").name == "St Anne's"
    assert locator.find_place("st. anne’s").name == "St Anne's"
    assert len(calls) == 1
    locator.forget_local_places()
    assert locator.find_place("St Annes").name == "St Anne's"
    assert len(calls) == 2
    assert Locator(home="").local_place("Harehills") is None  # no table: the gazetteer only


def test_search_near_a_local_name_gives_distances(make_app) -> None:
    # Its own app: rebuilding the shared app's index under a warm searcher duplicates hits.
    app = make_app()
    rebuild(app)
    client = app.test_client()
    page = client.get("/search?near=Harehills&radius=5")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "within 5 miles of Harehills, Leeds" in text
    assert "Knit and Natter" in text
    assert "0.3 miles" in text  # the fixture hub is 0.3 miles from the centre of LS8 5
    body = client.get("/search.json?near=harehills&radius=5").get_json()
    assert body["near"]["name"] == "Harehills, Leeds"
    distances = {item["slug"]: item["distance_miles"] for item in body["results"]
                 if "distance_miles" in item}  # online listings have none
    assert distances and all(miles <= 5 for miles in distances.values())
    assert distances["harehills-knit-and-natter"] == pytest.approx(
        haversine_miles(*LS8_5, *HAREHILLS_TEST_HUB), abs=0.05)


def test_shipped_places_sit_near_their_venues() -> None:
    """Each shipped name's point is within 1.5 miles of the sample venues named after it."""
    catalogue = read_catalogue(REPO / "content")
    assert catalogue.errors == [] and len(catalogue.places) >= 40
    checked = 0
    for place in catalogue.places:
        prefixes = [re.sub(r"[^a-z0-9]+", "-", name.lower()) + "-"
                    for name in (place.name, *place.also_known_as)]
        for venue in catalogue.venues.values():
            if venue.slug.startswith(tuple(prefixes)):
                checked += 1
                miles = haversine_miles(*place.point, venue.latitude, venue.longitude)
                assert miles < 1.5, (place.name, venue.slug, miles)
    assert checked >= 50
