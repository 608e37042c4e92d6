"""Insight: unmet demand recorded anonymously, usage counted per listing, reports by role."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import inspect, select, text

from sitedir.extensions import db
from sitedir.insight import recording
from tests.connect_support import FAST, RECOMMENDATION, submit
from tests.manage_helpers import manage_app, sign_in, totp_for
from tests.search_helpers import rebuild

BROWSER = {"User-Agent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/124 Mobile"}
KNIT = "harehills-knit-and-natter"
ABSENT = "/search?q=underwater+basket+weaving&near=LS9+8AB"


@pytest.fixture()
def insight_app(make_app):
    app = manage_app(make_app, INSIGHT_FLUSH_SECONDS=0, **FAST)
    rebuild(app)
    from sitedir.manage.cli import create_user
    with app.app_context():
        create_user("commissioner@example.org", "insight")
    return app


def on_day(monkeypatch, day: dt.date) -> None:
    monkeypatch.setattr(recording, "today", lambda: day)


def flush(app) -> None:
    with app.app_context():
        app.extensions["insight"].flush()


def commissioner(app):
    return sign_in(app.test_client(), app, "commissioner@example.org")


def search_on_days(app, monkeypatch, url: str, days: int) -> None:
    client = app.test_client()
    start = dt.date.today() - dt.timedelta(days=days)
    for offset in range(days):
        on_day(monkeypatch, start + dt.timedelta(days=offset + 1))
        assert client.get(url, headers=BROWSER).status_code == 200
        flush(app)
    monkeypatch.undo()


def test_a_search_that_finds_nothing_on_three_days_appears_with_its_area(
        insight_app, monkeypatch) -> None:
    search_on_days(insight_app, monkeypatch, ABSENT, 3)
    search_on_days(insight_app, monkeypatch, "/search?q=zither+orchestra&near=Otley", 1)
    result = insight_app.test_cli_runner().invoke(args=["insight", "unmet"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "basket" in line)
    assert "LS9" in line and "LS9 8AB" not in result.output and re.search(r"\b3\b", line)
    assert "zither" not in result.output  # searched on one day only
    page = commissioner(insight_app).get("/insight/words").text
    assert "basket" in page and "LS9" in page and "zither" not in page
    as_csv = insight_app.test_cli_runner().invoke(args=["insight", "unmet", "--format", "csv"])
    assert as_csv.output.splitlines()[0] == "words,filters,area,days,searches,no_results,last_day"
    assert commissioner(insight_app).get("/insight/words.csv").text == as_csv.output


def test_searches_are_counted_per_area_and_category_so_gaps_show_as_a_share(
        insight_app, monkeypatch) -> None:
    client = insight_app.test_client()
    for url in ("/search?near=LS9&category=arts-and-crafts", ABSENT + "&category=arts-and-crafts",
                "/search", "/search?page=2", "/search?q=nothing+like+it"):
        client.get(url, headers=BROWSER)
    client.get("/search?q=nothing+like+it", headers={"User-Agent": "Googlebot/2.1"})
    flush(insight_app)
    with insight_app.app_context():
        from sitedir.insight.reports import unmet_by_area
        rows = {(r.area, r.category): (r.searches, r.unmet) for r in unmet_by_area()}
    assert rows[("LS9", "arts-and-crafts")][0] == 2
    assert rows[("LS9", "arts-and-crafts")][1] >= 1  # basket weaving found nothing
    assert rows[("", "")] == (2, 1)  # page 2 and the bot are not counted
    page = commissioner(insight_app).get("/insight/unmet").text
    assert "LS9" in page and "<svg" in page and 'role="img"' in page and "%" in page
    cli = insight_app.test_cli_runner().invoke(args=["insight", "unmet", "--by", "area",
                                                     "--format", "csv"])
    assert commissioner(insight_app).get("/insight/unmet.csv").text == \
        insight_app.test_cli_runner().invoke(args=["insight", "unmet", "--by", "area",
                                                   "--format", "csv", "--since", "91"]).output
    assert "No place given" in cli.output


def test_listing_use_is_counted_for_people_not_bots(insight_app) -> None:
    client = insight_app.test_client()
    for _ in range(3):
        client.get(f"/activities/{KNIT}", headers=BROWSER)
    client.get(f"/activities/{KNIT}", headers={"User-Agent": "Mozilla/5.0 (compatible; bingbot)"})
    client.get(f"/activities/{KNIT}")  # the test client's own agent is Werkzeug: counted
    client.get(f"/activities/{KNIT}", headers={"User-Agent": ""})  # no agent: not counted
    client.head(f"/activities/{KNIT}", headers=BROWSER)
    client.get("/activities/no-such-thing", headers=BROWSER)
    client.get(f"/activities/{KNIT}.ics", headers=BROWSER)
    assert client.post(f"/insight/ping/{KNIT}/contact", headers=BROWSER).status_code == 204
    assert client.post(f"/insight/ping/{KNIT}/nonsense", headers=BROWSER).status_code == 404
    response = submit(client, f"/activities/{KNIT}/recommend", RECOMMENDATION)
    client.get(response.location + "/print", headers=BROWSER)
    submit(client, f"/activities/{KNIT}/recommend",
           {**RECOMMENDATION, "role": "youth_work", "delivery": "qr"})
    flush(insight_app)
    result = insight_app.test_cli_runner().invoke(
        args=["insight", "usage", "--activity", KNIT, "--format", "csv"])
    header, row = result.output.splitlines()
    figures = dict(zip(header.split(","), row.split(",")))
    assert figures["view"] == "4" and figures["calendar"] == "1" and figures["contact"] == "1"
    assert figures["print"] == "1" and figures["recommendations"] == "2"
    assert figures["recommended_by_library"] == "1" and figures["recommended_by_youth_work"] == "1"
    assert figures["recommended_by_print"] == "1" and figures["recommended_by_qr"] == "1"
    page = commissioner(insight_app).get("/insight/usage").text
    assert "Knit and Natter" in page
    table = insight_app.test_cli_runner().invoke(args=["insight", "usage", "--since", "30"])
    assert KNIT in table.output
    missing = insight_app.test_cli_runner().invoke(args=["insight", "usage", "--activity", "x"])
    assert missing.exit_code != 0 and "No activity" in missing.output


def test_activity_page_contact_links_ping_the_counter(client) -> None:
    page = client.get(f"/activities/{KNIT}").text
    assert f'ping="/insight/ping/{KNIT}/contact"' in page


def test_only_insight_readers_and_admins_see_reports(insight_app) -> None:
    anonymous = insight_app.test_client()
    assert anonymous.get("/insight/").status_code == 302
    for email in ("editor@example.org", "mod@example.org"):
        assert sign_in(insight_app.test_client(), insight_app, email).get(
            "/insight/unmet").status_code == 403
    reader = commissioner(insight_app)
    for name in ("unmet", "words", "searches", "freshness", "recommendations", "usage"):
        assert reader.get(f"/insight/{name}").status_code == 200, name
        csv = reader.get(f"/insight/{name}.csv")
        assert csv.status_code == 200 and csv.mimetype == "text/csv", name
        assert reader.post(f"/insight/{name}").status_code == 405  # read-only
    assert reader.get("/insight/unmet?since=7").status_code == 400
    assert reader.get("/insight/nothing").status_code == 404
    assert "Insight reports" in reader.get("/manage/?all=1").text
    admin = sign_in(insight_app.test_client(), insight_app, "admin@example.org")
    assert "/manage/two-factor" in admin.get("/insight/").location
    admin.get("/manage/two-factor")
    admin.post("/manage/two-factor", data={"code": totp_for(insight_app, "admin@example.org")})
    assert admin.get("/insight/recommendations").status_code == 200


def test_recommendations_report_by_month_role_and_method(insight_app) -> None:
    client = insight_app.test_client()
    submit(client, f"/activities/{KNIT}/recommend", RECOMMENDATION)
    submit(client, f"/activities/{KNIT}/recommend", {**RECOMMENDATION, "role": "youth_work"})
    page = commissioner(insight_app).get("/insight/recommendations").text
    assert "Youth work" in page and "Library" in page and "Sam Reader" not in page
    month = dt.date.today().strftime("%Y-%m")
    assert re.search(rf"<th scope=\"row\" class=\"govuk-table__header\">{month}</th>"
                     r"<td class=\"govuk-table__cell govuk-table__cell--numeric\">2</td>", page)


def test_organisation_sees_its_own_figures_and_downloads_them(insight_app) -> None:
    client = insight_app.test_client()
    for _ in range(2):
        submit(client, f"/activities/{KNIT}/recommend", RECOMMENDATION)
    editor = sign_in(insight_app.test_client(), insight_app, "editor@example.org")
    page = editor.get("/manage/organisations/harehills-friends").text
    assert "recommended 2 times in the last 3 months" in page
    csv = editor.get("/insight/organisations/harehills-friends.csv")
    assert csv.status_code == 200 and KNIT in csv.text
    assert "attachment" in csv.headers["Content-Disposition"]
    assert editor.get("/insight/organisations/wharfedale-walkers.csv").status_code == 403
    assert editor.get("/insight/organisations/harehills-friends.csv?since=3").status_code == 400


def test_raw_rows_are_folded_and_deleted_after_the_retention_period(
        insight_app, monkeypatch) -> None:
    search_on_days(insight_app, monkeypatch, ABSENT, 3)
    search_on_days(insight_app, monkeypatch, "/search?q=zither+orchestra&near=Otley", 2)
    with insight_app.app_context():
        from sitedir.insight.models import UnmetSearch, UnmetWords
        on_day(monkeypatch, dt.date.today() + dt.timedelta(days=200))
        runner = insight_app.test_cli_runner()
        result = runner.invoke(args=["privacy", "purge"])
        assert "raw insight search rows" in result.output, result.output
        assert db.session.scalar(select(db.func.count(UnmetSearch.id))) == 0
        kept = db.session.scalars(select(UnmetWords)).all()
        assert [(w.area, w.days) for w in kept] == [("LS9", 3)]
        assert "basket" in runner.invoke(args=["insight", "unmet"]).output
        assert "zither" not in str([w.words for w in kept])


IDENTIFYING = ["LS9 8AB", "LS98AB", "8AB", "sam.reader@example.org", "07700900123", "53.80",
               "-1.52", "127.0.0.1", "Sam Reader", "Ask for Pat", "Leeds Central Library",
               "alex@example.org", "Alex"]


def test_no_insight_table_holds_anything_that_identifies_a_person(
        insight_app, monkeypatch) -> None:
    client = insight_app.test_client()
    identifying_searches = [
        "/search?q=sam.reader@example.org+07700900123+LS9+8AB&near=LS9+8AB",
        "/search?q=choir+LS98AB&near=ls98ab&age=37",
        "/search?q=swimming&near=53.80,-1.52",
        "/search?q=knit&near=53.80,-1.52",
        "/search?near=LS9+8AB&category=arts-and-crafts",
    ]
    today = dt.date.today()
    for day in (today - dt.timedelta(days=300), today - dt.timedelta(days=299),
                today - dt.timedelta(days=298), today):  # old enough to be folded, and today
        on_day(monkeypatch, day)
        for url in identifying_searches:
            client.get(url, headers=BROWSER)
            client.get(url.replace("/search", "/search.json"), headers=BROWSER)
        flush(insight_app)
    monkeypatch.undo()
    assert "folded" in insight_app.test_cli_runner().invoke(args=["privacy", "purge"]).output
    client.get(f"/activities/{KNIT}", headers=BROWSER)
    client.get(f"/activities/{KNIT}.ics", headers=BROWSER)
    client.post(f"/insight/ping/{KNIT}/contact", headers=BROWSER)
    response = submit(client, f"/activities/{KNIT}/recommend", {
        **RECOMMENDATION, "delivery": "email", "email": "alex@example.org", "consent": "y"})
    client.get(response.location + "/print", headers=BROWSER)
    flush(insight_app)
    with insight_app.app_context():
        tables = [name for name in inspect(db.engine).get_table_names()
                  if name.startswith("insight_")]
        assert len(tables) == 4
        stored = []
        for name in tables:
            rows = db.session.execute(text(f"SELECT * FROM {name}")).all()  # noqa: S608
            assert rows, f"{name} is empty: the test did not reach it"
            stored += [str(value) for row in rows for value in row]
        session_cookie = client.get_cookie("session")
    dump = " | ".join(stored)
    for value in IDENTIFYING + ([session_cookie.value] if session_cookie else []):
        assert value.lower() not in dump.lower(), value
    assert "age=25-64" in dump and "age=37" not in dump


def test_area_keeps_only_the_outcode_or_the_place_name() -> None:
    from sitedir.geo import Place

    assert recording.area_of(Place("LS9 8AB", "postcode", 53.8, -1.5, "Leeds")) == "LS9"
    assert recording.area_of(Place("LS9 8", "sector", 53.8, -1.5, "Leeds")) == "LS9"
    assert recording.area_of(Place("Otley", "place", 53.9, -1.7, "Leeds")) == "Otley, Leeds"
    assert recording.area_of(Place("53.8,-1.5", "coordinates", 53.8, -1.5)) == ""
    assert recording.area_of(Place("2 Main St LS9 8AB", "place", 53.8, -1.5)) == ""
    assert recording.area_of(None) == ""


@pytest.mark.parametrize("typed, kept", [
    ("Knitting GROUPS", "group knit"),
    ("knit group", "group knit"),
    ("café LS9 8AB 07700900123", "cafe"),
    ("sam@example.org walking", "walk"),
])
def test_words_are_normalised_like_the_search_and_lose_digits(typed, kept) -> None:
    assert recording.normalise_words(typed) == kept


@pytest.mark.parametrize("agent, bot", [
    (BROWSER["User-Agent"], False), ("", True), (None, True), ("Googlebot/2.1", True),
    ("curl/8.5", True), ("python-requests/2.31", True),
    ("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/124", True),
])
def test_bots_are_recognised_by_user_agent(agent, bot) -> None:
    assert recording.is_bot(agent) is bot


def test_a_failed_flush_keeps_the_counts_for_the_next_one(insight_app, monkeypatch) -> None:
    insight_app.test_client().get(f"/activities/{KNIT}", headers=BROWSER)
    recorder = insight_app.extensions["insight"]

    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(recording, "_write", broken)
    with insight_app.app_context(), pytest.raises(RuntimeError):
        recorder.flush()
    monkeypatch.undo()
    flush(insight_app)
    result = insight_app.test_cli_runner().invoke(
        args=["insight", "usage", "--activity", KNIT, "--format", "csv"])
    assert dict(zip(*[line.split(",") for line in result.output.splitlines()]))["view"] == "1"


def test_the_privacy_page_states_the_rules_the_code_applies(make_app) -> None:
    from sitedir.insight.reports import MIN_DAYS
    from tests.conftest import REPO

    app = make_app(REPO / "content", INSIGHT_RETENTION_DAYS=45)
    page = " ".join(re.sub(r"<[^>]+>", " ", app.test_client().get("/pages/privacy").text).split())
    assert "After 45 days these records are added into totals and deleted" in page
    assert f"at least {MIN_DAYS} different days" in page
    assert recording.UNMET_BELOW == 3 and "fewer than three activities" in page
    assert "never a full postcode" in page


def test_a_browser_revalidating_its_cached_page_counts_as_a_view(insight_app) -> None:
    client = insight_app.test_client()
    first = client.get(f"/activities/{KNIT}", headers=BROWSER)
    if not first.headers.get("ETag"):
        pytest.skip("activity pages carry no ETag in this build")
    again = client.get(f"/activities/{KNIT}",
                       headers={**BROWSER, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    flush(insight_app)
    result = insight_app.test_cli_runner().invoke(
        args=["insight", "usage", "--activity", KNIT, "--format", "csv"])
    assert dict(zip(*[line.split(",") for line in result.output.splitlines()]))["view"] == "2"
