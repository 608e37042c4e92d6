"""Search benchmark: synthetic directories of N listings, index build time, query latency.

    python bench/search_bench.py                 # 2k, 20k and 100k listings
    python bench/search_bench.py --sizes 2000 20000 --queries 300

For each size it prints the rebuild time, p50/p95 search latency per query class (text only,
text + radius, text + radius + facets, browse without text), and publish → searchable latency
through the indexer thread. Latency is measured at the search service (index + facets +
distances: what a request adds on top of rendering) and, for one mix, through /search.json.
Listings are spread over the UK by the population of the gazetteer's towns.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import random
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, select  # noqa: E402

WORDS = {
    "arts-and-crafts": ["Knit and Natter", "Crochet Circle", "Pottery Drop-in", "Watercolour Club",
                        "Sewing Bee", "Craft Café", "Photography Walk", "Woodwork Shed"],
    "walking": ["Health Walk", "Nordic Walking", "Buggy Walk", "Heritage Stroll", "Ramblers Group"],
    "sport-and-physical-activity": ["Walking Football", "Chair Yoga", "Tai Chi", "Seated Exercise",
                                    "Walking Netball", "Swimming for Beginners", "Boccia Club"],
    "music": ["Community Choir", "Singing for the Brain", "Ukulele Group", "Drumming Circle"],
    "gardening-and-nature": ["Community Garden", "Allotment Club", "Conservation Volunteers",
                             "Green Gym"],
    "befriending": ["Telephone Befriending", "Befriending Visits", "Chatty Café"],
    "cookery-and-healthy-eating": ["Cook and Eat", "Community Supper", "Lunch Club", "Baking Club"],
    "mental-wellbeing-support": ["Peer Support Group", "Men's Shed", "Wellbeing Café",
                                 "Anxiety Support Group", "Bereavement Café"],
    "group-learning": ["Computer Help", "English Conversation", "Local History Group", "Book Club"],
    "volunteering": ["Food Bank Volunteers", "Repair Café", "Litter Pickers", "Library Helpers"],
}
SENTENCES = [
    "Everyone is welcome, whatever your experience.", "Come along for a cup of tea and a chat.",
    "We are a friendly group who meet every week.", "No need to book: just turn up.",
    "The sessions are led by trained volunteers.", "Bring a friend if you like.",
    "It is a good way to meet people and get out of the house.",
    "The room is step-free and there is an accessible toilet.",
    "We welcome people living with dementia and their carers.",
    "Gentle exercise at your own pace, seated or standing.",
    "Learn new skills and share what you know with others.",
    "Refreshments are provided; donations are welcome.",
    "Many of our members first came after a referral from their GP.",
    "We knit blankets for the neonatal unit and hats for the homeless.",
    "Walks last about an hour on level paths, with a café stop.",
]
TEXT_QUERIES = ["knitting", "walking", "choir", "dementia", "yoga", "cafe", "garden", "football",
                "coffee morning", "men's shed", "befriending", "cook", "history", "swimming",
                "craft group", "support group", "tai chi", "volunteer", "book club", "singing"]
EXTRA_WORDS = ["friendly", "weekly", "beginners", "carers", "volunteers", "tea", "community",
               "free", "gentle", "older", "people", "local", "group", "club", "support",
               "exercise", "skills", "meet", "chat", "walks", "hour", "trained", "welcome"]
RADII = (1, 3, 5, 10, 25)
FORMATS = (["in_person"],) * 8 + (["online"], ["phone"], ["in_person", "online"])


def _towns() -> list[tuple[float, float, int]]:
    with gzip.open(REPO / "sitedir" / "data" / "places.csv.gz", "rt", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [(float(r["latitude"]), float(r["longitude"]), int(r["population"] or 0) + 500)
            for r in rows]


def populate(app, size: int, rng: random.Random) -> None:
    """Insert `size` synthetic listings with core inserts (the outbox is irrelevant: we rebuild)."""
    from sitedir.extensions import db
    from sitedir.models import Activity, Organisation, ScheduleEntry, Term, Venue, activity_term

    towns = _towns()
    weights = [population for _lat, _lon, population in towns]
    with app.app_context():
        terms = {(t.taxonomy, t.key): t.id for t in db.session.scalars(select(Term))}
        categories = [key for taxonomy, key in terms if taxonomy == "category" and key in WORDS]
        needs = [key for taxonomy, key in terms if taxonomy == "need"]
        access = [key for taxonomy, key in terms if taxonomy == "accessibility"]
        start_org = (db.session.scalar(select(db.func.max(Organisation.id))) or 0) + 1
        start_venue = (db.session.scalar(select(db.func.max(Venue.id))) or 0) + 1
        start_activity = (db.session.scalar(select(db.func.max(Activity.id))) or 0) + 1
        orgs, venues, activities, links, entries = [], [], [], [], []
        chosen = rng.choices(towns, weights=weights, k=size)
        for i in range(size):
            lat, lon, _population = chosen[i]
            org_id, venue_id = start_org + i // 4, start_venue + i // 2
            activity_id = start_activity + i
            if i % 4 == 0:
                prefix = rng.choice(["Friends of", "Together", "Age Well"])
                orgs.append({"id": org_id, "uuid": str(uuid.uuid4()),
                             "slug": f"bench-org-{org_id}", "name": f"{prefix} {org_id}"})
            if i % 2 == 0:
                venues.append({"id": venue_id, "uuid": str(uuid.uuid4()),
                               "slug": f"bench-venue-{venue_id}",
                               "name": f"Community Centre {venue_id}",
                               "town": f"Town {venue_id % 997}",
                               "postcode": "LS9 8AB", "latitude": lat + rng.uniform(-0.03, 0.03),
                               "longitude": lon + rng.uniform(-0.05, 0.05)})
            category = rng.choice(categories)
            title = rng.choice(WORDS[category])
            activities.append({
                "id": activity_id, "uuid": str(uuid.uuid4()), "slug": f"bench-{activity_id}",
                "organisation_id": org_id, "venue_id": venue_id, "title": title,
                "summary": " ".join(rng.sample(SENTENCES, 2)),
                "description": " ".join(rng.sample(SENTENCES, 5)),
                "formats": rng.choice(FORMATS),
                "cost_type": rng.choice(["free", "free", "paid", "pay_what_you_can"]),
                # Half the paid ones give no price (a case the pages must show, not fail on).
                "cost_amount": Decimal("3.50") if i % 2 else None,
                "join_how": rng.choice(["drop_in", "book", "referral"]),
                "age_min": rng.choice([None, None, 18, 50, 11]), "age_max": None,
                "hide_address": rng.random() < 0.1,
                "status": rng.choice(["running"] * 9 + ["closed"]),
                "last_reviewed": dt.date.today() - dt.timedelta(days=rng.randint(0, 700)),
                "referral_from": [],
            })
            keys = {("category", category), ("need", rng.choice(needs)),
                    ("accessibility", rng.choice(access))}
            links.extend({"activity_id": activity_id, "term_id": terms[key]} for key in keys)
            entries.append({"activity_id": activity_id, "weekday": rng.randint(0, 6), "weeks": [],
                            "start_time": dt.time(rng.choice([9, 10, 13, 14, 18, 19])),
                            "end_time": dt.time(20), "title": ""})
        for table, rows in ((Organisation.__table__, orgs), (Venue.__table__, venues),
                            (Activity.__table__, activities), (activity_term, links),
                            (ScheduleEntry.__table__, entries)):
            for start in range(0, len(rows), 5000):  # (an empty range when size is 0)
                db.session.execute(insert(table), rows[start:start + 5000])
        db.session.commit()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def query_mixes(rng: random.Random, towns: list[tuple[float, float, int]],
                count: int):
    from sitedir.search import SearchRequest

    weights = [population for _lat, _lon, population in towns]
    points = rng.choices(towns, weights=weights, k=count)
    mixes = {"text only": [], "text+radius": [], "text+radius+facets": [], "browse": []}
    for i in range(count):
        # About 600 distinct texts (single words, pairs, a word and a place), so the per-searcher
        # cache of recent matches does not answer most of them.
        text = rng.choice(TEXT_QUERIES)
        if i % 3 == 1:
            text = f"{text} {rng.choice(TEXT_QUERIES)}"
        elif i % 3 == 2:
            text = f"{text} {rng.choice(EXTRA_WORDS)}"
        near = (points[i][0], points[i][1])
        radius = rng.choice(RADII)
        mixes["text only"].append(SearchRequest(text=text))
        mixes["text+radius"].append(SearchRequest(text=text, near=near, radius_miles=radius))
        mixes["text+radius+facets"].append(SearchRequest(
            text=text, near=near, radius_miles=radius,
            filters={"cost": ["free"], "day": [rng.choice(["monday", "tuesday", "saturday"])]}))
        mixes["browse"].append(SearchRequest(
            filters={"category": [rng.choice(list(WORDS))]} if i % 2 else {},
            page=rng.randint(1, 3)))
    return mixes


def measure(app, requests) -> list[float]:
    from sitedir import search

    service = search.get_service(app)
    timings = []
    with app.test_request_context():
        for request in requests:
            started = time.perf_counter()
            service.search(request)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def publish_latency(app, trials: int = 5) -> list[float]:
    """Commit an edit with the indexer thread running; time until a search finds it."""
    from sitedir import indexing, search
    from sitedir.extensions import db
    from sitedir.models import Activity

    stop = indexing.start_worker_thread(app)
    service = search.get_service(app)
    results = []
    try:
        for trial in range(trials):
            word = f"zebrafinch{trial}x"
            with app.app_context():
                activity = db.session.scalar(select(Activity).where(Activity.status != "closed")
                                             .order_by(Activity.id).offset(trial * 7).limit(1))
                activity.summary = f"{activity.summary} {word}"
                db.session.commit()
                started = time.perf_counter()
            with app.test_request_context():
                while not service.search(search.SearchRequest(text=word)).total:
                    if time.perf_counter() - started > 60:
                        raise RuntimeError("edit never became searchable")
                    time.sleep(0.01)
            results.append(time.perf_counter() - started)
    finally:
        stop.set()
    return results


def first_search(app) -> float:
    """A search's time in ms (the first one of a process, or on a newly swapped-in index,
    reads every segment's caches)."""
    from sitedir import search

    with app.test_request_context():
        started = time.perf_counter()
        search.get_service(app).search(
            search.SearchRequest(text="walking", filters={"cost": ["free"]}))
        return (time.perf_counter() - started) * 1000


def cold_after_commit(app, trials: int = 3) -> list[float]:
    """The first search after an index commit: it opens a new searcher and rebuilds the
    caches (bitmaps, columns, name order) of the commit's new segment, which every later
    search reuses. (Call first_search() before, so the other segments' are already read.)"""
    from sitedir import indexing, search
    from sitedir.extensions import db
    from sitedir.models import Activity

    service = search.get_service(app)
    timings = []
    for trial in range(trials):
        with app.app_context():
            activity = db.session.scalar(select(Activity).order_by(Activity.id).limit(1))
            activity.summary = f"{activity.summary} cold{trial}"
            db.session.commit()
            indexing.drain_all()
        with app.test_request_context():
            started = time.perf_counter()
            service.search(search.SearchRequest(text="walking", filters={"cost": ["free"]}))
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def bench_config(folder: Path) -> dict[str, object]:
    """The settings of a benchmark site whose database and index live in `folder`."""
    return {
        "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
        "SEARCH_INDEX_DIR": str(folder / "search_index"), "CONTENT_DIR": str(REPO / "content"),
        "INDEXER_POLL_SECONDS": 1.0, "PUBLIC_BASE_URL": "http://localhost",
    }


def make_directory(size: int, rng: random.Random):
    """A temporary site with the sample content plus `size` synthetic listings, indexed.

    Returns (app, folder, figures) where figures holds populate and rebuild seconds."""
    from flask_migrate import upgrade

    from sitedir import create_app, indexing
    from sitedir.content import load_catalogue, read_catalogue

    tmp = Path(tempfile.mkdtemp(prefix=f"sitedir-bench-{size}-"))
    app = create_app(bench_config(tmp))
    with app.app_context():
        upgrade(revision="heads")
        load_catalogue(read_catalogue(REPO / "content"))
    started = time.perf_counter()
    populate(app, size, rng)
    populate_seconds = time.perf_counter() - started
    with app.app_context():
        started = time.perf_counter()
        count = indexing.rebuild(app)
        rebuild_seconds = time.perf_counter() - started
    return app, tmp, {"listings": count, "populate_s": populate_seconds,
                      "rebuild_s": rebuild_seconds}


def run(size: int, query_count: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    app, _tmp, built = make_directory(size, rng)
    towns = _towns()
    mixes = query_mixes(rng, towns, query_count)
    measure(app, mixes["text only"][:20])  # warm: open the searcher, load columns once
    figures: dict[str, object] = dict(built)
    for name, requests in mixes.items():
        timings = measure(app, requests)
        figures[name] = (statistics.median(timings), percentile(timings, 0.95))
    client = app.test_client()
    http = []
    for request in mixes["text+radius+facets"][:100]:
        url = (f"/search.json?q={request.text}&near={request.near[0]:.4f},{request.near[1]:.4f}"
               f"&radius={int(request.radius_miles)}&free=1&day={request.filters['day'][0]}")
        started = time.perf_counter()
        assert client.get(url).status_code in (200, 400)
        http.append((time.perf_counter() - started) * 1000)
    figures["http text+radius+facets"] = (statistics.median(http), percentile(http, 0.95))
    figures["cold"] = statistics.median(cold_after_commit(app))
    latencies = publish_latency(app)
    figures["publish->searchable"] = (statistics.median(latencies), max(latencies))
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000, 100000])
    parser.add_argument("--queries", type=int, default=300, help="queries per class")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    for size in args.sizes:
        figures = run(size, args.queries, args.seed)
        print(f"\n== {figures['listings']} listings (populate {figures['populate_s']:.1f} s)")
        print(f"rebuild: {figures['rebuild_s']:.1f} s")
        for name in ("text only", "text+radius", "text+radius+facets", "browse",
                     "http text+radius+facets"):
            p50, p95 = figures[name]
            print(f"{name:<26} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")
        print(f"first search after a commit  {figures['cold']:.0f} ms "
              "(new searcher, caches rebuilt)")
        median, worst = figures["publish->searchable"]
        print(f"publish->searchable       median {median:.2f} s   max {worst:.2f} s "
              "(INDEXER_POLL_SECONDS=1)")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
