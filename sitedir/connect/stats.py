"""Anonymous counts of recommendations per activity, by month and by connector role.

For admins now (`flask recommend stats`) and for an organisation's dashboard later: call
`recommendation_counts()`; nothing in it can identify a person.
"""
from __future__ import annotations

from dataclasses import dataclass

import click
from flask.cli import AppGroup
from flask import Flask
from sqlalchemy import func, select

from ..extensions import db
from ..models import Activity
from .models import ROLES, Recommendation, RecommendationItem


@dataclass(frozen=True)
class CountRow:
    activity_uuid: str
    month: str
    role: str
    delivery: str
    count: int

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


def recommendation_counts(activity_uuid: str | None = None,
                          organisation_id: int | None = None) -> list[CountRow]:
    """How many recommendations included each activity, per month, role and delivery."""
    query = (
        select(RecommendationItem.activity_uuid, Recommendation.month, Recommendation.role,
               Recommendation.delivery, func.count(RecommendationItem.id))
        .join(Recommendation, RecommendationItem.recommendation)
        .group_by(RecommendationItem.activity_uuid, Recommendation.month, Recommendation.role,
                  Recommendation.delivery)
        .order_by(RecommendationItem.activity_uuid, Recommendation.month, Recommendation.role,
                  Recommendation.delivery))
    if activity_uuid:
        query = query.where(RecommendationItem.activity_uuid == activity_uuid)
    if organisation_id is not None:
        owned = select(Activity.uuid).where(Activity.organisation_id == organisation_id)
        query = query.where(RecommendationItem.activity_uuid.in_(owned))
    return [CountRow(*row) for row in db.session.execute(query)]


def summarise(rows: list[CountRow]) -> dict[str, dict[str, dict[str, int]]]:
    """{activity_uuid: {"month": {"2026-11": n}, "role": {"library": n}}} for a dashboard."""
    summary: dict[str, dict[str, dict[str, int]]] = {}
    for row in rows:
        entry = summary.setdefault(row.activity_uuid, {"month": {}, "role": {}, "delivery": {}})
        entry["month"][row.month] = entry["month"].get(row.month, 0) + row.count
        entry["role"][row.role] = entry["role"].get(row.role, 0) + row.count
        entry["delivery"][row.delivery] = entry["delivery"].get(row.delivery, 0) + row.count
    return summary


@click.group("recommend", cls=AppGroup, help="Anonymous figures about recommendations.")
def recommend_cli() -> None:
    pass


@recommend_cli.command("stats")
@click.option("--activity", "slug", default=None, help="Only this activity (its slug).")
def stats_command(slug: str | None) -> None:
    """Print recommendations per activity by month and by connector role."""
    activity_uuid = None
    if slug:
        activity_uuid = db.session.scalar(select(Activity.uuid).where(Activity.slug == slug))
        if activity_uuid is None:
            raise click.ClickException(f"No activity with slug {slug!r}")
    summary = summarise(recommendation_counts(activity_uuid))
    if not summary:
        click.echo("No recommendations yet.")
        return
    names = dict(db.session.execute(
        select(Activity.uuid, Activity.slug).where(Activity.uuid.in_(summary))).all())
    for uuid, entry in summary.items():
        total = sum(entry["month"].values())
        click.echo(f"{names.get(uuid, uuid + ' (deleted)')}: {total}")
        click.echo("  by month: " + ", ".join(
            f"{k} {v}" for k, v in sorted(entry["month"].items())))
        click.echo("  by role:  " + ", ".join(
            f"{ROLES.get(k, k)} {v}" for k, v in sorted(entry["role"].items())))
        click.echo("  by delivery: " + ", ".join(
            f"{k} {v}" for k, v in sorted(entry["delivery"].items())))


def init_app(app: Flask) -> None:
    app.cli.add_command(recommend_cli)
