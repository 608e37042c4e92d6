"""The rebuild's segment writer makes the index Whoosh's own writer would, and faster paths
(parallel processes) give the same search results."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from whoosh import index
from whoosh.index import TOC

from sitedir import indexing, search
from sitedir.segment_writer import SegmentBuilder, fast_form
from sitedir.extensions import db
from tests.conftest import examples
from tests.search_helpers import add_activity


def _contents(ix: index.Index) -> dict:
    """Everything a reader can tell about an index: terms, postings, lengths, columns, stored."""
    found: dict = {}
    with ix.reader() as reader:
        found["documents"] = reader.doc_count_all()
        found["stored"] = list(reader.all_stored_fields())
        for name, field in ix.schema.items():
            if field.column_type:
                found["column", name] = list(reader.column_reader(name))
            if not field.indexed:
                continue
            found["total length", name] = reader.field_length(name)
            found["lengths", name] = [reader.doc_field_length(doc, name)
                                      for doc in range(reader.doc_count_all())]
            for term in reader.lexicon(name):
                info = reader.term_info(name, term)
                found[name, term] = (
                    info.doc_frequency(), info.weight(), info.min_length(), info.max_length(),
                    info.max_weight(), info.min_id(), info.max_id(),
                    list(reader.postings(name, term).all_items()))
    return found


def _both_ways(documents: list[dict], folder: Path) -> tuple[dict, dict]:
    """The documents indexed by Whoosh's writer and by SegmentBuilder: both indexes' contents."""
    (folder / "whoosh").mkdir()
    (folder / "builder").mkdir()
    plain = index.create_in(str(folder / "whoosh"), indexing.SCHEMA)
    writer = plain.writer()
    for document in documents:
        writer.add_document(**document)
    writer.commit(optimize=True)
    fast = index.create_in(str(folder / "builder"), indexing.SCHEMA)
    builder = SegmentBuilder(fast)
    for document in documents:
        builder.add(document)
    TOC(indexing.SCHEMA, [builder.finish()], 1).write(fast.storage, fast.indexname)
    return _contents(index.open_dir(str(folder / "whoosh"))), \
        _contents(index.open_dir(str(folder / "builder")))


SAMPLE = Path(__file__).resolve().parent.parent / "content"


def test_the_segment_of_the_sample_directory_is_the_one_whoosh_writes(make_app, tmp_path):
    app = make_app(content=SAMPLE)
    with app.app_context():
        documents = [indexing.to_document(activity) for activity in indexing._activities()]
        documents.append(indexing.position_document(indexing.changelog.snapshot_position()))
    whoosh_made, built = _both_ways(documents, tmp_path)
    assert len(documents) > 100 and len(whoosh_made) > 2000  # not an empty comparison
    assert built == whoosh_made


WORDS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
# Words people write (stop words, stems, accents, numbers, punctuation, repeats) and noise.
PROSE = st.lists(st.one_of(
    st.sampled_from(["the", "and", "Knitting", "knit", "café", "CAFÉ", "naïve", "a", "I", "to",
                     "walking", "walks", "3.5", "e.g.", "co-op", "o'clock", "**", "x_y", "Ünïcödé",
                     "ﬁsh", "İstanbul", "ß", "mañana", "don't", "2024", "be", "is", "tea."]),
    WORDS), max_size=60).map(" ".join)


@settings(max_examples=examples(150), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(texts=st.lists(st.tuples(PROSE, PROSE, PROSE), min_size=1, max_size=6))
def test_any_text_is_indexed_as_whoosh_indexes_it(tmp_path_factory, texts):
    # Keyword values that share terms ("arts" in two of them) and short texts that repeat.
    categories = ["arts,music", "", "arts", "music,sport"]
    organisations = ["Leeds Mind", "Age UK Leeds", "Leeds Mind", ""]
    # Fields left out or None in some documents, and in another order in others.
    documents = [{"uuid": f"u{number}", "title": title, "summary": summary, "body": body,
                  "spell": " ".join((title, summary)), "place": body[:20] if number % 3 else None,
                  "status": "running", "category": categories[number % 4], "age_min": number,
                  "organisation": organisations[number % 4]}
                 for number, (title, summary, body) in enumerate(texts)]
    for number, document in enumerate(documents):
        if number % 2:
            documents[number] = dict(reversed(document.items()))
        if number % 4 == 3:
            del documents[number]["title"]
    whoosh_made, built = _both_ways(documents, tmp_path_factory.mktemp("texts"))
    assert built == whoosh_made


@settings(max_examples=examples(200), deadline=None)
@given(text=st.text(st.sampled_from("ab1 .*-_()[]\\\néß"), max_size=30))
def test_a_tokenizer_pattern_with_groups_finds_the_same_tokens(text):
    import re

    from sitedir.segment_writer import _word_finder
    # Groups made non-capturing (so findall returns whole tokens), groups inside character
    # classes and escapes left alone, and patterns that must not be rewritten (a back-reference,
    # a named group) still give every whole match.
    for source in (r"[\w\*]+(\.?[\w\*]+)*", r"\w+(\.?\w+)*", r"[()\]]+(a|b)?",
                   r"\(?(\w+)\)?", r"(\w)\1", r"(?P<word>\w+)", r"(?:a|b)(1)?", r"\w+"):
        pattern = re.compile(source)
        assert _word_finder(pattern)(text) == [m.group(0) for m in pattern.finditer(text)], source


def test_length_bytes_are_whooshs_length_to_byte():
    import numpy as np
    from whoosh.util.numeric import length_to_byte

    from sitedir.segment_writer import _length_bytes
    lengths = np.array(list(range(3000)) + list(range(3000, 300_000, 97)))
    assert _length_bytes(np, lengths).tolist() == [length_to_byte(int(n)) for n in lengths]


@pytest.mark.parametrize("numbers", [[], [3, 200], [5, 70_000, 2], [2**31 + 1, 1], [2**33]])
def test_numbers_extended_at_once_are_as_appended_one_by_one(numbers):
    from whoosh.util.numlists import GrowableArray

    from sitedir.segment_writer import _extend

    one_by_one, at_once = GrowableArray(), GrowableArray()
    one_by_one.append(7)
    at_once.append(7)
    for number in numbers:
        one_by_one.append(number)
    _extend(at_once, numbers)
    assert (at_once.typecode, list(at_once)) == (one_by_one.typecode, list(one_by_one))


@given(key=st.binary(max_size=60))
def test_the_term_index_hash_is_whooshs(key):
    from whoosh.filedb.filetables import md5_hash

    from sitedir.segment_writer import _md5_hash

    assert _md5_hash(key) == md5_hash(key)


def test_an_analyzer_with_a_filter_it_does_not_know_has_no_fast_form():
    from whoosh.analysis import NgramFilter, RegexTokenizer, StandardAnalyzer
    assert fast_form(StandardAnalyzer()) is not None
    assert fast_form(RegexTokenizer() | NgramFilter(2)) is None


def _results(app, queries):
    service = search.get_service(app)
    service.close()
    with app.test_request_context():
        return {text: [(hit.uuid, round(hit.score, 6)) for hit in service.search(
            search.SearchRequest(text=text, per_page=100)).hits] for text in queries}


def test_a_parallel_rebuild_finds_what_a_serial_one_finds(make_app, monkeypatch):
    app = make_app(content=SAMPLE)
    queries = ["", "art", "walking group", "coffee", "dementia carers", "LS9", "music OR dance"]
    with app.app_context():
        assert indexing.rebuild(app, parallel=False) > 100
    serial = _results(app, queries)
    monkeypatch.setattr(indexing, "PARALLEL_REBUILD_FROM", 10)
    with app.app_context():
        indexing.rebuild(app, parallel=True)
        ix = indexing.open_index(indexing.index_dir(app))
        assert len(ix._segments()) == 2  # one per process: the parallel path really ran
        assert indexing.differences() == {"missing": [], "extra": [], "stale": []}
        assert indexing.index_position() is not None
    assert _results(app, queries) == serial
    assert all(serial[text] for text in queries if text != "music OR dance")


@pytest.mark.parametrize("parallel", [False, True])
def test_rebuild_skips_nothing_and_counts_every_listing(make_app, monkeypatch, parallel):
    monkeypatch.setattr(indexing, "PARALLEL_REBUILD_FROM", 1)
    app = make_app()
    with app.app_context():
        count = indexing.rebuild(app, parallel=parallel)
        with indexing.open_index(indexing.index_dir(app)).searcher() as searcher:
            assert searcher.doc_count() == count + 1  # and the change-log position


def test_a_rebuild_writes_segments_of_a_bounded_size(make_app, monkeypatch):
    app = make_app(content=SAMPLE)
    queries = ["art", "walking group", "LS9", ""]
    with app.app_context():
        indexing.rebuild(app, parallel=False)
    whole = _results(app, queries)
    monkeypatch.setattr(indexing, "SEGMENT_DOCS", 50)
    with app.app_context():
        count = indexing.rebuild(app, parallel=False)
        sizes = [segment.doc_count_all()
                 for segment in indexing.open_index(indexing.index_dir(app))._segments()]
    assert max(sizes) == 50 and sum(sizes) == count + 1 and len(sizes) == -(-(count + 1) // 50)
    assert _results(app, queries) == whole


def _browse(app, sort: str, **request) -> list[str]:
    service = search.get_service(app)
    with app.test_request_context():
        result = service.search(search.SearchRequest(sort=sort, per_page=500, **request))
        return [hit.uuid for hit in result.hits]


def test_name_and_review_orders_hold_across_the_segments_commits_add(make_app):
    """After a rebuild, the indexer's commits add small segments: browsing orders (the whole
    list, walked lazily, and a few results, sorted) must be those of the listings as they are."""
    from sqlalchemy import select

    from sitedir.extensions import db
    from sitedir.models import Activity
    from tests.search_helpers import add_activity

    app = make_app(content=SAMPLE)
    with app.app_context():
        indexing.rebuild(app, parallel=False)
        first, second = db.session.scalars(select(Activity).order_by(Activity.id).limit(2))
        first.title = "Aardvark drawing club"  # moves to the top of the name order
        second.last_reviewed = None  # to the bottom of the review order
        add_activity("Zebra crossing walkers", 53.8, -1.5)
        add_activity("Aaron's allotment", 53.8, -1.5, last_reviewed=dt.date.today())
        db.session.commit()
        indexing.drain_all()
        assert len(indexing.open_index(indexing.index_dir(app))._segments()) > 1
        shown = db.session.scalars(select(Activity).where(Activity.status != "closed")).all()
        by_id = {activity.uuid: activity for activity in shown}
        expected_names = sorted(by_id, key=lambda u: (
            " ".join(by_id[u].title.lower().split()), by_id[u].id))
        expected_reviewed = sorted(by_id, key=lambda u: (
            -(by_id[u].last_reviewed.toordinal() if by_id[u].last_reviewed else 0),
            " ".join(by_id[u].title.lower().split()), by_id[u].id))
    assert _browse(app, "name") == expected_names
    assert _browse(app, "reviewed") == expected_reviewed
    with app.app_context():
        from sitedir.models import Term
        keys = [term.key for term in db.session.scalars(select(Term).where(
            Term.taxonomy.in_(("category", "need"))))]
    fews = [few for few in (_browse(app, "name", filters={"helps": [key]}) for key in keys)
            if 1 < len(few) < len(expected_names) / 16]  # the sorted-few path, not the walk
    assert fews
    for few in fews:
        assert few == [u for u in expected_names if u in set(few)]


def _outdated_index_is_rebuilt_by_the_indexer(app, monkeypatch, older) -> None:
    """An index written with `older` is outdated; the indexer rebuilds it with SCHEMA, and the
    TOCs its own commits write afterwards stay current."""
    with app.app_context():
        monkeypatch.setattr(indexing, "SCHEMA", older)
        indexing.rebuild(app, parallel=False)
        monkeypatch.undo()
        assert indexing.schema_outdated(indexing.index_dir(app))
        indexing.drain_all()
        assert not indexing.schema_outdated(indexing.index_dir(app))
        add_activity("Evening choir")
        db.session.commit()
        indexing.drain_all()
        assert not indexing.schema_outdated(indexing.index_dir(app))
        assert indexing.differences() == {"missing": [], "extra": [], "stale": []}


def test_an_index_of_an_older_schema_is_rebuilt_by_the_indexer(make_app, monkeypatch):
    from whoosh import fields

    older = indexing.build_schema()
    older.remove("digest")
    older.add("digest", fields.ID(stored=True))  # as the index was before this change
    _outdated_index_is_rebuilt_by_the_indexer(make_app(), monkeypatch, older)


def test_an_index_of_an_older_document_format_is_rebuilt_by_the_indexer(make_app, monkeypatch):
    """Same fields, other terms or digests (the stemmer changed)."""
    older = indexing.build_schema()
    del older.document_format  # as a TOC written before formats were numbered
    _outdated_index_is_rebuilt_by_the_indexer(make_app(), monkeypatch, older)
