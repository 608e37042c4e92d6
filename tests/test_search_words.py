"""Search in the words people type: vocabulary, word forms, spelling, filter words, sinking."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from flask import Flask

from sitedir import vocabulary
from sitedir.extensions import db
from sitedir.content import load_catalogue, read_catalogue
from sitedir.search import read_filter_words
from sitedir.search.spelling import distance
from tests.conftest import FIXTURE_CONTENT, build_app
from tests.search_helpers import add_activity, rebuild, slugs

VOCABULARY = [
    {"words": ["natter", "chinwag", "a good chat"], "related": ["sewing"]},
    {"words": ["sewing", "stitching"], "related": ["knitting"]},
    {"words": ["lonely", "on my own"], "helps": ["loneliness-and-isolation"]},
]


def _content_with(folder: Path, groups: list | None) -> Path:
    target = folder / "content"
    shutil.copytree(FIXTURE_CONTENT, target)
    if groups is not None:
        (target / vocabulary.FILE_NAME).write_text(yaml.safe_dump(groups), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def worded(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The fixture corpus with a small vocabulary, indexed once for this module."""
    folder = tmp_path_factory.mktemp("worded")
    app = build_app(folder / "app", _content_with(folder, VOCABULARY))
    rebuild(app)
    return app


@pytest.fixture()
def api(worded: Flask):
    return worded.test_client()


# ---- the vocabulary as content ------------------------------------------------------------

@pytest.mark.parametrize(("groups", "message"), [
    ({"words": ["a"]}, "vocabulary.yaml: must be a list of groups"),
    ([{"words": ["knit"]}], "[0]: a group needs two words"),
    ([{"words": ["knit", "Knit"]}], "'Knit' is listed twice"),
    ([{"words": ["knit", "the"]}], "[0].words[1]: 'the' has no word search can use"),
    ([{"words": ["knit", "IT help"]}], "[0].words[1]: 'IT help' is read as just 'help'"),
    ([{"words": ["knit", "purl"], "helps": ["no-such-need"]}], "[0].helps[0]: unknown key"),
    ([{"words": ["knit", "purl"], "colour": "red"}], "[0].colour: Extra inputs"),
])
def test_bad_vocabulary_is_refused_naming_file_and_field(
        tmp_path: Path, groups: object, message: str) -> None:
    errors = read_catalogue(_content_with(tmp_path, groups)).errors
    assert any("content/vocabulary.yaml" in error and message in error for error in errors), errors


def test_vocabulary_loads_and_exports_the_same(worded: Flask, tmp_path: Path) -> None:
    with worded.app_context():
        from sitedir.content import export_catalogue

        export_catalogue(tmp_path / "out")
    exported = yaml.safe_load((tmp_path / "out" / vocabulary.FILE_NAME).read_text())
    assert exported == VOCABULARY


# ---- expansion at query time ----------------------------------------------------------------

def test_other_words_of_a_group_find_listings_and_are_said(api) -> None:
    body = api.get("/search.json?q=chinwag").get_json()
    assert [item["slug"] for item in body["results"]][:1] == ["harehills-knit-and-natter"]
    assert "natter" in body["also_showing"]


def test_the_typed_word_outranks_the_words_it_expands_to(api) -> None:
    found = slugs(api, "/search.json?q=sewing")
    assert found[0] == "gipton-home-sewing-circle"
    assert "harehills-knit-and-natter" in found  # found through "knitting", ranked below


def test_a_group_can_name_taxonomy_keys(api) -> None:
    found = slugs(api, "/search.json?q=on+my+own")
    assert "harehills-knit-and-natter" in found  # tagged loneliness-and-isolation


def test_changing_the_vocabulary_needs_no_reindex(tmp_path: Path) -> None:
    app = build_app(tmp_path / "app", _content_with(tmp_path, []))
    rebuild(app)
    client = app.test_client()
    assert slugs(client, "/search.json?q=chinwag") == []
    with app.app_context():
        load_catalogue(read_catalogue(_content_with(tmp_path / "again", VOCABULARY)))
    assert slugs(client, "/search.json?q=chinwag")[0] == "harehills-knit-and-natter"


def test_the_open_referral_api_reads_words_the_same_way(api) -> None:
    for words in ("chinwag", "knitters", "on my own"):
        body = api.get(f"/openreferral/services?search={words}").get_json()
        site = api.get(f"/search.json?q={words}").get_json()
        assert {service["name"] for service in body["contents"]} == {
            item["title"] for item in site["results"]}, words


@pytest.mark.parametrize(("query", "slug"), [
    ("knitters", "harehills-knit-and-natter"),  # agent noun → the activity
    ("walkers", "otley-health-walk"),
])
def test_people_doing_it_find_the_activity(api, query: str, slug: str) -> None:
    assert slug in slugs(api, f"/search.json?q={query}")


# ---- spelling ---------------------------------------------------------------------------------

def test_a_confident_correction_is_searched_and_said(api) -> None:
    body = api.get("/search.json?q=kniting").get_json()
    assert body["corrected_from"] == "kniting" and body["searched"] == "knitting"
    assert body["results"][0]["slug"] == "harehills-knit-and-natter"
    exact = api.get("/search.json?q=kniting&exact=1").get_json()
    assert exact["results"] == [] and exact["did_you_mean"] == "knitting"
    page = api.get("/search?q=kniting").get_data(as_text=True)
    assert "Showing results for <strong>knitting</strong>" in page and "exact=1" in page


def test_no_suggestion_for_a_word_that_finds_listings(api) -> None:
    body = api.get("/search.json?q=walk").get_json()
    assert body["did_you_mean"] is None and body["corrected_from"] is None


def test_a_word_nothing_is_near_is_left_alone(api) -> None:
    body = api.get("/search.json?q=xylophone").get_json()
    assert body["results"] == [] and body["did_you_mean"] is None


def test_doubled_letters_cost_half() -> None:
    assert distance("potery", "pottery") == 0.5
    assert distance("potery", "poetry") == 1
    assert distance("yoag", "yoga") == 1


# ---- words that are filters ---------------------------------------------------------------------

@pytest.mark.parametrize(("text", "left", "days", "times", "formats", "free", "age"), [
    ("saturday walk", "walk", ["saturday"], [], [], False, None),
    ("walks on Saturday mornings", "walks", ["saturday"], ["morning"], [], False, None),
    ("free singing", "singing", [], [], [], True, None),
    ("befriending by phone", "befriending", [], [], ["phone"], False, None),
    ("online support group", "support group", [], [], ["online"], False, None),
    ("weekend", "", ["saturday", "sunday"], [], [], False, None),
    ("teens", "teens", [], [], [], False, 15),
    ("over 60s lunch", "over 60s lunch", [], [], [], False, 65),
    ("something for a 15 year old", "something", [], [], [], False, 15),
    ("knitting", "knitting", [], [], [], False, None),
])
def test_filter_words_are_read(text, left, days, times, formats, free, age) -> None:
    found = read_filter_words(text)
    assert (found.text, found.days, found.times, found.formats, found.free, found.age) == (
        left, days, times, formats, free, age)


def test_filter_words_are_applied_and_said(api) -> None:
    body = api.get("/search.json?q=knitting+tuesday").get_json()
    assert body["filters_from_words"] == {"words": ["tuesday"], "filters": {"day": ["tuesday"]},
                                          "applied": True}
    assert [item["slug"] for item in body["results"]] == ["harehills-knit-and-natter"]
    page = api.get("/search?q=knitting+tuesday").get_data(as_text=True)
    assert "Showing only activities on Tuesday" in page
    assert "Search for all the words instead" in page


def test_filter_words_that_leave_nothing_are_not_applied(api) -> None:
    body = api.get("/search.json?q=knitting+sunday").get_json()
    assert body["filters_from_words"]["applied"] is False
    assert "harehills-knit-and-natter" in [item["slug"] for item in body["results"]]


def test_exact_searches_the_words_as_typed(api) -> None:
    body = api.get("/search.json?q=knitting+tuesday&exact=1").get_json()
    assert body["filters_from_words"] is None


def test_a_place_in_the_words_is_offered(api) -> None:
    page = api.get("/search?q=walk+otley").get_data(as_text=True)
    assert 'id="place-offer"' in page and "near=Otley" in page


# ---- sinking ----------------------------------------------------------------------------------

def test_stale_full_and_on_break_listings_sink_with_the_reason(make_app) -> None:
    app = make_app()
    with app.app_context():
        add_activity("Aardvark Art", 53.8, -1.5, categories=("arts-and-crafts",), status="full")
        add_activity("Badger Art", 53.8, -1.5, categories=("arts-and-crafts",),
                     last_reviewed=dt.date(2001, 1, 1))
        add_activity("Zebra Art", 53.8, -1.5, categories=("arts-and-crafts",))
        db.session.commit()
    rebuild(app)
    client = app.test_client()
    page = client.get("/categories/arts-and-crafts").get_data(as_text=True)
    assert page.index("Zebra Art") < page.index("Aardvark Art")
    assert page.index("Zebra Art") < page.index("Badger Art")
    assert "May be out of date" in page[page.index("Badger Art"):]
    services = [service["name"] for service in
                client.get("/openreferral/services?per_page=100").get_json()["contents"]]
    assert services.index("Zebra Art") < services.index("Aardvark Art")
    assert slugs(client, "/search.json?q=art")[0] == slugs(client, "/search.json?q=zebra")[0]
