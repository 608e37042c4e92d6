"""Shared fixtures: apps on throwaway databases, loaded from the small fixture corpus.

`app` and `indexed_app` are session-scoped and read-only by convention (tests that change data
use `make_app`). Every SQLite app starts from a copy of one database file that was migrated (and,
for the fixture corpus, loaded) once per session, instead of running Alembic for each app.
`postgres_url` is one throwaway PostgreSQL cluster for the session.

Hypothesis profiles: "full" (the default, `make test`) and "quick" (`make test-fast`).
"""
from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest
from flask import Flask
from flask_migrate import upgrade
from hypothesis import settings as hypothesis_settings

from sitedir import create_app
from sitedir.content import load_catalogue, read_catalogue
from sitedir.extensions import db

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_CONTENT = FIXTURES / "content"
REPO = Path(__file__).parent.parent

HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "full")
hypothesis_settings.register_profile("full", hypothesis_settings())
hypothesis_settings.register_profile("quick", max_examples=10)
hypothesis_settings.load_profile(HYPOTHESIS_PROFILE)


def examples(full: int) -> int:
    """A test's max_examples under the active profile: all of them, or a twentieth when quick."""
    return full if HYPOTHESIS_PROFILE == "full" else max(5, full // 20)


_PG_NUMBERS = itertools.count(1)
_READ_ONLY_CONTENT = (None, FIXTURE_CONTENT, REPO / "content")  # content a template may stand for
_TEMPLATES: dict[str, Path] = {}  # "empty" or a content folder → a migrated SQLite file
_TEMPLATE_DIR = Path(tempfile.mkdtemp(prefix="sitedir-test-templates-"))


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers from what a test needs, so a new test cannot forget them."""
    for item in items:
        if "tests/e2e/" in item.nodeid or item.nodeid.startswith("e2e/"):
            item.add_marker(pytest.mark.browser)
        if {"postgres_url", "postgres_server"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


# The operator's details of a configured site (sitedir/site_details.py): every test app has them.
OPERATOR_DETAILS = {
    "OPERATOR_NAME": "Leeds Community Connect CIO, 1 Example Street, Leeds LS1 1AA "
                     "(charity 1234567)",
    "OPERATOR_CONTACT": "hello@example.org or 0113 496 0000 (weekdays 9am to 5pm)",
    "DATA_CONTROLLER": "Leeds Community Connect CIO: privacy@example.org, 1 Example Street, "
                       "Leeds LS1 1AA",
    "ACCESSIBILITY_CONTACT": "access@example.org; we reply within 5 working days",
    "OPERATOR_SUPPLIERS": "Example Hosting Ltd (servers in the UK) and Example Mail Ltd (email)",
    "SERVER_LOG_RETENTION": "for 14 days, without IP addresses",
    "SAFEGUARDING_CONTACT": "safeguarding@example.org",
}


def _settings(tmp: Path, content: Path | None, config: dict[str, object]) -> dict[str, object]:
    settings: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'test.sqlite3'}",
        "SEARCH_INDEX_DIR": str(tmp / "search_index"),
        "CONTENT_DIR": str(content or FIXTURE_CONTENT),
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_BASE_URL": "http://localhost",
        **OPERATOR_DETAILS,
    }
    settings.update(config)
    return settings


def _migrate_and_load(app: Flask, content: Path | None) -> None:
    with app.app_context():
        upgrade()
        if content is not None:
            catalogue = read_catalogue(Path(app.config["CONTENT_DIR"]))
            assert not catalogue.errors, catalogue.errors
            load_catalogue(catalogue)


def _template(content: Path | None) -> Path:
    """A migrated SQLite file (loaded with `content`), made once and copied for each app."""
    key = "empty" if content is None else str(content.resolve())
    if key not in _TEMPLATES:
        folder = _TEMPLATE_DIR / str(len(_TEMPLATES))
        folder.mkdir()
        app = create_app(_settings(folder, content, {}))
        _migrate_and_load(app, content)
        with app.app_context():
            db.engine.dispose()  # the last connection closes: WAL checkpointed into the file
        _TEMPLATES[key] = folder / "test.sqlite3"
    return _TEMPLATES[key]


def build_app(tmp: Path, content: Path | None = FIXTURE_CONTENT, **config: object) -> Flask:
    """A migrated app on its own SQLite file and index folder, optionally loaded with content."""
    tmp.mkdir(parents=True, exist_ok=True)
    settings = _settings(tmp, content, config)
    if "SQLALCHEMY_DATABASE_URI" in config or content not in _READ_ONLY_CONTENT:
        # Another database, or a content folder a test may change: migrate and load for real.
        app = create_app(settings)
        _migrate_and_load(app, content)
        return app
    shutil.copyfile(_template(content), tmp / "test.sqlite3")
    return create_app(settings)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The fixture corpus, loaded once for the session. Do not change its data in tests."""
    return build_app(tmp_path_factory.mktemp("app"))


@pytest.fixture(scope="session")
def indexed_app(app: Flask) -> Flask:
    """The shared fixture app with its search index built, once for the session."""
    from sitedir import indexing

    with app.app_context():
        indexing.rebuild(app)
    return app


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(*args: str) -> list[str]:
    """initdb refuses to run as root: run the server tools as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@pytest.fixture()
def postgres_url(postgres_server: str) -> str:
    """A new, empty database on the session's PostgreSQL cluster, for one test."""
    import psycopg

    name = f"sitedir_test_{os.getpid()}_{next(_PG_NUMBERS)}"
    conninfo = postgres_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return postgres_server.replace("/postgres?", f"/{name}?")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a private socket (or SITEDIR_TEST_POSTGRES_URL), as
    the URL of its maintenance database "postgres"."""
    url = os.environ.get("SITEDIR_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.fail("PostgreSQL server binaries not found: run `make postgres`")
    folder = Path(tempfile.mkdtemp(prefix="sitedir-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    subprocess.run(_as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-U", "sitedir",
                                "--auth=trust", "-E", "UTF8"), check=True, capture_output=True)
    options = f"-k {folder} -c listen_addresses='' -p 54329 -c fsync=off"
    subprocess.run(_as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
                                "-w", "-l", str(folder / "log"), "start"),
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://sitedir@/postgres?host={folder}&port=54329"
    finally:
        subprocess.run(_as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast",
                                    "stop"), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def make_app(tmp_path: Path) -> Callable[..., Flask]:
    """A fresh app per call, for tests that change data: make_app(content=None, **config)."""
    counter = iter(range(1000))

    def factory(content: Path | None = FIXTURE_CONTENT, **config: object) -> Flask:
        return build_app(tmp_path / f"app{next(counter)}", content, **config)

    return factory


@pytest.fixture()
def client(app: Flask):
    return app.test_client()


@pytest.fixture()
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture()
def content_copy(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the fixture corpus, for tests that break it on purpose."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, target)
    yield target
