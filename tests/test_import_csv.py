"""`flask export csv` / `flask import csv`: one row per activity, for spreadsheet users."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Callable

from flask import Flask
from sqlalchemy import func, select

from sitedir.extensions import db
from sitedir.models import Activity, ListingChange
from sitedir.openreferral.csv_io import CSV_COLUMNS

from .conftest import FIXTURE_CONTENT


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def taxonomy_only_site(make_app: Callable[..., Flask], tmp_path: Path) -> Flask:
    """A site with the fixture taxonomy and pages but no listings."""
    content = tmp_path / "taxonomy-only"
    shutil.copytree(FIXTURE_CONTENT, content)
    shutil.rmtree(content / "directory")
    (content / "directory" / "organisations").mkdir(parents=True)
    (content / "directory" / "venues").mkdir()
    return make_app(content=content)


def test_export_has_one_row_per_activity(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    site = make_app()
    target = tmp_path / "activities.csv"
    result = site.test_cli_runner().invoke(args=["export", "csv", str(target)])
    assert "Exported 7 activities" in result.output
    rows = read_rows(target)
    assert len(rows) == 7 and list(rows[0]) == list(CSV_COLUMNS)
    walk = next(row for row in rows if row["slug"] == "otley-health-walk")
    assert walk["schedule"] == ("saturday 10:30-11:30; "
                                "2027-03-16 13:00-15:00 (Social Prescribing Week taster walk)")
    assert walk["categories"] == "sport-and-physical-activity; walking"  # taxonomy order
    supper = next(row for row in rows if row["title"] == "Community Supper")
    assert supper["schedule"] == "monday weeks 1,3 18:30-20:00"


def test_round_trip_and_idempotence(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    source = make_app()
    exported = tmp_path / "a.csv"
    source.test_cli_runner().invoke(args=["export", "csv", str(exported)])

    # into the same site: nothing changes, not even an outbox row
    with source.app_context():
        before = db.session.scalar(select(func.count()).select_from(ListingChange))
    result = source.test_cli_runner().invoke(args=["import", "csv", str(exported)])
    assert "0 created, 0 updated, 7 unchanged, 0 warned, 0 rejected" in result.output, result.output
    with source.app_context():
        assert db.session.scalar(select(func.count()).select_from(ListingChange)) == before

    # into a site that has only the taxonomy: the same rows come back out
    target = taxonomy_only_site(make_app, tmp_path)
    result = target.test_cli_runner().invoke(args=["import", "csv", str(exported)])
    assert "7 created" in result.output, result.output
    again = tmp_path / "b.csv"
    target.test_cli_runner().invoke(args=["export", "csv", str(again)])
    ignore = ("organisation_phone",)  # not every column survives in an empty site's venue rows
    assert [{k: v for k, v in row.items() if k not in ignore} for row in read_rows(again)] == \
        [{k: v for k, v in row.items() if k not in ignore} for row in read_rows(exported)]


def test_an_edited_row_updates_only_that_activity(make_app: Callable[..., Flask],
                                                  tmp_path: Path) -> None:
    site = make_app()
    path = tmp_path / "a.csv"
    site.test_cli_runner().invoke(args=["export", "csv", str(path)])
    rows = read_rows(path)
    rows[0]["title"] = "A New Name"
    write_rows(path, rows)
    result = site.test_cli_runner().invoke(args=["import", "csv", str(path)])
    assert "0 created, 1 updated, 6 unchanged" in result.output
    with site.app_context():
        assert db.session.scalar(select(Activity.title).where(
            Activity.uuid == rows[0]["id"])) == "A New Name"


def test_bad_rows_are_reported_by_row_and_column(make_app: Callable[..., Flask],
                                                 tmp_path: Path) -> None:
    site = make_app()
    path = tmp_path / "bad.csv"
    base = {column: "" for column in CSV_COLUMNS}
    base.update(title="Group", organisation="Org", formats="online")
    bad = [
        ({**base, "title": ""}, "row 2: title: missing"),
        ({**base, "categories": "knitting-circles"}, "row 3: categories: 'knitting-circles'"),
        ({**base, "schedule": "someday 10-12"}, "row 4: schedule: 'someday 10-12' is not like"),
        ({**base, "cost_type": "paid"}, "row 5: cost_amount: a paid activity needs a price"),
        ({**base, "status": "sleeping"}, "row 6: status: 'sleeping' is not one of"),
        ({**base, "schedule": "monday 12:00-10:00"}, "row 7: schedule: 'monday 12:00-10:00' "
                                                     "ends before it starts"),
    ]
    warned = ({**base, "title": "Old", "age_min": "old"},
              "row 8: age_min: 'old' dropped (must be a number)")
    write_rows(path, [row for row, _ in bad] + [warned[0], {**base, "title": "Fine"}])
    with site.app_context():
        before = db.session.scalar(select(func.count()).select_from(Activity))
    result = site.test_cli_runner().invoke(args=["import", "csv", str(path)])
    assert result.exit_code == 1
    assert f"2 created, 0 updated, 0 unchanged, 1 warned, {len(bad)} rejected" in result.output
    for _, message in bad + [warned]:
        assert message in result.output
    with site.app_context():
        assert db.session.scalar(select(func.count()).select_from(Activity)) == before + 2


def test_a_file_without_the_columns_imports_nothing(make_app: Callable[..., Flask],
                                                    tmp_path: Path) -> None:
    site = make_app()
    path = tmp_path / "other.csv"
    path.write_text("name,place\nx,y\n")
    result = site.test_cli_runner().invoke(args=["import", "csv", str(path)])
    assert result.exit_code != 0 and "no organisation, title column" in result.output
