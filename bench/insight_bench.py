"""Insight benchmark: what counting adds to a page, and what a flush costs (off the hot path).

    python bench/insight_bench.py [--requests 400]

1. Serves the activity page and a search that finds nothing through the test client,
   alternating requests with counting on and off (so both see the same machine load), and
   prints p50/p95 of each and the difference. On a loaded machine this is mostly noise.
2. Times the counting hooks themselves inside real requests (the precise answer).
3. Times one flush of a batch, which runs in the background thread, not in a request.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sitedir.insight import recording  # noqa: E402
from sitedir.signals import search_done  # noqa: E402

BROWSER = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/124 Mobile"}
PAGES = {"activity page": "/activities/harehills-knit-and-natter",
         "search, nothing found near LS9": "/search?q=underwater+basket&near=LS9+8AB"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.3f}"


def timed(client: Any, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url, headers=BROWSER)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def set_counting(app: Any, on: bool, events: dict) -> None:
    recording.ENDPOINT_EVENTS.clear()
    search_done.disconnect(recording.on_search, app)
    if on:
        recording.ENDPOINT_EVENTS.update(events)
        search_done.connect(recording.on_search, app)


def compare_pages(app: Any, client: Any, requests: int) -> None:
    events = dict(recording.ENDPOINT_EVENTS)
    print(f"{'page':34} {'counting':>9} {'p50 ms':>8} {'p95 ms':>8}")
    for name, url in PAGES.items():
        for _ in range(20):
            timed(client, url)  # warm caches
        times: dict[bool, list[float]] = {True: [], False: []}
        for i in range(requests):
            set_counting(app, i % 2 == 0, events)
            times[i % 2 == 0].append(timed(client, url))
        set_counting(app, True, events)
        for label, values in (("on", times[True]), ("off", times[False])):
            print(f"{name:34} {label:>9} {ms(percentile(values, 50))} {ms(percentile(values, 95))}")
        print(f"{name:34} {'added':>9} "
              f"{ms(percentile(times[True], 50) - percentile(times[False], 50))} "
              f"{ms(percentile(times[True], 95) - percentile(times[False], 95))}"
              f"   (stdev of 'off' {ms(statistics.pstdev(times[False]))} ms)")


def _stopwatch(function: Callable, bucket: list[tuple[float, float]]) -> Callable:
    """Wall time and this thread's CPU time (wall minus CPU is time the OS ran others)."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            bucket.append((time.perf_counter() - start, time.thread_time() - cpu))
    return wrapper


def hooks_inside_requests(app: Any, client: Any, requests: int) -> None:
    """The hooks' own time inside real requests: what counting adds to a page."""
    after: list[tuple[float, float]] = []
    searched: list[tuple[float, float]] = []
    funcs = app.after_request_funcs[None]
    position = funcs.index(recording.after_request)
    funcs[position] = _stopwatch(recording.after_request, after)
    timed_search = _stopwatch(recording.on_search, searched)
    search_done.disconnect(recording.on_search, app)
    search_done.connect(timed_search, app)
    gc.collect()
    gc.disable()  # a collection that starts inside a hook is the page's garbage, not the hook's
    for _ in range(requests // 2):
        timed(client, PAGES["activity page"])
        after_calls = len(after)
        timed(client, PAGES["search, nothing found near LS9"])
        del after[after_calls:]  # on a search page the hook only looks up the endpoint
    gc.enable()
    funcs[position] = recording.after_request
    search_done.disconnect(timed_search, app)
    search_done.connect(recording.on_search, app)
    for name, values in (("after_request on the activity page", after),
                         ("search_done on an unmet search", searched)):
        wall, cpu = [v[0] for v in values], [v[1] for v in values]
        print(f"inside requests, {name} ({len(values)} calls): wall p50 "
              f"{ms(percentile(wall, 50))} p95 {ms(percentile(wall, 95))} ms; CPU p50 "
              f"{ms(percentile(cpu, 50))} p95 {ms(percentile(cpu, 95))} ms")


def flush_cost(app: Any) -> None:
    recorder = app.extensions[recording.EXTENSION_KEY]
    with app.app_context():
        recorder.flush()
        for slug in ("harehills-knit-and-natter", "otley-health-walk"):
            for _ in range(500):
                recorder.count_event("slug", slug, "view")
        start = time.perf_counter()
        rows = recorder.flush()
        print(f"one flush of 1000 views (background thread, not a request): {rows} rows in "
              f"{ms(time.perf_counter() - start)} ms, synchronous=FULL")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()

    from tests.conftest import build_app
    from tests.search_helpers import rebuild

    app = build_app(Path(tempfile.mkdtemp(prefix="insight-bench-")), INSIGHT_FLUSH_SECONDS=0)
    rebuild(app)
    client = app.test_client()
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} cores")
    compare_pages(app, client, args.requests)
    hooks_inside_requests(app, client, args.requests)
    flush_cost(app)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
