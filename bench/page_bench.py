"""Page benchmark: the search page's size and in-process render cost, this tree against another.

    python bench/page_bench.py --against 0a30e0c           # sample site and 20k listings
    python bench/page_bench.py --against 8d9a624 --sizes 0 --rounds 7

For each size it builds one temporary site (sample content plus N synthetic listings, see
search_bench.py). One worker process per tree (this one, and with --against a copy of that git
revision) serves the same site through Flask's test client, one request at a time, no HTTP
server and no page cache: the time of a whole request, and of the page's template rendered
again from the context that request handed it (the render floor; work a view does before
rendering, such as building cards, counts in the request only). Workers take turns in
alternating rounds, so load from other work hits both alike; the table shows medians, the
ratio of the two trees and the HTML size (raw and gzip). Read the ratios: the machine's load
(printed) moves the absolute times.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAGES = {"search (q, near, radius)": "/search?q=art&near=LS9&radius=5",
         "search (near only)": "/search?near=LS9&radius=5",
         "search (browse)": "/search",
         "category page": "/categories/arts-and-crafts"}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---- the worker: one tree's app on the benchmark site ------------------------------------------

def worker(tree: str, folder: str) -> None:
    """Answer 'measure N' lines on stdin with one JSON line of timings per page."""
    sys.path[:0] = [tree, str(REPO / "bench")]
    from sitedir import create_app  # first: search_bench puts this tree on the path

    from flask import g, request, session
    from flask.signals import before_render_template
    from search_bench import bench_config

    # No page cache: every request renders (trees without the setting ignore it).
    config = dict(bench_config(Path(folder)), INDEXER_THREAD=False, PAGE_CACHE_SECONDS=0,
                  MAIL_SEND_IN_BACKGROUND=False, COMPRESS_RESPONSES=False)
    app = create_app(config)
    client = app.test_client()
    rendered: list[tuple[str, dict]] = []

    def remember(sender, template, context, **extra) -> None:
        rendered.append((template.name, dict(context)))

    before_render_template.connect(remember, app)
    for line in sys.stdin:
        count = int(line.split()[1])
        figures = {}
        for name, url in PAGES.items():
            request_ms, render_ms = [], []
            for _ in range(count):
                rendered.clear()
                started = time.perf_counter()
                response = client.get(url)
                request_ms.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}")
                template, context = rendered[-1]
                with app.test_request_context(url):
                    fresh = dict(context, request=request, session=session, g=g)
                    started = time.perf_counter()
                    app.jinja_env.get_template(template).render(fresh)
                    render_ms.append((time.perf_counter() - started) * 1000)
            body = response.get_data()
            figures[name] = {"request_ms": statistics.median(request_ms),
                             "render_ms": statistics.median(render_ms),
                             "bytes": len(body), "gzip": len(gzip.compress(body))}
        print(json.dumps(figures), flush=True)


# ---- the driver ---------------------------------------------------------------------------------

def tree_at(revision: str) -> Path:
    """A copy of the repository's files at `revision` (git archive), in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="sitedir-page-bench-tree-"))
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def start_worker(tree: Path, folder: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--worker", str(tree), str(folder)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            cwd=str(tree), env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))


def ask(process: subprocess.Popen, count: int) -> dict:
    process.stdin.write(f"measure {count}\n")
    process.stdin.flush()
    line = process.stdout.readline()
    if not line:
        raise RuntimeError("a worker stopped; see its error above")
    return json.loads(line)


def run(size: int, trees: dict[str, Path], args: argparse.Namespace) -> None:
    sys.path[:0] = [str(REPO), str(REPO / "bench")]
    from search_bench import make_directory

    _app, folder, built = make_directory(size, random.Random(args.seed))
    print(f"\n== {built['listings']} listings in {folder}, load {load_average()}")
    workers = {name: start_worker(tree, folder) for name, tree in trees.items()}
    try:
        for process in workers.values():
            ask(process, 2)  # warm: searcher, caches, templates
        runs: dict[str, list[dict]] = {name: [] for name in workers}
        for _ in range(args.rounds):
            for name, process in workers.items():
                runs[name].append(ask(process, args.requests))
    finally:
        for process in workers.values():
            process.stdin.close()
            process.wait()
    report(runs)
    print(f"load at the end {load_average()}")


def report(runs: dict[str, list[dict]]) -> None:
    names = list(runs)
    median = {name: {page: {key: statistics.median(r[page][key] for r in rounds)
                            for key in ("request_ms", "render_ms", "bytes", "gzip")}
                     for page in PAGES} for name, rounds in runs.items()}
    head = f"{'page':<26}" + "".join(f"{n + ' ' + k:>18}" for k in ("request ms", "render ms")
                                     for n in names)
    if len(names) == 2:
        head += f"{'request ×':>11}{'render ×':>10}"
    head += "".join(f"{n + ' KB':>12}{n + ' gz':>11}" for n in names)
    print(head)
    for page in PAGES:
        row = f"{page:<26}"
        row += "".join(f"{median[n][page]['request_ms']:18.1f}" for n in names)
        row += "".join(f"{median[n][page]['render_ms']:18.1f}" for n in names)
        if len(names) == 2:
            old, new = median[names[0]][page], median[names[1]][page]
            row += f"{old['request_ms'] / new['request_ms']:11.2f}"
            row += f"{old['render_ms'] / new['render_ms']:10.2f}"
        row += "".join(f"{median[n][page]['bytes'] / 1024:12.1f}"
                       f"{median[n][page]['gzip'] / 1024:11.1f}" for n in names)
        print(row)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", nargs=2, metavar=("TREE", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--against", metavar="REVISION",
                        help="also measure this git revision (e.g. origin/main), side by side")
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 20000],
                        help="synthetic listings on top of the sample directory")
    parser.add_argument("--rounds", type=int, default=5, help="alternations of the trees")
    parser.add_argument("--requests", type=int, default=10, help="per page, tree and round")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return
    trees = {}
    if args.against:
        trees[args.against] = tree_at(args.against)
    trees["this tree"] = REPO
    for size in args.sizes:
        run(size, trees, args)


if __name__ == "__main__":
    main()
