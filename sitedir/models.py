"""The store: organisations, venues, activities, their schedules and taxonomy terms.

The database is the truth; the search index is derived from it. Every change that could alter
how an activity is listed writes a ListingChange row in the same transaction (see
`record_listing_changes`), and the indexer is the only thing that reads those rows.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any
from decimal import Decimal

from sqlalchemy import (
    JSON, Boolean, Column, Date, DateTime, ForeignKey, Integer, Numeric, String, Table, Text,
    Time, UniqueConstraint, event, func, inspect, select,
)
from sqlalchemy.orm import (
    Mapped, Session, mapped_column, relationship, selectinload,
)

from .extensions import db

TAXONOMIES = ("category", "need", "accessibility")
FORMATS = ("in_person", "online", "phone")
STATUSES = ("running", "full", "on_break", "closed")
COST_TYPES = ("free", "paid", "pay_what_you_can")
COST_PERIODS = ("session", "week", "month", "term", "course", "year")
JOIN_METHODS = ("drop_in", "book", "referral")
REFERRERS = ("gp", "link_worker", "health_professional", "social_worker", "self")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def new_uuid() -> str:
    """A random UUID as text: the stable public id used by open-data feeds."""
    return str(uuid.uuid4())


def slugify(text: str, limit: int = 100) -> str:
    """Lowercase letters, digits and single hyphens: the form of every slug and taxonomy key."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "item"


def unique_slug(model: type, text: str) -> str:
    """slugify(text), with -2, -3 ... when the model already uses it (one query)."""
    base = slugify(text)
    taken = set(db.session.scalars(select(model.slug).where(
        (model.slug == base) | model.slug.like(f"{base}-%"))))
    number, slug = 1, base
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


def set_changed(obj: Any, **values: Any) -> None:
    """Assign only values that differ, so an unchanged record is not marked dirty."""
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)


def utcnow() -> dt.datetime:
    """Naive UTC now, stored the same way by SQLite and PostgreSQL."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# ---- what the columns say beyond themselves -------------------------------------------------
# Shared by the mapped classes below and by the plain rows of activity_rows.py (read without the
# ORM for the index and the search page's cards), so each rule is written once.

class VenueRules:
    __slots__ = ()
    placed_from: str
    address: str
    postcode: str

    @property
    def placed_approximately(self) -> bool:
        return self.placed_from in ("sector", "outcode")

    @property
    def address_lines(self) -> list[str]:
        return [line for line in self.address.split("\n") if line]

    @property
    def outcode(self) -> str:
        return self.postcode.split(" ")[0] if self.postcode else ""


class ActivityRules:
    __slots__ = ()
    terms: Any
    venue: Any
    formats: list[str]

    def terms_of(self, taxonomy: str) -> list[Any]:
        """This activity's own terms of one taxonomy, in taxonomy order."""
        return [term for term in self.terms if term.taxonomy == taxonomy]

    @property
    def categories(self) -> list[Any]:
        return self.terms_of("category")

    @property
    def needs(self) -> list[Any]:
        return self.terms_of("need")

    @property
    def accessibility(self) -> list[Any]:
        """The venue's access features plus the activity's own, without repeats."""
        found = {term.key: term for term in (self.venue.accessibility if self.venue else [])}
        found.update((term.key, term) for term in self.terms_of("accessibility"))
        return sorted(found.values(), key=lambda term: term.position)

    @property
    def in_person(self) -> bool:
        return "in_person" in self.formats


class ScheduleEntryRules:
    __slots__ = ()
    date: Any
    weeks: list[int]

    @property
    def kind(self) -> str:
        if self.date is not None:
            return "dated"
        return "monthly" if self.weeks else "weekly"


activity_term = Table(
    "activity_term",
    db.metadata,
    Column("activity_id", ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", ForeignKey("term.id", ondelete="CASCADE"), primary_key=True),
)

venue_term = Table(
    "venue_term",
    db.metadata,
    Column("venue_id", ForeignKey("venue.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", ForeignKey("term.id", ondelete="CASCADE"), primary_key=True),
)


class Term(db.Model):
    """A taxonomy term: a category, a "who it helps" need or an accessibility feature."""

    __tablename__ = "term"
    __table_args__ = (UniqueConstraint("taxonomy", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    taxonomy: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<Term {self.taxonomy}:{self.key}>"


class Organisation(db.Model):
    """A VCSE organisation (or a council service) that runs activities."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    charity_number: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    activities: Mapped[list[Activity]] = relationship(
        back_populates="organisation", order_by="Activity.title", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class Venue(VenueRules, db.Model):
    """A place where activities happen, with its own coordinates and access features."""

    __tablename__ = "venue"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")  # street lines joined by newlines
    town: Mapped[str] = mapped_column(String(100), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    latitude: Mapped[float | None] = mapped_column(nullable=True)
    longitude: Mapped[float | None] = mapped_column(nullable=True)
    directions: Mapped[str] = mapped_column(Text, default="")
    # How the point was found when the data had none: "" (given with the data), "postcode"
    # (the exact postcode, from the imported ONS table) or "sector"/"outcode" (approximate:
    # the centre of the postcode sector or district, from the gazetteer).
    placed_from: Mapped[str] = mapped_column(String(20), default="")

    accessibility: Mapped[list[Term]] = relationship(secondary=venue_term, order_by=Term.position)
    activities: Mapped[list[Activity]] = relationship(back_populates="venue")

    def __repr__(self) -> str:
        return f"<Venue {self.slug}>"


class Activity(ActivityRules, db.Model):
    """A listed activity: a group, class, service or event that people can join."""

    __tablename__ = "activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    venue_id: Mapped[int | None] = mapped_column(
        ForeignKey("venue.id", ondelete="SET NULL"), nullable=True, index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    formats: Mapped[list[str]] = mapped_column(JSON, default=list)
    age_min: Mapped[int | None] = mapped_column(nullable=True)
    age_max: Mapped[int | None] = mapped_column(nullable=True)
    hide_address: Mapped[bool] = mapped_column(Boolean, default=False)
    online_details: Mapped[str] = mapped_column(Text, default="")
    schedule_notes: Mapped[str] = mapped_column(Text, default="")
    term_time_only: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="running")
    waiting_list: Mapped[bool] = mapped_column(Boolean, default=False)
    break_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    cost_type: Mapped[str] = mapped_column(String(20), default="free")
    cost_amount: Mapped[Decimal | None] = mapped_column(Numeric(8, 2), nullable=True)
    cost_per: Mapped[str] = mapped_column(String(20), default="")
    cost_notes: Mapped[str] = mapped_column(Text, default="")
    join_how: Mapped[str] = mapped_column(String(20), default="drop_in")
    referral_from: Mapped[list[str]] = mapped_column(JSON, default=list)
    join_notes: Mapped[str] = mapped_column(Text, default="")
    bring_friend: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    what_to_bring: Mapped[str] = mapped_column(Text, default="")
    welcome: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    last_reviewed: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # Set by `flask reminders send` after the third unanswered reminder; any later review
    # (last_reviewed on or after it) lifts it, so no path has to remember to clear it.
    not_confirmed_since: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="activities")
    venue: Mapped[Venue | None] = relationship(back_populates="activities")
    terms: Mapped[list[Term]] = relationship(secondary=activity_term, order_by=Term.position)
    schedule: Mapped[list[ScheduleEntry]] = relationship(
        back_populates="activity", cascade="all, delete-orphan",
        order_by="(ScheduleEntry.date, ScheduleEntry.weekday, ScheduleEntry.start_time)")

    def __repr__(self) -> str:
        return f"<Activity {self.slug}>"


class ScheduleEntry(ScheduleEntryRules, db.Model):
    """One line of an activity's timetable: weekly, monthly (nth weekday) or a single date."""

    __tablename__ = "schedule_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int | None] = mapped_column(nullable=True)  # 0 = Monday, for repeating ones
    weeks: Mapped[list[int]] = mapped_column(JSON, default=list)  # [] weekly; [1, 3]; [-1] last
    date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # for a single session
    start_time: Mapped[dt.time] = mapped_column(Time)
    end_time: Mapped[dt.time] = mapped_column(Time)
    title: Mapped[str] = mapped_column(String(200), default="")

    activity: Mapped[Activity] = relationship(back_populates="schedule")


class SchoolHoliday(db.Model):
    """A school holiday, during which term-time-only activities do not run."""

    __tablename__ = "school_holiday"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)  # inclusive


class Page(db.Model):
    """An editorial page written in Markdown (content/pages)."""

    __tablename__ = "page"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Postcode(db.Model):
    """A full postcode centroid imported by `flask geo import` (optional, for precise places)."""

    __tablename__ = "postcode"

    postcode: Mapped[str] = mapped_column(String(10), primary_key=True)  # normalised: "LS9 8AB"
    latitude: Mapped[float]
    longitude: Mapped[float]


class LocalPlace(db.Model):
    """A neighbourhood or village name from content/places.yaml, found before GeoNames names."""

    __tablename__ = "local_place"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(120), unique=True)  # geo.name_key(name)
    latitude: Mapped[float]
    longitude: Mapped[float]
    area: Mapped[str] = mapped_column(String(120), default="")
    # Kept so `flask content export` writes back what the operator wrote.
    postcode_sectors: Mapped[list] = mapped_column(JSON, default=list)
    also_known_as: Mapped[list] = mapped_column(JSON, default=list)


class VocabularyGroup(db.Model):
    """Words people use for one thing, from content/vocabulary.yaml; search expands with them.

    Read at query time (sitedir/vocabulary.py), so changing the list needs no reindex.
    """

    __tablename__ = "vocabulary_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, unique=True)  # order in the file
    words: Mapped[list] = mapped_column(JSON, default=list)  # each finds the others
    related: Mapped[list] = mapped_column(JSON, default=list)  # found too, weighted lower
    categories: Mapped[list] = mapped_column(JSON, default=list)  # taxonomy keys found too
    helps: Mapped[list] = mapped_column(JSON, default=list)
    access: Mapped[list] = mapped_column(JSON, default=list)
    # Changed rows get a new time, so other processes see the list changed (see vocabulary.py).
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ListingChange(db.Model):
    """The change log: one row per change to how an activity is listed, read by every indexer.

    Rows name the activity by uuid, not by foreign key, so a deletion can be recorded too.
    Nothing marks a row done: each node's index records how far it has read (see
    sitedir/indexing.py), and old rows are pruned once every known node is past them.
    """

    __tablename__ = "listing_change"

    id: Mapped[int] = mapped_column(primary_key=True)  # increasing: each index's position
    activity_uuid: Mapped[str] = mapped_column(String(36), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, default=utcnow, server_default=func.now())


class IndexNode(db.Model):
    """A node's search index as the node last reported it: how far it has read the change log.

    Nodes know about each other only through this table: `flask index status` lists them, and
    pruning the change log waits for every node seen within the retention period.
    """

    __tablename__ = "index_node"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # INDEX_NODE_NAME
    position: Mapped[int] = mapped_column(Integer, default=0)  # every change up to it applied
    # The oldest change id below `position` that may still commit (a sequence gap), if any:
    # pruning must keep it.
    oldest_gap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lag_seconds: Mapped[float] = mapped_column(Numeric(10, 3, asdecimal=False), default=0.0)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ChangeLogHorizon(db.Model):
    """One row: the change log has been pruned up to and including `pruned_through`.

    An index whose position is below it has missed changes for good and must be rebuilt.
    """

    __tablename__ = "change_log_horizon"

    id: Mapped[int] = mapped_column(primary_key=True)
    pruned_through: Mapped[int] = mapped_column(Integer, default=0)


def _affected_activities(session: Session) -> set[Activity]:
    """Every activity whose listing this flush may change."""
    affected: set[Activity] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if obj not in session.new and obj not in session.deleted \
                and not session.is_modified(obj, include_collections=True):
            continue
        if isinstance(obj, Activity):
            affected.add(obj)
        elif isinstance(obj, ScheduleEntry) and obj.activity is not None:
            affected.add(obj.activity)
        elif isinstance(obj, (Organisation, Venue)) and obj not in session.new:
            affected.update(obj.activities)
        elif isinstance(obj, Term) and obj not in session.new:
            affected.update(session.scalars(
                db.select(Activity).where(Activity.terms.any(Term.id == obj.id))))
    return affected


@event.listens_for(Session, "before_flush")
def record_listing_changes(session: Session, flush_context: object, instances: object) -> None:
    """Write an outbox row for each affected activity, inside the flush's own transaction."""
    pending = {obj.activity_uuid for obj in session.new if isinstance(obj, ListingChange)}
    for activity in _affected_activities(session):
        if activity.uuid is None:  # column defaults run later, at INSERT: set it now
            activity.uuid = new_uuid()
        if activity.uuid not in pending:
            session.add(ListingChange(activity_uuid=activity.uuid))
            pending.add(activity.uuid)


# Loader options for an activity "with everything a page shows". Views, feeds, the API and the
# indexer all load activities this one way, so no page pays a query per card.
FULL_ACTIVITY = (selectinload(Activity.terms), selectinload(Activity.schedule),
                 selectinload(Activity.organisation),
                 selectinload(Activity.venue).selectinload(Venue.accessibility))


class OldSlug(db.Model):
    """A slug an activity or organisation used to have, so old links and printed QR codes
    still arrive (the public page redirects to the current slug)."""

    __tablename__ = "old_slug"
    __table_args__ = (UniqueConstraint("kind", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "activity" | "organisation"
    slug: Mapped[str] = mapped_column(String(120))
    uuid: Mapped[str] = mapped_column(String(36), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


SLUG_KINDS: dict[type, str] = {Activity: "activity", Organisation: "organisation"}


@event.listens_for(Session, "before_flush")
def remember_old_slugs(session: Session, flush_context: object, instances: object) -> None:
    """When a slug changes, keep the old one (and forget an old one that is now current)."""
    for obj in list(session.dirty):
        kind = SLUG_KINDS.get(type(obj))
        if kind is None:
            continue
        history = inspect(obj).attrs.slug.history
        if not history.deleted or not history.added:
            continue
        old, new = history.deleted[0], history.added[0]
        if not old or old == new:
            continue
        for stale in session.scalars(select(OldSlug).where(
                OldSlug.kind == kind, OldSlug.slug.in_([old, new]))):
            session.delete(stale)
        session.add(OldSlug(kind=kind, slug=old, uuid=obj.uuid))


def current_slug(kind: str, slug: str) -> str | None:
    """The slug now used by whatever once had `slug`, or None."""
    model = next(model for model, name in SLUG_KINDS.items() if name == kind)
    return db.session.scalar(select(model.slug).join(OldSlug, OldSlug.uuid == model.uuid).where(
        OldSlug.kind == kind, OldSlug.slug == slug))
