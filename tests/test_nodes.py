"""Several nodes on one database: each index follows the change log from its own position.

The SQLite tests run two nodes' indexes in one process (two index folders, one database); the
PostgreSQL ones commit changes out of order, the way concurrent transactions do there.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sitedir import changelog, indexing
from sitedir.changelog import Gap, Position
from sitedir.extensions import db
from sitedir.models import Activity, ChangeLogHorizon, IndexNode, ListingChange, utcnow
from tests.conftest import build_app
from tests.search_helpers import slugs

KNIT = "harehills-knit-and-natter"


def node(app: Flask, folder: Path, name: str) -> Flask:
    """Another node on the same database: its own index folder and name."""
    other = build_app(folder, content=None,
                      SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                      SEARCH_INDEX_DIR=str(folder / "search_index"), INDEX_NODE_NAME=name)
    with other.app_context():
        indexing.rebuild(other)
    return other


def retitle(app: Flask, slug: str, title: str) -> None:
    with app.app_context():
        db.session.scalar(select(Activity).where(Activity.slug == slug)).title = title
        db.session.commit()


def follow(app: Flask) -> int:
    with app.app_context():
        return indexing.drain_all()


def test_every_node_applies_every_change(make_app, tmp_path: Path) -> None:
    first = make_app(INDEX_NODE_NAME="a")
    with first.app_context():
        indexing.rebuild(first)
    second = node(first, tmp_path / "b", "b")
    retitle(first, KNIT, "Crochet Corner")
    assert follow(first) == 1
    # The first node's indexer has applied the change; the second still gets it.
    assert follow(second) == 1
    for app in (first, second):
        assert slugs(app.test_client(), "/search.json?q=crochet") == [KNIT]
        with app.app_context():
            assert indexing.differences() == {"missing": [], "extra": [], "stale": []}
    assert follow(first) == 0 and follow(second) == 0


def test_the_position_document_is_not_a_listing(make_app) -> None:
    app = make_app()
    with app.app_context():
        indexing.rebuild(app)
        total = db.session.scalar(select(func.count(Activity.id))
                                  .where(Activity.status != "closed"))
    everything = app.test_client().get("/search.json").get_json()
    assert everything["total"] == total
    assert indexing.POSITION_UUID not in [r.get("uuid") for r in everything["results"]]


def test_rebuild_removes_folders_left_by_killed_rebuilds(make_app) -> None:
    app = make_app()
    with app.app_context():
        target = indexing.index_dir(app)
        indexing.rebuild(app)
        leftover = target.parent / f".{target.name}-killed"
        leftover.mkdir()
        (leftover / "_MAIN_1.toc").write_text("half built")
        neighbour = target.parent / "unrelated"
        neighbour.mkdir()
        indexing.rebuild(app)
    assert not leftover.exists() and neighbour.exists()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(f".{target.name}-")]


def test_status_lists_every_node_and_healthz_reports_this_ones_lag(make_app,
                                                                   tmp_path: Path) -> None:
    first = make_app(INDEX_NODE_NAME="node-a", INDEX_MAX_LAG_SECONDS=30)
    with first.app_context():
        indexing.rebuild(first)
    second = node(first, tmp_path / "b", "node-b")
    for app in (first, second):
        app.config["INDEXER_POLL_SECONDS"] = 0
        indexing.run_worker(app, once=True)  # registers the node
    retitle(first, KNIT, "Crochet Corner")
    with first.app_context():  # an edit made a minute ago that neither node has applied
        db.session.execute(ListingChange.__table__.update().values(
            created_at=utcnow() - dt.timedelta(seconds=60)))
        db.session.commit()
    indexing.run_worker(second, once=True)  # applies it and reports
    response = first.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["index"] == "behind"
    assert response.get_json()["index_lag_seconds"] >= 60
    assert second.test_client().get("/healthz").status_code == 200
    output = first.test_cli_runner().invoke(args=["index", "status"]).output
    lines = {line.split()[0]: line for line in output.splitlines()[2:]}
    assert set(lines) == {"node-a", "node-b"}
    assert "(this node)" in lines["node-a"]
    assert lines["node-a"].split()[4] == "1"  # one change behind
    assert lines["node-b"].split()[2] == "0"


def test_healthz_without_an_index_is_not_ready(make_app) -> None:
    response = make_app().test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["index"] == "missing"


def test_prune_waits_for_every_node_and_a_node_left_behind_rebuilds(
        make_app, tmp_path: Path) -> None:
    first = make_app(INDEX_NODE_NAME="a")
    with first.app_context():
        indexing.rebuild(first)
    second = node(first, tmp_path / "b", "b")
    retitle(first, KNIT, "Crochet Corner")
    follow(first)
    with first.app_context():
        head = db.session.scalar(select(func.max(ListingChange.id)))
        changelog.report("a", indexing.index_position(), 0)
        changelog.report("b", Position(head - 1), 0)  # b has not applied the last change
        retitle(first, KNIT, "Knit and Natter")  # the newest row is always kept
        db.session.execute(ListingChange.__table__.update().values(
            created_at=utcnow() - dt.timedelta(days=8)))
        db.session.commit()
        assert changelog.prune(dt.timedelta(days=7)) == head - 1
        assert changelog.pruned_through() == head - 1
        assert not changelog.must_rebuild(Position(head - 1))
        # Nodes unseen for the retention period are forgotten; the log is then pruned past b.
        db.session.execute(IndexNode.__table__.update().where(IndexNode.name == "b").values(
            last_seen=utcnow() - dt.timedelta(days=30)))
        db.session.commit()
        assert changelog.prune(dt.timedelta(days=7)) == 1
        assert db.session.scalar(select(ChangeLogHorizon.pruned_through)) == head
        assert [n.name for n in changelog.nodes()] == ["a"]
    with second.app_context():
        assert changelog.must_rebuild(indexing.index_position())
    second.config["INDEXER_POLL_SECONDS"] = 0
    indexing.run_worker(second, once=True)  # rebuilds, then follows
    with second.app_context():
        assert not changelog.must_rebuild(indexing.index_position())
        assert indexing.differences() == {"missing": [], "extra": [], "stale": []}


def test_a_gap_is_kept_until_its_transaction_may_no_longer_commit() -> None:
    now = 1000.0
    assert changelog._keep_gap(Gap(None, now), None, now + 1)  # grace period
    assert not changelog._keep_gap(Gap(None, now), None, now + 5)  # SQLite: rolled back
    assert changelog._keep_gap(Gap(50, now), 49, now + 5)  # a transaction then still runs
    assert not changelog._keep_gap(Gap(50, now), 50, now + 5)  # all of them have ended
    assert not changelog._keep_gap(Gap(50, now), 10, now + 7200)  # given up after an hour
    position = Position(9, {4: Gap(7, now)})
    assert Position.from_json(position.to_json()) == position and position.safe == 3


# ---- PostgreSQL: ids that commit out of order -----------------------------------------------

@pytest.fixture()
def pg_app(postgres_url: str, tmp_path: Path) -> Flask:
    """A fresh database on the throwaway cluster, loaded with the fixture content."""
    return build_app(tmp_path / "pg", SQLALCHEMY_DATABASE_URI=postgres_url, INDEX_NODE_NAME="pg")


def _start_edit(app: Flask, slug: str, title: str) -> Session:
    """An edit flushed (its change id taken) but not committed, on its own connection."""
    session = Session(db.engine)
    session.scalar(select(Activity).where(Activity.slug == slug)).title = title
    session.flush()
    return session


@pytest.mark.postgres
def test_a_change_that_commits_after_a_later_one_is_not_skipped(pg_app: Flask) -> None:
    with pg_app.app_context():
        indexing.rebuild(pg_app)
        slow = _start_edit(pg_app, KNIT, "Slow Crochet")  # takes the lower id, commits last
    retitle(pg_app, "otley-health-walk", "Quick Walk")
    assert follow(pg_app) == 1
    with pg_app.app_context():
        position = indexing.index_position()
        assert position.gaps, "the uncommitted lower id must be remembered"
        slow.commit()
        slow.close()
    assert follow(pg_app) == 1
    assert slugs(pg_app.test_client(), "/search.json?q=slow+crochet") == [KNIT]
    with pg_app.app_context():
        assert indexing.differences() == {"missing": [], "extra": [], "stale": []}


@pytest.mark.postgres
def test_a_change_committed_during_a_rebuild_is_applied_after_it(pg_app: Flask) -> None:
    with pg_app.app_context():
        indexing.rebuild(pg_app)
        during = _start_edit(pg_app, KNIT, "During Rebuild")  # in flight through the rebuild
    retitle(pg_app, "otley-health-walk", "Quick Walk")  # a later id, committed first
    with pg_app.app_context():
        indexing.rebuild(pg_app)
        during.commit()
        during.close()
    assert follow(pg_app) == 1
    client = pg_app.test_client()
    assert slugs(client, "/search.json?q=during+rebuild") == [KNIT]
    assert slugs(client, "/search.json?q=quick+walk") == ["otley-health-walk"]
    result = pg_app.test_cli_runner().invoke(args=["index", "check"])
    assert result.exit_code == 0, result.output


@pytest.mark.postgres
def test_the_rebuild_snapshot_reads_documents_and_position_together(pg_app: Flask) -> None:
    with pg_app.app_context():
        changelog.begin_snapshot()  # what rebuild does before reading
        position = changelog.snapshot_position()
        edit = _start_edit(pg_app, KNIT, "Committed Meanwhile")
        edit.commit()
        edit.close()
        # Still the snapshot: the new version and its change are both invisible.
        assert db.session.scalar(select(Activity.title).where(Activity.slug == KNIT)) \
            == "Knit and Natter"
        assert changelog.behind(position) == 0
        db.session.commit()
        assert changelog.behind(position) == 1
