"""Editing one section at a time, "check your answers", and sending once."""
from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from sitedir.extensions import db
from sitedir.manage.models import ChangeRequest
from sitedir.manage.sections import SECTIONS, section_of
from tests.manage_helpers import activity_form, manage_app, sign_in, sign_in_privileged

KNIT = "harehills-knit-and-natter"


@pytest.fixture()
def app(make_app) -> Flask:
    return manage_app(make_app)


@pytest.fixture()
def editor(app):
    return sign_in(app.test_client(), app, "editor@example.org")


def _changes(app: Flask) -> list[ChangeRequest]:
    with app.app_context():
        rows = db.session.scalars(select(ChangeRequest).order_by(ChangeRequest.id)).all()
        db.session.expunge_all()
        return rows


def test_every_section_shows_only_its_own_fields(app, editor) -> None:
    form = activity_form(app, KNIT)
    for key, (title, fields, _) in SECTIONS.items():
        page = editor.get(f"/manage/activities/{KNIT}/edit/{key}").data.decode()
        assert f">{title}</h1>" in page
        page = page.split(f">{title}</h1>", 1)[1].split("</form>", 1)[0]
        names = set(re.findall(r'name="([a-z_]+[a-z0-9_-]*)"', page)) - {
            "csrf_token", "action", "slot_count", "date_count"}
        assert names and all(section_of(name) == key for name in names), (key, names)
    assert set(form) >= {"title", "contact_email"}


def test_sections_then_check_your_answers_then_send(app, editor) -> None:
    url = f"/manage/activities/{KNIT}"
    form = activity_form(app, KNIT)
    about = {k: v for k, v in form.items() if section_of(k) == "about"}
    response = editor.post(f"{url}/edit/about", data={**about, "title": "Knit and Chat"})
    assert response.status_code == 302 and response.location.endswith("/check#about")
    contact = {k: v for k, v in form.items() if section_of(k) == "contact"}
    editor.post(f"{url}/edit/contact", data={**contact, "contact_name": "Priya Natter"})
    assert [c.status for c in _changes(app)] == ["draft"]  # nothing sent yet
    summary = editor.get(f"{url}/check").data.decode()
    assert "Check your answers" in summary and "Knit and Chat" in summary
    assert "Priya Natter" in summary
    assert summary.count("Changed</strong>") == 2
    assert editor.get("/manage/queue").status_code == 403
    editor.post(f"{url}/check", data={"action": "send"})
    change = _changes(app)[-1]
    assert change.status == "pending"
    assert change.payload["title"] == "Knit and Chat"
    assert change.payload["contact"]["name"] == "Priya Natter"


def test_section_errors_name_the_row_and_field_once(app, editor) -> None:
    form = activity_form(app, KNIT)
    when = {k: v for k, v in form.items() if section_of(k) == "when" or k.endswith("_count")}
    when.update({"slot-0-start": "9am", "slot-1-day": "monday", "slot-1-start": "25:00",
                 "slot-1-end": "26:00"})
    page = editor.post(f"/manage/activities/{KNIT}/edit/when", data=when)
    assert page.status_code == 400
    html = page.data.decode()
    summary = html.split('govuk-error-summary__list">', 1)[1].split("</ul>", 1)[0]
    messages = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)
    assert ("slot-0-start", "Regular time 1, start: enter a time like 10:00 or 18:30") in messages
    assert any(anchor == "slot-1-start" and text.startswith("Regular time 2, start")
               for anchor, text in messages)
    assert len({text for _, text in messages}) == len(messages)  # each one once
    assert [c.status for c in _changes(app)] == []


def test_discard_and_unknown_section(app, editor) -> None:
    form = activity_form(app, KNIT)
    access = {k: v for k, v in form.items() if section_of(k) == "access"}
    editor.post(f"/manage/activities/{KNIT}/edit/access", data={**access, "accessibility": []})
    editor.post(f"/manage/activities/{KNIT}/check", data={"action": "discard"})
    assert _changes(app) == []
    assert editor.get(f"/manage/activities/{KNIT}/edit/nothing").status_code == 404


def test_queue_diffs_against_the_published_listing_and_marks_second_requests(
        app, editor) -> None:
    moderator = sign_in_privileged(app.test_client(), app, "mod@example.org")
    first = activity_form(app, KNIT, title="Knit and Chat")
    second = activity_form(app, KNIT, summary="A new summary for the group.")
    third = activity_form(app, KNIT, summary="Yet another summary.")
    for form in (first, second, third):
        editor.post(f"/manage/activities/{KNIT}/edit", data=form)
    ids = [c.id for c in _changes(app)]
    queue = moderator.get("/manage/queue").data.decode()
    assert queue.count("Another request for this listing") == 3
    moderator.post(f"/manage/queue/changes/{ids[0]}/approve")
    page = moderator.get(f"/manage/queue/changes/{ids[1]}").data.decode()
    assert 'id="moved-on"' in page and 'id="other-requests"' in page
    assert 'id="diff-summary"' in page and 'id="diff-title"' not in page  # title is live now
    response = moderator.post(f"/manage/queue/changes/{ids[2]}/supersede/{ids[1]}")
    assert response.status_code == 302
    assert [c.status for c in _changes(app)] == ["approved", "superseded", "pending"]
    assert moderator.post(f"/manage/queue/changes/{ids[2]}/supersede/{ids[1]}").status_code == 409
