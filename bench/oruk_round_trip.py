"""Export the real content/ directory through our ORUK API, import it into an empty site, and
count what survived: activity and organisation slugs, organisation phones, venue addresses.
Prints figures and the machine's load; run: .venv/bin/python bench/oruk_round_trip.py"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sitedir.extensions import db  # noqa: E402
from sitedir.models import Activity, Organisation, Venue  # noqa: E402
from tests.conftest import build_app  # noqa: E402

CONTENT = Path(__file__).resolve().parents[1] / "content"


def identities(app):
    with app.app_context():
        return {
            "activity slugs": dict(tuple(row) for row in db.session.execute(
                select(Activity.uuid, Activity.slug))),
            "organisation slugs": dict(tuple(row) for row in db.session.execute(
                select(Organisation.uuid, Organisation.slug).where(Organisation.activities.any()))),
            "organisation phones": dict(tuple(row) for row in db.session.execute(
                select(Organisation.uuid, Organisation.phone).where(
                    Organisation.activities.any(), Organisation.phone != ""))),
            "venue addresses": dict(tuple(row) for row in db.session.execute(
                select(Venue.uuid, Venue.address).where(Venue.activities.any(
                    Activity.hide_address.is_(False))))),
        }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source = build_app(Path(tmp) / "source", content=CONTENT)
        client = source.test_client()
        listed = client.get("/openreferral/services?per_page=500").get_json()["contents"]
        details = [client.get(f"/openreferral/services/{s['id']}").get_json() for s in listed]
        feed = Path(tmp) / "feed.json"
        feed.write_text(json.dumps({"contents": details}))
        empty = build_app(Path(tmp) / "empty", content=None)
        started = time.perf_counter()
        result = empty.test_cli_runner().invoke(args=["import", "oruk", str(feed)])
        seconds = time.perf_counter() - started
        before, after = identities(source), identities(empty)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"import of {len(details)} services: {seconds:.1f} s; "
          f"{result.output.strip().splitlines()[-1].split(': ', 1)[-1]}")
    for name, wanted in before.items():
        kept = sum(1 for key, value in wanted.items() if after[name].get(key) == value)
        print(f"{name}: {kept} of {len(wanted)} survive the round trip")


if __name__ == "__main__":
    main()
