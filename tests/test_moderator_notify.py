"""Moderators hear of each new queue item by email: one per moderator, linking to the item,
never quoting the public, none for changes that publish straight away or when turned off."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from sitedir import mail
from sitedir.extensions import db
from sitedir.mail import OutboxEmail
from sitedir.manage.cli import create_user
from sitedir.manage.models import ChangeRequest, Claim, TrustedOrganisation, User
from sitedir.models import Organisation
from tests.connect_support import FAST, submit
from tests.manage_helpers import activity_form, manage_app, sign_in, sign_in_privileged

KNIT = "harehills-knit-and-natter"
BASE = "https://directory.example.org"
MODERATORS = ["admin@example.org", "mod@example.org"]  # active moderators and admins


def _app(make_app: Any, **config: Any) -> Flask:
    app = manage_app(make_app, PUBLIC_BASE_URL=BASE, **FAST, **config)
    with app.app_context():  # a moderator who has left: never emailed
        create_user("gone@example.org", "moderator")
        db.session.scalar(select(User).where(User.email == "gone@example.org")).active = False
        db.session.commit()
    return app


@pytest.fixture()
def app(make_app) -> Flask:
    return _app(make_app)


def queue_emails(app: Flask) -> list[OutboxEmail]:
    """The moderator notifications queued so far, oldest first."""
    with app.app_context():
        rows = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind.like("queue-%"))
                                  .order_by(OutboxEmail.id)).all()
        db.session.expunge_all()
        return rows


def assert_one_each(rows: list[OutboxEmail], link: str) -> None:
    """One email per active moderator, each with the same link to the item."""
    assert sorted(row.to_address for row in rows) == MODERATORS
    for row in rows:
        assert f"\n{link}\n" in row.text_body, row.text_body
        assert row.subject.startswith("To check: ")


def _last(app: Flask, model: type) -> Any:
    with app.app_context():
        row = db.session.scalars(select(model).order_by(model.id.desc())).first()
        db.session.expunge_all()
        return row


def db_id(app: Flask, table: str) -> int:
    """The id of the newest row of one of the public's queue tables."""
    from sitedir.connect.models import ProblemReport, Suggestion

    model = {"suggestion": Suggestion, "problem_report": ProblemReport}[table]
    return _last(app, model).id


def test_a_change_to_review_emails_each_moderator_with_its_link(app) -> None:
    editor = sign_in(app.test_client(), app, "editor@example.org")
    editor.post(f"/manage/activities/{KNIT}/edit", data=activity_form(app, KNIT, title="Knit On"))
    change = _last(app, ChangeRequest)
    assert change.status == "pending"
    rows = queue_emails(app)
    assert_one_each(rows, f"{BASE}/manage/queue/changes/{change.id}")
    assert rows[0].kind == "queue-change-activity"
    assert rows[0].subject == "To check: Edit “Knit and Natter”"
    assert "Harehills Friends sent a change to check" in rows[0].text_body
    assert "editor@example.org" not in rows[0].text_body
    # The emails build and go like any other (one line subject, the file backend writes them).
    with app.app_context():
        assert mail.send_pending().sent >= 2


def test_trusted_and_moderator_changes_publish_without_emailing_moderators(app) -> None:
    with app.app_context():
        org = db.session.scalar(select(Organisation).where(
            Organisation.slug == "harehills-friends"))
        db.session.add(TrustedOrganisation(organisation_id=org.id))
        db.session.commit()
    editor = sign_in(app.test_client(), app, "editor@example.org")
    editor.post(f"/manage/activities/{KNIT}/edit", data=activity_form(app, KNIT, title="T"))
    assert _last(app, ChangeRequest).status == "approved"
    moderator = sign_in_privileged(app.test_client(), app, "mod@example.org")
    moderator.post(f"/manage/activities/{KNIT}/edit", data=activity_form(app, KNIT, title="M"))
    assert _last(app, ChangeRequest).status == "approved"
    assert queue_emails(app) == []


def test_an_organisation_edit_and_a_new_activity_are_announced(app) -> None:
    editor = sign_in(app.test_client(), app, "editor@example.org")
    editor.post("/manage/organisations/harehills-friends/edit",
                data={"name": "Harehills Friends", "summary": "Friends in Harehills, LS8."})
    first = _last(app, ChangeRequest)
    assert first.kind == "organisation"
    assert_one_each(queue_emails(app), f"{BASE}/manage/queue/changes/{first.id}")
    form = activity_form(app, KNIT, title="Board games", summary="Games night.")
    editor.post("/manage/organisations/harehills-friends/activities/new", data=form)
    second = _last(app, ChangeRequest)
    assert second.kind == "new_activity" and second.status == "pending"
    rows = queue_emails(app)[2:]
    assert_one_each(rows, f"{BASE}/manage/queue/changes/{second.id}")
    assert rows[0].subject == "To check: New activity “Board games”"


def test_a_claim_is_announced_without_the_claimants_details(app) -> None:
    newcomer = sign_in(app.test_client(), app, "sue.smith@example.org")
    newcomer.post(f"/manage/claim/activity/{KNIT}",
                  data={"role_in_group": "Organiser Sue Smith", "message": "Call 07700 900123"})
    claim = _last(app, Claim)
    rows = queue_emails(app)
    assert_one_each(rows, f"{BASE}/manage/queue#claim-{claim.id}")
    assert "edit the listings of Harehills Friends" in rows[0].text_body
    for personal in ("sue.smith@example.org", "Sue Smith", "07700 900123"):
        assert personal not in rows[0].text_body and personal not in rows[0].subject
    moderator = sign_in_privileged(app.test_client(), app, "mod@example.org")
    assert f'id="claim-{claim.id}"' in moderator.get("/manage/queue").text  # the link lands


def test_a_registration_is_announced_with_the_organisations_name(app) -> None:
    newcomer = sign_in(app.test_client(), app, "chess@example.org")
    form = activity_form(app, KNIT, title="Chess for all", summary="Learn and play chess.")
    form.update(org_name="Leeds Chess Friends", org_summary="A chess club.", org_website="",
                org_email="", org_phone="", org_charity_number="", org_description="")
    assert newcomer.post("/manage/register", data=form).status_code == 302
    change = _last(app, ChangeRequest)
    rows = queue_emails(app)
    assert_one_each(rows, f"{BASE}/manage/queue/changes/{change.id}")
    assert rows[0].kind == "queue-change-register"
    assert "A new organisation asks to be listed: “Leeds Chess Friends”" in rows[0].text_body
    assert "chess@example.org" not in rows[0].text_body


SUGGESTION = {"group_name": "Pat Jones's knitting circle", "role": "library",
              "description": "Pat (pat.jones@example.net) runs it from her flat.",
              "where": "12 Secret Street, LS7", "when": "Wednesdays 7pm",
              "contact": "pat.jones@example.net, 07700 900456"}


def test_a_suggestion_is_announced_without_anything_the_public_wrote(app) -> None:
    client = app.test_client()
    assert submit(client, "/suggest", SUGGESTION).status_code == 302
    suggestion_id = db_id(app, "suggestion")
    rows = queue_emails(app)
    assert_one_each(rows, f"{BASE}/manage/queue#suggestion-{suggestion_id}")
    assert "A member of the public suggested an activity." in rows[0].text_body
    for row in rows:
        for personal in ("Pat", "pat.jones@example.net", "Secret Street", "Wednesdays",
                         "07700", "knitting", "Library"):
            assert personal not in row.text_body and personal not in row.subject
    moderator = sign_in_privileged(app.test_client(), app, "mod@example.org")
    assert f'id="suggestion-{suggestion_id}"' in moderator.get("/manage/queue").text


def test_a_problem_report_names_the_listing_but_not_the_reporters_words(app) -> None:
    client = app.test_client()
    details = "I'm Jo Bloggs, jo@example.net, it moved to Tuesdays"
    response = submit(client, f"/activities/{KNIT}/report",
                      {"reason": "wrong_time", "details": details})
    assert response.status_code == 302
    report_id = db_id(app, "problem_report")
    rows = queue_emails(app)
    assert_one_each(rows, f"{BASE}/manage/queue#report-{report_id}")
    assert rows[0].subject == "To check: a problem report about “Knit and Natter”"
    assert ("A member of the public reported a problem with “Knit and Natter”: "
            "the day or time is wrong.") in rows[0].text_body
    for personal in ("Jo Bloggs", "jo@example.net", "Tuesdays"):
        assert personal not in rows[0].text_body
    moderator = sign_in_privileged(app.test_client(), app, "mod@example.org")
    assert f'id="report-{report_id}"' in moderator.get("/manage/queue").text


def test_no_emails_when_the_setting_is_off(make_app) -> None:
    app = _app(make_app, MODERATOR_EMAILS_ENABLED=False)
    editor = sign_in(app.test_client(), app, "editor@example.org")
    editor.post(f"/manage/activities/{KNIT}/edit", data=activity_form(app, KNIT, title="Off"))
    assert _last(app, ChangeRequest).status == "pending"
    newcomer = sign_in(app.test_client(), app, "sue@example.org")
    newcomer.post(f"/manage/claim/activity/{KNIT}", data={"role_in_group": "Organiser"})
    client = app.test_client()
    assert submit(client, "/suggest", SUGGESTION).status_code == 302
    assert submit(client, f"/activities/{KNIT}/report", {"reason": "closed"}).status_code == 302
    assert queue_emails(app) == []
    assert _last(app, Claim) is not None  # the items themselves are still queued


def test_a_change_submitted_outside_a_request_still_links_to_it(app) -> None:
    from sitedir.manage.publish import submit as submit_change

    with app.app_context():  # as a command or script would, with no request to build URLs from
        editor = db.session.scalar(select(User).where(User.email == "editor@example.org"))
        org = db.session.scalar(select(Organisation).where(
            Organisation.slug == "harehills-friends"))
        change = ChangeRequest(kind="organisation", organisation=org, base={},
                               payload={"name": "Harehills Friends", "summary": "New summary."},
                               summary="Edit organisation “Harehills Friends”")
        assert submit_change(change, editor) is False
        change_id = change.id
    assert_one_each(queue_emails(app), f"{BASE}/manage/queue/changes/{change_id}")


def test_a_trusted_change_that_cannot_publish_waits_and_is_announced(app) -> None:
    from sitedir.manage.publish import ChangeError, activity_snapshot
    from sitedir.manage.publish import submit as submit_change
    from sitedir.models import Activity

    with app.app_context():
        editor = db.session.scalar(select(User).where(User.email == "editor@example.org"))
        activity = db.session.scalar(select(Activity).where(Activity.slug == KNIT))
        db.session.add(TrustedOrganisation(organisation_id=activity.organisation_id))
        db.session.commit()
        base = activity_snapshot(activity)
        change = ChangeRequest(kind="activity", organisation=activity.organisation,
                               activity_id=activity.id, base=base,
                               payload={**base, "categories": ["no-such-category"]},
                               summary="Edit “Knit and Natter”")
        with pytest.raises(ChangeError):
            submit_change(change, editor)
        change_id = change.id
    assert _last(app, ChangeRequest).status == "pending"
    assert_one_each(queue_emails(app), f"{BASE}/manage/queue/changes/{change_id}")
