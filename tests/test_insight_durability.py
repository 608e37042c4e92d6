"""A worker SIGKILLed mid-count loses no acknowledged recommendation and corrupts no counter."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

from sqlalchemy import func, select, text

from sitedir.extensions import db
from tests.conftest import FIXTURE_CONTENT, REPO
from tests.insight_kill_worker import SLUGS

BATCH = 25
KILLS = 3


def _run_until_killed(app, tmp_path, rng):
    """Start the worker, let it acknowledge some work, SIGKILL it at a random moment."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.insight_kill_worker",
         app.config["SQLALCHEMY_DATABASE_URI"], str(FIXTURE_CONTENT), str(tmp_path / "index")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    acknowledged = []
    wanted = rng.randint(3, 12)
    assert worker.stdout is not None
    for line in worker.stdout:
        acknowledged.append(line.split())
        if len(acknowledged) >= wanted:
            break
    time.sleep(rng.uniform(0, 0.05))  # somewhere inside the next flush or request
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(10)
    # Lines printed before the kill but not read yet were acknowledged too.
    acknowledged += [line.split() for line in worker.stdout.read().splitlines() if line]
    return acknowledged


def test_sigkill_mid_count_loses_no_recommendation_and_corrupts_no_counter(
        make_app, tmp_path) -> None:
    from sitedir.connect.models import Recommendation
    from sitedir.insight.models import UsageCount

    app = make_app()
    rng = random.Random(15)
    flushed, tokens = 0, []
    for _ in range(KILLS):
        for line in _run_until_killed(app, tmp_path, rng):
            if line[0] == "flushed":
                flushed += 1
            else:
                tokens.append(line[1])
        with app.app_context():
            counts = dict(db.session.execute(
                select(UsageCount.activity_uuid, func.sum(UsageCount.count))
                .group_by(UsageCount.activity_uuid)).all())
            stored = set(db.session.scalars(select(Recommendation.token)))
            assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        # Every listing moved by whole batches, together: no half-written flush.
        assert len(set(counts.values())) == 1 and len(counts) == len(SLUGS), counts
        views = next(iter(counts.values()))
        assert views % BATCH == 0
        # Every acknowledged flush is there; at most one more committed just before the kill.
        assert flushed * BATCH <= views <= (flushed + KILLS) * BATCH
        flushed = views // BATCH
        assert set(tokens) <= stored, "an acknowledged recommendation was lost"
    assert tokens, "no recommendation was acknowledged before the kills"
