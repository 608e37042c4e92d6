"""Generated requests against the ORUK API: Schemathesis from our OpenAPI document (in-process
over WSGI), and Hypothesis throwing arbitrary text at every parameter. Never a 5xx."""
from __future__ import annotations

import urllib.parse

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from tests.conftest import examples

pytestmark = pytest.mark.fuzz

PARAMETERS = ("search", "page", "per_page", "taxonomy_term_id", "taxonomy_id", "minimum_age",
              "maximum_age", "day", "start_time", "end_time", "postcode", "proximity",
              "modified_after", "organization_id", "minimal", "full", "format")
LISTS = ("/openreferral/services", "/openreferral/service_at_locations",
         "/openreferral/taxonomies", "/openreferral/taxonomy_terms")


def test_api_never_fails_and_matches_its_document(app: Flask) -> None:
    """Each operation of the document, 25 generated requests each, run in-process."""
    schema = schemathesis.openapi.from_wsgi("/openreferral/openapi.json", app)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9
    calls: list[str] = []
    ran: list[int] = []  # calls per operation
    for operation in operations:
        @settings(max_examples=examples(25), deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            calls.append(case.formatted_path)
            # Uncompressed: the checks read the body as text (compression has its own tests).
            case.call_and_validate(checks=checks, headers={"Accept-Encoding": "identity"})

        before = len(calls)
        run()
        ran.append(len(calls) - before)
    # Every operation was called, and most of the budget was used (Hypothesis stops early on
    # an operation with few distinct requests, so not every one reaches its maximum).
    assert all(ran) and len(set(calls)) >= 9 and len(calls) >= 9 * examples(25) // 2, ran


@settings(max_examples=examples(150), deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(LISTS),
       params=st.dictionaries(st.sampled_from(PARAMETERS), st.text(max_size=30), max_size=4))
def test_any_parameter_text_is_a_200_or_a_400(
        app: Flask, path: str, params: dict[str, str]) -> None:
    response = app.test_client().get(f"{path}?{urllib.parse.urlencode(params)}")
    assert response.status_code in (200, 400), (params, response.get_data(as_text=True))
    if response.status_code == 400:
        assert response.get_json()["error"]["message"].split(":")[0] in PARAMETERS
