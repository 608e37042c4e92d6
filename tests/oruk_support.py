"""Helpers for the Open Referral tests: spec schemas, walking pages, a real local feed server."""
from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import jsonschema_rs
from flask.testing import FlaskClient

SCHEMAS = Path(__file__).parent / "fixtures" / "oruk"


def _inline(node: Any, stack: tuple[str, ...]) -> Any:
    """Replace {"$ref": "x.json"} with the schema it names; a ref back into itself (service →
    service_at_location → service) becomes a plain object check."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.endswith(".json"):
            if ref in stack:
                return {"type": "object"}
            loaded = json.loads((SCHEMAS / ref).read_text())
            loaded.pop("$schema", None)
            return _inline(loaded, stack + (ref,))
        return {key: _inline(value, stack) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, stack) for item in node]
    return node


_validators: dict[str, Any] = {}


def validator(name: str) -> Any:
    if name not in _validators:
        schema = _inline({"$ref": name}, ())
        _validators[name] = jsonschema_rs.validator_for(schema, validate_formats=True)
    return _validators[name]


def errors(name: str, instance: Any) -> list[str]:
    """Every way `instance` breaks the spec schema `name`, as 'path: message'."""
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}"
            for e in validator(name).iter_errors(instance)]


def walk_pages(client: FlaskClient, path: str, per_page: int, **params: Any) -> list[dict]:
    """Every page of a list endpoint, checking the ORUK pagination rules on each."""
    pages = []
    page = 1
    while True:
        query = urllib.parse.urlencode({**params, "page": page, "per_page": per_page})
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert errors("page.json", body) == []
        assert body["page_number"] == page
        assert body["size"] == len(body["contents"]) <= per_page
        assert body["first_page"] == (page == 1)
        assert body["total_pages"] == -(-body["total_items"] // per_page)
        assert body["last_page"] == (page >= body["total_pages"])
        assert body["empty"] == (body["size"] == 0)
        pages.append(body)
        if body["last_page"]:
            return pages
        page += 1


def empty_values(node: Any, path: str = "", allowed: tuple[str, ...] = ()) -> Iterator[str]:
    """Paths of optional fields that hold nothing (ORUK output leaves those out)."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}"
            if value in (None, "", [], {}) and key not in allowed:
                yield where
            yield from empty_values(value, where, allowed)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from empty_values(item, f"{path}[{index}]", allowed)


class FeedServer:
    """A real HTTP server on 127.0.0.1 answering GETs from a function of (path, query)."""

    def __init__(self, answer: Callable[[str, dict[str, str]], tuple[int, Any]]) -> None:
        outer = self
        self.requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append(self.path)
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                status, body = answer(parts.path, query)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def oruk_v3_server(services: list[dict], per_page_cap: int = 2) -> FeedServer:
    """Serves `services` as an ORUK v3 API: / , paged thin /services, full /services/{id}."""
    by_id = {s["id"]: s for s in services}

    def answer(path: str, query: dict[str, str]) -> tuple[int, Any]:
        path = path.removeprefix("/api")
        if path == "/":
            return 200, {"version": "3.0", "profile": "x", "openapi_url": "x"}
        if path == "/services":
            size = min(int(query.get("per_page", 50)), per_page_cap)
            page = int(query.get("page", 1))
            chunk = services[(page - 1) * size: page * size]
            pages = -(-len(services) // size)
            thin = [{k: v for k, v in s.items() if not isinstance(v, list)} for s in chunk]
            return 200, {"total_items": len(services), "total_pages": pages,
                         "page_number": page, "size": len(chunk), "first_page": page == 1,
                         "last_page": page >= pages, "empty": not chunk, "contents": thin}
        if path.startswith("/services/"):
            found = by_id.get(urllib.parse.unquote(path.removeprefix("/services/")))
            return (200, found) if found else (404, {"error": "not found"})
        return 404, {"error": "not found"}

    return FeedServer(answer)
