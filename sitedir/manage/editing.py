"""Organisation dashboards and edits: every edit becomes a change request.

The organisation or activity comes from the URL and is checked against the signed-in user
(`require_editor`); nothing in the form names which listing is changed.
"""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .auth import require_editor, signed_in
from ..extensions import db
from ..listing import is_stale, status_text
from ..models import Activity, Organisation, Term, Venue, unique_slug
from . import bp
from .forms import (
    NEW_VENUE, WEEK_CHOICES, ActivityForm, OrganisationForm, activity_values, weekday_choices,
)
from .models import ChangeRequest, ListingVersion, User
from .publish import (
    ChangeError, activity_snapshot, diff, is_trusted, organisation_snapshot, submit,
)
from .rule_forms import StatusForm
from .status import ANSWERS, publish_status


def _organisation(slug: str) -> Organisation:
    organisation = db.first_or_404(select(Organisation).where(Organisation.slug == slug))
    require_editor(organisation)
    return organisation


def _activity(slug: str) -> Activity:
    activity = db.first_or_404(select(Activity).where(Activity.slug == slug))
    require_editor(activity.organisation)
    return activity


def _me() -> User:
    return db.session.get(User, current_user.id)


def _pending(organisation: Organisation) -> list[ChangeRequest]:
    return db.session.scalars(select(ChangeRequest).where(
        ChangeRequest.organisation_id == organisation.id, ChangeRequest.status == "pending")
        .order_by(ChangeRequest.id)).all()


@bp.get("/")
@signed_in
def dashboard():
    user = _me()
    if len(user.organisations) == 1 and not user.is_moderator and request.args.get("all") is None:
        return redirect(url_for("manage.organisation", slug=user.organisations[0].slug))
    return render_template("manage/dashboard.html", user=user)


@bp.get("/organisations/<slug>")
@signed_in
def organisation(slug: str):
    org = _organisation(slug)
    recent = db.session.scalars(select(ChangeRequest).where(
        ChangeRequest.organisation_id == org.id, ChangeRequest.status != "pending")
        .order_by(ChangeRequest.id.desc()).limit(10)).all()
    return render_template("manage/organisation.html", organisation=org, pending=_pending(org),
                           recent=recent, trusted=is_trusted(org), is_stale=is_stale,
                           status_text=status_text)


def _form_context(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """What the activity form needs besides its values: choices and errors."""
    terms = db.session.scalars(select(Term).order_by(Term.taxonomy, Term.position)).all()
    options: dict[str, list[tuple[str, str]]] = {
        taxonomy: [(t.key, t.name) for t in terms if t.taxonomy == taxonomy]
        for taxonomy in ("category", "need", "accessibility")}
    venues = db.session.scalars(select(Venue).order_by(Venue.name)).all()
    options["venue"] = [("", "No venue (online or by phone only)")] + [
        (venue.slug, f"{venue.name}, {venue.town}" if venue.town else venue.name)
        for venue in venues] + [(NEW_VENUE, "A venue not in this list (enter it below)")]
    return {"v": values, "errors": errors, "week_choices": WEEK_CHOICES,
            "weekdays": weekday_choices(), "options": options}


def _submitted(change: ChangeRequest, published: bool, organisation: Organisation) -> Any:
    if published:
        flash("Your change is published. It shows in search within a minute.")
    else:
        flash("Thank you. A moderator will check your change, usually within two working days. "
              "We will email you when it is published.")
    return redirect(url_for("manage.organisation", slug=organisation.slug))


@bp.route("/activities/<slug>/edit", methods=["GET", "POST"])
@signed_in
def edit_activity(slug: str):
    activity = _activity(slug)
    base = activity_snapshot(activity)
    form = ActivityForm(activity_values(base), activity.slug)
    if form.is_submitted() and not form.more_rows and form.validate():
        if not diff(base, form.payload):
            flash("You did not change anything.", "info")
            return redirect(url_for("manage.organisation", slug=activity.organisation.slug))
        change = ChangeRequest(kind="activity", organisation=activity.organisation,
                               activity_id=activity.id, payload=form.payload, base=base,
                               summary=f"Edit “{activity.title}”")
        return _submitted(change, submit(change, _me()), activity.organisation)
    return render_template("manage/edit_activity.html", activity=activity,
                           organisation=activity.organisation,
                           **_form_context(form.values, form.messages)), \
        400 if form.messages else 200


@bp.route("/organisations/<slug>/activities/new", methods=["GET", "POST"])
@signed_in
def new_activity(slug: str):
    org = _organisation(slug)
    form = ActivityForm(activity_values({}), lambda sent: unique_slug(Activity, sent["title"]))
    if form.is_submitted() and not form.more_rows and form.validate():
        change = ChangeRequest(kind="new_activity", organisation=org, payload=form.payload,
                               base={}, summary=f"New activity “{form.payload['title']}”")
        return _submitted(change, submit(change, _me()), org)
    return render_template("manage/edit_activity.html", activity=None, organisation=org,
                           **_form_context(form.values, form.messages)), \
        400 if form.messages else 200


@bp.route("/activities/<slug>/status", methods=["GET", "POST"])
@signed_in
def activity_status(slug: str):
    """Quick status: running, full / waiting list, on a break until a date, closed.

    Published at once, as a reminder answer is: the organisation's own editor says so.
    """
    activity = _activity(slug)
    form = StatusForm() if request.method == "POST" else StatusForm(data=current_status(activity))
    if form.validate_on_submit():
        try:
            publish_status(activity, form.checked, _me(), via="dashboard")
            db.session.commit()
        except ChangeError as exc:
            form.messages = {"status": f"This status cannot be published: {exc}"}
        else:
            flash(f"Published: {activity.title} is now shown as “{status_text(activity)}”, "
                  "reviewed today. Search shows it within seconds.")
            return redirect(url_for("manage.organisation", slug=activity.organisation.slug))
    return render_template("manage/status.html", activity=activity, v=form.values,
                           errors=form.messages, organisation=activity.organisation,
                           answers=ANSWERS), 400 if form.messages else 200


def current_status(activity: Activity) -> dict[str, Any]:
    """The status fields as the form shows them now."""
    return {"status": activity.status,
            "break_until": activity.break_until.isoformat() if activity.break_until else "",
            "waiting_list": bool(activity.waiting_list)}


@bp.route("/organisations/<slug>/edit", methods=["GET", "POST"])
@signed_in
def edit_organisation(slug: str):
    org = _organisation(slug)
    base = organisation_snapshot(org)
    form = OrganisationForm() if request.method == "POST" else OrganisationForm(data=base)
    if form.validate_on_submit():
        if not diff(base, form.values):
            flash("You did not change anything.", "info")
            return redirect(url_for("manage.organisation", slug=org.slug))
        change = ChangeRequest(kind="organisation", organisation=org, payload=form.values,
                               base=base, summary=f"Edit organisation “{org.name}”")
        return _submitted(change, submit(change, _me()), org)
    return render_template("manage/edit_organisation.html", organisation=org, v=form.values,
                           errors=form.messages), 400 if form.messages else 200


@bp.get("/activities/<slug>/history")
@signed_in
def activity_history(slug: str):
    activity = _activity(slug)
    return _history(activity.uuid, activity.organisation, activity_snapshot(activity),
                    activity.title, "manage.restore_activity", slug)


@bp.get("/organisations/<slug>/history")
@signed_in
def organisation_history(slug: str):
    org = _organisation(slug)
    return _history(org.uuid, org, organisation_snapshot(org), org.name,
                    "manage.restore_organisation", slug)


def _history(uuid: str, organisation: Organisation, current: dict, title: str,
             restore_endpoint: str, slug: str) -> Any:
    versions = db.session.scalars(select(ListingVersion).where(
        ListingVersion.target_uuid == uuid).order_by(ListingVersion.id.desc())).all()
    rows = [(version, diff(version.snapshot, current)) for version in versions]
    return render_template("manage/history.html", rows=rows, title=title,
                           organisation=organisation, restore_endpoint=restore_endpoint,
                           slug=slug)


def _version(uuid: str, version_id: int) -> ListingVersion:
    version = db.session.get(ListingVersion, version_id)
    if version is None or version.target_uuid != uuid:
        abort(404)
    return version


@bp.post("/activities/<slug>/history/<int:version>/restore")
@signed_in
def restore_activity(slug: str, version: int):
    """Restoring is an edit back to an old version: a change request like any other."""
    activity = _activity(slug)
    old = _version(activity.uuid, version)
    change = ChangeRequest(kind="activity", organisation=activity.organisation,
                           activity_id=activity.id, payload=old.snapshot,
                           base=activity_snapshot(activity),
                           summary=f"Restore “{activity.title}” to version {old.id}")
    return _submitted(change, submit(change, _me()), activity.organisation)


@bp.post("/organisations/<slug>/history/<int:version>/restore")
@signed_in
def restore_organisation(slug: str, version: int):
    org = _organisation(slug)
    old = _version(org.uuid, version)
    change = ChangeRequest(kind="organisation", organisation=org, payload=old.snapshot,
                           base=organisation_snapshot(org),
                           summary=f"Restore organisation “{org.name}” to version {old.id}")
    return _submitted(change, submit(change, _me()), org)
