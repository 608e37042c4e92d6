"""`flask insight ...`: the report pages' figures in a terminal or as CSV."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import Activity
from . import reports, tables

insight_cli = AppGroup("insight", help="Anonymous figures: unmet demand and use of listings.")
FORMAT = click.option("--format", "output", type=click.Choice(["table", "csv"]),
                      default="table", show_default=True)
SINCE = click.option("--since", "days", type=click.IntRange(min=1), default=None,
                     help="Only the last DAYS days (default: everything kept).")


def _print(table: tables.Table, output: str) -> None:
    if output == "csv":
        click.echo(tables.to_csv(table), nl=False)
    elif not table.rows:
        click.echo("Nothing to show yet.")
    else:
        click.echo(tables.to_text(table))


@insight_cli.command("unmet")
@SINCE
@FORMAT
@click.option("--by", type=click.Choice(["words", "area"]), default="words", show_default=True,
              help="words: searches that found fewer than 3, by words and area (only words "
                   "searched on 3 or more days); area: share of searches unmet per area and "
                   "category.")
def unmet_command(days: int | None, output: str, by: str) -> None:
    """Searches that found nothing or fewer than three results."""
    _print(tables.unmet_words(days) if by == "words" else tables.unmet_areas(days), output)


@insight_cli.command("usage")
@click.option("--activity", "slug", default=None, help="Only this activity (its slug).")
@SINCE
@FORMAT
def usage_command(slug: str | None, days: int | None, output: str) -> None:
    """Per listing: recommendations by role and method, views, prints, calendar adds, shares,
    contact clicks."""
    activity_uuid = None
    if slug:
        activity_uuid = db.session.scalar(select(Activity.uuid).where(Activity.slug == slug))
        if activity_uuid is None:
            raise click.ClickException(f"No activity with slug {slug!r}")
    _print(tables.usage(days, activity_uuid), output)


@insight_cli.command("fold")
def fold_command() -> None:
    """Fold unmet searches older than INSIGHT_RETENTION_DAYS into totals and delete them
    (also done by `flask privacy purge`)."""
    deleted, kept = reports.fold_expired()
    db.session.commit()
    click.echo(f"Insight: {deleted} raw search rows deleted, {kept} word totals updated")
