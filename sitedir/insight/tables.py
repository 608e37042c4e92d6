"""Each report as a plain table (column names and rows of values): the one shape that the HTML
tables, the CSV downloads and `flask insight` print, so all three show the same figures."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from . import reports
from .models import EVENTS


@dataclass(frozen=True)
class Table:
    name: str  # also the CSV file name
    columns: list[str]
    rows: list[list[Any]]


def _roles() -> dict[str, str]:
    from ..connect.models import ROLES
    return ROLES


def _deliveries() -> dict[str, str]:
    from ..connect.models import DELIVERIES
    return DELIVERIES


def area_label(area: str) -> str:
    return area or "No place given"


def category_label(category: str, names: dict[str, str]) -> str:
    return names.get(category, category) if category else "Any category"


def unmet_areas(days: int | None) -> Table:
    names = reports.category_names()
    return Table("unmet-demand-by-area", ["area", "category", "searches", "unmet", "unmet_share"],
                 [[area_label(r.area), category_label(r.category, names), r.searches, r.unmet,
                   f"{r.share:.0%}"] for r in reports.unmet_by_area(days)])


def unmet_words(days: int | None) -> Table:
    return Table("unmet-words",
                 ["words", "filters", "area", "days", "searches", "no_results", "last_day"],
                 [[r.words or "(no words)", r.filters, area_label(r.area), r.days, r.searches,
                   r.no_results, r.last_day.isoformat()] for r in reports.unmet_words(days)])


def searches(days: int | None) -> Table:
    return Table("searches-over-time", ["period", "searches", "unmet"],
                 [[r.period, r.searches, r.unmet] for r in reports.searches_over_time(days)])


def freshness(rows: list[reports.FreshnessRow] | None = None) -> Table:
    rows = reports.freshness() if rows is None else rows
    return Table("listings-by-freshness",
                 ["slug", "title", "organisation", "status", "last_reviewed", "band"],
                 [[r.slug, r.title, r.organisation, r.status,
                   r.last_reviewed.isoformat() if r.last_reviewed else "", r.band] for r in rows])


def recommendations(days: int | None) -> Table:
    rows = reports.recommendation_counts(days)
    return Table("recommendations", ["month", "role", "delivery", "recommendations"],
                 [[r.month, r.role, r.delivery, r.count] for r in _merge_activities(rows)])


def _merge_activities(rows: list[reports.RecommendationRow]) -> list[reports.RecommendationRow]:
    totals: dict[tuple[str, str, str], int] = {}
    for row in rows:
        key = (row.month, row.role, row.delivery)
        totals[key] = totals.get(key, 0) + row.count
    return [reports.RecommendationRow("", *key, count) for key, count in sorted(totals.items())]


def usage(days: int | None, activity_uuid: str | None = None,
          organisation_id: int | None = None) -> Table:
    roles, deliveries = list(_roles()), list(_deliveries())
    columns = (["slug", "title", "organisation", "recommendations"]
               + [f"recommended_by_{role}" for role in roles]
               + [f"recommended_by_{how}" for how in deliveries]
               + [event for event in EVENTS])
    rows = [[r.slug, r.title, r.organisation, r.recommendations]
            + [r.by_role.get(role, 0) for role in roles]
            + [r.by_delivery.get(how, 0) for how in deliveries]
            + [r.events.get(event, 0) for event in EVENTS]
            for r in reports.usage(days, activity_uuid, organisation_id)]
    return Table("usage", columns, rows)


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        # A leading =, +, - or @ would run as a formula in a spreadsheet.
        writer.writerow([f"'{v}" if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v
                         for v in row])
    return out.getvalue()


def to_text(table: Table) -> str:
    """Aligned columns for a terminal."""
    cells = [table.columns] + [[str(v) for v in row] for row in table.rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(table.columns))]
    return "\n".join("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip()
                     for row in cells)
