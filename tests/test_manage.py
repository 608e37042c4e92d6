"""Edit → change request → moderation → publish; diffs, merges, trust, history, claims,
registration, and that editors' text renders inert."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from sitedir import indexing, search
from sitedir.extensions import db
from sitedir.listing import local_now
from sitedir.manage.models import ChangeRequest, ListingVersion, Membership, User
from sitedir.models import Activity, ListingChange, Organisation
from tests.manage_helpers import (
    activity_form, emails_to, manage_app, sign_in, sign_in_privileged,
)

KNIT = "harehills-knit-and-natter"


@pytest.fixture()
def app(make_app) -> Flask:
    return manage_app(make_app)


@pytest.fixture()
def editor(app):
    return sign_in(app.test_client(), app, "editor@example.org")


@pytest.fixture()
def moderator(app):
    return sign_in_privileged(app.test_client(), app, "mod@example.org")


def _activity(app: Flask, slug: str = KNIT) -> Activity:
    with app.app_context():
        activity = db.session.scalar(select(Activity).where(Activity.slug == slug))
        db.session.expunge_all()
        return activity


def _last_change(app: Flask) -> ChangeRequest:
    with app.app_context():
        change = db.session.scalars(select(ChangeRequest).order_by(ChangeRequest.id.desc())).first()
        db.session.expunge_all()
        return change


def _today(app: Flask) -> dt.date:
    with app.app_context():
        return local_now().date()


def _search_uuids(app: Flask, text: str) -> list[str]:
    with app.app_context():
        indexing.drain_all()
        service = search.get_service(app)
        try:
            return [hit.uuid for hit in service.search(search.SearchRequest(text=text)).hits]
        finally:
            service.close()


def test_edit_waits_for_review_then_approval_publishes(app, editor, moderator) -> None:
    with app.app_context():
        indexing.rebuild(app)
    uuid = _activity(app).uuid
    form = activity_form(app, KNIT, title="Knit and Chat", summary="Crochet welcome too.")
    assert editor.post(f"/manage/activities/{KNIT}/edit", data=form).status_code == 302
    assert b"Knit and Natter" in editor.get(f"/activities/{KNIT}").data  # not yet published
    dashboard = editor.get("/manage/organisations/harehills-friends").data.decode()
    assert "Changes waiting for a moderator (1)" in dashboard
    change = _last_change(app)
    assert change.status == "pending" and change.base["title"] == "Knit and Natter"
    page = moderator.get(f"/manage/queue/changes/{change.id}").data.decode()
    rows = re.findall(r'<tr class="govuk-table__row" id="diff-(\w+)">', page)
    assert rows == ["title", "summary"]  # only the fields that changed, in form order
    with app.app_context():
        outbox_before = db.session.scalar(select(func.count(ListingChange.id)).where(
            ListingChange.activity_uuid == uuid))
    assert moderator.post(f"/manage/queue/changes/{change.id}/approve").status_code == 302
    public = editor.get(f"/activities/{KNIT}").data.decode()
    assert "Knit and Chat" in public and "Crochet welcome too." in public
    assert _activity(app).last_reviewed == _today(app)  # publishing an edit is a review
    with app.app_context():
        assert db.session.scalar(select(func.count(ListingChange.id)).where(
            ListingChange.activity_uuid == uuid)) == outbox_before + 1
        versions = db.session.scalars(select(ListingVersion).where(
            ListingVersion.target_uuid == uuid).order_by(ListingVersion.id)).all()
        assert [v.snapshot["title"] for v in versions] == ["Knit and Natter", "Knit and Chat"]
    assert uuid in _search_uuids(app, "crochet")
    mail = emails_to(app, "editor@example.org")[-1]
    assert mail.subject == "Your change was published"
    assert "Edit “Knit and Natter”" in mail.text_body


def test_reject_needs_a_reason_and_emails_it(app, editor, moderator) -> None:
    with app.app_context():
        indexing.rebuild(app)
    editor.post(f"/manage/activities/{KNIT}/edit",
                data=activity_form(app, KNIT, title="Bad", summary="Zanzibar"))
    change = _last_change(app)
    missing = moderator.post(f"/manage/queue/changes/{change.id}/reject", data={"reason": " "})
    assert missing.status_code == 400 and b'href="#reason"' in missing.data
    assert moderator.post(f"/manage/queue/changes/{change.id}/reject",
                          data={"reason": "Use the group's usual name"}).status_code == 302
    assert _last_change(app).status == "rejected"
    assert b"Knit and Natter" in editor.get(f"/activities/{KNIT}").data
    mail = emails_to(app, "editor@example.org")[-1]
    assert mail.subject == "Your change was not published"
    assert "Use the group's usual name" in mail.text_body
    again = moderator.post(f"/manage/queue/changes/{change.id}/approve")
    assert again.status_code == 409  # a decided change cannot be published later
    assert _search_uuids(app, "zanzibar") == []


def test_a_change_is_decided_once_even_by_two_moderators_at_once(app, editor, moderator) -> None:
    from sitedir.manage.publish import ChangeError, apply_change

    editor.post(f"/manage/activities/{KNIT}/edit", data=activity_form(app, KNIT, title="Once"))
    change_id = _last_change(app).id
    with app.app_context():
        stale = db.session.get(ChangeRequest, change_id)  # read while still pending
        assert stale.status == "pending"
        moderator.post(f"/manage/queue/changes/{change_id}/reject", data={"reason": "No"})
        with pytest.raises(ChangeError):
            apply_change(stale, None)
        assert db.session.get(ChangeRequest, change_id).status == "rejected"
    assert _activity(app).title == "Knit and Natter"


def test_unchanged_form_makes_no_change_request(app, editor) -> None:
    editor.post(f"/manage/activities/{KNIT}/edit", data=activity_form(app, KNIT))
    assert _last_change(app) is None


def test_two_pending_edits_to_different_fields_both_apply(app, editor, moderator) -> None:
    editor.post(f"/manage/activities/{KNIT}/edit", data=activity_form(app, KNIT, title="One"))
    first = _last_change(app).id
    editor.post(f"/manage/activities/{KNIT}/edit",
                data=activity_form(app, KNIT, contact_name="Ann"))
    second = _last_change(app).id
    moderator.post(f"/manage/queue/changes/{second}/approve")
    moderator.post(f"/manage/queue/changes/{first}/approve")
    activity = _activity(app)
    assert (activity.title, activity.contact_name) == ("One", "Ann")  # no lost update


def test_moderator_and_trusted_organisation_publish_without_review(app, editor, moderator) -> None:
    moderator.post(f"/manage/activities/{KNIT}/edit", data=activity_form(app, KNIT, title="M"))
    assert _last_change(app).status == "approved" and _activity(app).title == "M"
    editor.post(f"/manage/activities/{KNIT}/edit", data=activity_form(app, KNIT, title="E"))
    assert _last_change(app).status == "pending"
    admin = sign_in_privileged(app.test_client(), app, "admin@example.org")
    admin.post("/manage/admin/organisations/harehills-friends/trust", data={"trusted": "yes"})
    editor.post(f"/manage/activities/{KNIT}/edit", data=activity_form(app, KNIT, title="T"))
    assert _last_change(app).status == "approved" and _activity(app).title == "T"
    assert b"published straight away" in editor.get("/manage/organisations/harehills-friends").data


def test_form_errors_are_plain_and_linked_from_a_summary(app, editor) -> None:
    form = activity_form(app, KNIT, title="", categories=[], cost_type="paid", cost_amount="",
                         **{"slot-0-start": "25:00"})
    response = editor.post(f"/manage/activities/{KNIT}/edit", data=form)
    assert response.status_code == 400
    page = response.data.decode()
    summary = re.findall(r'<li><a href="#([\w-]+)">(.*?)</a></li>', page)
    assert ("title", "Enter the name of the activity") in summary
    assert ("categories", "Select at least one type of activity") in summary
    assert ("slot-0-start", "Regular time 1, start: enter a time like 10:00 or 18:30") in summary
    for field_id, _ in summary:
        assert f'id="{field_id}"' in page  # each summary link lands on its field
    assert page.startswith("<!DOCTYPE html>") and "<title>Error:" in page
    assert _last_change(app) is None


def test_a_bad_number_does_not_hide_the_other_errors(app, editor) -> None:
    form = activity_form(app, KNIT, title="", age_min="abc")
    page = editor.post(f"/manage/activities/{KNIT}/edit", data=form).data.decode()
    summary = dict(re.findall(r'<li><a href="#([\w-]+)">(.*?)</a></li>', page))
    assert summary == {"title": "Enter the name of the activity",
                       "age_min": "Youngest age must be a number, like 18"}


def test_textarea_line_breaks_are_stored_as_plain_newlines(app, editor) -> None:
    form = activity_form(app, KNIT, description="We knit.\r\n\r\nWe natter.")
    editor.post(f"/manage/activities/{KNIT}/edit", data=form)
    assert _last_change(app).payload["description"] == "We knit.\n\nWe natter."


def test_cross_field_rules_point_at_the_right_field(app, editor) -> None:
    form = activity_form(app, KNIT, status="on_break", venue="")
    page = editor.post(f"/manage/activities/{KNIT}/edit", data=form).data.decode()
    summary = dict(re.findall(r'<li><a href="#([\w-]+)">(.*?)</a></li>', page))
    assert set(summary) <= {"venue", "break_until"} and summary


def test_schedule_rows_weekly_monthly_and_dated(app, moderator) -> None:
    form = activity_form(app, KNIT, **{
        "slot-1-day": "thursday", "slot-1-weeks": "1,3", "slot-1-start": "18:00",
        "slot-1-end": "19:30", "date-0-date": "2027-03-05", "date-0-start": "10:00",
        "date-0-end": "15:00", "date-0-title": "Open day"})
    assert moderator.post(f"/manage/activities/{KNIT}/edit", data=form).status_code == 302
    page = moderator.get(f"/activities/{KNIT}").data.decode()
    assert "Open day" in page and "Thursday" in page
    with app.app_context():
        activity = db.session.scalar(select(Activity).where(Activity.slug == KNIT))
        kinds = sorted(entry.kind for entry in activity.schedule)
    assert kinds == ["dated", "monthly", "weekly"]


def test_more_rows_button_works_without_javascript(app, editor) -> None:
    form = activity_form(app, KNIT, action="more-rows", title="Kept while adding rows")
    page = editor.post(f"/manage/activities/{KNIT}/edit", data=form).data.decode()
    assert 'value="Kept while adding rows"' in page
    assert 'name="slot-4-day"' in page and _last_change(app) is None


def test_quick_status_publishes_at_once_as_a_review(app, editor) -> None:
    url = f"/manage/activities/{KNIT}/status"
    missing = editor.post(url, data={"status": "on_break", "break_until": ""})
    assert missing.status_code == 400 and b'href="#break_until"' in missing.data
    with app.app_context():
        db.session.execute(update(Activity).where(Activity.slug == KNIT)
                           .values(last_reviewed=dt.date(2020, 1, 1)))
        db.session.commit()
    response = editor.post(url, data={"status": "on_break", "break_until": "2027-02-01"})
    assert response.status_code == 302
    change = _last_change(app)
    assert change.status == "approved"  # no moderator involved
    activity = _activity(app)
    assert (activity.status, activity.break_until) == ("on_break", dt.date(2027, 2, 1))
    assert activity.last_reviewed == _today(app)
    assert b"On a break until" in editor.get(f"/activities/{KNIT}").data
    editor.post(url, data={"status": "full", "waiting_list": "yes"})
    activity = _activity(app)
    assert (activity.status, activity.waiting_list, activity.break_until) == ("full", True, None)
    bad = editor.post(url, data={"status": "gone"})
    assert bad.status_code == 400 and b'href="#status"' in bad.data


def test_still_right_button_is_a_review_that_keeps_the_status(app, editor) -> None:
    url = f"/manage/activities/{KNIT}/status"
    editor.post(url, data={"status": "full", "waiting_list": "yes"})
    with app.app_context():
        db.session.execute(update(Activity).where(Activity.slug == KNIT)
                           .values(last_reviewed=dt.date(2020, 1, 1)))
        db.session.commit()
    page = editor.get("/manage/organisations/harehills-friends").data.decode()
    assert ('Still right as shown<span class="govuk-visually-hidden">: Knit and Natter, '
            "Full – waiting list open") in page
    editor.post(url, data={"status": "full", "waiting_list": "yes"})
    activity = _activity(app)
    assert (activity.status, activity.waiting_list) == ("full", True)
    assert activity.last_reviewed == _today(app)


def test_new_activity_and_organisation_edit(app, editor, moderator) -> None:
    form = activity_form(app, KNIT, title="Knit and Natter")  # same title: a new address
    editor.post("/manage/organisations/harehills-friends/activities/new", data=form)
    moderator.post(f"/manage/queue/changes/{_last_change(app).id}/approve")
    new = _activity(app, "knit-and-natter")
    assert new is not None and new.last_reviewed == _today(app)
    assert editor.get("/activities/knit-and-natter").status_code == 200
    org_form = {"name": "Harehills Friends CIO", "summary": "Neighbours.", "description": "",
                "website": "javascript:alert(1)", "email": "", "phone": "", "charity_number": ""}
    bad = editor.post("/manage/organisations/harehills-friends/edit", data=org_form)
    assert bad.status_code == 400 and b'href="#website"' in bad.data
    org_form["website"] = "https://example.org"
    editor.post("/manage/organisations/harehills-friends/edit", data=org_form)
    moderator.post(f"/manage/queue/changes/{_last_change(app).id}/approve")
    assert b"Harehills Friends CIO" in editor.get("/organisations/harehills-friends").data


def test_history_and_restore(app, editor, moderator) -> None:
    editor.post(f"/manage/activities/{KNIT}/edit", data=activity_form(app, KNIT, title="New"))
    moderator.post(f"/manage/queue/changes/{_last_change(app).id}/approve")
    page = editor.get(f"/manage/activities/{KNIT}/history").data.decode()
    assert "As first listed" in page and "editor@example.org" in page
    with app.app_context():
        first = db.session.scalar(select(ListingVersion.id).order_by(ListingVersion.id))
    assert editor.post(f"/manage/activities/{KNIT}/history/{first}/restore").status_code == 302
    change = _last_change(app)
    assert change.status == "pending" and "Restore" in change.summary
    moderator.post(f"/manage/queue/changes/{change.id}/approve")
    assert _activity(app).title == "Knit and Natter"
    other = sign_in(app.test_client(), app, "other@example.org")
    assert other.post(f"/manage/activities/{KNIT}/history/{first}/restore").status_code == 403
    with app.app_context():
        walk = db.session.scalar(select(Activity).join(Organisation).where(
            Organisation.slug == "wharfedale-walkers")).slug
    # A version of one listing cannot be restored onto another.
    assert other.post(f"/manage/activities/{walk}/history/{first}/restore").status_code == 404


def test_claim_then_edit(app, moderator) -> None:
    assert b"Is this your group?" in moderator.get(f"/activities/{KNIT}").data
    newcomer = sign_in(app.test_client(), app, "sue@example.org")
    assert newcomer.get(f"/manage/activities/{KNIT}/edit").status_code == 403
    assert newcomer.post(f"/manage/claim/activity/{KNIT}", data={"role_in_group": ""}
                         ).status_code == 400
    newcomer.post(f"/manage/claim/activity/{KNIT}", data={"role_in_group": "Organiser"})
    queue = moderator.get("/manage/queue").data.decode()
    assert "sue@example.org for Harehills Friends" in queue
    with app.app_context():
        from sitedir.manage.models import Claim
        claim_id = db.session.scalar(select(Claim.id))
    moderator.post(f"/manage/queue/claims/{claim_id}/approve")
    assert newcomer.get(f"/manage/activities/{KNIT}/edit").status_code == 200
    assert "You can now sign in" in emails_to(app, "sue@example.org")[-1].text_body


def test_register_a_new_organisation(app, moderator) -> None:
    newcomer = sign_in(app.test_client(), app, "chess@example.org")
    form = activity_form(app, KNIT, title="Chess for all", summary="Learn and play chess.")
    form.update(org_name="Leeds Chess Friends", org_summary="A chess club.", org_website="",
                org_email="", org_phone="", org_charity_number="", org_description="")
    empty = newcomer.post("/manage/register", data={**form, "org_name": ""})
    assert empty.status_code == 400 and b'href="#org_name"' in empty.data
    assert newcomer.post("/manage/register", data=form).status_code == 302
    change = _last_change(app)
    assert change.kind == "register" and change.status == "pending"
    page = moderator.get(f"/manage/queue/changes/{change.id}").data.decode()
    assert "Leeds Chess Friends" in page and "Chess for all" in page
    moderator.post(f"/manage/queue/changes/{change.id}/approve")
    assert b"Chess for all" in newcomer.get("/organisations/leeds-chess-friends").data
    assert newcomer.get("/manage/organisations/leeds-chess-friends").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "chess@example.org"))
        assert [m.organisation.slug for m in db.session.scalars(
            select(Membership).where(Membership.user_id == user.id))] == ["leeds-chess-friends"]


XSS = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>',
       "javascript:alert(1)", "{{ 7*7 }}", "[click](javascript:alert(1))"]
TEXT_FIELDS = ("title", "summary", "description", "online_details", "schedule_notes",
               "cost_notes", "join_notes", "what_to_bring", "welcome", "contact_name",
               "contact_phone")


@pytest.mark.parametrize("payload", XSS)
def test_editor_text_renders_inert_everywhere(app, moderator, payload: str) -> None:
    changes = {name: f"{name} {payload}"[:190] for name in TEXT_FIELDS}
    changes["slot-0-title"] = payload
    org = {"name": f"Org {payload}", "summary": payload, "description": payload,
           "website": "", "email": "", "phone": payload, "charity_number": payload[:20]}
    editor = sign_in(app.test_client(), app, "editor@example.org")
    editor.post(f"/manage/activities/{KNIT}/edit", data=activity_form(app, KNIT, **changes))
    editor.post("/manage/organisations/harehills-friends/edit", data=org)
    pages = [moderator.get("/manage/queue").data, moderator.get(
        f"/manage/queue/changes/{_last_change(app).id - 1}").data]
    for change in (_last_change(app).id - 1, _last_change(app).id):
        moderator.post(f"/manage/queue/changes/{change}/approve")
    pages += [editor.get(path).data for path in (
        f"/activities/{KNIT}", "/organisations/harehills-friends",
        "/manage/organisations/harehills-friends", f"/manage/activities/{KNIT}/edit",
        f"/manage/activities/{KNIT}/history", "/manage/organisations/harehills-friends/edit",
        "/categories/arts-and-crafts")]
    for page in pages:
        text = page.decode()
        assert "<script>alert" not in text and "<img src=x" not in text
        assert 'href="javascript:' not in text
    public = pages[2].decode()
    escaped = {XSS[0]: "&lt;script&gt;alert(", XSS[1]: "&lt;img src=x onerror=alert(1)&gt;",
               XSS[2]: "title javascript:alert(1)", XSS[3]: "title {{ 7*7 }}",
               XSS[4]: "title [click](javascript:alert(1))"}[payload]
    assert escaped in public  # shown as text, not run (nor evaluated as a template)
    assert _activity(app).title.startswith("title ")


def test_register_with_a_venue_not_in_the_list(app, moderator) -> None:
    newcomer = sign_in(app.test_client(), app, "choir@example.org")
    form = activity_form(app, KNIT, title="Sing Together", summary="A friendly choir.",
                         venue="new", new_venue_name="St Aidan's Hall",
                         new_venue_address="Roundhay Road", new_venue_town="Leeds",
                         new_venue_postcode="ls8 5qd")
    form.update(org_name="Harehills Singers", org_summary="We sing.", org_website="",
                org_email="", org_phone="", org_charity_number="", org_description="")
    bad = newcomer.post("/manage/register", data={**form, "new_venue_postcode": "LS8"})
    assert bad.status_code == 400 and b'href="#new_venue_postcode"' in bad.data
    assert newcomer.post("/manage/register", data=form).status_code == 302
    change = _last_change(app)
    assert change.payload["activity"]["new_venue"]["postcode"] == "LS8 5QD"
    page = moderator.get(f"/manage/queue/changes/{change.id}").data.decode()
    assert "St Aidan&#39;s Hall" in page
    assert moderator.post(f"/manage/queue/changes/{change.id}/approve").status_code == 302
    public = newcomer.get("/activities/sing-together").data.decode()
    assert "St Aidan&#39;s Hall" in public and "LS8 5QD" in public
    with app.app_context():
        from sitedir.models import Venue
        venue = db.session.scalar(select(Venue).where(Venue.slug == "st-aidan-s-hall"))
        assert venue.latitude is not None and abs(venue.latitude - 53.81) < 0.1
