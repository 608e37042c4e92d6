"""HTTP benchmark: gunicorn (2 workers) serving synthetic directories, pages against their floors.

    python bench/http_bench.py                        # the sample directory and 20k listings
    python bench/http_bench.py --sizes 0 20000 100000 --seconds 5 --port 51600

For each size it builds a temporary site (sample content plus N synthetic listings, see
search_bench.py), first checks over HTTP that a page of every kind of listing the generator makes
answers 200 (free, paid with and without a price, pay what you can, home-based, online, phone,
closed, stale), then measures requests per second of /search, an activity page, /search.json
and /openreferral/services, each side by side with its render floor (the same page's template
rendered again from a kept context, see http_app.py), in alternating rounds so load from other
work hits both alike, then many different searches (which the page cache does not have).
With --baseline CHECKOUT it also builds the same site with an earlier checkout's own code and
serves it beside the current one, measuring both in alternating rounds. It ends with the
resident memory of each gunicorn worker and, with
--waitress, of the one-process server that `make run` starts (8 threads). Read the ratios: the
machine's load (printed) moves the absolute figures.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from search_bench import make_directory  # noqa: E402
from sqlalchemy import select  # noqa: E402

BIN = Path(sys.executable).parent
SEARCH = "/search?q=art&near=LS9&radius=5"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def get(port: int, url: str, headers: dict[str, str] | None = None
        ) -> tuple[int, bytes, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", url, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


def rate(port: int, url: str | list[str], seconds: float, concurrency: int) -> float:
    """Successful requests per second with `concurrency` clients, a new connection each; a list
    of URLs is asked in turn (each client starting at its own place in it)."""
    deadline = time.perf_counter() + seconds
    done = [0] * concurrency
    failed: list[str] = []
    urls = [url] if isinstance(url, str) else url

    def client(slot: int) -> None:
        turn = slot * len(urls) // concurrency
        while time.perf_counter() < deadline:
            url = urls[turn % len(urls)]
            turn += 1
            status, _body, _headers = get(port, url)
            if status == 200:
                done[slot] += 1
            else:
                failed.append(f"{url}: {status}")
                return

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed:
        raise RuntimeError(failed[0])
    return sum(done) / (time.perf_counter() - started)


def wait_for(port: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            if get(port, "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def start(command: list[str], folder: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, SITEDIR_BENCH_DIR=str(folder))
    process = subprocess.Popen(command, cwd=REPO / "bench", env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(port, process)
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def kinds_of_listing(app) -> dict[str, str]:
    """One slug per kind of listing the generator makes (and the sample content has)."""
    from sitedir.extensions import db
    from sitedir.models import Activity

    today = __import__("datetime").date.today()
    stale_before = today - __import__("datetime").timedelta(days=app.config["STALE_AFTER_DAYS"])
    kinds = {
        "free": Activity.cost_type == "free",
        "paid with a price": (Activity.cost_type == "paid") & Activity.cost_amount.is_not(None),
        "paid without a price": (Activity.cost_type == "paid") & Activity.cost_amount.is_(None),
        "pay what you can": Activity.cost_type == "pay_what_you_can",
        "home-based": Activity.hide_address.is_(True),
        "online only": Activity.formats == ["online"],
        "phone only": Activity.formats == ["phone"],
        "closed": Activity.status == "closed",
        "stale": Activity.last_reviewed < stale_before,
    }
    found = {}
    with app.app_context():
        for kind, condition in kinds.items():
            slug = db.session.scalar(select(Activity.slug).where(condition)
                                     .order_by(Activity.id.desc()).limit(1))
            if slug:
                found[kind] = slug
    return found


def check_pages(app, port: int) -> list[str]:
    """Every kind of listing on its own page, on its organisation's cards, in search results."""
    from sitedir.extensions import db
    from sitedir.models import Activity

    urls = [SEARCH, "/search", "/search?page=2", "/search?format=online", "/search?q=walking",
            "/search?near=LS9&radius=25", "/search.json?q=walking", "/openreferral/services",
            "/", "/activities.atom", "/sitemap.xml"]
    for kind, slug in kinds_of_listing(app).items():
        with app.app_context():
            activity = db.session.scalar(select(Activity).where(Activity.slug == slug))
            title, org_slug = activity.title, activity.organisation.slug
            venue = activity.venue
            near = quote(venue.postcode) if venue is not None and venue.postcode else "LS9"
        urls += [f"/activities/{slug}", f"/organisations/{org_slug}",
                 f"/search?q={quote(title)}&near={near}&radius=25",
                 f"/search.json?q={quote(title)}", f"/openreferral/services?search={quote(title)}"]
    problems = []
    for url in urls:
        status, _body, _headers = get(port, url)
        if status != 200:
            problems.append(f"{url} answered {status}")
    return problems


def measure_pages(port: int, pages: dict[str, str], seconds: float, rounds: int,
                  concurrency: int) -> None:
    for url in pages.values():  # warm every worker: searcher, caches, floor contexts
        for _ in range(6):
            for path in (url, "/_floor" + url):
                status, _body, _headers = get(port, path)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
    print(f"{'page':<28}{'req/s':>9}{'floor':>9}{'ratio':>8}{'HTML KB':>9}{'gzip KB':>9}")
    for name, url in pages.items():
        real = floor = 0.0
        for _ in range(rounds):
            real += rate(port, url, seconds / rounds, concurrency)
            floor += rate(port, "/_floor" + url, seconds / rounds, concurrency)
        _status, body, _headers = get(port, url)
        print(f"{name:<28}{real / rounds:9.1f}{floor / rounds:9.1f}{real / floor:8.2f}"
              f"{len(body) / 1024:9.1f}{len(gzip.compress(body)) / 1024:9.1f}")
        sys.stdout.flush()


def different_searches(count: int, seed: int) -> list[str]:
    """`count` different search pages (words, places, distances), as many visitors would ask:
    asked once each, they show what a search costs when the page cache does not have it."""
    from search_bench import EXTRA_WORDS, TEXT_QUERIES

    rng = random.Random(seed)
    places = ["LS9", "LS8", "LS6", "LS11", "LS1", "LS7", "LS12", "LS15", "Harehills", "Leeds"]
    urls = set()
    while len(urls) < count:
        words = rng.choice(TEXT_QUERIES)
        if rng.random() < 0.4:
            words += " " + rng.choice(EXTRA_WORDS)
        urls.add(f"/search?q={quote(words)}&near={quote(rng.choice(places))}"
                 f"&radius={rng.choice([1, 3, 10, 25])}")
    return sorted(urls)


BASELINE_APP = """
import sys
sys.path.insert(0, {tree!r})
from sitedir import create_app
app = create_app({config!r})
"""


def baseline_site(tree: Path, size: int, seed: int) -> Path:
    """The same synthetic site built by an earlier checkout's own code, in a new folder."""
    folder = Path(tempfile.mkdtemp(prefix=f"sitedir-bench-baseline-{size}-"))
    script = f"""
import random, sys
sys.path[:0] = [{str(tree)!r}, {str(tree / "bench")!r}]
from pathlib import Path
from flask_migrate import upgrade
from sitedir import create_app, indexing
from sitedir.content import load_catalogue, read_catalogue
import search_bench
app = create_app({baseline_config(tree, folder)!r})
with app.app_context():
    upgrade(revision="heads")
    load_catalogue(read_catalogue(Path({str(tree / "content")!r})))
search_bench.populate(app, {size}, random.Random({seed}))
with app.app_context():
    indexing.rebuild(app)
"""
    subprocess.run([sys.executable, "-c", script], cwd=tree, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    (folder / "baseline_app.py").write_text(
        BASELINE_APP.format(tree=str(tree), config=baseline_config(tree, folder)))
    return folder


def baseline_config(tree: Path, folder: Path) -> dict[str, object]:
    database = f"sqlite:///{folder / 'bench.sqlite3'}"
    return {"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": database,
            "SEARCH_INDEX_DIR": str(folder / "search_index"), "CONTENT_DIR": str(tree / "content"),
            "INDEXER_POLL_SECONDS": 1.0, "PUBLIC_BASE_URL": "http://localhost"}


def against_baseline(args: argparse.Namespace, size: int, urls: dict[str, str | list[str]]
                     ) -> None:
    """req/s of the same pages from an earlier checkout's code and site, alternating rounds."""
    folder = baseline_site(args.baseline, size, args.seed)
    port = args.port + 1
    server = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
                               "--chdir", str(folder), "baseline_app:app"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while get_status(port, "/") != 200:
            if time.time() > deadline or server.poll() is not None:
                raise RuntimeError("the baseline server did not start")
            time.sleep(0.3)
        print(f"against {args.baseline} (its own site and code; load {load_average()}):")
        print(f"{'page':<34}{'now':>9}{'before':>9}{'ratio':>8}")
        for name, url in urls.items():
            for page in ([url] if isinstance(url, str) else url)[:50]:  # warm both
                get(args.port, page)
                get(port, page)
            now = before = 0.0
            for _ in range(args.rounds):
                now += rate(args.port, url, args.seconds / args.rounds, args.concurrency)
                before += rate(port, url, args.seconds / args.rounds, args.concurrency)
            print(f"{name:<34}{now / args.rounds:9.1f}{before / args.rounds:9.1f}"
                  f"{now / before:8.2f}")
            sys.stdout.flush()
    finally:
        stop(server)


def get_status(port: int, url: str) -> int:
    try:
        return get(port, url)[0]
    except OSError:
        return 0


def activity_of_search(port: int) -> str:
    """The activity page of the first result of the search page (a typical click)."""
    status, body, _headers = get(port, SEARCH.replace("/search?", "/search.json?"))
    import json

    results = json.loads(body)["results"] if status == 200 else []
    return "/activities/" + results[0]["slug"] if results else "/activities/none"


def run(size: int, args: argparse.Namespace) -> None:
    if args.reuse:  # a folder an earlier run built (printed at its start): no rebuild
        from search_bench import bench_config

        from sitedir import create_app

        from flask_migrate import upgrade

        folder = Path(args.reuse)
        app = create_app(bench_config(folder))
        with app.app_context():
            upgrade(revision="heads")  # the code may have moved on since that run
            if args.rebuild:
                from sitedir import indexing

                indexing.rebuild(app)
        print(f"\n== {folder}, load {load_average()}")
    else:
        app, folder, built = make_directory(size, random.Random(args.seed))
        print(f"\n== {built['listings']} listings (rebuild {built['rebuild_s']:.1f} s) in "
              f"{folder}, load {load_average()}")
    gunicorn = start([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{args.port}",
                      "http_app:app"], folder, args.port)
    try:
        problems = check_pages(app, args.port)
        for problem in problems:
            print("FAILED:", problem)
        pages = {"/search (q, near, radius)": SEARCH,
                 "activity page": activity_of_search(args.port),
                 "/search.json (same query)": SEARCH.replace("/search?", "/search.json?"),
                 "/openreferral/services": "/openreferral/services"}
        measure_pages(args.port, pages, args.seconds, args.rounds, args.concurrency)
        # More than a run asks for: each is asked about once, so the page cache rarely helps.
        searches = different_searches(1000, args.seed)
        print(f"{'/search, different queries':<28}"
              f"{rate(args.port, searches, args.seconds, args.concurrency):9.1f}")
        if args.baseline:
            against_baseline(args, size, {"/search (q, near, radius)": SEARCH,
                                          "/search, different queries": searches})
        workers = children(gunicorn.pid)
        print("gunicorn worker RSS: " + ", ".join(f"{rss_mb(pid):.0f} MB" for pid in workers))
    finally:
        stop(gunicorn)
    if args.waitress:
        server = start([str(BIN / "waitress-serve"), "--threads=8",
                        f"--listen=127.0.0.1:{args.port}", "http_app:app"], folder, args.port)
        try:
            rate(args.port, SEARCH, args.seconds, 8)
            rate(args.port, "/search?q=walking&near=LS1&radius=10", args.seconds, 8)
            print(f"waitress (8 threads, make run's server) RSS after load: "
                  f"{rss_mb(server.pid):.0f} MB")
        finally:
            stop(server)
    print(f"load at the end {load_average()}")
    if problems:
        raise SystemExit(f"{len(problems)} pages failed")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 20000],
                        help="synthetic listings on top of the sample directory")
    parser.add_argument("--seconds", type=float, default=6.0, help="per page, real and floor each")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of real and floor")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--port", type=int, default=51600)
    parser.add_argument("--waitress", action="store_true",
                        help="also measure the memory of the one-process server")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reuse", metavar="FOLDER",
                        help="measure the site an earlier run built in FOLDER (one size)")
    parser.add_argument("--baseline", type=Path, metavar="CHECKOUT",
                        help="also serve the same site with an earlier checkout's code (e.g. a "
                             "git worktree of the commit before a change) and compare req/s")
    parser.add_argument("--rebuild", action="store_true",
                        help="with --reuse: rebuild its index first (after a schema change)")
    args = parser.parse_args(argv)
    for size in args.sizes[:1] if args.reuse else args.sizes:
        run(size, args)


if __name__ == "__main__":
    main()
