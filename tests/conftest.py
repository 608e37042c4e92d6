"""Shared fixtures: apps on throwaway databases, loaded from the small fixture corpus.

`app` is session-scoped and read-only by convention (tests that change data use `make_app`).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable, Iterator

import pytest
from flask import Flask
from flask_migrate import upgrade

from sitedir import create_app
from sitedir.content import load_catalogue, read_catalogue

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_CONTENT = FIXTURES / "content"
REPO = Path(__file__).parent.parent


def build_app(tmp: Path, content: Path | None = FIXTURE_CONTENT, **config: object) -> Flask:
    """A migrated app on its own SQLite file and index folder, optionally loaded with content."""
    tmp.mkdir(parents=True, exist_ok=True)
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'test.sqlite3'}",
        "SEARCH_INDEX_DIR": str(tmp / "search_index"),
        "CONTENT_DIR": str(content or FIXTURE_CONTENT),
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_BASE_URL": "http://localhost",
    }
    settings.update(config)
    app = create_app(settings)
    with app.app_context():
        upgrade()
        if content is not None:
            catalogue = read_catalogue(Path(settings["CONTENT_DIR"]))
            assert not catalogue.errors, catalogue.errors
            load_catalogue(catalogue)
    return app


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The fixture corpus, loaded once for the session. Do not change its data in tests."""
    return build_app(tmp_path_factory.mktemp("app"))


@pytest.fixture()
def make_app(tmp_path: Path) -> Callable[..., Flask]:
    """A fresh app per call, for tests that change data: make_app(content=None, **config)."""
    counter = iter(range(1000))

    def factory(content: Path | None = FIXTURE_CONTENT, **config: object) -> Flask:
        return build_app(tmp_path / f"app{next(counter)}", content, **config)

    return factory


@pytest.fixture()
def client(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture()
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture()
def content_copy(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the fixture corpus, for tests that break it on purpose."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, target)
    yield target
