"""The index: analyzer, documents, rebuild and swap, the outbox indexer, `flask index check`."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sitedir import changelog, indexing
from sitedir.extensions import db
from sitedir.models import Activity, ListingChange
from tests.search_helpers import add_activity, index_now, rebuild, slugs

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("text", "tokens"), [
    ("knitting", ["knit"]),
    ("Knit", ["knit"]),
    ("café", ["cafe"]),
    ("CAFÉ", ["cafe"]),
    ("cycling", ["cycl"]),
    ("cycle", ["cycl"]),
    ("walking walks", ["walk", "walk"]),
    ("Gardening", ["garden"]),
    ("evening evenings even", ["evening", "evening", "even"]),  # Snowball's, not Whoosh's
    ("organic organisation", ["organic", "organis"]),
    ("the and of", []),  # stop words
    ("dementia-friendly", ["dementia", "friend"]),
    ("naïve crème brûlée", ["naiv", "creme", "brule"]),
])
def test_analyzer(text: str, tokens: list[str]) -> None:
    assert [token.text for token in indexing.text_analyzer()(text)] == tokens


def test_spelling_words_are_whole_and_folded() -> None:
    assert [t.text for t in indexing.spelling_analyzer()("Knitting Café 2 go")] == [
        "knitting", "cafe"]


def test_document_of_a_hidden_address_is_rounded(app) -> None:
    with app.app_context():
        sewing = db.session.scalar(
            select(Activity).where(Activity.slug == "gipton-home-sewing-circle"))
        doc = indexing.to_document(sewing)
        exact = (sewing.venue.latitude, sewing.venue.longitude)
    assert doc["lat_e6"] == round(round(exact[0], 2) * 1e6)
    assert doc["lon_e6"] == round(round(exact[1], 2) * 1e6)
    assert doc["located"] == "1" and doc["cell"]


def test_document_fields(app) -> None:
    with app.app_context():
        knit = db.session.scalar(
            select(Activity).where(Activity.slug == "harehills-knit-and-natter"))
        doc = indexing.to_document(knit)
    assert doc["uuid"] == knit.uuid
    assert doc["category"] == "arts-and-crafts"
    assert doc["helps"] == "loneliness-and-isolation"
    assert doc["day"] == "tuesday" and doc["time"] == "morning"
    assert doc["cost"] == "free" and doc["join"] == "drop_in"
    assert "large-print" in doc["access"].split(",")
    assert doc["age_min"] == 0 and doc["age_max"] == 150


def test_rebuild_check_and_outbox(make_app) -> None:
    app = make_app()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["index", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "Indexed 7 activities" in result.output
    assert runner.invoke(args=["index", "check"]).exit_code == 0
    with app.app_context():
        # Every change from loading the content is covered by the rebuild's position.
        position = indexing.index_position()
        assert position.upto == db.session.scalar(select(func.max(ListingChange.id)))
        assert changelog.behind(position) == 0
        knit = db.session.scalar(
            select(Activity).where(Activity.slug == "harehills-knit-and-natter"))
        knit.title = "Crochet Corner"
        db.session.commit()
    result = runner.invoke(args=["index", "check"])
    assert result.exit_code == 1 and "1 stale" in result.output
    client = app.test_client()
    assert "harehills-knit-and-natter" not in slugs(client, "/search.json?q=crochet")
    index_now(app)
    assert runner.invoke(args=["index", "check"]).exit_code == 0
    assert slugs(client, "/search.json?q=crochet") == ["harehills-knit-and-natter"]


def test_new_and_deleted_listings_go_through_the_outbox(make_app) -> None:
    app = make_app()
    rebuild(app)
    client = app.test_client()
    with app.app_context():
        add_activity("Ukulele Orchestra", 53.8, -1.55)
        db.session.commit()
    index_now(app)
    found = slugs(client, "/search.json?q=ukulele")
    assert len(found) == 1
    with app.app_context():
        db.session.delete(db.session.scalar(select(Activity).where(Activity.slug == found[0])))
        db.session.commit()
    index_now(app)
    assert slugs(client, "/search.json?q=ukulele") == []
    with app.app_context():
        assert indexing.differences() == {"missing": [], "extra": [], "stale": []}


def test_rebuild_swaps_under_an_open_searcher(make_app) -> None:
    app = make_app()
    rebuild(app)
    client = app.test_client()
    assert len(slugs(client, "/search.json")) == 6  # the closed one is left out
    with app.app_context():
        add_activity("Bell Ringing", 53.8, -1.55)
        db.session.commit()
    rebuild(app)  # the same thread's searcher is refreshed onto the swapped-in index
    found = client.get("/search.json?q=bell").get_json()["results"]
    assert "Bell Ringing" in [r["title"] for r in found]
    everything = slugs(client, "/search.json")
    assert len(everything) == 7 and len(set(everything)) == 7  # the old segment is gone
    files = os.listdir(indexing.index_dir(app))
    assert len([name for name in files if name.endswith(".toc")]) == 1


def test_searcher_follows_segment_merges_without_repeats(make_app) -> None:
    """Many small commits make Whoosh merge segments; a long-lived searcher must follow."""
    app = make_app()
    rebuild(app)
    client = app.test_client()
    for number in range(12):
        with app.app_context():
            add_activity(f"Choir {number}", 53.8, -1.55)
            db.session.commit()
        index_now(app)  # one worker batch, one commit (merging small segments as it goes)
        found = slugs(client, "/search.json")
        assert len(found) == 7 + number and len(set(found)) == len(found)


def _worker(app_dir: Path, db_uri: str, index_dir: str) -> subprocess.Popen:
    env = {**os.environ, "FLASK_SQLALCHEMY_DATABASE_URI": db_uri,
           "FLASK_SEARCH_INDEX_DIR": index_dir, "FLASK_INDEXER_POLL_SECONDS": "0.05",
           "FLASK_SECRET_KEY": "test"}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "sitedir", "index", "worker"],
        cwd=app_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _pending(app) -> int:
    """Changes the index has not applied yet, by the position stored in it."""
    with app.app_context():
        return changelog.behind(indexing.index_position())


def test_a_killed_indexer_loses_nothing(make_app, tmp_path: Path) -> None:
    app = make_app()
    rebuild(app)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    index_path = str(indexing.index_dir(app))
    kills = interrupted = 0
    for round_number in range(4):
        with app.app_context():
            for number in range(150):
                add_activity(f"Round {round_number} group {number}", 53.8 + number / 1000, -1.5)
            for activity in db.session.scalars(select(Activity)).all():
                activity.summary = f"Edited in round {round_number}"
            db.session.commit()
            before = _pending(app)
        worker = _worker(REPO, uri, index_path)
        # Kill as soon as the first batch is in (so later batches are mid-way), or, in the
        # odd rounds, a moment later, wherever the indexer is then.
        deadline = time.monotonic() + 30
        while _pending(app) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05 * (round_number % 2))
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        kills += 1
        interrupted += bool(_pending(app))
    # A fresh worker run finishes whatever the killed ones left.
    worker = _worker(REPO, uri, index_path)
    deadline = time.monotonic() + 180  # generous: a loaded machine; the loop ends when done
    try:
        while time.monotonic() < deadline:
            if not _pending(app):
                break
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    assert kills == 4
    assert interrupted, "no kill landed while work was pending: the test proved nothing"
    print(f"{interrupted} of {kills} kills left work pending")
    with app.app_context():
        assert indexing.differences() == {"missing": [], "extra": [], "stale": []}
        total = db.session.scalar(
            select(func.count(Activity.id)).where(Activity.status != "closed"))
    assert app.test_client().get("/search.json?q=edited+round+3").get_json()["total"] == total
