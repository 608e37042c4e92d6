"""Settings: each is documented in the README, and configuration layers apply in order."""
from __future__ import annotations

import re

from sitedir import create_app
from sitedir.settings import SETTINGS
from tests.conftest import REPO


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, flags=re.M))
    declared = {setting.name for setting in SETTINGS}
    assert declared - documented == set(), "settings missing from the README table"
    assert documented - declared == set(), "README documents settings that do not exist"
    assert all(setting.help.strip() for setting in SETTINGS)


def test_env_overrides_defaults(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FLASK_SITE_AREA", "Calderdale")
    monkeypatch.setenv("FLASK_PAGE_SIZE", "7")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    app = create_app()
    assert app.config["SITE_AREA"] == "Calderdale"
    assert app.config["PAGE_SIZE"] == 7
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.sqlite3")


def test_postgres_urls_use_psycopg_driver(tmp_path) -> None:
    app = create_app({"DATABASE_URL": "postgres://u:p@db.example/sitedir",
                      "SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example/sitedir"
