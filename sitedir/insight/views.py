"""Report pages for commissioners and admins, an organisation's own figures, and the ping that
counts contact and share clicks. Every page is read-only and shows anonymous aggregates only."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Response, abort, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from ..manage.auth import ask_for_second_factor, can_edit, login_manager, second_factor_given
from ..extensions import csrf, db
from ..models import Activity, Organisation
from . import bp, reports, tables
from .charts import Bar, bars, plural
from .models import EVENTS
from .recording import is_bot, recorder

PERIODS = {"30": "the last 30 days", "91": "the last 3 months", "365": "the last 12 months",
           "all": "all the time kept"}
DEFAULT_PERIOD = "91"
PING_EVENTS = ("contact", "share")
INSIGHT_ROLES = ("insight", "admin")


def insight_required(view: Callable) -> Callable:
    """Insight readers and admins (admins with their second factor, as on every admin page)."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role not in INSIGHT_ROLES:
            abort(403)
        if current_user.role == "admin" and not second_factor_given():
            return ask_for_second_factor()
        return view(*args, **kwargs)
    return wrapped


@dataclass
class Section:
    heading: str
    table: tables.Table
    chart: list[Bar] = field(default_factory=list)
    chart_title: str = ""
    headers: list[str] = field(default_factory=list)  # the table's column headings

    def __post_init__(self) -> None:
        self.headers = self.headers or [c.replace("_", " ").capitalize()
                                        for c in self.table.columns]


@dataclass(frozen=True)
class Report:
    title: str
    intro: str
    build: Callable[[int | None], list[Section]]
    periods: bool = True


def _period() -> tuple[str, int | None]:
    chosen = request.args.get("since", DEFAULT_PERIOD)
    if chosen not in PERIODS:
        abort(400, description="since must be one of " + ", ".join(PERIODS))
    return chosen, None if chosen == "all" else int(chosen)


# ---- the reports -------------------------------------------------------------------------------

def _unmet_sections(days: int | None) -> list[Section]:
    table = tables.unmet_areas(days)
    rows = [r for r in table.rows if r[3]]
    chart = bars([(f"{r[0]} · {r[1]}", r[3] / r[2], f"{r[3]} of {r[2]} unmet ({r[4]})")
                  for r in rows])
    return [Section("Unmet demand by area and category", table, chart,
                    "Share of searches that found fewer than 3 activities",
                    ["Area", "Category", "Searches", "Fewer than 3 found", "Share unmet"])]


def _words_sections(days: int | None) -> list[Section]:
    table = tables.unmet_words(days)
    chart = bars([(f"{r[0]} · {r[2]}", r[3], f"{plural(r[3], 'day')}, "
                   f"{plural(r[4], 'search')}") for r in table.rows])
    return [Section("Words that found little", table, chart,
                    "Days on which each search found fewer than 3 activities",
                    ["Words", "Filters", "Area", "Days", "Searches", "Found none", "Last day"])]


def _searches_sections(days: int | None) -> list[Section]:
    table = tables.searches(days)
    latest = table.rows[-15:]  # the latest periods, when there are more than fit
    chart = bars([(r[0], r[1], f"{plural(r[1], 'search')}, {r[2]} unmet") for r in latest],
                 part=[r[2] for r in latest])
    return [Section("Searches over time", table, chart,
                    "Searches per period; the darker part found fewer than 3 activities",
                    ["Week or month from", "Searches", "Fewer than 3 found"])]


def _freshness_sections(days: int | None) -> list[Section]:
    rows = reports.freshness()
    bands = reports.freshness_bands(rows)
    band_table = tables.Table("freshness-bands", ["band", "listings"], [list(b) for b in bands])
    chart = bars([(label, count, plural(count, "listing")) for label, count in bands])
    return [Section("Listings by when they were last reviewed", band_table, chart,
                    "Listings by when they were last reviewed", ["Last reviewed", "Listings"]),
            Section("Every listing, least recently reviewed first", tables.freshness(rows))]


def _recommendation_sections(days: int | None) -> list[Section]:
    from ..connect.models import DELIVERIES, ROLES

    rows = reports.recommendation_counts(days)
    sections = []
    for attribute, heading, labels in (("month", "By month", {}), ("role", "By role", ROLES),
                                       ("delivery", "By method", DELIVERIES)):
        counted = reports.tally(rows, attribute)
        table = tables.Table(attribute, [attribute, "recommendations"],
                             [[labels.get(k, k), n] for k, n in counted.items()])
        sections.append(Section(heading, table, bars(
            [(labels.get(k, k), n, plural(n, "recommendation")) for k, n in counted.items()]),
            f"Recommendations {heading.lower()}"))
    sections.append(Section("By month, role and method", tables.recommendations(days)))
    return sections


def _usage_sections(days: int | None) -> list[Section]:
    table = tables.usage(days)
    chart = bars([(r[1], r[3], plural(r[3], "recommendation")) for r in table.rows if r[3]])
    return [Section("Use of each listing", table, chart, "Recommendations per listing")]


REPORTS = {
    "unmet": Report("Unmet demand by area and category",
                    "Searches that found fewer than three activities, as a share of all searches "
                    "made in each area (the outcode or place searched near) and category.",
                    _unmet_sections),
    "words": Report("Words that found little",
                    "Searches that found fewer than three activities, by their words, filters "
                    "and area. Words appear only once they were searched on at least 3 "
                    "different days.", _words_sections),
    "searches": Report("Searches over time", "How many searches were made, and how many of "
                       "them found fewer than three activities.", _searches_sections),
    "freshness": Report("Listings by freshness", "When each listing was last reviewed by its "
                        "organisation or a moderator.", _freshness_sections, periods=False),
    "recommendations": Report("Recommendations", "How often connectors recommended activities, "
                              "by month, by their role and by how they handed it over.",
                              _recommendation_sections),
    "usage": Report("Use of each listing", "Per listing: recommendations, page views, signpost "
                    "sheets printed, calendar adds, shares and contact clicks. Nothing here can "
                    "identify a person.", _usage_sections),
}


def _report(name: str) -> Report:
    if name not in REPORTS:
        abort(404)
    return REPORTS[name]


@bp.get("/")
@insight_required
def index():
    return render_template("insight/index.html", reports=REPORTS)


@bp.get("/<name>")
@insight_required
def report(name: str):
    item = _report(name)
    period, days = _period() if item.periods else ("all", None)
    return render_template("insight/report.html", name=name, report=item, period=period,
                           periods=PERIODS, sections=item.build(days))


@bp.get("/<name>.csv")
@insight_required
def report_csv(name: str) -> Response:
    item = _report(name)
    period, days = _period() if item.periods else ("all", None)
    return csv_response(item.build(days)[-1].table, period)


def csv_response(table: tables.Table, period: str) -> Response:
    suffix = "" if period == "all" else f"-last-{period}-days"
    return Response(tables.to_csv(table), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{table.name}{suffix}.csv"'})


# ---- an organisation's own figures -------------------------------------------------------------

ORGANISATION_DAYS = 91  # "in the last 3 months"


def organisation_panel(organisation: Organisation) -> Markup:
    """The figures panel on an organisation's manage page (a Jinja global)."""
    rows = reports.usage(ORGANISATION_DAYS, organisation_id=organisation.id)
    chart = bars([(row.title, row.recommendations, plural(row.recommendations, "time"))
                  for row in rows])
    table = [[row.title, row.recommendations, *(row.events[event] for event in EVENTS)]
             for row in rows]
    return Markup(render_template(
        "insight/_organisation_panel.html", organisation=organisation, rows=rows, chart=chart,
        table=table, headers=["Listing", "Recommended", *EVENTS.values()]))


@bp.get("/organisations/<slug>.csv")
def organisation_csv(slug: str) -> Response:
    organisation = db.first_or_404(select(Organisation).where(Organisation.slug == slug))
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not can_edit(organisation) and current_user.role not in INSIGHT_ROLES:
        abort(403)
    period = request.args.get("since", str(ORGANISATION_DAYS))
    if period not in PERIODS:
        abort(400, description="since must be one of " + ", ".join(PERIODS))
    days = None if period == "all" else int(period)
    table = tables.usage(days, organisation_id=organisation.id)
    return csv_response(tables.Table(f"{organisation.slug}-usage", table.columns, table.rows),
                        period)


# ---- counting clicks without JavaScript: <a ping> ----------------------------------------------

def usage_ping(activity: Activity, event: str) -> Markup:
    """` ping="…"` for a link whose clicks count as `event` (a Jinja global)."""
    if event not in PING_EVENTS:
        raise ValueError(f"unknown ping event {event!r}")
    return Markup(' ping="{}"').format(url_for("insight.ping", slug=activity.slug, event=event))


@bp.post("/ping/<slug>/<event>")
@csrf.exempt  # the browser's own ping POST carries no form; it can only add one to a counter
def ping(slug: str, event: str) -> Response:
    if event not in PING_EVENTS:
        abort(404)
    if not is_bot(request.user_agent.string):
        recorder().count_event("slug", slug, event)
    return Response(status=204)
