"""The shortlist: activity ids kept in the signed session cookie (no login, no personal data)."""
from __future__ import annotations

from flask import session
from sqlalchemy import select

from ..extensions import db
from ..models import Activity

MAX_ITEMS = 20
KEY = "shortlist"


def ids() -> list[int]:
    """The shortlisted activity ids, in the order the user chose."""
    return [int(item) for item in session.get(KEY, []) if isinstance(item, int)]


def count() -> int:
    return len(ids())


def contains(activity_id: int) -> bool:
    return activity_id in ids()


def _save(items: list[int]) -> None:
    session[KEY] = items[:MAX_ITEMS]


def add(activity_id: int) -> bool:
    """Add to the end; False when the list is full (already there counts as added)."""
    items = ids()
    if activity_id in items:
        return True
    if len(items) >= MAX_ITEMS:
        return False
    _save(items + [activity_id])
    return True


def remove(activity_id: int) -> None:
    _save([item for item in ids() if item != activity_id])


def move(activity_id: int, offset: int) -> None:
    """Move one place up (-1) or down (+1)."""
    items = ids()
    if activity_id not in items:
        return
    old = items.index(activity_id)
    new = max(0, min(len(items) - 1, old + offset))
    items.insert(new, items.pop(old))
    _save(items)


def clear() -> None:
    session.pop(KEY, None)


def activities() -> list[Activity]:
    """The shortlisted activities that still exist, in list order."""
    wanted = ids()
    if not wanted:
        return []
    found = {a.id: a for a in db.session.scalars(select(Activity).where(Activity.id.in_(wanted)))}
    return [found[item] for item in wanted if item in found]
