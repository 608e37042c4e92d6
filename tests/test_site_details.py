"""Operator details are settings filled into the pages: no "[OPERATOR" placeholder is reachable
on a configured site, `flask content check` and the production start refuse unfilled ones, and
the privacy notice states the retention periods the code really uses."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask

from sitedir.settings import SETTINGS
from sitedir.site_details import NOT_PERSONAL_RETENTION, OPERATOR_SETTINGS, TOKEN, TOKENS
from tests.conftest import OPERATOR_DETAILS, REPO

PLACEHOLDER = re.compile(r"\[\s*OPERATOR|\(not set yet|\{\{|\}\}|\bTODO\b|\bFIXME\b", re.I)
REPO_CONTENT = REPO / "content"


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The shipped content/ folder on a configured site (the tests' operator details)."""
    from tests.conftest import build_app

    return build_app(tmp_path_factory.mktemp("sample"), REPO_CONTENT,
                     PUBLIC_BASE_URL="https://activities.example.org")


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"<[^>]+>", " ", html)


def test_no_placeholder_reachable_from_any_public_page(sample_site: Flask) -> None:
    """Follow every internal link from the home page (and each editorial page) for a while."""
    client = sample_site.test_client()
    queue = deque(["/"] + [f"/pages/{p.stem}" for p in (REPO_CONTENT / "pages").glob("*.md")])
    seen: set[str] = set(queue)
    pages_seen = 0
    while queue and pages_seen < 400:
        path = queue.popleft()
        response = client.get(path)
        if response.status_code != 200 or "html" not in response.content_type:
            continue
        pages_seen += 1
        html = response.get_data(as_text=True)
        found = PLACEHOLDER.search(_visible_text(html))
        assert found is None, f"{path}: {found.group(0)!r}"
        for href in re.findall(r'href="(/[^"#]*)', html):
            link = urlsplit(href)
            if link.path.startswith(("/manage", "/static", "/search.ics", "/openreferral")):
                continue
            if link.path not in seen and not link.query:
                seen.add(link.path)
                queue.append(link.path)
    assert pages_seen > 50


def test_operator_details_are_on_the_pages(sample_site: Flask) -> None:
    client = sample_site.test_client()
    about = client.get("/pages/about").get_data(as_text=True)
    privacy = client.get("/pages/privacy").get_data(as_text=True)
    access = client.get("/pages/accessibility").get_data(as_text=True)
    assert "Leeds Community Connect CIO" in about and "hello@example.org" in about
    assert "privacy@example.org" in privacy and "Example Hosting Ltd" in privacy
    assert "for 14 days, without IP addresses" in privacy
    assert "access@example.org" in access and "Equality Advisory and Support Service" in access


def test_privacy_notice_follows_the_retention_settings(make_app) -> None:
    """Every retention setting is a token in the notice, and the page shows its real value."""
    source = (REPO_CONTENT / "pages" / "privacy.md").read_text()
    used = {match.group(1).lower() for match in TOKEN.finditer(source)}
    retention = {s.name for s in SETTINGS if "RETENTION_DAYS" in s.name} - set(
        NOT_PERSONAL_RETENTION)
    assert retention and {name.lower() for name in retention} <= used, retention
    assert not re.search(r"\b\d+ days\b", source), "a number of days typed instead of a setting"
    app = make_app(REPO_CONTENT, PRIVACY_RETENTION_DAYS=11, MODERATION_RETENTION_DAYS=99)
    page = _visible_text(app.test_client().get("/pages/privacy").get_data(as_text=True))
    assert "11 days" in page and "99 days" in page
    assert "7 days" not in page and "180 days" not in page


def test_content_check_passes_on_a_configured_site(sample_site: Flask) -> None:
    result = sample_site.test_cli_runner().invoke(
        args=["content", "check", "--path", str(REPO_CONTENT)])
    assert result.exit_code == 0, result.output


def test_content_check_fails_on_each_unfilled_placeholder(
        make_app, tmp_path: Path) -> None:
    copy = tmp_path / "content"
    shutil.copytree(REPO_CONTENT, copy)
    about = copy / "pages" / "about.md"
    about.write_text(about.read_text() + "\n[OPERATOR: add your funder]\n{{ operator_nmae }}\n")
    app = make_app(None, OPERATOR_CONTACT="")
    result = app.test_cli_runner().invoke(args=["content", "check", "--path", str(copy)])
    assert result.exit_code == 1
    assert "pages/about.md: line" in result.output and "[OPERATOR" in result.output
    assert "unknown setting {{ operator_nmae }}" in result.output
    assert "OPERATOR_CONTACT is not set" in result.output


def test_every_operator_detail_is_documented_and_used() -> None:
    text = "\n".join(p.read_text() for p in (REPO_CONTENT / "pages").glob("*.md"))
    used = {match.group(1).lower() for match in TOKEN.finditer(text)}
    assert set(OPERATOR_SETTINGS) <= {s.name for s in SETTINGS}
    assert {name.lower() for name in OPERATOR_SETTINGS if name != "SAFEGUARDING_CONTACT"} <= used
    assert used <= set(TOKENS)


def _start_wsgi(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("FLASK_")}
    environment.update(FLASK_SECRET_KEY="x" * 32,
                       FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'w.sqlite3'}",
                       FLASK_PUBLIC_BASE_URL="https://activities.example.org", **env)
    return subprocess.run([sys.executable, "-c", "import wsgi"], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=60)


def test_production_start_refuses_unfilled_operator_details(tmp_path: Path) -> None:
    details = {f"FLASK_{key}": value for key, value in OPERATOR_DETAILS.items()}
    refused = _start_wsgi(tmp_path, **{**details, "FLASK_DATA_CONTROLLER": ""})
    assert refused.returncode != 0 and "DATA_CONTROLLER is not set" in refused.stderr
    started = _start_wsgi(tmp_path, **details)
    assert started.returncode == 0, started.stderr
