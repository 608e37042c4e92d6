"""Browser fixtures: the app served on 127.0.0.1:<free port>, driven by Debian's Chromium.

Playwright is used as a driver only (no browser download): executable_path=/usr/bin/chromium.
"""
from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import build_app

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"


class LiveServer:
    """A real HTTP server in a thread, so the browser talks to the app over a socket."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture(scope="session")
def browser_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return build_app(tmp_path_factory.mktemp("browser"), WTF_CSRF_ENABLED=True)


@pytest.fixture(scope="session")
def live_server(browser_app: Flask) -> Iterator[LiveServer]:
    with LiveServer(browser_app) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: run `make browser` (Debian package chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@contextmanager
def open_page(browser, base_url: str, **options: object):
    """A page in a fresh browser context (own cookies) on a desktop-sized window."""
    context = browser.new_context(base_url=base_url,
                                  **{"viewport": {"width": 1280, "height": 900}, **options})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture()
def page(browser, live_server: LiveServer):
    with open_page(browser, live_server.url) as page:
        yield page


def axe_violations(page) -> list[dict]:
    """Run axe-core (vendored) against the page for WCAG 2.x A/AA and best-practice rules."""
    # From the site's own static folder: the Content-Security-Policy forbids inline script,
    # which is what add_script_tag(path=...) would insert.
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
                      'best-practice']}})""")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
