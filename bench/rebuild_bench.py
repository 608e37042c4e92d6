"""Rebuild benchmark: sitedir's index rebuild against tantivy on the same documents, one run.

    python bench/rebuild_bench.py                   # 20k and 100k synthetic listings
    python bench/rebuild_bench.py --sizes 20000 --whoosh   # also Whoosh's own writer, serially

For each size it builds a synthetic site (the sample content plus N listings, as
bench/search_bench.py does) and then, side by side on the same machine:
- `sitedir rebuild`: `indexing.rebuild()`, what `flask index rebuild` runs (database to a
  swapped-in index, in parallel processes from 5,000 listings);
- `documents`: reading the listings and making their index documents (`to_document`), the part
  every engine needs before it can index anything;
- `tantivy`: the same documents into tantivy (tantivy-py, Rust) with a like schema (stemmed text
  fields with positions, keyword fields, fast numeric fields), all cores, committed and merged;
- with --whoosh, `whoosh writer`: the same documents through Whoosh's own SegmentWriter.
It prints the times, the ratios, the first search after an index commit (new searcher, caches
rebuilt) and the peak memory of the rebuild, with the machine's load before and after.

tantivy is installed for this script only, into a folder beside the other temporary files
(`--tantivy-dir`), never into the project's environment; it needs the package registry once.
"""
from __future__ import annotations

import argparse
import importlib
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import search_bench  # noqa: E402

TANTIVY = "tantivy==0.27.0"
TEXT_FIELDS = ("title", "summary", "body", "organisation", "topics", "place", "spell")
KEYWORD_FIELDS = ("category", "helps", "access", "format", "day", "time", "cell")
ID_FIELDS = ("uuid", "title_sort", "join", "cost", "status", "located")


def load_tantivy(folder: Path):
    """Import tantivy, installing it into `folder` (not the project's environment) if needed."""
    sys.path.insert(0, str(folder))
    try:
        import tantivy
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-qq",
                        "--disable-pip-version-check", "--target", str(folder), TANTIVY],
                       check=True)
        # The folder did not exist when the import above looked: forget that it was missing.
        sys.path_importer_cache.pop(str(folder), None)
        importlib.invalidate_caches()
        import tantivy
    return tantivy


def load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load {one:.1f} / {five:.1f} (1 / 5 min), {os.cpu_count()} cores"


def documents(app) -> tuple[list[dict], float]:
    from sitedir import indexing

    with app.app_context():
        started = time.perf_counter()
        docs = [indexing.to_document(activity) for activity in indexing._activities()]
        return docs, time.perf_counter() - started


def tantivy_build(tantivy, docs: list[dict], folder: Path) -> float:
    """The documents into a tantivy index on disk, as alike in content as the engines allow."""
    builder = tantivy.SchemaBuilder()
    for name in TEXT_FIELDS:
        builder.add_text_field(name, stored=name in ("title", "body"), tokenizer_name="en_stem")
    for name in KEYWORD_FIELDS + ID_FIELDS:
        builder.add_text_field(name, stored=name == "uuid", tokenizer_name="raw",
                               fast=name in ("uuid", "title_sort"))
    builder.add_bytes_field("digest", stored=True, indexed=False)  # stored only, as in sitedir
    for name in ("age_min", "age_max", "lat_e6", "lon_e6", "reviewed"):
        builder.add_integer_field(name, indexed=name.startswith("age"), fast=True)
    schema = builder.build()
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    index = tantivy.Index(schema, path=str(folder))
    writer = index.writer(heap_size=128_000_000)
    for doc in docs:
        fields = {}
        for name in TEXT_FIELDS + ID_FIELDS:
            fields[name] = [doc.get(name) or ""]
        for name in KEYWORD_FIELDS:
            fields[name] = [part for part in (doc.get(name) or "").split(",") if part] or [""]
        for name in ("age_min", "age_max", "lat_e6", "lon_e6", "reviewed"):
            fields[name] = [int(doc.get(name) or 0)]
        fields["digest"] = [doc.get("digest", "").encode()]
        writer.add_document(tantivy.Document(**fields))
    writer.commit()
    writer.wait_merging_threads()
    return time.perf_counter() - started


def whoosh_writer_build(docs: list[dict], folder: Path) -> float:
    """The documents through Whoosh's own writer (one process), the way sitedir did before."""
    from whoosh import index

    from sitedir import indexing

    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    ix = index.create_in(str(folder), indexing.SCHEMA)
    writer = ix.writer(limitmb=128)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit(optimize=True)
    return time.perf_counter() - started


def sitedir_rebuild(app) -> float:
    from sitedir import indexing

    with app.app_context():
        started = time.perf_counter()
        indexing.rebuild(app)
        return time.perf_counter() - started


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its finished children, in MB."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, children


def run(size: int, args: argparse.Namespace, tantivy) -> None:
    print(f"\n== {size} synthetic listings + the sample ({load()})", flush=True)
    app, folder, built = search_bench.make_directory(size, random.Random(args.seed))
    print(f"site built: populate {built['populate_s']:.1f} s, first rebuild "
          f"{built['rebuild_s']:.1f} s ({built['listings']} listings)", flush=True)
    rows: dict[str, list[float]] = {"sitedir rebuild": [], "documents": [], "tantivy": []}
    if args.whoosh:
        rows["whoosh writer"] = []
    for round_ in range(args.rounds):  # alternate, so a burst of load hits each alike
        rows["sitedir rebuild"].append(sitedir_rebuild(app))
        docs, seconds = documents(app)
        rows["documents"].append(seconds)
        rows["tantivy"].append(tantivy_build(tantivy, docs, folder / f"tantivy-{round_}"))
        if args.whoosh:
            rows["whoosh writer"].append(whoosh_writer_build(docs, folder / f"whoosh-{round_}"))
        del docs
    median = {name: statistics.median(values) for name, values in rows.items()}
    for name, values in rows.items():
        each = ", ".join(f"{value:.2f}" for value in values)
        print(f"{name:<18} median {median[name]:7.2f} s   ({each})")
    engine = median["documents"] + median["tantivy"]
    print(f"sitedir rebuild / (documents + tantivy)   {median['sitedir rebuild'] / engine:5.2f}x")
    alone = median["sitedir rebuild"] / median["tantivy"]
    print(f"sitedir rebuild / tantivy alone           {alone:5.2f}x")
    if args.whoosh:
        print(f"whoosh writer / sitedir rebuild           "
              f"{median['whoosh writer'] / median['sitedir rebuild']:5.2f}x")
    print(f"first search on the rebuilt index (every segment new): "
          f"{search_bench.first_search(app):.0f} ms")
    cold = search_bench.cold_after_commit(app, trials=5)
    print(f"first search after a commit: median {statistics.median(cold):.0f} ms "
          f"({', '.join(f'{v:.0f}' for v in cold)})")
    me, children = peak_rss_mb()
    # A builder is forked from this process, which holds the benchmark's documents too: its
    # resident size counts the pages the two share (a fresh `flask index rebuild` peaks lower).
    print(f"peak RSS: this process {me:.0f} MB, largest builder process {children:.0f} MB "
          f"(forked from this one, shared pages counted) ({load()})", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--whoosh", action="store_true", help="also time Whoosh's own writer")
    parser.add_argument("--tantivy-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "sitedir-bench-tantivy")
    args = parser.parse_args(argv)
    tantivy = load_tantivy(args.tantivy_dir)
    for size in args.sizes:
        run(size, args, tantivy)


if __name__ == "__main__":
    main()
