"""The same code on a real PostgreSQL: migrations, content load, outbox, pages.

A throwaway cluster (tests/conftest.py `postgres_server`) is started from Debian's postgresql
binaries in a temporary folder, listening only on a Unix socket; each test gets its own database.
`make test` installs the package when it is missing.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from sitedir.extensions import db
from sitedir.models import Activity, ListingChange
from tests.conftest import build_app


pytestmark = pytest.mark.postgres


def test_directory_runs_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    app = build_app(tmp_path, SQLALCHEMY_DATABASE_URI=postgres_url)
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
        assert db.session.scalar(select(func.count(Activity.id))) == 7
        changes = db.session.scalar(select(func.count(ListingChange.id)))
        knit = db.session.scalar(
            select(Activity).where(Activity.slug == "harehills-knit-and-natter"))
        knit.status = "full"
        db.session.commit()
        assert db.session.scalar(select(func.count(ListingChange.id))) == changes + 1
    client = app.test_client()
    page = client.get("/activities/harehills-knit-and-natter").get_data(as_text=True)
    assert "Knit and Natter" in page and "Full" in page
    assert client.get("/categories/arts-and-crafts").status_code == 200
    assert client.get("/organisations").status_code == 200
