"""Reading the index without Whoosh's slow paths gives what Whoosh gives: the phrase check
that ranks "coffee morning" above listings with the two words apart finds exactly what
Whoosh's Phrase query finds, within any set of candidates, and term bitmaps read every
posting."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from flask import Flask
from whoosh.query import Phrase

from sitedir import indexing, search
from sitedir.search import engine
from sitedir.search.engine import PHRASE_FIELDS, bits_from_docs, posting_ids
from tests.conftest import build_app
from tests.search_helpers import rebuild

SAMPLE = Path(__file__).resolve().parent.parent / "content"


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    app = build_app(tmp_path_factory.mktemp("phrase"), SAMPLE)
    rebuild(app)
    return app


def _stem_runs(cache, rng: random.Random) -> list[list[str]]:
    """Two- and three-word runs as they stand in the listings (so phrases are found), the
    same words reversed or shuffled (mostly not), and a repeated word."""
    analyzer = indexing.SCHEMA["body"].analyzer
    runs = []
    for stored in rng.sample(list(cache.searcher.all_stored_fields()), 40):
        words = [token.text for token in analyzer(stored.get("body") or "")]
        for size in (2, 3):
            if len(words) > size:
                start = rng.randrange(len(words) - size)
                run = words[start:start + size]
                runs += [run, run[::-1], rng.sample(run, size)]
    return runs + [["walk", "walk"], ["group", "group", "group"]]


@pytest.mark.parametrize("alone_up_to", [0, 10**9], ids=["whole index, kept", "candidates"])
def test_phrase_bits_are_whooshs_phrase(sample_index: Flask, monkeypatch,
                                        alone_up_to: int) -> None:
    monkeypatch.setattr(engine, "PHRASE_ALONE_UP_TO", alone_up_to)
    rng = random.Random(7)
    with sample_index.app_context():
        cache = search.get_service().cache()
        cache._matches.clear()  # nothing kept from another test
        everything = cache.searchable
        docs = [doc for doc in range(everything.bit_length()) if everything >> doc & 1]
        found_any = 0
        for stems in _stem_runs(cache, rng):
            for name in PHRASE_FIELDS:
                whoosh = bits_from_docs(cache.searcher.docs_for_query(Phrase(name, stems)))
                for _twice in range(2):  # the second time from what was kept, if anything
                    some = bits_from_docs(rng.sample(docs, len(docs) // 3))
                    assert cache.phrase_bits(name, stems, some) == whoosh & some, stems
                    assert cache.phrase_bits(name, stems, everything) == whoosh & everything
                found_any += bool(whoosh & everything)
        assert found_any > 40  # the runs taken from the listings are found, so this means something
        kept = [key for key in cache._matches if key[0] == "phrase"]
        assert bool(kept) == (alone_up_to == 0)


def test_posting_ids_are_every_posting(sample_index: Flask) -> None:
    """Term bitmaps read postings a block at a time; they must be every posting, in order."""
    with sample_index.app_context():
        cache = search.get_service().cache()
        checked = long = 0
        for leaf, _offset in cache.reader.leaf_readers():
            for fieldname, text in leaf.all_terms():
                field = leaf.schema[fieldname]

                def raw():
                    return leaf._terms.matcher(fieldname, text, field.format)
                ids = posting_ids(raw())
                assert ids == list(raw().all_ids()), (fieldname, text)
                checked += 1
                long += len(ids) > 128  # more than one block (Whoosh's default block size)
        assert checked > 2000 and long > 5
