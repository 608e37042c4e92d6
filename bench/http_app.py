"""The WSGI app that bench/http_bench.py serves: the site on a benchmark folder, plus floors.

    SITEDIR_BENCH_DIR=/tmp/sitedir-bench-20000-xxx gunicorn -w 2 --pythonpath bench http_app:app

`/_floor/<path>?<query>` answers with what `/<path>?<query>` answers, without doing the work:
the first call in a worker runs the real page once and keeps what it handed to its template (or
the JSON body it returned); every later call only renders that template again with the kept
context (or serialises the kept body). That is the render floor of the page: the most that a
faster search, leaner SQL or a cache could win without changing the template.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request, session
from flask.signals import before_render_template

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_bench import bench_config  # noqa: E402

from sitedir import create_app, page_cache  # noqa: E402

_FLOOR_PREFIX = "/_floor"


def _capture(app: Flask, url: str) -> tuple[str, Any]:
    """Run the real page once; keep its template and context, or its JSON body."""
    rendered: list[tuple[str, dict[str, Any]]] = []

    def remember(sender: Flask, template: Any, context: dict[str, Any], **extra: Any) -> None:
        rendered.append((template.name, dict(context)))

    # The page cache would answer without rendering: capture the real work once.
    kept_pages = app.extensions.pop(page_cache.EXTENSION_KEY, None)
    try:
        with before_render_template.connected_to(remember, app):
            response = app.test_client().get(url)
    finally:
        if kept_pages is not None:
            app.extensions[page_cache.EXTENSION_KEY] = kept_pages
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}; no floor to measure")
    if response.is_json:
        return "json", response.get_json()
    name, context = rendered[-1]
    return "template", (name, context)


def add_floor(app: Flask) -> None:
    """Register /_floor/<path>: the page's own template or JSON from a kept context."""
    kept: dict[str, tuple[str, Any]] = {}

    @app.get(_FLOOR_PREFIX + "/<path:path>")
    def floor(path: str):
        url = request.full_path.removeprefix(_FLOOR_PREFIX)
        if url not in kept:
            app = current_app._get_current_object()
            kept[url] = _capture(app, url)
        kind, payload = kept[url]
        if kind == "json":
            return current_app.json.response(payload)
        name, context = payload
        fresh = dict(context, request=request, session=session, g=g)
        return current_app.jinja_env.get_template(name).render(fresh)


def make_app() -> Flask:
    folder = Path(os.environ["SITEDIR_BENCH_DIR"])
    config = bench_config(folder)
    config.update(INDEXER_THREAD=False, MAIL_SEND_IN_BACKGROUND=False,
                  PUBLIC_BASE_URL="http://127.0.0.1")
    app = create_app(config)
    add_floor(app)
    return app


app = make_app() if "SITEDIR_BENCH_DIR" in os.environ else None
