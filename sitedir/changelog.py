"""Reading the change log (ListingChange) from a position, so any number of indexers can follow it.

Every node's index keeps its own `Position` (inside the index, committed with the documents:
see sitedir/indexing.py); nothing in the database marks a change as done. A position is the
highest change id applied plus the *gaps* below it: ids that were missing when it was read.
On PostgreSQL ids come from a sequence and transactions commit out of order, so a missing id
may still commit; a gap is read again on every poll until every transaction that was running
when it was noticed has ended (the snapshot's xmin has passed the xmax seen then), and only
then forgotten (it was rolled back). SQLite has one writer at a time, so its ids commit in
order and a gap there is only a rolled-back id.

Nodes report their position to the `index_node` table; old rows are pruned once every node
seen within the retention period is past them, and a node left behind the pruned horizon
rebuilds.
"""
from __future__ import annotations

import datetime as dt
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Iterable

from flask import Flask
from sqlalchemy import delete, func, select, text

from .extensions import db
from .models import ChangeLogHorizon, IndexNode, ListingChange, utcnow

GAP_GRACE_SECONDS = 2.0  # a gap is kept at least this long (covers nextval before the xid)
GAP_GIVE_UP_SECONDS = 3600.0  # ...and at most this long, whatever the snapshot says
REBUILD_GAP_LOOKBACK = 100_000  # ids below the head a rebuild checks for gaps
GAP_QUERY_CHUNK = 500


@dataclass(frozen=True)
class Gap:
    xmax: int | None  # PostgreSQL: the snapshot's xmax when the gap was seen (None on SQLite)
    seen: float  # time.time() when it was seen


@dataclass
class Position:
    """How far an index has read the change log: every id up to `upto`, except `gaps`."""

    upto: int = 0
    gaps: dict[int, Gap] = field(default_factory=dict)

    @property
    def safe(self) -> int:
        """The highest id such that every id up to it is applied (what pruning may delete)."""
        return min(self.gaps) - 1 if self.gaps else self.upto

    def to_json(self) -> str:
        return json.dumps({"upto": self.upto,
                           "gaps": [[gap_id, g.xmax, g.seen] for gap_id, g in self.gaps.items()]})

    @classmethod
    def from_json(cls, data: str) -> Position:
        raw = json.loads(data)
        return cls(int(raw["upto"]), {int(gap_id): Gap(xmax, float(seen))
                                      for gap_id, xmax, seen in raw.get("gaps", [])})


@dataclass
class Batch:
    """Changes read from a position, and the position once they are applied."""

    uuids: set[str]
    rows: int
    advanced: Position


def _is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _snapshot_bound(which: str) -> int | None:
    """PostgreSQL's current snapshot xmin or xmax (transaction ids), None elsewhere."""
    if not _is_postgresql():
        return None
    return int(db.session.scalar(text(
        f"SELECT pg_snapshot_{which}(pg_current_snapshot())::text")))


def _keep_gap(gap: Gap, xmin: int | None, now: float) -> bool:
    """True while the transaction that took this id may still commit."""
    age = now - gap.seen
    if age < GAP_GRACE_SECONDS:
        return True
    if age > GAP_GIVE_UP_SECONDS or xmin is None:
        return False
    return gap.xmax is not None and xmin < gap.xmax


def _rows(where: object, limit: int | None = None) -> list[tuple[int, str]]:
    query = select(ListingChange.id, ListingChange.activity_uuid).where(where) \
        .order_by(ListingChange.id)
    if limit:
        query = query.limit(limit)
    return [(row_id, uuid) for row_id, uuid in db.session.execute(query)]


def _gap_rows(gap_ids: Iterable[int]) -> list[tuple[int, str]]:
    ids = sorted(gap_ids)
    found: list[tuple[int, str]] = []
    for start in range(0, len(ids), GAP_QUERY_CHUNK):
        found += _rows(ListingChange.id.in_(ids[start:start + GAP_QUERY_CHUNK]))
    return found


def _missing(ids: list[int], low: int, high: int) -> list[int]:
    """Ids in (low, high] not in the sorted list `ids`."""
    present = set(ids)
    return [number for number in range(low + 1, high + 1) if number not in present]


def read_changes(position: Position, batch_size: int = 200) -> Batch:
    """The next changes after `position` (and any gaps that have committed since)."""
    xmin = _snapshot_bound("xmin")  # read before the rows: everything older has ended
    fresh = _rows(ListingChange.id > position.upto, batch_size)
    filled = _gap_rows(position.gaps) if position.gaps else []
    xmax = _snapshot_bound("xmax")  # read after the rows: anything missing from them is older
    now = time.time()
    found = {row_id for row_id, _ in filled}
    gaps = {gap_id: gap for gap_id, gap in position.gaps.items()
            if gap_id not in found and _keep_gap(gap, xmin, now)}
    upto = fresh[-1][0] if fresh else position.upto
    for gap_id in _missing([row_id for row_id, _ in fresh], position.upto, upto):
        gaps[gap_id] = Gap(xmax, now)
    return Batch(uuids={uuid for _, uuid in fresh + filled}, rows=len(fresh) + len(filled),
                 advanced=Position(upto, gaps))


def begin_snapshot() -> None:
    """Start a transaction whose reads all see one snapshot (REPEATABLE READ on PostgreSQL)."""
    db.session.commit()
    if _is_postgresql():
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def snapshot_position() -> Position:
    """The position of the current snapshot: for a rebuild, read before (or with) its documents."""
    upto = db.session.scalar(select(func.max(ListingChange.id))) or 0
    low = max(pruned_through(), upto - REBUILD_GAP_LOOKBACK)
    ids = list(db.session.scalars(select(ListingChange.id).where(ListingChange.id > low)
                                  .order_by(ListingChange.id)))
    xmax, now = _snapshot_bound("xmax"), time.time()
    return Position(upto, {gap_id: Gap(xmax, now) for gap_id in _missing(ids, low, upto)})


def pruned_through() -> int:
    return db.session.scalar(select(func.max(ChangeLogHorizon.pruned_through))) or 0


def must_rebuild(position: Position | None) -> bool:
    """True when the index has no position, or changes it has not applied were pruned."""
    return position is None or position.safe < pruned_through()


def _unapplied(position: Position) -> list:
    """Conditions matching the committed changes this position has not applied."""
    gap_ids = sorted(position.gaps)
    return [ListingChange.id > position.upto] + [
        ListingChange.id.in_(gap_ids[start:start + GAP_QUERY_CHUNK])
        for start in range(0, len(gap_ids), GAP_QUERY_CHUNK)]


def lag_seconds(position: Position, now: dt.datetime | None = None) -> float:
    """Age of the oldest change this position has not applied (0 when it is up to date)."""
    found = [db.session.scalar(select(func.min(ListingChange.created_at)).where(condition))
             for condition in _unapplied(position)]
    oldest = min((when for when in found if when is not None), default=None)
    if oldest is None:
        return 0.0
    return max(0.0, ((now or utcnow()) - oldest).total_seconds())


def behind(position: Position) -> int:
    """How many committed changes this position has not applied."""
    return sum(db.session.scalar(select(func.count(ListingChange.id)).where(condition)) or 0
               for condition in _unapplied(position))


# ---- the node registry -------------------------------------------------------------------------

def node_name(app: Flask, index_folder: object) -> str:
    """INDEX_NODE_NAME, or this host's name and index folder (unique on one machine)."""
    return app.config.get("INDEX_NODE_NAME") or f"{socket.gethostname()}:{index_folder}"


def report(name: str, position: Position, lag: float) -> None:
    """Record this node's position and lag, and that it is alive."""
    node = db.session.get(IndexNode, name)
    if node is None:
        node = IndexNode(name=name)
        db.session.add(node)
    node.position = position.upto
    node.oldest_gap = min(position.gaps) if position.gaps else None
    node.lag_seconds = round(lag, 3)
    node.last_seen = utcnow()
    db.session.commit()


def nodes() -> list[IndexNode]:
    return list(db.session.scalars(select(IndexNode).order_by(IndexNode.name)))


def prune(retention: dt.timedelta, now: dt.datetime | None = None) -> int:
    """Delete change rows older than `retention` that every node seen within it has applied."""
    now = now or utcnow()
    cutoff = now - retention
    db.session.execute(delete(IndexNode).where(IndexNode.last_seen < cutoff))
    safe_positions = [node.oldest_gap - 1 if node.oldest_gap is not None else node.position
                      for node in nodes()]
    newest_old = db.session.scalar(select(func.max(ListingChange.id))
                                   .where(ListingChange.created_at < cutoff)) or 0
    head = db.session.scalar(select(func.max(ListingChange.id))) or 0
    # Keep the newest row whatever happens: SQLite would hand its id out again.
    limit = min([newest_old, head - 1, *safe_positions])
    if limit <= pruned_through():
        db.session.commit()
        return 0
    deleted = db.session.execute(delete(ListingChange).where(ListingChange.id <= limit)).rowcount
    horizon = db.session.get(ChangeLogHorizon, 1)
    if horizon is None:
        db.session.add(ChangeLogHorizon(id=1, pruned_through=limit))
    else:
        horizon.pruned_through = max(horizon.pruned_through, limit)
    db.session.commit()
    return int(deleted or 0)
