"""The authorisation matrix: every manage route × {anonymous, editor of another organisation,
editor, moderator, admin}. Denied requests must also leave the database as it was."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from sitedir.connect.models import ProblemReport, Suggestion
from sitedir.extensions import db
from sitedir.manage.models import (
    AuditEvent, ChangeRequest, Claim, ListingVersion, Membership, TrustedOrganisation, User,
)
from sitedir.manage.publish import record_first_version, submit
from sitedir.models import Activity, Organisation
from tests.manage_helpers import activity_form, manage_app, sign_in, sign_in_privileged

ACTIVITY = "harehills-knit-and-natter"
ORG = "harehills-friends"
ROLES = ("anonymous", "other_editor", "editor", "moderator", "admin")
EMAILS = {"other_editor": "other@example.org", "editor": "editor@example.org",
          "moderator": "mod@example.org", "admin": "admin@example.org"}
# Who may use a route: the lowest level that passes.
ALLOWED = {
    "signed_in": {"other_editor", "editor", "moderator", "admin"},
    "editor": {"editor", "moderator", "admin"},
    "moderator": {"moderator", "admin"},
    "admin": {"admin"},
}


def _org_form() -> dict[str, str]:
    return {"name": "Harehills Friends", "summary": "Neighbours meeting neighbours, weekly.",
            "description": "", "website": "https://example.org/harehills-friends",
            "email": "hello@harehills-friends.example.org", "phone": "0113 496 0001",
            "charity_number": "1000001"}


def _routes(app: Flask, ids: dict[str, int]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(method, path, level, form data) for every manage route that needs a role."""
    form = activity_form(app, ACTIVITY, title="Knit and Chat")
    return [
        ("GET", "/manage/", "signed_in", {}),
        ("GET", f"/manage/organisations/{ORG}", "editor", {}),
        ("GET", f"/manage/activities/{ACTIVITY}/edit", "editor", {}),
        ("POST", f"/manage/activities/{ACTIVITY}/edit", "editor", form),
        ("GET", f"/manage/activities/{ACTIVITY}/status", "editor", {}),
        ("POST", f"/manage/activities/{ACTIVITY}/status", "editor", {"status": "full"}),
        ("GET", f"/manage/organisations/{ORG}/edit", "editor", {}),
        ("POST", f"/manage/organisations/{ORG}/edit", "editor", _org_form()),
        ("GET", f"/manage/organisations/{ORG}/activities/new", "editor", {}),
        ("POST", f"/manage/organisations/{ORG}/activities/new", "editor",
         {**form, "title": "Second Natter"}),
        ("GET", f"/manage/activities/{ACTIVITY}/edit/about", "editor", {}),
        ("POST", f"/manage/activities/{ACTIVITY}/edit/about", "editor",
         {"title": "Knit and Chat", "summary": form.get("summary", "")}),
        ("GET", f"/manage/activities/{ACTIVITY}/check", "editor", {}),
        ("POST", f"/manage/activities/{ACTIVITY}/check", "editor", {}),
        ("GET", f"/manage/activities/{ACTIVITY}/history", "editor", {}),
        ("POST", f"/manage/activities/{ACTIVITY}/history/{ids['activity_version']}/restore",
         "editor", {}),
        ("GET", f"/manage/organisations/{ORG}/history", "editor", {}),
        ("POST", f"/manage/organisations/{ORG}/history/{ids['organisation_version']}/restore",
         "editor", {}),
        ("GET", f"/manage/activities/{ACTIVITY}/edit/about", "editor", {}),
        ("POST", f"/manage/activities/{ACTIVITY}/edit/about", "editor", {}),
        ("GET", f"/manage/activities/{ACTIVITY}/check", "editor", {}),
        ("POST", f"/manage/activities/{ACTIVITY}/check", "editor", {}),
        ("GET", "/manage/register", "signed_in", {}),
        ("POST", "/manage/register", "signed_in", {}),
        ("GET", f"/manage/claim/organisation/{ORG}", "signed_in", {}),
        ("POST", f"/manage/claim/activity/{ACTIVITY}", "signed_in", {"role_in_group": "Chair"}),
        ("GET", "/manage/queue", "moderator", {}),
        ("GET", "/manage/freshness", "moderator", {}),
        ("GET", f"/manage/queue/changes/{ids['change_a']}", "moderator", {}),
        ("POST", f"/manage/queue/changes/{ids['change_a']}/approve", "moderator", {}),
        ("POST", f"/manage/queue/changes/{ids['change_b']}/reject", "moderator",
         {"reason": "Please add a time"}),
        ("POST", f"/manage/queue/changes/{ids['change_b']}/supersede/{ids['change_a']}",
         "moderator", {}),
        ("POST", f"/manage/queue/claims/{ids['claim']}/approve", "moderator", {}),
        ("POST", f"/manage/queue/changes/{ids['change_a']}/supersede/{ids['change_b']}",
         "moderator", {}),
        ("POST", f"/manage/queue/suggestions/{ids['suggestion']}/close", "moderator",
         {"outcome": "done"}),
        ("POST", f"/manage/queue/reports/{ids['report']}/close", "moderator",
         {"outcome": "dismissed"}),
        ("GET", "/manage/admin", "admin", {}),
        ("POST", f"/manage/admin/organisations/{ORG}/trust", "admin", {"trusted": "yes"}),
        ("GET", "/manage/two-factor", "moderator", {}),
        ("POST", "/manage/two-factor", "moderator", {"code": "000000"}),
        ("POST", "/manage/two-factor/recovery-codes", "moderator", {}),
    ]


def _state() -> dict[str, int]:
    """Row counts and fields a denied request must not change."""
    counts = {model.__name__: db.session.scalar(select(func.count()).select_from(model))
              for model in (ChangeRequest, Claim, ListingVersion, Membership,
                            TrustedOrganisation)}
    counts["pending"] = db.session.scalar(select(func.count(ChangeRequest.id)).where(
        ChangeRequest.status == "pending"))
    counts["open_items"] = db.session.scalar(select(func.count(Suggestion.id)).where(
        Suggestion.status == "new")) + db.session.scalar(select(func.count(
            ProblemReport.id)).where(ProblemReport.status == "new"))
    return counts


def _setup(make_app: Any) -> tuple[Flask, dict[str, int]]:
    app = manage_app(make_app)
    with app.app_context():
        editor = db.session.scalar(select(User).where(User.email == "editor@example.org"))
        claimant = db.session.scalar(select(User).where(User.email == "other@example.org"))
        activity = db.session.scalar(select(Activity).where(Activity.slug == ACTIVITY))
        organisation = db.session.scalar(select(Organisation).where(Organisation.slug == ORG))
        record_first_version("organisation", organisation)
        ids: dict[str, int] = {}
        for name in ("change_a", "change_b"):
            change = ChangeRequest(kind="activity", organisation=organisation,
                                   activity_id=activity.id, payload={"summary": name},
                                   base={"summary": activity.summary}, summary=name)
            submit(change, editor)
            ids[name] = change.id
        ids["activity_version"] = db.session.scalar(select(ListingVersion.id).where(
            ListingVersion.target_uuid == activity.uuid))
        ids["organisation_version"] = db.session.scalar(select(ListingVersion.id).where(
            ListingVersion.target_uuid == organisation.uuid))
        claim = Claim(user_id=claimant.id, organisation_id=organisation.id, role_in_group="x")
        suggestion = Suggestion(group_name="Chess club", description="Weekly chess")
        report = ProblemReport(activity_id=activity.id, activity_uuid=activity.uuid,
                               reason="wrong_time")
        db.session.add_all([claim, suggestion, report])
        db.session.commit()
        ids.update(claim=claim.id, suggestion=suggestion.id, report=report.id)
    return app, ids


def _client(app: Flask, role: str):
    client = app.test_client()
    if role == "anonymous":
        return client
    if role in ("admin", "moderator"):
        return sign_in_privileged(client, app, EMAILS[role])
    sign_in(client, app, EMAILS[role])
    return client


@pytest.mark.parametrize("role", ROLES)
def test_authorisation_matrix(make_app, role: str) -> None:
    app, ids = _setup(make_app)
    client = _client(app, role)
    failures = []
    for method, path, level, data in _routes(app, ids):
        with app.app_context():
            before = _state()
        response = client.open(path, method=method, data=data)
        location = response.headers.get("Location", "")
        denied = response.status_code == 403 or (
            response.status_code == 302 and "/manage/sign-in" in location)
        allowed = role in ALLOWED[level]
        if role in ("admin", "moderator") and path == "/manage/two-factor":
            allowed, denied = True, False  # already verified: it just moves on
        if allowed and denied:
            failures.append(f"{role} was refused {method} {path} ({response.status_code})")
        elif not allowed and not denied:
            failures.append(f"{role} got {method} {path} ({response.status_code})")
        if not allowed:
            with app.app_context():
                if _state() != before:
                    failures.append(f"{role}: {method} {path} changed the database")
        if role == "anonymous" and not allowed:
            assert "/manage/sign-in" in location, (path, response.status_code)
    assert failures == []


def test_matrix_covers_every_manage_route(make_app) -> None:
    app, ids = _setup(make_app)
    listed = {(method, _rule_of(app, method, path)) for method, path, _, _ in _routes(app, ids)}
    public = {"manage.sign_in", "manage.sign_in_link", "manage.sign_in_confirm",
              "manage.sign_out", "manage.reminder", "manage.reminder_answer"}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("manage.") or rule.endpoint in public:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, rule.endpoint) not in listed:
                missing.append(f"{method} {rule.rule}")
    assert missing == []


def _rule_of(app: Flask, method: str, path: str) -> str:
    return app.url_map.bind("localhost").match(path, method=method)[0]


def test_editor_cannot_redirect_an_edit_to_another_organisation_by_form_fields(make_app) -> None:
    app, _ = _setup(make_app)
    client = _client(app, "other_editor")
    with app.app_context():
        target = db.session.scalar(select(Activity).where(Activity.slug == ACTIVITY))
        before = db.session.scalar(select(func.count(ChangeRequest.id)))
    own = "wharfedale-walkers"
    with app.app_context():
        own_activity = db.session.scalar(select(Activity).join(Organisation).where(
            Organisation.slug == own)).slug
    form = activity_form(app, own_activity, title="Renamed walk", organisation_id=str(
        target.organisation_id), activity_id=str(target.id))
    form["slug"] = ACTIVITY
    assert client.post(f"/manage/activities/{own_activity}/edit", data=form).status_code == 302
    with app.app_context():
        change = db.session.scalars(select(ChangeRequest).order_by(ChangeRequest.id.desc())).first()
        assert db.session.scalar(select(func.count(ChangeRequest.id))) == before + 1
        assert change.activity_id != target.id and change.payload["slug"] == own_activity
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "change.submitted")) >= 1
