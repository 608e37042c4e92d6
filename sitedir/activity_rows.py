"""Activities read as plain rows, without the ORM: for the index and the search page's cards.

Building ORM objects (identity map, instrumented collections, one loader pass per relationship)
was three quarters of making the index documents (7 of 9.5 s at 20k listings) and over a third
of a search page that the page cache does not have. These rows carry every column of the
activity, its venue and schedule entries, its organisation's name and slug, and its terms and
the venue's access features, and get the same derived attributes from the mixins in models.py,
so `to_document()`, `card_for()` and the listing rules read them exactly as they read a loaded
Activity. Nothing writes to them once loaded, and they load nothing lazily: an attribute that
is not here fails loudly.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import bindparam, literal, select, text, union_all

from .extensions import db
from .models import (
    Activity, ActivityRules, Organisation, ScheduleEntry, ScheduleEntryRules, Term, Venue,
    VenueRules, activity_term, venue_term,
)

CHUNK = 500  # activities per round of queries (well under every database's parameter limit)


class _Row:
    """Attributes from a result row's values, named in order by the class's `_fields`."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    @classmethod
    def of(cls, values: Iterable[Any]) -> Any:  # replaced in each subclass, see _maker
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.of = staticmethod(_maker(cls))


def _maker(cls: type) -> Any:
    """`cls.of(values)`: a new row with one value per name in `cls._fields`, made by one
    unpacking assignment (as namedtuple and dataclasses make theirs): setting the attributes
    one by one in a loop was most of the time it takes to read the activities."""
    targets = "".join(f"row.{name}, " for name in cls._fields)
    source = f"def of(values):\n    row = new(cls)\n    {targets}= values\n    return row\n"
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    exec(source, namespace)  # noqa: S102 - the names are the table's own column keys
    return namespace["of"]


def _columns(table: Any) -> tuple[str, ...]:
    return tuple(column.key for column in table.columns)


class TermRow(_Row):
    __slots__ = _fields = ("id", "taxonomy", "key", "name", "position")


class OrganisationRow(_Row):
    __slots__ = _fields = ("id", "name", "slug")


class VenueRow(VenueRules, _Row):
    _fields = _columns(Venue.__table__)
    __slots__ = (*_fields, "accessibility")


class ScheduleEntryRow(ScheduleEntryRules, _Row):
    __slots__ = _fields = _columns(ScheduleEntry.__table__)


class ActivityRow(ActivityRules, _Row):
    _fields = _columns(Activity.__table__)
    __slots__ = (*_fields, "organisation", "venue", "terms", "schedule")


# The statements, built once (building them cost more than running them). The first selects
# the activities with their organisation and venue: activity columns, then two of the
# organisation's, then the venue's.
_WITH_PLACE = (select(Activity.__table__, Organisation.name, Organisation.slug, Venue.__table__)
               .join(Organisation, Organisation.id == Activity.organisation_id)
               .outerjoin(Venue, Venue.id == Activity.venue_id).order_by(Activity.id))
_BY_ID = _WITH_PLACE.where(Activity.id.in_(bindparam("ids", expanding=True)))
_BY_UUID = _WITH_PLACE.where(Activity.uuid.in_(bindparam("uuids", expanding=True)))
_TERM_COLUMNS = [getattr(Term, name) for name in TermRow._fields]
# (0 activity / 1 venue, owner id, term columns), in term order.
_TERMS = union_all(
    select(literal(0), activity_term.c.activity_id, *_TERM_COLUMNS)
    .join(Term, Term.id == activity_term.c.term_id)
    .where(activity_term.c.activity_id.in_(bindparam("ids", expanding=True))),
    select(literal(1), venue_term.c.venue_id, *_TERM_COLUMNS)
    .join(Term, Term.id == venue_term.c.term_id)
    .where(venue_term.c.venue_id.in_(bindparam("venues", expanding=True))),
).order_by(text("position"), text("id"))
_SCHEDULE = (select(ScheduleEntry.__table__)
             .where(ScheduleEntry.activity_id.in_(bindparam("ids", expanding=True)))
             .order_by(ScheduleEntry.date, ScheduleEntry.weekday, ScheduleEntry.start_time,
                       ScheduleEntry.id))
_ACTIVITY_END = len(ActivityRow._fields)
_VENUE_START = _ACTIVITY_END + 2


def rows_by_ids(ids: list[int]) -> Iterator[ActivityRow]:
    """The activities with these ids, in id order, CHUNK at a time."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield from _load(_BY_ID, {"ids": ordered[start:start + CHUNK]})


def rows_by_uuids(uuids: Iterable[str]) -> list[ActivityRow]:
    """The activities with these uuids (those that exist), in id order."""
    wanted = list(dict.fromkeys(uuids))
    found: list[ActivityRow] = []
    for start in range(0, len(wanted), CHUNK):
        found.extend(_load(_BY_UUID, {"uuids": wanted[start:start + CHUNK]}))
    return sorted(found, key=lambda row: row.id)


def _load(statement: Any, parameters: dict[str, list]) -> list[ActivityRow]:
    connection = db.session.connection()  # plain Core, in the session's transaction
    activities: list[ActivityRow] = []
    venues: dict[int, VenueRow] = {}
    for row in connection.execute(statement, parameters).fetchall():
        activity = ActivityRow.of(row[:_ACTIVITY_END])
        object.__setattr__(activity, "organisation", OrganisationRow.of(
            (activity.organisation_id, *row[_ACTIVITY_END:_VENUE_START])))
        venue = None
        if activity.venue_id is not None:
            venue = venues.get(activity.venue_id)
            if venue is None:
                venue = venues[activity.venue_id] = VenueRow.of(row[_VENUE_START:])
        object.__setattr__(activity, "venue", venue)
        activities.append(activity)
    if not activities:
        return []
    ids = [activity.id for activity in activities]
    terms: tuple[dict[int, list[TermRow]], ...] = (defaultdict(list), defaultdict(list))
    for kind, owner, *values in connection.execute(
            _TERMS, {"ids": ids, "venues": list(venues)}).fetchall():
        terms[kind][owner].append(TermRow.of(values))
    for venue_id, venue in venues.items():
        object.__setattr__(venue, "accessibility", terms[1].get(venue_id, []))
    schedule: dict[int, list[ScheduleEntryRow]] = defaultdict(list)
    for row in connection.execute(_SCHEDULE, {"ids": ids}).fetchall():
        entry = ScheduleEntryRow.of(row)
        schedule[entry.activity_id].append(entry)
    for activity in activities:
        object.__setattr__(activity, "terms", terms[0].get(activity.id, []))
        object.__setattr__(activity, "schedule", schedule.get(activity.id, []))
    return activities
