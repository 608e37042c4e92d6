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
from sitedir.search.engine import PHRASE_FIELDS, bits_from_docs, posting_ids, posting_values
from tests.conftest import build_app
from sitedir.extensions import db
from sitedir.models import Activity
from tests.search_helpers import add_activity, index_now, rebuild

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
        segments = [data for _leaf, _offset, data in cache._leaves]
        for data in segments:
            data.phrases.clear()  # nothing kept from another test
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
        kept = [key for data in segments for key in data.phrases]
        assert bool(kept) == (alone_up_to == 0)  # kept with the segment only when checked whole


def test_posting_ids_are_every_posting(sample_index: Flask) -> None:
    """Term bitmaps and phrase positions read postings a block at a time (skipping blocks
    that hold none of the wanted documents): they must be every posting, in order, and the
    wanted documents' values."""
    rng = random.Random(3)
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
                every = {}
                whole = raw()
                while whole.is_active():
                    every[whole.id()] = whole.value()
                    whole.next()
                wanted = set(rng.sample(ids, len(ids) // 4)) | {ids[-1]}
                assert posting_values(raw(), wanted) == {doc: every[doc] for doc in wanted}
                checked += 1
                long += len(ids) > 128  # more than one block (Whoosh's default block size)
        assert checked > 2000 and long > 5


def test_phrases_kept_with_segments_stay_right_after_a_commit(make_app, monkeypatch) -> None:
    """A listing that loses a phrase in an edit is not found by it from the older segment's
    kept answer, and one that gains it is found in the new segment."""
    monkeypatch.setattr(engine, "PHRASE_ALONE_UP_TO", 0)  # check whole segments, keep them
    app = make_app(content=None)
    with app.app_context():
        first = add_activity("Stitch circle", summary="Bring your knitting needles along")
        second = add_activity("Sketch club", summary="Pencils and paper provided")
        db.session.commit()
        ids = (first.id, second.id)
    rebuild(app)
    stems = [token.text for token in indexing.SCHEMA["summary"].analyzer("knitting needles")]
    service = search.get_service(app)
    with app.app_context():
        cache = service.cache()
        assert cache.phrase_bits("summary", stems, cache.searchable).bit_count() == 1
        db.session.get(Activity, ids[0]).summary = "Bring needles for your knitting"
        db.session.get(Activity, ids[1]).summary = "Pencils, paper and knitting needles"
        db.session.commit()
    index_now(app)
    with app.app_context():
        cache = service.cache()
        assert len(cache._leaves) > 1  # the edit is in a new segment beside the kept one
        whoosh = bits_from_docs(cache.searcher.docs_for_query(Phrase("summary", stems)))
        found = cache.phrase_bits("summary", stems, cache.searchable)
        assert found == whoosh & cache.searchable and found.bit_count() == 1
        assert cache.searcher.stored_fields(found.bit_length() - 1)["title"] == "Sketch club"
