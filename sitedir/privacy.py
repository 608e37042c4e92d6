"""Retention: personal data is erased on time even when nothing else gets round to it.

`flask privacy purge` (also run hourly by the mail sender) erases, after PRIVACY_RETENTION_DAYS:
unsent emails (address and body; the row is marked expired) and the names and note of every
recommendation. Suggestions and problem reports go after MODERATION_RETENTION_DAYS.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

import click
from flask.cli import AppGroup
from flask import Flask, current_app
from sqlalchemy import delete, or_, select

from .extensions import db
from .mail import EXPIRED, PENDING, SENDING, OutboxEmail
from .models import utcnow


@dataclass
class PurgeReport:
    emails_expired: int = 0
    emails_erased: int = 0
    recommendations_erased: int = 0
    suggestions_deleted: int = 0
    reports_deleted: int = 0
    others: list[str] = field(default_factory=list)  # what registered features said they did

    def __str__(self) -> str:
        return "; ".join([
            f"{self.emails_expired} unsent emails expired, {self.emails_erased} emails "
            f"erased, {self.recommendations_erased} recommendations erased, "
            f"{self.suggestions_deleted} suggestions and {self.reports_deleted} problem "
            f"reports deleted", *self.others])


PURGERS_KEY = "privacy.purgers"


def on_purge(app: Flask, purger: Callable[[], str]) -> None:
    """Register a feature's own retention work; it runs (and commits) after the core purge
    and returns one line saying what it did."""
    app.extensions.setdefault(PURGERS_KEY, []).append(purger)


def purge(now: dt.datetime | None = None) -> PurgeReport:
    """Erase or delete everything older than its retention period, in one transaction."""
    from .connect.models import ProblemReport, Recommendation, Suggestion

    now = now or utcnow()
    config = current_app.config
    cutoff = now - dt.timedelta(days=float(config["PRIVACY_RETENTION_DAYS"]))
    report = PurgeReport()

    for row in db.session.scalars(select(OutboxEmail).where(
            OutboxEmail.created_at < cutoff, OutboxEmail.status.in_((PENDING, SENDING)))):
        row.status, row.last_error = EXPIRED, "not sent within the retention period"
        row.erase_personal_data()
        report.emails_expired += 1
    # Belt and braces: any finished row that still holds an address or a body.
    for row in db.session.scalars(select(OutboxEmail).where(
            OutboxEmail.status.not_in((PENDING, SENDING)),
            or_(OutboxEmail.to_address.is_not(None), OutboxEmail.text_body.is_not(None),
                OutboxEmail.html_body.is_not(None)))):
        row.erase_personal_data()
        report.emails_erased += 1

    for recommendation in db.session.scalars(select(Recommendation).where(
            Recommendation.created_at < cutoff, Recommendation.erased_at.is_(None))):
        recommendation.erase_personal_data()
        report.recommendations_erased += 1

    moderation_cutoff = now - dt.timedelta(days=float(config["MODERATION_RETENTION_DAYS"]))
    report.suggestions_deleted = db.session.execute(
        delete(Suggestion).where(Suggestion.created_at < moderation_cutoff)).rowcount
    report.reports_deleted = db.session.execute(
        delete(ProblemReport).where(ProblemReport.created_at < moderation_cutoff)).rowcount
    db.session.commit()
    report.others = [purger() for purger in current_app.extensions.get(PURGERS_KEY, [])]
    return report


@click.group("privacy", cls=AppGroup,
             help="Keep personal data no longer than the privacy notice says.")
def privacy_cli() -> None:
    pass


@privacy_cli.command("purge")
def purge_command() -> None:
    """Erase personal data older than PRIVACY_RETENTION_DAYS (run daily, e.g. from cron)."""
    report = purge()
    click.echo(f"Privacy purge: {report}")


def init_app(app: Flask) -> None:
    app.cli.add_command(privacy_cli)
