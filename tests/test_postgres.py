"""The same code on a real PostgreSQL: migrations, content load, outbox, pages.

A throwaway cluster is started from Debian's postgresql binaries in a temporary folder,
listening only on a Unix socket. `make test` installs the package when it is missing.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import func, select

from sitedir.extensions import db
from sitedir.models import Activity, ListingChange
from tests.conftest import build_app


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_postgres(*args: str) -> list[str]:
    """initdb refuses to run as root: run the server tools as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
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
