"""Three nodes on one PostgreSQL, as the README's deployment runs them, under kills.

Each node is a web server (node A: gunicorn with deploy/gunicorn.conf.py) and an indexer,
separate processes, with its own index folder. Edits
are published through node A's code (the ORM path every listing edit takes, which writes the
change log in the edit's own transaction) from three threads that hold their transactions
open for a random moment, so change ids commit out of order. Meanwhile node B's and node A's
indexers are SIGKILLed and restarted, and a rebuild on node C is SIGKILLed mid-way and run
again. Every edit must become searchable on every node (over HTTP), `flask index check` must
pass on each, and the seconds from commit to searchable are printed per node.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sitedir import indexing, site_details
from sitedir.extensions import db
from sitedir.models import Activity
from tests.conftest import FIXTURE_CONTENT, REPO, build_app
from tests.search_helpers import add_activity

SEEDED = 80  # listings beyond the fixtures: enough that a rebuild can be killed mid-way
EDITS = 24
EDITORS = 3
DEADLINE = 120.0  # seconds for every node to catch up once the edits end (a loaded machine)
# What wsgi.py (gunicorn) refuses to start without.
PRODUCTION_SETTINGS = {"FLASK_PUBLIC_BASE_URL": "http://127.0.0.1",
                       **{f"FLASK_{name}": "Set for the multi-node test"
                          for name in site_details.OPERATOR_SETTINGS}}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Node:
    name: str
    folder: Path
    env: dict[str, str]
    port: int = field(default_factory=_free_port)
    processes: list[subprocess.Popen] = field(default_factory=list)
    indexer: subprocess.Popen | None = None
    found: dict[str, float] = field(default_factory=dict)  # marker -> seconds to searchable

    @property
    def index(self) -> Path:
        return self.folder / "search_index"

    def spawn(self, *args: str) -> subprocess.Popen:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "processes.log", "ab") as log:  # read when a wait times out
            process = subprocess.Popen(args, cwd=REPO, env=self.env, stdout=log, stderr=log)
        self.processes.append(process)
        return process

    def log_tail(self) -> str:
        path = self.folder / "processes.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def flask(self, *args: str) -> subprocess.Popen:
        return self.spawn(sys.executable, "-m", "flask", "--app", "sitedir", *args)

    def start_indexer(self) -> None:
        self.indexer = self.flask("index", "worker")

    def kill_indexer(self) -> None:
        assert self.indexer is not None
        self.indexer.send_signal(signal.SIGKILL)
        self.indexer.wait(10)

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except OSError:  # not listening yet, or restarting
            return 0, b""

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flask", "--app", "sitedir", *args],
                              cwd=REPO, env=self.env, capture_output=True, text=True,
                              timeout=120)


@pytest.fixture()
def nodes(postgres_url: str, tmp_path: Path) -> Iterator[list[Node]]:
    url = postgres_url
    seed = build_app(tmp_path / "a", SQLALCHEMY_DATABASE_URI=url,
                     SEARCH_INDEX_DIR=str(tmp_path / "a" / "search_index"))
    with seed.app_context():
        for number in range(SEEDED):
            add_activity(f"Seeded group {number}", 53.8 + number / 10000, -1.5,
                         summary="A seeded group for the multi-node test")
        db.session.commit()
        indexing.rebuild(seed)
    found: list[Node] = []
    for name in ("a", "b", "c"):
        folder = tmp_path / name
        env = {**os.environ, "DATABASE_URL": url, "FLASK_SECRET_KEY": "multinode-test",
               "FLASK_SEARCH_INDEX_DIR": str(folder / "search_index"),
               "FLASK_INDEX_NODE_NAME": f"node-{name}", "FLASK_INDEXER_POLL_SECONDS": "0.2",
               "FLASK_INDEXER_THREAD": "false", "FLASK_MAIL_SEND_IN_BACKGROUND": "false",
               "FLASK_CONTENT_DIR": str(FIXTURE_CONTENT), "FLASK_INDEX_MAX_LAG_SECONDS": "30",
               **PRODUCTION_SETTINGS}
        found.append(Node(f"node-{name}", folder, env))
    # Node B starts from a copy of A's index (its position travels with it); C from nothing.
    shutil.copytree(found[0].index, found[1].index)
    try:
        yield found
    finally:
        for node in found:
            for process in node.processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGKILL)
                    process.wait(10)


def _marker(random_: random.Random) -> str:
    return "".join(random_.choice(string.ascii_lowercase) for _ in range(9))


class Editors:
    """Threads that retitle distinct listings, each holding its transaction open a moment."""

    def __init__(self, app, uuids: list[str]) -> None:
        self.app, self.uuids = app, uuids
        self.committed: dict[str, tuple[str, float]] = {}  # marker -> (uuid, commit time)
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.edit, args=(n,)) for n in range(EDITORS)]

    def edit(self, number: int) -> None:
        random_ = random.Random(number)
        with self.app.app_context():
            for uuid in self.uuids[number::EDITORS]:
                marker = _marker(random_)
                with Session(db.engine) as session:
                    session.scalar(select(Activity).where(Activity.uuid == uuid)).title = \
                        f"Marker {marker}"
                    session.flush()  # the change id is taken here...
                    time.sleep(random_.uniform(0, 0.4))  # ...and commits after later ones
                    session.commit()
                with self.lock:
                    self.committed[marker] = (uuid, time.monotonic())
                time.sleep(random_.uniform(0.1, 0.5))

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def running(self) -> bool:
        return any(thread.is_alive() for thread in self.threads)


def _watch(node: Node, editors: Editors, stop: threading.Event) -> None:
    """Note when each committed edit shows in this node's index: what its next search reads.

    (Web workers open a new searcher as soon as the index's generation changes; polling every
    node over HTTP for every edit would load the machine more than the nodes do.)
    """
    while not stop.is_set():
        with editors.lock:
            waiting = [(m, u, t) for m, (u, t) in editors.committed.items() if m not in node.found]
        if waiting and node.index.exists():
            try:
                with indexing.open_index(node.index, create=False).searcher() as searcher:
                    seen = time.monotonic()
                    for marker, uuid, committed in waiting:
                        stored = searcher.document(uuid=uuid)
                        if stored and stored["title"] == f"Marker {marker}":
                            node.found[marker] = seen - committed
            except (FileNotFoundError, OSError, EOFError):
                pass  # a rebuild swapped the folder under us: look again
        time.sleep(0.1)


def _searchable_over_http(node: Node, markers: list[str]) -> list[str]:
    """The markers a search on this node's web server does not find."""
    missing = []
    for marker in markers:
        status, body = node.get("/search.json?" + urllib.parse.urlencode({"q": marker}))
        if status != 200 or f'"Marker {marker}"'.encode() not in body:
            missing.append(marker)
    return missing


def _wait_for(predicate, timeout: float, what: str,
              every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def _kill_a_rebuild_mid_way(node: Node) -> Path:
    """Start `flask index rebuild`, SIGKILL it once its temporary folder exists."""
    rebuild = node.flask("index", "rebuild")

    def building() -> list[Path]:
        return [p for p in node.folder.iterdir() if p.name.startswith(".search_index-")]

    _wait_for(lambda: building() or rebuild.poll() is not None, 180, "the rebuild to start",
              every=0.005)
    leftovers = building()
    rebuild.send_signal(signal.SIGKILL)
    rebuild.wait(10)
    assert leftovers and leftovers[0].exists(), "the rebuild finished before it was killed"
    return leftovers[0]


def _start(nodes: list[Node]) -> None:
    """Web servers and indexers of every node, until each answers /healthz with 200."""
    a, b, c = nodes
    # Node A serves as deploy/ runs production (gunicorn, two workers); B and C as `make run`.
    a.env.update(SITEDIR_BIND=f"127.0.0.1:{a.port}", SITEDIR_WORKERS="2", SITEDIR_ACCESS_LOG="0")
    a.spawn(sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"),
            "wsgi:app")
    for node in (b, c):
        node.spawn(sys.executable, "-m", "sitedir.serve", "--port", str(node.port))
    for node in nodes:
        node.start_indexer()  # C's builds its index first: it has none
    for node in nodes:
        try:
            _wait_for(lambda: node.get("/healthz")[0] == 200, 180, f"{node.name} to be ready")
        except AssertionError:
            print(node.get("/healthz"), node.log_tail())
            raise


def _report(nodes: list[Node], edits_took: float, status: str) -> None:
    print(f"\nmulti-node: {EDITS} edits in {edits_took:.1f} s by {EDITORS} editors; "
          f"kills: 2 indexers, 1 rebuild; load {os.getloadavg()[0]:.2f}")
    for node in nodes:
        times = sorted(node.found.values())
        print(f"  {node.name}: seconds to searchable median {statistics.median(times):.2f}, "
              f"p90 {times[int(len(times) * 0.9) - 1]:.2f}, max {times[-1]:.2f} "
              f"(target <= 2 s)")
    print(status)


def test_three_nodes_follow_one_change_log_through_kills(nodes: list[Node], capsys) -> None:
    a, b, c = nodes
    seed = build_app(a.folder / "editor", content=None,
                     SQLALCHEMY_DATABASE_URI=a.env["DATABASE_URL"],
                     SEARCH_INDEX_DIR=str(a.index))
    with seed.app_context():
        uuids = list(db.session.scalars(select(Activity.uuid).where(
            Activity.status != "closed").order_by(Activity.id)))[:EDITS]
    _start(nodes)
    editors = Editors(seed, uuids)
    stop = threading.Event()
    watchers = [threading.Thread(target=_watch, args=(n, editors, stop)) for n in nodes]
    for watcher in watchers:
        watcher.start()
    started = time.monotonic()
    editors.start()
    try:
        time.sleep(1.5)
        b.kill_indexer()  # down for a second while edits keep coming
        time.sleep(1.0)
        b.start_indexer()
        leftover = _kill_a_rebuild_mid_way(c)
        assert c.run("index", "rebuild").returncode == 0  # while the edits go on
        assert not leftover.exists(), "the rebuild left the killed one's folder"
        a.kill_indexer()
        a.start_indexer()
        for thread in editors.threads:
            thread.join(300)
        edits_took = time.monotonic() - started
        _wait_for(lambda: all(len(n.found) == len(editors.committed) for n in nodes),
                  DEADLINE, "every edit to be searchable on every node")
    finally:
        stop.set()
        for watcher in watchers:
            watcher.join(10)
    assert len(editors.committed) == EDITS
    for node in nodes:  # and each is found by a search on that node's web server
        assert _searchable_over_http(node, list(editors.committed)) == [], node.name

    checks = [node.run("index", "check") for node in nodes]
    for node, check in zip(nodes, checks):
        assert check.returncode == 0, f"{node.name}: {check.stdout}{check.stderr}"
        assert node.get("/healthz")[0] == 200
    status = a.run("index", "status").stdout
    for node in nodes:
        assert node.name in status

    with capsys.disabled():
        _report(nodes, edits_took, status)
