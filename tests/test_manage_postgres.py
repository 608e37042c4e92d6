"""The manage flow on a real PostgreSQL: sign-in token use, JSON payloads, publish, history."""
from __future__ import annotations

from sqlalchemy import select

from sitedir.extensions import db
from sitedir.manage.models import ChangeRequest, ListingVersion
from tests.manage_helpers import activity_form, manage_app, sign_in, sign_in_privileged

KNIT = "harehills-knit-and-natter"


def test_edit_and_approve_on_postgresql(make_app, postgres_url: str) -> None:
    app = manage_app(make_app, SQLALCHEMY_DATABASE_URI=postgres_url)
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
    editor = sign_in(app.test_client(), app, "editor@example.org")
    moderator = sign_in_privileged(app.test_client(), app, "mod@example.org")
    form = activity_form(app, KNIT, title="Knit on Postgres", **{
        "date-0-date": "2027-03-05", "date-0-start": "10:00", "date-0-end": "12:00"})
    assert editor.post(f"/manage/activities/{KNIT}/edit", data=form).status_code == 302
    with app.app_context():
        change = db.session.scalars(select(ChangeRequest).order_by(ChangeRequest.id.desc())
                                    ).first()
        change_id = change.id
        assert change.payload["schedule"][-1]["date"] == "2027-03-05"
    assert moderator.post(f"/manage/queue/changes/{change_id}/approve").status_code == 302
    assert moderator.post(f"/manage/queue/changes/{change_id}/approve").status_code == 409
    assert b"Knit on Postgres" in editor.get(f"/activities/{KNIT}").data
    with app.app_context():
        titles = db.session.scalars(select(ListingVersion.snapshot).order_by(
            ListingVersion.id)).all()
        assert [s["title"] for s in titles][-2:] == ["Knit and Natter", "Knit on Postgres"]
