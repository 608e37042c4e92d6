"""Malformed search parameters give 4xx, never 5xx (Hypothesis, 1,000 examples per endpoint)."""
from __future__ import annotations

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from tests.conftest import examples

pytestmark = pytest.mark.fuzz

NAMES = ["q", "near", "radius", "category", "helps", "free", "day", "time", "age", "format",
         "join", "access", "online", "sort", "page"]
GOOD_VALUES = ["", "1", "0", "5", "25", "LS9", "LS8 5QD", "Otley", "Newport", "knit", "walking",
               "arts-and-crafts", "loneliness-and-isolation", "tuesday", "morning", "online",
               "drop_in", "step-free-access", "distance", "name", "relevance", "reviewed",
               "53.8,-1.5", "0,0", "2", "120"]
values = st.one_of(
    st.sampled_from(GOOD_VALUES),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=100, max_size=400),
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["*", "?", "title:x", "[a TO z]", "x~", "x^9", '"', "(", ")", "AND", "NOT",
                     "%", "\x00", "\ud7ff", "🙂", "LS", "ZZ99 9ZZ", "90,180", "-91,0"]),
    # Runs of query operators: Whoosh-Reloaded's parser raises on some ("NOT AND knit").
    st.lists(st.sampled_from(["AND", "OR", "NOT", "knit", "walk", "(", ")", '"', "-"]),
             min_size=1, max_size=6).map(" ".join),
)
params = st.lists(st.tuples(st.one_of(st.sampled_from(NAMES), st.text(max_size=10)), values),
                  max_size=8)


@pytest.fixture()
def fuzz_app(indexed_app: Flask) -> Flask:
    return indexed_app


@pytest.mark.parametrize("path", ["/search", "/search.json", "/search/points.json"])
def test_malformed_parameters_never_cause_a_server_error(fuzz_app: Flask, path: str) -> None:
    client = fuzz_app.test_client()
    statuses: dict[int, int] = {}

    @settings(max_examples=examples(1000), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(params)
    def check(pairs: list[tuple[str, str]]) -> None:
        response = client.get(path, query_string=MultiDict(pairs))
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (pairs, response.get_data(as_text=True)[:500])
        if path.endswith(".json"):
            body = response.get_json()
            if response.status_code == 400:
                assert body["error"]["parameter"] in NAMES
            else:
                assert response.status_code == 200 and ("results" in body or "points" in body)

    check()
    assert sum(statuses.values()) >= examples(1000)
    assert statuses.get(200) and statuses.get(400), statuses
