"""Relevance benchmark: the judged queries of bench/relevance_set.yaml against the sample directory.

    python bench/relevance.py              # every query, figures per class, the worst queries
    python bench/relevance.py --show 10    # also the top 10 of every query

Builds a throwaway site from content/ (database, vocabulary, index), asks /search.json each
query as a person would type it, and prints per class of query:
  P@5     judged-relevant results in the first five, out of five (or out of how many relevant
          listings there are, when fewer than five are)
  R@10    share of the relevant listings found in the first ten
  MRR     1 / the position of the first relevant result (0 when none in the first 20)
  empty   queries that returned nothing
This is how ranking changes are judged: run it before and after.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SET_FILE = REPO / "bench" / "relevance_set.yaml"


def load_queries(path: Path = SET_FILE) -> list[dict[str, Any]]:
    """The judged queries: class, q, optional near/radius, relevant slugs."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]


def scores(ranked: list[str], relevant: set[str]) -> dict[str, float]:
    """P@5, R@10 and reciprocal rank of one ranked list of slugs."""
    first = next((i for i, slug in enumerate(ranked) if slug in relevant), None)
    return {
        "p5": len(set(ranked[:5]) & relevant) / min(5, len(relevant)),
        "r10": len(set(ranked[:10]) & relevant) / len(relevant),
        "mrr": 0.0 if first is None else 1 / (first + 1),
        "empty": float(not ranked),
    }


def _site(tmp: Path):
    from flask_migrate import upgrade

    from sitedir import create_app, indexing
    from sitedir.content import load_catalogue, read_catalogue

    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "PUBLIC_BASE_URL": "http://localhost",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "SEARCH_INDEX_DIR": str(tmp / "index"), "CONTENT_DIR": str(REPO / "content"),
        "INDEXER_THREAD": False, "PAGE_SIZE": 20})
    with app.app_context():
        upgrade()
        catalogue = read_catalogue(REPO / "content")
        if catalogue.errors:
            raise SystemExit("\n".join(catalogue.errors))
        load_catalogue(catalogue)
        indexing.rebuild(app)
    return app


def run(show: int = 0) -> dict[str, dict[str, float]]:
    """Ask every judged query; print and return the mean figures per class."""
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    queries = load_queries()
    with tempfile.TemporaryDirectory(prefix="sitedir-relevance-") as folder:
        client = _site(Path(folder)).test_client()
        by_class: dict[str, list[dict[str, float]]] = defaultdict(list)
        rows = []
        for item in queries:
            params = {key: item[key] for key in ("q", "near", "radius") if key in item}
            body = client.get("/search.json", query_string=params).get_json()
            ranked = [result["slug"] for result in body.get("results", [])]
            titles = [result["title"] for result in body.get("results", [])]
            figures = scores(ranked, set(item["relevant"]))
            by_class[item["class"]].append(figures)
            rows.append((figures, item, titles, body))
            if show:
                print(f"{item['q']!r}: " + "; ".join(titles[:show]))
    means = {name: {key: statistics.mean(f[key] for f in values) for key in values[0]}
             for name, values in by_class.items()}
    everything = [figures for values in by_class.values() for figures in values]
    means["ALL"] = {key: statistics.mean(f[key] for f in everything) for key in everything[0]}
    print(f"{'class':12} {'queries':>7} {'P@5':>6} {'R@10':>6} {'MRR':>6} {'empty':>6}")
    for name, figures in means.items():
        count = len(by_class.get(name, everything))
        print(f"{name:12} {count:7d} {figures['p5']:6.2f} {figures['r10']:6.2f} "
              f"{figures['mrr']:6.2f} {int(figures['empty'] * count):6d}")
    print("\nworst queries (P@5, MRR): first five results")
    rows.sort(key=lambda row: (row[0]["p5"] + row[0]["mrr"], row[1]["q"]))
    for figures, item, titles, body in rows[:10]:
        note = f" [searched {body['searched']!r}]" if body.get("corrected_from") else ""
        print(f"  {figures['p5']:.2f} {figures['mrr']:.2f} {item['q']!r}{note}: "
              + "; ".join(titles[:5]))
    return means


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show", type=int, default=0, help="print the top N of every query")
    run(parser.parse_args().show)


if __name__ == "__main__":
    main()
