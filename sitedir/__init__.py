"""sitedir: a community activity directory for UK social prescribing."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import (
    assets, connect, content, crypto, errors, files, geo, indexing, insight, limiter, logs, mail,
    manage, openreferral, page_cache, privacy, public, search, security, templating,
    venue_points,
)
from .extensions import csrf, db, migrate
from .settings import defaults

PACKAGE_DIR = Path(__file__).resolve().parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults → instance/config.py → FLASK_* env → test_config, then wire."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(defaults())
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env()
        if os.environ.get("DATABASE_URL"):
            app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    else:
        app.config.from_mapping(test_config)
    files.private_folder(Path(app.instance_path))
    _derive_config(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"))
    csrf.init_app(app)
    security.init_app(app)
    crypto.init_app(app)
    content.init_app(app)
    geo.init_app(app)
    templating.init_app(app)
    assets.init_app(app)
    errors.init_app(app)

    limiter.init_app(app)
    indexing.init_app(app)
    search.init_app(app)
    page_cache.init_app(app)
    mail.init_app(app)
    privacy.init_app(app)
    # Blueprints by audience: everyone (pages, search, feeds), connectors, organisations,
    # other systems (open data).
    public.init_app(app)
    connect.init_app(app)
    manage.init_app(app)
    openreferral.init_app(app)
    venue_points.init_app(app)
    insight.init_app(app)  # it listens to the pages above without them knowing it
    logs.init_app(app)  # last: it reads the token routes from the finished URL map
    return app


def _derive_config(app: Flask) -> None:
    """Settings computed from others: the secret key, the database URL."""
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = files.read_or_create_secret(
            Path(app.instance_path) / "secret_key", lambda: secrets.token_hex(32))
    url = app.config.get("SQLALCHEMY_DATABASE_URI") or app.config["DATABASE_URL"]
    if not url:
        url = "sqlite:///" + str(Path(app.instance_path) / "sitedir.sqlite3")
    if url.startswith("postgres://"):  # the old scheme some hosts still hand out
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    files.protect_database(url)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL for concurrent readers, FULL sync so a committed "thank you" survives power loss."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
