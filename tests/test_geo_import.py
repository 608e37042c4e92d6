"""`flask geo import` and find_place() against a real (SQLite) database."""
from __future__ import annotations

import gzip
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from sitedir import geo
from sitedir.extensions import db
from sitedir.models import Postcode

ONSPD_HEADER = "pcd,pcd2,pcds,dointr,doterm,oscty,lat,long"
ONSPD_ROWS = [
    "LS9 8AB,LS9  8AB,LS9 8AB,198001,,E99999999,53.796472,-1.532440",
    "LS9 8ZZ,LS9  8ZZ,LS9 8ZZ,198001,200112,E99999999,53.790000,-1.520000",  # terminated
    "LS9 8AD,LS9  8AD,LS9 8AD,198001,,E99999999,99.999999,0.000000",         # no grid ref
    "BT1 1AA,BT1  1AA,BT1 1AA,198001,,N99999999,54.600000,-5.930000",
    "NOT A PC,,NOT A PC,198001,,,53.0,-1.0",
    "HX7 8AD,HX7  8AD,HX7 8AD,198001,,E99999999,53.741900,-2.014500",
]
POSTCODEZ_CSV = (
    ",id,postcode,latitude,longitude,postcode_clean\n"
    "0,1,LS9 8ZZ,53.79,-1.52,ls98zz\n"
    "1,2,LS9 8AB,53.0,-1.0,ls98ab\n"
)


@pytest.fixture()
def geo_app(make_app: Callable[..., Flask]) -> Flask:
    app = make_app(content=None)
    if geo.EXTENSION_KEY not in app.extensions:  # until create_app wires sitedir.geo
        geo.init_app(app)
    return app


def _rows(app: Flask) -> dict[str, tuple[float, float]]:
    with app.app_context():
        return {row.postcode: (row.latitude, row.longitude)
                for row in db.session.scalars(select(Postcode))}


def _import(app: Flask, path: Path, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["geo", "import", str(path), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_import_onspd_csv(geo_app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "ONSPD.csv"
    path.write_text("\n".join([ONSPD_HEADER, *ONSPD_ROWS]) + "\n")
    output = _import(geo_app, path, "--batch-size", "2")
    assert "3 postcodes imported from 6 rows" in output
    assert "1 terminated" in output and "1 without coordinates" in output
    assert "1 not postcodes" in output
    assert _rows(geo_app) == {"LS9 8AB": (53.796472, -1.53244), "BT1 1AA": (54.6, -5.93),
                              "HX7 8AD": (53.7419, -2.0145)}
    with geo_app.test_request_context():
        place = geo.find_place("ls9 8ab")
    assert (place.kind, place.latitude, place.longitude) == ("postcode", 53.796472, -1.53244)


def test_import_is_idempotent_and_removes_terminated(geo_app: Flask, tmp_path: Path) -> None:
    old = tmp_path / "ukpostcodes.csv"  # the postcodez layout
    old.write_text(POSTCODEZ_CSV)
    _import(geo_app, old)
    assert _rows(geo_app) == {"LS9 8ZZ": (53.79, -1.52), "LS9 8AB": (53.0, -1.0)}
    onspd = tmp_path / "ONSPD.csv.gz"
    with gzip.open(onspd, "wt") as handle:
        handle.write("\n".join([ONSPD_HEADER, *ONSPD_ROWS]) + "\n")
    output = _import(geo_app, onspd)
    assert "(1 removed from the table)" in output
    once = _rows(geo_app)
    assert "LS9 8ZZ" not in once and once["LS9 8AB"] == (53.796472, -1.53244)  # updated
    _import(geo_app, onspd)
    assert _rows(geo_app) == once
    with geo_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Postcode)) == 3


def test_import_onspd_zip_and_exclude_an_area(geo_app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "ONSPD_FEB_2024.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Documents/readme.csv", "a,b\n1,2\n")
        archive.writestr("Data/multi_csv/ONSPD_FEB_2024_UK_LS.csv", ONSPD_HEADER + "\n")
        archive.writestr("Data/ONSPD_FEB_2024_UK.csv", "\n".join([ONSPD_HEADER, *ONSPD_ROWS]))
    output = _import(geo_app, path, "--exclude-area", "bt")
    assert "2 postcodes imported" in output and "1 excluded" in output
    assert set(_rows(geo_app)) == {"LS9 8AB", "HX7 8AD"}


def test_import_names_missing_columns(geo_app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("code,x,y\nLS9 8AB,1,2\n")
    result = geo_app.test_cli_runner().invoke(args=["geo", "import", str(path)])
    assert result.exit_code != 0
    assert "no postcode column" in result.output and "bad.csv" in result.output


def test_find_place_without_an_imported_table_uses_the_gazetteer(geo_app: Flask) -> None:
    with geo_app.test_request_context():
        assert geo.find_place("LS9 8AB").kind == "sector"
        assert geo.find_place("Hebden Bridge").area == "Calderdale"
        with pytest.raises(geo.AmbiguousPlace):
            geo.find_place("Newport")
