"""Links point where the site is: PUBLIC_BASE_URL, or the address `make run` serves on; never
the request's Host header; production (wsgi.py) refuses to start without it."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sitedir import links
from tests.conftest import OPERATOR_DETAILS, REPO


@pytest.mark.parametrize(("host", "port", "url"), [
    ("127.0.0.1", 5101, "http://127.0.0.1:5101"), ("0.0.0.0", 8080, "http://127.0.0.1:8080"),
    ("::", 5000, "http://[::1]:5000"), ("::1", 5000, "http://[::1]:5000"),
    ("localhost", 51301, "http://localhost:51301")])
def test_serving_url(host: str, port: int, url: str) -> None:
    assert links.serving_url(host, port) == url


def test_make_run_port_is_used_in_every_link_when_unset(make_app) -> None:
    app = make_app(PUBLIC_BASE_URL="")
    links.use_serving_address(app, "127.0.0.1", 5101)
    client = app.test_client()
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    assert "<loc>http://127.0.0.1:5101/</loc>" in sitemap and ":5000" not in sitemap
    ics = client.get("/activities/harehills-knit-and-natter.ics").get_data(as_text=True)
    assert "http://127.0.0.1:5101/activities/harehills-knit-and-natter" in ics.replace("\r\n ", "")


def test_a_configured_address_wins_over_the_serving_address(make_app) -> None:
    app = make_app(PUBLIC_BASE_URL="https://activities.example.org/leeds")
    links.use_serving_address(app, "127.0.0.1", 5101)
    assert app.config["PUBLIC_BASE_URL"] == "https://activities.example.org/leeds"


def test_links_never_come_from_the_host_header(client) -> None:
    sitemap = client.get("/sitemap.xml", headers={"Host": "evil.example"}).get_data(as_text=True)
    assert "evil.example" not in sitemap and "<loc>http://localhost/</loc>" in sitemap


def test_unset_address_is_a_clear_error_not_a_host_header_link(make_app) -> None:
    app = make_app(PUBLIC_BASE_URL="")
    app.testing = False
    with app.test_request_context("/", headers={"Host": "evil.example"}):
        with pytest.raises(links.PublicBaseUrlMissing, match="PUBLIC_BASE_URL"):
            links.public_url("public.home")


def _start_wsgi(tmp_path, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("FLASK_")}
    environment.update(env)
    environment.update({f"FLASK_{key}": value for key, value in OPERATOR_DETAILS.items()})
    environment["FLASK_SECRET_KEY"] = "x" * 32
    environment["FLASK_SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    code = "import wsgi; print(wsgi.app.config['PUBLIC_BASE_URL'])"
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=60)


def test_production_refuses_to_start_without_public_base_url(tmp_path) -> None:
    refused = _start_wsgi(tmp_path)
    assert refused.returncode != 0 and "PUBLIC_BASE_URL is not set" in refused.stderr
    started = _start_wsgi(tmp_path, FLASK_PUBLIC_BASE_URL="https://activities.example.org")
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "https://activities.example.org"
