"""The mail worker under SIGKILL: duplicates and throughput against a local SMTP server.

Queues N emails, then runs `flask mail worker` and SIGKILLs it every few seconds (restarting
it at once) until every email has left, while an aiosmtpd server on 127.0.0.1 counts what
arrives by Message-ID. A second run sends the same number with no kills, for throughput.

    .venv/bin/python bench/mail_kill_bench.py [--emails 300] [--kill-every 2] [--smtp-delay 0.02]

Prints: delivered, duplicated (Message-IDs that arrived twice or more), lost, emails/s, load.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from sqlalchemy import func, select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sitedir import create_app  # noqa: E402
from sitedir.extensions import db  # noqa: E402
from sitedir.mail import OutboxEmail, enqueue  # noqa: E402


class Counting:
    """An SMTP server's DATA handler that counts messages by Message-ID."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.seen: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)  # a real server writes the message to disk first
        for line in envelope.content.decode("utf-8", "replace").splitlines():
            if line.lower().startswith("message-id:"):
                with self.lock:
                    self.seen[line.split(":", 1)[1].strip()] += 1
                break
        return "250 OK queued"


def _app(folder: Path, port: int):
    config = {"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'db'}",
              "SEARCH_INDEX_DIR": str(folder / "index"), "MAIL_BACKEND": "smtp",
              "MAIL_HOST": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False}
    app = create_app(config)
    with app.app_context():
        upgrade()
    # FLASK_* values are read as JSON when they parse: false, not False.
    return app, {f"FLASK_{k}": str(v).lower() if isinstance(v, bool) else str(v)
                 for k, v in config.items()}


def _queue(app, count: int) -> None:
    with app.app_context():
        for number in range(count):
            enqueue(f"person{number}@example.org", f"Bench {number}", "Hello", "<p>Hello</p>",
                    kind="bench")
        db.session.commit()


def _left(app) -> int:
    with app.app_context():
        left = db.session.scalar(select(func.count(OutboxEmail.id)).where(
            OutboxEmail.status.in_(("pending", "sending", "committing")))) or 0
        db.session.remove()
        return left


def _worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "sitedir", "mail", "worker",
                             "--interval", "0.5"], cwd=REPO, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run(emails: int, kill_every: float, delay: float, timeout: float) -> dict[str, float]:
    handler = Counting(delay)
    with socket.socket() as probe:  # aiosmtpd's Controller cannot start on port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    folder = Path(tempfile.mkdtemp(prefix="mail-bench-"))
    app, env = _app(folder, port)
    env["FLASK_MAIL_CLAIM_TIMEOUT"] = "3"  # a killed sender's claims come back quickly
    _queue(app, emails)
    random_ = random.Random(1)
    kills = 0
    started = time.monotonic()
    worker = _worker(env)
    try:
        while _left(app) and time.monotonic() - started < timeout:
            if kill_every:
                # Kill a moment after this worker has started delivering (a process needs
                # seconds to start on a loaded machine), wherever it then is.
                before = len(handler.seen)
                while len(handler.seen) == before and worker.poll() is None \
                        and _left(app) and time.monotonic() - started < timeout:
                    time.sleep(0.01)
                time.sleep(random_.uniform(0, kill_every))
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                kills += 1
                worker = _worker(env)
            time.sleep(0.05)
    finally:
        took = time.monotonic() - started
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        controller.stop()
    counts = handler.seen.values()
    return {"emails": emails, "kills": kills, "delivered": len(handler.seen),
            "duplicated": sum(1 for c in counts if c > 1),
            "extra_copies": sum(c - 1 for c in counts if c > 1),
            "lost": emails - len(handler.seen), "left": _left(app), "seconds": took,
            "per_second": len(handler.seen) / took}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emails", type=int, default=300)
    parser.add_argument("--kill-every", type=float, default=2.0)
    parser.add_argument("--smtp-delay", type=float, default=0.02)
    parser.add_argument("--timeout", type=float, default=240)
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()})")
    for label, kill_every in (("SIGKILL loop", args.kill_every), ("no kills", 0.0)):
        result = run(args.emails, kill_every, args.smtp_delay, args.timeout)
        print(f"{label:>12}: {result['emails']} emails, {result['kills']} kills -> "
              f"{result['delivered']} delivered, {result['duplicated']} duplicated "
              f"({result['extra_copies']} extra copies), {result['lost']} lost, "
              f"{result['left']} left; {result['seconds']:.1f} s, "
              f"{result['per_second']:.1f} emails/s; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
