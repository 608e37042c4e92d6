"""`flask venues place`: every venue's point, checked against its own postcode.

An imported venue with only a postcode is placed at import from the gazetteer (the centre of
its postcode sector or district: approximate) or, once the ONS Postcode Directory is imported
(`flask geo import`), at its exact postcode. This command re-places the approximate ones when
exact points become available and finds venues whose point is far from their own postcode
(the ORUK validator's "own postcode within 1,000 m" check); with --fix it moves those too.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from . import geo
from .extensions import db
from .models import Venue

CHECK_METRES = 1000.0
METRES_PER_MILE = 1609.344


@dataclass
class PlacingReport:
    placed: int = 0  # had no point, now have one
    made_exact: int = 0  # approximate before, exact postcode now
    moved: int = 0  # far from their postcode and moved (--fix)
    far: list[tuple[str, str, int]] = field(default_factory=list)  # (slug, postcode, metres)
    unchecked: int = 0  # no exact point known for their postcode


def _exact(postcode: str) -> tuple[float, float] | None:
    full = geo.normalise_postcode(postcode, full_only=True) if postcode else None
    return geo.lookup_postcode_in_db(full) if full else None


def postcode_point(postcode: str) -> tuple[float, float, str] | None:
    """(lat, lon, kind) for a postcode: kind "postcode" when exact (the imported ONS table),
    "sector" or "outcode" when only the area's centre is known; None when not found."""
    if not postcode:
        return None
    try:
        place = geo.find_place(postcode)
    except geo.PlaceError:
        return None
    if place.kind not in ("postcode", "sector", "outcode"):
        return None
    return place.latitude, place.longitude, place.kind


def _place(venue: Venue, fix: bool, report: PlacingReport) -> None:
    exact = _exact(venue.postcode)
    if venue.latitude is None or venue.longitude is None:
        found = (*exact, "postcode") if exact else postcode_point(venue.postcode)
        if found is not None:
            venue.latitude, venue.longitude, venue.placed_from = found
            report.placed += 1
        return
    if exact is None:
        report.unchecked += 1
        return
    if venue.placed_approximately:
        venue.latitude, venue.longitude, venue.placed_from = *exact, "postcode"
        report.made_exact += 1
        return
    metres = geo.haversine_miles(venue.latitude, venue.longitude, *exact) * METRES_PER_MILE
    if metres > CHECK_METRES:
        report.far.append((venue.slug, venue.postcode, round(metres)))
        if fix:
            venue.latitude, venue.longitude, venue.placed_from = *exact, "postcode"
            report.moved += 1


def place_venues(*, fix: bool = False) -> PlacingReport:
    """Place unplaced venues, make approximate ones exact where the postcode table allows,
    and report (with `fix`, move) venues more than 1,000 m from their own postcode."""
    report = PlacingReport()
    for venue in db.session.scalars(select(Venue).order_by(Venue.id)):
        _place(venue, fix, report)
    db.session.commit()
    return report


venues_cli = AppGroup("venues", help="Venues' points and postcodes.")


@venues_cli.command("place")
@click.option("--fix", is_flag=True,
              help="Also move venues more than 1,000 m from their own postcode onto it.")
def place_command(fix: bool) -> None:
    """Place venues from their postcodes and check each against its own postcode."""
    report = place_venues(fix=fix)
    for slug, postcode, metres in report.far:
        click.echo(f"{slug}: {metres} m from its postcode {postcode}"
                   + (" (moved)" if fix else ""), err=True)
    click.echo(f"{report.placed} placed, {report.made_exact} made exact, {len(report.far)} "
               f"more than {CHECK_METRES:,.0f} m from their postcode"
               + (f" ({report.moved} moved)" if fix else "")
               + f", {report.unchecked} not checked (postcode not in the imported table)")


def init_app(app: Flask) -> None:
    app.cli.add_command(venues_cli)
