"""Insight's additive upserts and reports on a real PostgreSQL."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import build_app

pytestmark = pytest.mark.postgres
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
KNIT = "harehills-knit-and-natter"


def test_counts_add_up_across_flushes_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    from tests.search_helpers import rebuild

    app = build_app(tmp_path, SQLALCHEMY_DATABASE_URI=postgres_url, INSIGHT_FLUSH_SECONDS=0)
    rebuild(app)
    client = app.test_client()
    recorder = app.extensions["insight"]
    for _ in range(2):  # the second flush updates the rows the first inserted
        client.get(f"/activities/{KNIT}", headers=BROWSER)
        client.get(f"/activities/{KNIT}", headers=BROWSER)
        client.get("/search?q=underwater+basket&near=LS9+8AB", headers=BROWSER)
        with app.app_context():
            recorder.flush()
    runner = app.test_cli_runner()
    usage = runner.invoke(args=["insight", "usage", "--activity", KNIT, "--format", "csv"])
    assert dict(zip(*[line.split(",") for line in usage.output.splitlines()]))["view"] == "4"
    areas = runner.invoke(args=["insight", "unmet", "--by", "area", "--format", "csv"])
    assert "LS9,Any category,2,2,100%" in areas.output
    assert "folded" in runner.invoke(args=["privacy", "purge"]).output
