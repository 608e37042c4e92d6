"""Insight benchmark: what counting adds to a page, and what a flush costs (off the hot path).

    python bench/insight_bench.py [--requests 400]

Serves the activity page and a search that finds nothing through the test client, alternating
requests with counting on and off (so both see the same machine load), and prints p50/p95 of
each and the difference. It also times the counting hook alone, and one flush of a batch.
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BROWSER = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/124 Mobile"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.3f}"


def timed(client, url: str) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    response = client.get(url, headers=BROWSER)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()

    from sitedir.insight import recording
    from sitedir.signals import search_done
    from tests.conftest import build_app
    from tests.search_helpers import rebuild

    tmp = Path(tempfile.mkdtemp(prefix="insight-bench-"))
    app = build_app(tmp, INSIGHT_FLUSH_SECONDS=0)
    rebuild(app)
    client = app.test_client()
    pages = {"activity page": "/activities/harehills-knit-and-natter",
             "search, nothing found near LS9": "/search?q=underwater+basket&near=LS9+8AB"}
    events = dict(recording.ENDPOINT_EVENTS)
    print(f"load average before: {os.getloadavg()}")
    print(f"{'page':34} {'counting':>9} {'p50 ms':>8} {'p95 ms':>8}")
    for name, url in pages.items():
        for _ in range(20):
            timed(client, url)  # warm caches
        on: list[float] = []
        off: list[float] = []
        for i in range(args.requests):
            counting = i % 2 == 0
            recording.ENDPOINT_EVENTS.clear()
            if counting:
                recording.ENDPOINT_EVENTS.update(events)
                search_done.connect(recording.on_search, app)
            else:
                search_done.disconnect(recording.on_search, app)
            (on if counting else off).append(timed(client, url))
        recording.ENDPOINT_EVENTS.update(events)
        search_done.connect(recording.on_search, app)
        for label, values in (("on", on), ("off", off)):
            print(f"{name:34} {label:>9} {ms(percentile(values, 50))} {ms(percentile(values, 95))}")
        print(f"{name:34} {'added':>9} {ms(percentile(on, 50) - percentile(off, 50))} "
              f"{ms(percentile(on, 95) - percentile(off, 95))}")

    # The hooks' own time inside real requests: the precise answer to "what does counting add".
    inside: dict[str, list[float]] = {"after_request (activity page)": [], "search_done": []}

    def timed_hook(function, bucket):  # type: ignore[no-untyped-def]
        def wrapper(*a, **k):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                inside[bucket].append(time.perf_counter() - start)
        return wrapper

    funcs = app.after_request_funcs[None]
    position = funcs.index(recording.after_request)
    funcs[position] = timed_hook(recording.after_request, "after_request (activity page)")
    search_done.disconnect(recording.on_search, app)
    timed_search = timed_hook(recording.on_search, "search_done")
    search_done.connect(timed_search, app)
    gc.collect()
    gc.disable()  # a collection that starts inside a hook is the page's garbage, not the hook's
    for _ in range(args.requests // 2):
        timed(client, pages["activity page"])
        timed(client, pages["search, nothing found near LS9"])
    gc.enable()
    inside["after_request (activity page)"] = inside["after_request (activity page)"][
        -(args.requests // 2):]  # the search pages' calls do nothing (not a listing endpoint)
    for name, values in inside.items():
        print(f"inside requests, {name}: p50 {ms(percentile(values, 50))} ms, "
              f"p95 {ms(percentile(values, 95))} ms ({len(values)} calls)")
    funcs[position] = recording.after_request
    search_done.disconnect(timed_search, app)
    search_done.connect(recording.on_search, app)

    recorder = app.extensions["insight"]
    with app.test_request_context("/activities/harehills-knit-and-natter", headers=BROWSER):
        hook: list[float] = []
        for _ in range(5000):
            start = time.perf_counter()
            recorder.count_event("slug", "harehills-knit-and-natter", "view")
            recording.is_bot(BROWSER["User-Agent"])
            hook.append(time.perf_counter() - start)
    print(f"counting hook alone (5000 calls): p50 {ms(percentile(hook, 50))} ms, "
          f"p95 {ms(percentile(hook, 95))} ms, max {ms(max(hook))} ms")
    with app.app_context():
        for slug in ("harehills-knit-and-natter", "otley-health-walk"):
            for _ in range(500):
                recorder.count_event("slug", slug, "view")
        start = time.perf_counter()
        rows = recorder.flush()
        print(f"one flush (background thread, not in a request): {rows} rows in "
              f"{ms(time.perf_counter() - start)} ms, with fsync")
    print(f"statistics of 'off' spread: stdev {ms(statistics.pstdev(off))} ms")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
