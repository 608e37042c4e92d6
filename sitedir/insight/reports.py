"""The figures every insight page, CSV download and `flask insight` command shows.

One function per report; pages, CSV files and the CLI all call these, so they cannot disagree.
Words appear only when searched on at least MIN_DAYS different days.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import case, delete, func, select

from ..extensions import db
from ..models import Activity, Term
from .models import EVENTS, SearchCount, UnmetSearch, UnmetWords, UsageCount
from . import recording

MIN_DAYS = 3  # words searched on fewer different days never appear in a report
FRESHNESS_BANDS = (  # (upper bound in days, label)
    (91, "Reviewed in the last 3 months"),
    (182, "3 to 6 months ago"),
    (365, "6 to 12 months ago"),
    (None, "More than a year ago"),
)
NEVER_REVIEWED = "Never reviewed"


def since_day(days: int | None) -> dt.date | None:
    return None if days is None else recording.today() - dt.timedelta(days=days)


# ---- unmet demand ------------------------------------------------------------------------------

@dataclass(frozen=True)
class AreaRow:
    area: str
    category: str
    searches: int
    unmet: int

    @property
    def share(self) -> float:
        return self.unmet / self.searches if self.searches else 0.0


def unmet_by_area(days: int | None = None) -> list[AreaRow]:
    """Searches and unmet searches per area and category, most unmet share first."""
    query = (select(SearchCount.area, SearchCount.category, func.sum(SearchCount.searches),
                    func.sum(SearchCount.unmet))
             .group_by(SearchCount.area, SearchCount.category))
    start = since_day(days)
    if start is not None:
        query = query.where(SearchCount.day >= start)
    rows = [AreaRow(area, category, int(searches or 0), int(unmet or 0))
            for area, category, searches, unmet in db.session.execute(query)]
    return sorted(rows, key=lambda r: (-r.share, -r.unmet, r.area, r.category))


@dataclass(frozen=True)
class WordsRow:
    words: str
    filters: str
    area: str
    days: int
    searches: int
    no_results: int
    last_day: dt.date


def unmet_words(days: int | None = None, min_days: int = MIN_DAYS) -> list[WordsRow]:
    """Unmet searches by words, filters and area, searched on at least `min_days` days."""
    start = since_day(days)
    raw = _raw_groups()
    folded = select(UnmetWords.words, UnmetWords.filters, UnmetWords.area, UnmetWords.days,
                    UnmetWords.searches, UnmetWords.no_results, UnmetWords.last_day)
    if start is not None:
        raw = _raw_groups(UnmetSearch.day >= start)
        folded = folded.where(UnmetWords.last_day >= start)
    totals: dict[tuple[str, str, str], list] = {}
    # Folded totals cover days before any raw row still kept, so their days simply add up.
    for words, filters, area, n_days, searches, none, last in [
            *db.session.execute(folded), *db.session.execute(raw)]:
        entry = totals.setdefault((words, filters, area), [0, 0, 0, last])
        entry[0] += int(n_days)
        entry[1] += int(searches)
        entry[2] += int(none or 0)
        entry[3] = max(entry[3], last)
    rows = [WordsRow(words, filters, area, *numbers)
            for (words, filters, area), numbers in totals.items() if numbers[0] >= min_days]
    return sorted(rows, key=lambda r: (-r.days, -r.searches, r.words, r.area, r.filters))


@dataclass(frozen=True)
class PeriodRow:
    period: str  # "2026-11" or the Monday of a week, "2026-11-23"
    searches: int
    unmet: int


def searches_over_time(days: int | None = None) -> list[PeriodRow]:
    """Searches and unmet searches per week (per month beyond 26 weeks), oldest first."""
    start = since_day(days)
    query = select(SearchCount.day, func.sum(SearchCount.searches), func.sum(SearchCount.unmet)) \
        .group_by(SearchCount.day)
    if start is not None:
        query = query.where(SearchCount.day >= start)
    by_day = [(day, int(s or 0), int(u or 0)) for day, s, u in db.session.execute(query)]
    monthly = days is None or days > 182
    totals: dict[str, list[int]] = {}
    for day, searches, unmet in by_day:
        key = day.strftime("%Y-%m") if monthly else \
            (day - dt.timedelta(days=day.weekday())).isoformat()
        entry = totals.setdefault(key, [0, 0])
        entry[0] += searches
        entry[1] += unmet
    return [PeriodRow(key, *totals[key]) for key in sorted(totals)]


def category_names() -> dict[str, str]:
    return dict(db.session.execute(
        select(Term.key, Term.name).where(Term.taxonomy == "category")).all())


# ---- listings ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FreshnessRow:
    slug: str
    title: str
    organisation: str
    status: str
    last_reviewed: dt.date | None
    band: str


def freshness() -> list[FreshnessRow]:
    """Every listing with when it was last reviewed and its band, least fresh first."""
    from sqlalchemy.orm import selectinload

    now = recording.today()
    rows = []
    for activity in db.session.scalars(select(Activity).options(
            selectinload(Activity.organisation))):
        reviewed = activity.last_reviewed
        band = NEVER_REVIEWED
        if reviewed is not None:
            age = (now - reviewed).days
            band = next(label for limit, label in FRESHNESS_BANDS
                        if limit is None or age <= limit)
        rows.append(FreshnessRow(activity.slug, activity.title, activity.organisation.name,
                                 activity.status, reviewed, band))
    return sorted(rows, key=lambda r: (r.last_reviewed or dt.date.min, r.title))


def freshness_bands(rows: list[FreshnessRow]) -> list[tuple[str, int]]:
    labels = [label for _limit, label in FRESHNESS_BANDS] + [NEVER_REVIEWED]
    return [(label, sum(1 for row in rows if row.band == label)) for label in labels]


# ---- recommendations and usage -----------------------------------------------------------------

@dataclass(frozen=True)
class RecommendationRow:
    activity_uuid: str
    month: str
    role: str
    delivery: str
    count: int


def recommendation_counts(days: int | None = None, activity_uuid: str | None = None,
                          organisation_id: int | None = None) -> list[RecommendationRow]:
    """How many recommendations included each activity, per month, role and delivery."""
    from ..connect.models import Recommendation, RecommendationItem

    columns = (RecommendationItem.activity_uuid, Recommendation.month, Recommendation.role,
               Recommendation.delivery)
    query = (select(*columns, func.count(RecommendationItem.id))
             .join(Recommendation, RecommendationItem.recommendation)
             .group_by(*columns).order_by(*columns))
    start = since_day(days)
    if start is not None:
        query = query.where(Recommendation.created_at >= dt.datetime.combine(start, dt.time()))
    if activity_uuid:
        query = query.where(RecommendationItem.activity_uuid == activity_uuid)
    if organisation_id is not None:
        owned = select(Activity.uuid).where(Activity.organisation_id == organisation_id)
        query = query.where(RecommendationItem.activity_uuid.in_(owned))
    return [RecommendationRow(*row) for row in db.session.execute(query)]


def tally(rows: list[RecommendationRow], attribute: str) -> dict[str, int]:
    """Recommendations summed by one attribute ('month', 'role' or 'delivery')."""
    totals: dict[str, int] = {}
    for row in rows:
        key = getattr(row, attribute)
        totals[key] = totals.get(key, 0) + row.count
    return dict(sorted(totals.items()))


@dataclass
class UsageRow:
    """One listing's figures over a period."""

    activity_uuid: str
    slug: str
    title: str
    organisation: str
    events: dict[str, int] = field(default_factory=dict)
    by_role: dict[str, int] = field(default_factory=dict)
    by_delivery: dict[str, int] = field(default_factory=dict)

    @property
    def recommendations(self) -> int:
        return sum(self.by_role.values())


def usage(days: int | None = None, activity_uuid: str | None = None,
          organisation_id: int | None = None) -> list[UsageRow]:
    """Per listing: events counted per day and recommendations by role and method."""
    from sqlalchemy.orm import selectinload

    activities = select(Activity).options(selectinload(Activity.organisation))
    if activity_uuid:
        activities = activities.where(Activity.uuid == activity_uuid)
    if organisation_id is not None:
        activities = activities.where(Activity.organisation_id == organisation_id)
    rows = {a.uuid: UsageRow(a.uuid, a.slug, a.title, a.organisation.name,
                             {event: 0 for event in EVENTS})
            for a in db.session.scalars(activities)}
    counts = select(UsageCount.activity_uuid, UsageCount.event, func.sum(UsageCount.count)) \
        .where(UsageCount.activity_uuid.in_(list(rows))) \
        .group_by(UsageCount.activity_uuid, UsageCount.event)
    start = since_day(days)
    if start is not None:
        counts = counts.where(UsageCount.day >= start)
    for uuid, event, total in db.session.execute(counts):
        rows[uuid].events[event] = int(total)
    for rec in recommendation_counts(days, activity_uuid, organisation_id):
        if rec.activity_uuid in rows:
            row = rows[rec.activity_uuid]
            row.by_role[rec.role] = row.by_role.get(rec.role, 0) + rec.count
            row.by_delivery[rec.delivery] = row.by_delivery.get(rec.delivery, 0) + rec.count
    return sorted(rows.values(), key=lambda r: (-r.recommendations, -r.events["view"], r.title))


# ---- retention ---------------------------------------------------------------------------------

def fold_expired() -> tuple[int, int]:
    """Fold raw unmet rows older than INSIGHT_RETENTION_DAYS into totals, then delete them.

    Words still searched on fewer than MIN_DAYS days by then are dropped with their rows (the
    per-area counts keep them as numbers). Only flushes. Returns (rows deleted, totals kept).
    """
    retention = int(current_app.config["INSIGHT_RETENTION_DAYS"])
    cutoff = recording.today() - dt.timedelta(days=retention)
    expired = unmet_words_before(cutoff)
    kept = 0
    for key, (n_days, searches, none, last) in expired.items():
        words, filters, area = key
        total = db.session.scalar(select(UnmetWords).where(
            UnmetWords.words == words, UnmetWords.filters == filters, UnmetWords.area == area))
        if total is None:
            if n_days < MIN_DAYS:
                continue
            total = UnmetWords(words=words, filters=filters, area=area, days=0, searches=0,
                               no_results=0, last_day=last)
            db.session.add(total)
        total.days += n_days
        total.searches += searches
        total.no_results += none
        total.last_day = max(total.last_day, last)
        kept += 1
    deleted = db.session.execute(delete(UnmetSearch).where(UnmetSearch.day < cutoff)).rowcount
    return deleted, kept  # the caller commits (privacy purge commits all erasers at once)


def _raw_groups(*conditions):
    """Raw unmet rows grouped by words, filters and area: days, searches, no results, last day."""
    return (select(UnmetSearch.words, UnmetSearch.filters, UnmetSearch.area,
                   func.count(func.distinct(UnmetSearch.day)), func.count(UnmetSearch.id),
                   func.sum(case((UnmetSearch.results == 0, 1), else_=0)),
                   func.max(UnmetSearch.day))
            .where(*conditions)
            .group_by(UnmetSearch.words, UnmetSearch.filters, UnmetSearch.area))


WordsKey = tuple[str, str, str]  # words, filters, area


def unmet_words_before(cutoff: dt.date) -> dict[WordsKey, tuple[int, int, int, dt.date]]:
    rows = db.session.execute(_raw_groups(UnmetSearch.day < cutoff))
    return {(w, f, a): (int(d), int(s), int(n or 0), last) for w, f, a, d, s, n, last in rows}
