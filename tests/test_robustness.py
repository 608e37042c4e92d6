"""Every route, fed junk: a clear 4xx (or a page), never a 5xx."""
from __future__ import annotations

import itertools

import pytest

from tests.search_helpers import rebuild

pytestmark = pytest.mark.fuzz

JUNK_VALUES = ["", "x", "0", "-1", "99999999999999999999", "%00", "<script>", "ü" * 300,
               "../../etc/passwd", "1e999", "nan", "[]", "{}"]
SKIP = {"static"}


def _urls(app, method: str):
    """Each rule of the given method, with its path arguments filled by junk."""
    for rule in app.url_map.iter_rules():
        if method not in (rule.methods or ()) or rule.endpoint in SKIP:
            continue
        for value in ("x", "1", "%00", "harehills-knit-and-natter", "harehills-friends"):
            path = rule.rule
            for argument in rule.arguments:
                path = path.replace(f"<{argument}>", value)
                for converter in ("int", "string", "path", "uuid"):
                    path = path.replace(f"<{converter}:{argument}>", value)
            yield rule.endpoint, path


def test_get_routes_with_junk_parameters_never_fail(make_app) -> None:
    app = make_app()
    rebuild(app)  # with its index, as served: /healthz is ready and search has documents
    client = app.test_client()
    params = ["page", "q", "near", "radius", "sort", "category", "day", "age", "per_page",
              "large", "format", "helps", "next"]
    failures = []
    urls = set(_urls(app, "GET"))
    assert len({endpoint for endpoint, _ in urls}) >= 40  # the sweep must stay a sweep
    for (endpoint, path), (name, value) in itertools.product(
            urls, zip(params, itertools.cycle(JUNK_VALUES))):
        response = client.get(path, query_string={name: value})
        if response.status_code >= 500:
            failures.append((endpoint, path, name, value, response.status_code))
    assert failures == []


@pytest.mark.parametrize("form", [
    {}, {"activity": "x"}, {"slug": "../"}, {"position": "-1", "slug": "nope"},
    {"email": "not-an-email", "note": "<b>" * 500}, {"csrf_token": "junk"},
])
def test_post_routes_with_junk_forms_never_fail(make_app, form: dict) -> None:
    app = make_app()
    rebuild(app)  # with its index, as served: /healthz is ready and search has documents
    client = app.test_client()
    failures = []
    urls = set(_urls(app, "POST"))
    assert len({endpoint for endpoint, _ in urls}) >= 20
    for endpoint, path in urls:
        response = client.post(path, data=form)
        if response.status_code >= 500:
            failures.append((endpoint, path, response.status_code))
    assert failures == []
