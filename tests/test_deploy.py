"""The production files in deploy/: gunicorn's config loads, units are complete, limits warn."""
from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

import pytest

from sitedir import limiter, site_details
from tests.conftest import FIXTURE_CONTENT, REPO

DEPLOY = REPO / "deploy"


def test_gunicorn_config_is_valid() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "-c", str(DEPLOY / "gunicorn.conf.py"),
         "wsgi:app"], cwd=REPO, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "FLASK_SECRET_KEY": "x", "SITEDIR_WORKERS": "3",
             "FLASK_PUBLIC_BASE_URL": "https://activities.example.org",
             "FLASK_CONTENT_DIR": str(FIXTURE_CONTENT),  # the shipped pages await the operator
             **{f"FLASK_{name}": "Filled in" for name in site_details.OPERATOR_SETTINGS}})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("unit", sorted((DEPLOY / "systemd").glob("*.service")),
                         ids=lambda p: p.name)
def test_every_service_runs_from_the_install_with_the_shared_settings(unit: Path) -> None:
    parsed = configparser.ConfigParser(interpolation=None, strict=False)
    parsed.read_string(unit.read_text())
    service = parsed["Service"]
    assert service["EnvironmentFile"] == "/etc/sitedir/sitedir.env"
    assert service["User"] == "sitedir"
    assert service["ExecStart"].startswith("/opt/sitedir/.venv/bin/")
    timer = unit.with_suffix(".timer")
    assert timer.exists() or "Install" in parsed, f"{unit.name} is never started"


def test_every_setting_in_the_example_environment_exists() -> None:
    from sitedir.settings import SETTINGS

    names = {setting.name for setting in SETTINGS}
    for line in (DEPLOY / "systemd" / "sitedir.env.example").read_text().splitlines():
        if line.startswith("FLASK_"):
            assert line.split("=")[0].removeprefix("FLASK_") in names, line


def test_memory_rate_limits_under_a_preforking_server_warn(make_app, monkeypatch) -> None:
    app = make_app(content=None)
    assert limiter.shared_memory_warning(app) is None  # one process (waitress, flask run)
    monkeypatch.setitem(sys.modules, "gunicorn.arbiter", sys)
    assert "multiplied" in limiter.shared_memory_warning(app)
    app.config["RATELIMIT_STORAGE_URI"] = "redis://localhost:6379"
    assert limiter.shared_memory_warning(app) is None


def test_the_example_environment_reads_the_same_in_the_shell() -> None:
    """Step 4 of the README sources the file in sh; systemd strips the same quotes."""
    example = DEPLOY / "systemd" / "sitedir.env.example"
    shown = subprocess.run(["sh", "-c", f'set -a; . "{example}"; printf %s "$FLASK_MAIL_FROM"'],
                           capture_output=True, text=True, check=True).stdout
    assert shown == "Find community activities <activities@example.gov.uk>"
