"""The Open Referral UK standard's own files (tests/fixtures/standard/, see its README): our
feed validates against the official compiled schemas, and every official example and
validator mock imports, with warnings for the values we cannot use, not rejections."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import jsonschema_rs
import pytest
from flask import Flask
from sqlalchemy import select

from sitedir.extensions import db
from sitedir.models import Activity, Organisation, Term, Venue

STANDARD = Path(__file__).parent / "fixtures" / "standard"
COMPILED = STANDARD / "uk-profile" / "schema" / "compiled"
VALIDATOR = STANDARD / "oruk-validator"


def compiled(name: str) -> Any:
    schema = json.loads((COMPILED / f"{name}.json").read_text())
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def errors(validator: Any, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}"
            for e in validator.iter_errors(document)]


@pytest.fixture(scope="module")
def served(app: Flask) -> dict[str, Any]:
    client = app.test_client()
    listed = client.get("/openreferral/services?per_page=500").get_json()
    return {"list": listed, "details": [
        client.get(f"/openreferral/services/{item['id']}").get_json()
        for item in listed["contents"]]}


def test_every_served_service_validates_against_the_official_compiled_schema(
        served: dict[str, Any]) -> None:
    validator = compiled("service")
    assert served["details"]
    for service in served["details"]:
        assert errors(validator, service) == [], service["name"]


def test_every_served_list_item_validates_against_the_official_compiled_schema(
        served: dict[str, Any]) -> None:
    """schema/compiled/service_list.json describes one item of the /services page."""
    validator = compiled("service_list")
    assert served["list"]["contents"]
    for item in served["list"]["contents"]:
        assert errors(validator, item) == [], item["name"]


def test_the_official_examples_are_valid_against_their_own_schema() -> None:
    """The fixtures are what the standard says (so the import tests below mean something)."""
    example = json.loads((STANDARD / "uk-profile" / "examples" / "service_full.json")
                         .read_text())
    assert errors(compiled("service"), example) == []


def run_import(site: Flask, source: Path, tmp_path: Path, *extra: str) -> tuple[Any, dict]:
    report_file = tmp_path / "report.json"
    result = site.test_cli_runner().invoke(
        args=["import", "oruk", str(source), "--report", str(report_file), *extra])
    return result, json.loads(report_file.read_text()) if report_file.exists() else {}


def warning_texts(report: dict[str, Any]) -> list[str]:
    return [item["warning"] for item in report["warnings"]]


def test_the_uk_profile_example_service_imports_with_warnings(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    site = make_app()
    result, report = run_import(
        site, STANDARD / "uk-profile" / "examples" / "service_full.json", tmp_path)
    assert result.exit_code == 0, result.output
    assert report["summary"] | {} == {"created": 1, "updated": 0, "unchanged": 0, "warned": 1,
                                      "rejected": 0, "duplicates": 0, "failed_pages": 0}
    texts = warning_texts(report)
    # latitude 100 (the example's own), and a US-style postcode, each dropped by name
    assert any("location.latitude: 100 dropped" in text for text in texts)
    assert any("postal_code: 'ABC 1234' dropped (not a UK postcode)" in text for text in texts)
    assert any("schedules[0]" in text and "kept as a note" in text for text in texts)
    assert any("'name' (taxonomy 'taxonomy'" in text and "not in the taxonomy map" in text
               for text in texts)
    assert report["unmapped_terms"] == [{"taxonomy": "taxonomy", "name": "name", "records": 1}]
    with site.app_context():
        activity = db.session.scalar(select(Activity).where(
            Activity.title == "Community Counselling"))
        assert (activity.age_min, activity.age_max) == (12, 100)
        assert activity.venue.name == "MyCity Civic Center"
        assert activity.venue.latitude is None  # not placed in the sea off Antarctica
        assert activity.cost_type == "paid" and activity.cost_amount == 35
        # an unknown term never becomes a public category
        assert db.session.scalar(select(Term).where(Term.name == "name")) is None


@pytest.mark.parametrize("mock, rejected, duplicates", [
    ("V3.0-UK-Default", 0, 0), ("V3.0-UK-Warn", 0, 0), ("V3.0-UK-Fail", 2, 1)])
def test_the_validator_mock_folders_import(make_app: Callable[..., Flask], tmp_path: Path,
                                           mock: str, rejected: int, duplicates: int) -> None:
    """The validator's saved layout (service_list.json beside service_full.json) imports.
    The "Fail" mock lists four services: two without a name or details (the only
    rejections) and the same id twice (reported; the first wins)."""
    created = 1
    site = make_app(content=None)
    folder = tmp_path / mock
    shutil.copytree(VALIDATOR / mock, folder)
    result, report = run_import(site, folder, tmp_path)
    assert report["summary"]["created"] == created, result.output
    assert report["summary"]["rejected"] == rejected, result.output
    assert report["summary"]["duplicates"] == duplicates, result.output
    assert result.exit_code == (1 if rejected else 0)
    if created:
        texts = warning_texts(report)
        assert any("latitude: 100 dropped" in text for text in texts)
        with site.app_context():
            organisation = db.session.scalar(select(Organisation))
            assert organisation.name == "Example Organization Inc."
            assert db.session.scalar(select(Venue.name)) == "MyCity Civic Center"
    assert all(item["reason"] == "name: missing" for item in report["rejected"])


def test_the_fail_mock_detail_imports_with_its_bad_values_dropped(
        make_app: Callable[..., Flask], tmp_path: Path) -> None:
    site = make_app(content=None)
    result, report = run_import(site, VALIDATOR / "V3.0-UK-Fail" / "service_full.json",
                                tmp_path)
    assert report["summary"]["created"] == 1, result.output
    assert any("email: 'email-example_com' dropped" in text for text in warning_texts(report))
