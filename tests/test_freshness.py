"""Freshness: full, on a break, out-of-date, not-confirmed and closed listings sink below the
rest on category and organisation pages, each with its reason, and every card says when it was
last reviewed."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from sqlalchemy import select, update

from sitedir import freshness, listing
from sitedir.extensions import db
from sitedir.listing import local_now
from sitedir.models import Activity, Organisation

STATES = {  # slug suffix → (status, break_until, days since review, not confirmed)
    "open": ("running", None, 10, False),
    "full": ("full", None, 10, False),
    "break": ("on_break", 30, 10, False),
    "stale": ("running", None, 900, False),
    "unconfirmed": ("running", None, 200, True),
    "closed": ("closed", None, 10, False),
}


@pytest.fixture()
def app(make_app) -> Flask:
    """One organisation with one activity in each state, all in one category."""
    app = make_app(STALE_AFTER_DAYS=365)
    with app.app_context():
        template = db.session.scalar(select(Activity).order_by(Activity.id))
        organisation = template.organisation
        today = local_now().date()
        db.session.execute(update(Activity).where(Activity.organisation_id == organisation.id,
                                                  Activity.id != template.id)
                           .values(organisation_id=db.session.scalar(
                               select(Organisation.id).where(Organisation.id != organisation.id)
                               .limit(1))))
        # Titles in reverse of the expected order, so only the rule can put them right.
        for number, (name, (status, back, age, unconfirmed)) in enumerate(STATES.items()):
            copy = Activity(
                slug=f"state-{name}", title=f"{'ZYXWVU'[number]} {name} group",
                organisation=organisation, summary=name, status=status,
                break_until=today + dt.timedelta(days=back) if back else None,
                last_reviewed=today - dt.timedelta(days=age),
                not_confirmed_since=today - dt.timedelta(days=5) if unconfirmed else None,
                formats=["online"], terms=list(template.categories))
            db.session.add(copy)
        db.session.delete(template)
        db.session.commit()
        app.config["TEST_CATEGORY"] = copy.categories[0].key
        app.config["TEST_ORGANISATION"] = organisation.slug
    return app


def _order(page: str) -> list[str]:
    return [name for name in re.findall(r'id="card-state-(\w+)"', page)]


def test_category_and_organisation_pages_sink_doubtful_listings(app) -> None:
    client = app.test_client()
    for url in (f"/categories/{app.config['TEST_CATEGORY']}",
                f"/organisations/{app.config['TEST_ORGANISATION']}"):
        page = client.get(url).data.decode()
        order = _order(page)
        assert order[0] == "open" and order[-1] == "closed", (url, order)
        assert set(order[1:3]) == {"full", "break"} and set(order[3:5]) == {
            "stale", "unconfirmed"}, (url, order)
        assert page.count("<dt>Reviewed</dt>") == len(STATES)
        assert "May be out of date: last reviewed" in page
        assert "Not confirmed: the group has not answered our reminders" in page
        assert "On a break until" in page and ">Full<" in page and ">Closed<" in page


def test_sql_and_python_rules_agree(app) -> None:
    with app.app_context():
        today = local_now().date()
        by_sql = db.session.scalars(select(Activity).where(Activity.slug.like("state-%"))
                                    .order_by(*freshness.sink_order(today))).all()
        by_python = sorted(by_sql, key=lambda a: (freshness.sink_rank(a, today), a.title))
        assert [a.slug for a in by_sql] == [a.slug for a in by_python]
        reasons = {a.slug: listing.sink_reason(a, today) for a in by_sql}
    assert reasons["state-open"] == ""
    assert reasons["state-closed"] == "Closed"
    assert reasons["state-full"] == "Full"


def test_a_review_lifts_not_confirmed(app) -> None:
    with app.app_context():
        activity = db.session.scalar(select(Activity).where(Activity.slug == "state-unconfirmed"))
        assert freshness.is_not_confirmed(activity)
        activity.last_reviewed = local_now().date()
        assert not freshness.is_not_confirmed(activity)


def test_activity_page_says_not_confirmed(app) -> None:
    page = app.test_client().get("/activities/state-unconfirmed").data.decode()
    assert 'id="not-confirmed-notice"' in page and 'id="stale-notice"' not in page
