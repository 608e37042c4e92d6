"""The rest of the ORUK filter set: postcode and proximity on /services, modified_after,
organization_id, minimal, full and format=ndjson; each bad value a 400 that names it."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from sitedir.extensions import db
from sitedir.models import Activity, Organisation

API = "/openreferral"


def names(body: dict) -> set[str]:
    return {item.get("name") or item["service"]["name"] for item in body["contents"]}


def test_services_filter_by_postcode_and_proximity_like_service_at_locations(
        client: FlaskClient) -> None:
    near = client.get(f"{API}/services?postcode=LS21 1BQ&proximity=5000").get_json()
    at_locations = client.get(
        f"{API}/service_at_locations?postcode=LS21 1BQ&proximity=5000").get_json()
    assert names(near) == names(at_locations) and names(near)
    assert all(item["distance"] <= 5000 for item in near["contents"])
    everything = client.get(f"{API}/services?postcode=LS21 1BQ").get_json()
    distances = [item["distance"] for item in everything["contents"]]
    assert distances == sorted(distances) and len(distances) > len(near["contents"])


def test_modified_after(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        activity = db.session.scalar(select(Activity).order_by(Activity.id))
        newest = activity.updated_at
        title = activity.title
        activity.updated_at = dt.datetime(2030, 1, 2, 3, 4, 5)
        db.session.commit()
    try:
        recent = client.get(f"{API}/services?modified_after=2030-01-01T00:00:00Z").get_json()
        assert names(recent) == {title}
        assert names(client.get(f"{API}/services?modified_after=2030-01-02").get_json()) == {
            title}
        offset = client.get(f"{API}/services?modified_after=2030-01-02T04:04:05%2B01:00")
        assert names(offset.get_json()) == {title}  # 03:04:05 UTC, on the moment
        assert client.get(f"{API}/services?modified_after=2030-01-03").get_json()[
            "total_items"] == 0
        everything = client.get(f"{API}/services?modified_after=2000-01-01").get_json()
        assert everything["total_items"] == client.get(f"{API}/services").get_json()[
            "total_items"]
    finally:
        with app.app_context():
            db.session.scalar(select(Activity).where(Activity.title == title)).updated_at = newest
            db.session.commit()


def test_organization_id(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        organisation = db.session.scalar(select(Organisation).where(
            Organisation.activities.any()).order_by(Organisation.id))
        expected = {a.title for a in organisation.activities}
        org_uuid = organisation.uuid
    body = client.get(f"{API}/services?organization_id={org_uuid}&per_page=100").get_json()
    assert names(body) == expected


def test_minimal_full_and_ndjson(client: FlaskClient) -> None:
    minimal = client.get(f"{API}/services?minimal=true").get_json()["contents"]
    assert minimal and all(set(item) <= {"id", "last_modified"} for item in minimal)
    full = client.get(f"{API}/services?full=true&per_page=3").get_json()["contents"]
    assert all("schedules" in item for item in full)
    streamed = client.get(f"{API}/services?format=ndjson")
    assert streamed.mimetype == "application/x-ndjson"
    lines = [json.loads(line) for line in streamed.get_data(as_text=True).splitlines()]
    assert len(lines) == client.get(f"{API}/services").get_json()["total_items"]


@pytest.mark.parametrize("query, parameter", [
    ("modified_after=yesterday", "modified_after"), ("modified_after=2026-13-01", "modified_after"),
    ("organization_id=not-a-uuid", "organization_id"), ("minimal=perhaps", "minimal"),
    ("full=2", "full"), ("format=xml", "format"), ("postcode=nowhere", "postcode"),
    ("proximity=100", "proximity"), ("postcode=LS21 1BQ&proximity=-5", "proximity"),
])
def test_a_bad_value_is_a_400_naming_it(client: FlaskClient, query: str, parameter: str) -> None:
    for path in ("/services", "/service_at_locations"):
        response = client.get(f"{API}{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert response.get_json()["error"]["message"].startswith(f"{parameter}:")


def test_every_filter_is_in_the_openapi_document(client: FlaskClient) -> None:
    document = client.get(f"{API}/openapi.json").get_json()
    for path in ("/services", "/service_at_locations"):
        listed = {ref["$ref"].rsplit("/", 1)[-1]
                  for ref in document["paths"][path]["get"]["parameters"]}
        assert {"postcode", "proximity", "modified_after", "organization_id", "minimal",
                "full", "format"} <= listed
