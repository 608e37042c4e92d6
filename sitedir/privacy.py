"""Retention: personal data is erased on time even when nothing else gets round to it.

Each feature registers what it erases, and when, at its init_app (`register_eraser`); this
module names none of them. `flask privacy purge` (also run hourly by the mail sender) runs every
registered eraser in one transaction and reports what each erased.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .extensions import db
from .models import utcnow

EXTENSION_KEY = "sitedir.retention"
# An eraser gets "now" and returns what it erased, as {"what was erased": how many}. It only
# flushes: purge() commits once for all of them.
Eraser = Callable[[dt.datetime], dict[str, int]]


class PurgeReport(dict):
    """What one purge erased: {"suggestions deleted": 3, ...}, in the order erasers ran."""

    def __str__(self) -> str:
        return ", ".join(f"{count} {what}" for what, count in self.items()) or "nothing to erase"


def register_eraser(app: Flask, eraser: Eraser) -> None:
    """Have `flask privacy purge` run eraser(now) from now on."""
    app.extensions.setdefault(EXTENSION_KEY, []).append(eraser)


def days_ago(now: dt.datetime, setting: str) -> dt.datetime:
    """The cutoff for a retention setting given in days."""
    return now - dt.timedelta(days=float(current_app.config[setting]))


def purge(now: dt.datetime | None = None) -> PurgeReport:
    """Erase or delete everything older than its retention period, in one transaction."""
    now = now or utcnow()
    report = PurgeReport()
    for eraser in current_app.extensions.get(EXTENSION_KEY, []):
        report.update(eraser(now))
    db.session.commit()
    return report


@click.group("privacy", cls=AppGroup,
             help="Keep personal data no longer than the privacy notice says.")
def privacy_cli() -> None:
    pass


@privacy_cli.command("purge")
def purge_command() -> None:
    """Erase personal data older than its retention period (run daily, e.g. from cron)."""
    report = purge()
    click.echo(f"Privacy purge: {report}")


def init_app(app: Flask) -> None:
    app.extensions.setdefault(EXTENSION_KEY, [])
    app.cli.add_command(privacy_cli)
