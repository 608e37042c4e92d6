"""`flask geo import`: the full postcode table, from the ONS Postcode Directory or any CSV with
postcode, latitude and longitude columns."""
from __future__ import annotations

import csv
import gzip
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .places import in_uk
from .postcodes import normalise_postcode, postcode_area


@dataclass
class ImportResult:
    """Counts from one postcode import."""

    rows: int = 0
    imported: int = 0
    terminated: int = 0
    removed: int = 0
    no_coordinates: int = 0
    invalid: int = 0
    excluded: int = 0


_POSTCODE_COLUMNS = ("pcds", "postcode", "pcd", "pcd7", "pcd8")
_LATITUDE_COLUMNS = ("lat", "latitude")
_LONGITUDE_COLUMNS = ("long", "lon", "lng", "longitude")


@dataclass
class _Table:
    text: TextIO
    position: Callable[[], int]
    size: int
    name: str


def _open_table(path: Path) -> _Table:
    """Open a CSV, CSV.gz or ONSPD zip; report progress in bytes of the file as stored."""
    import zipfile

    if path.suffix.lower() == ".zip":
        archive = zipfile.ZipFile(path)
        members = [info for info in archive.infolist() if info.filename.lower().endswith(".csv")]
        if not members:
            raise ValueError(f"{path}: no CSV file inside")
        # ONSPD zips hold the whole-UK file under Data/ and per-area copies under multi_csv/.
        members.sort(key=lambda info: ("onspd" in info.filename.lower()
                                       and "multi_csv" not in info.filename.lower(),
                                       info.file_size), reverse=True)
        member = archive.open(members[0])
        return _Table(io.TextIOWrapper(member, encoding="utf-8-sig", newline=""),
                      member.tell, members[0].file_size, f"{path}:{members[0].filename}")
    raw = path.open("rb")
    binary: Any = gzip.GzipFile(fileobj=raw) if path.suffix.lower() == ".gz" else raw
    return _Table(io.TextIOWrapper(binary, encoding="utf-8-sig", newline=""),
                  raw.tell, path.stat().st_size, str(path))


def _pick_column(header: list[str], names: tuple[str, ...], what: str, source: str) -> int:
    lowered = [column.strip().lower() for column in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    raise ValueError(f"{source}: no {what} column (looked for {', '.join(names)}; "
                     f"found {', '.join(header[:12])})")


def import_postcodes(path: Path, *, batch_size: int = 5000, exclude_areas: tuple[str, ...] = (),
                     progress: Callable[[float], None] | None = None) -> ImportResult:
    """Upsert a postcode CSV (ONSPD or postcodez layout) into the `postcode` table.

    `progress` is called after each batch with the fraction of the file read so far.
    """
    from sitedir.extensions import db
    from sitedir.models import Postcode

    table = Postcode.__table__
    result = ImportResult()
    source = _open_table(path)
    with source.text:
        reader = csv.reader(source.text)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{source.name}: empty file")
        postcode_at = _pick_column(header, _POSTCODE_COLUMNS, "postcode", source.name)
        lat_at = _pick_column(header, _LATITUDE_COLUMNS, "latitude", source.name)
        lon_at = _pick_column(header, _LONGITUDE_COLUMNS, "longitude", source.name)
        lowered = [column.strip().lower() for column in header]
        doterm_at = lowered.index("doterm") if "doterm" in lowered else None
        live: dict[str, dict[str, Any]] = {}
        terminated: set[str] = set()
        for row in reader:
            result.rows += 1
            _classify(row, postcode_at, lat_at, lon_at, doterm_at, exclude_areas,
                      live, terminated, result)
            if len(live) >= batch_size or len(terminated) >= batch_size:
                _write_batch(db, table, live, terminated, result)
                if progress is not None:
                    progress(min(1.0, source.position() / max(source.size, 1)))
        _write_batch(db, table, live, terminated, result)
        if progress is not None:
            progress(1.0)
    return result


def _classify(row: list[str], postcode_at: int, lat_at: int, lon_at: int,
              doterm_at: int | None, exclude_areas: tuple[str, ...],
              live: dict[str, dict[str, Any]], terminated: set[str],
              result: ImportResult) -> None:
    """Sort one CSV row into the live batch, the terminated batch or a skip count."""
    try:
        postcode = normalise_postcode(row[postcode_at], full_only=True)
        lat_text, lon_text = row[lat_at].strip(), row[lon_at].strip()
    except IndexError:
        result.invalid += 1
        return
    if postcode is None:
        result.invalid += 1
        return
    if exclude_areas and postcode_area(postcode) in exclude_areas:
        result.excluded += 1
        return
    if doterm_at is not None and doterm_at < len(row) and row[doterm_at].strip():
        result.terminated += 1
        terminated.add(postcode)
        return
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        result.no_coordinates += 1
        return
    if not in_uk(lat, lon):  # ONSPD writes 99.999999 when a postcode has no grid reference
        result.no_coordinates += 1
        return
    live[postcode] = {"postcode": postcode, "latitude": lat, "longitude": lon}


def _write_batch(db: Any, table: Any, live: dict[str, dict[str, Any]], terminated: set[str],
                 result: ImportResult) -> None:
    """Upsert live rows and delete terminated ones in one transaction, then clear the batch."""
    from sqlalchemy import delete, insert

    with db.engine.begin() as connection:
        if live:
            rows = list(live.values())
            dialect = connection.dialect.name
            if dialect in ("sqlite", "postgresql"):
                if dialect == "sqlite":
                    from sqlalchemy.dialects.sqlite import insert as dialect_insert
                else:
                    from sqlalchemy.dialects.postgresql import insert as dialect_insert
                statement = dialect_insert(table)
                statement = statement.on_conflict_do_update(
                    index_elements=[table.c.postcode],
                    set_={"latitude": statement.excluded.latitude,
                          "longitude": statement.excluded.longitude},
                )
                connection.execute(statement, rows)
            else:
                connection.execute(delete(table).where(table.c.postcode.in_(list(live))))
                connection.execute(insert(table), rows)
            result.imported += len(rows)
        if terminated:
            removed = connection.execute(
                delete(table).where(table.c.postcode.in_(sorted(terminated))))
            result.removed += removed.rowcount or 0
    live.clear()
    terminated.clear()


def make_cli() -> Any:
    """The `flask geo` command group."""
    import click
    from flask.cli import AppGroup

    group = AppGroup("geo", help="Location data: the full postcode table.")

    @group.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--batch-size", default=5000, show_default=True,
                  help="Rows written per transaction.")
    @click.option("--exclude-area", "exclude_areas", multiple=True, metavar="AREA",
                  help="Skip a postcode area, e.g. --exclude-area BT (Northern Ireland "
                       "coordinates come under Land & Property Services terms).")
    def import_command(file: Path, batch_size: int, exclude_areas: tuple[str, ...]) -> None:
        """Load full postcode centroids from an ONS Postcode Directory CSV (or .zip, .csv.gz).

        Also reads CSVs with postcode,latitude,longitude columns. Safe to re-run: rows are
        upserted, terminated postcodes (doterm set) are skipped and removed if present.
        """
        started = time.perf_counter()
        areas = tuple(area.strip().upper() for area in exclude_areas)
        with click.progressbar(length=1000, label="Importing postcodes") as bar:

            def advance(fraction: float) -> None:
                bar.update(round(fraction * 1000) - bar.pos)

            try:
                result = import_postcodes(file, batch_size=batch_size, exclude_areas=areas,
                                          progress=advance)
            except ValueError as error:
                raise click.ClickException(str(error)) from error
        click.echo(
            f"{result.imported:,} postcodes imported from {result.rows:,} rows in "
            f"{time.perf_counter() - started:.1f} s; skipped {result.terminated:,} terminated "
            f"({result.removed:,} removed from the table), {result.no_coordinates:,} without "
            f"coordinates, {result.invalid:,} not postcodes, {result.excluded:,} excluded."
        )

    return group
