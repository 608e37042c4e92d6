"""The moderators' queue: change requests (with diffs), claims, registrations, and the public's
suggestions and problem reports, with approve/reject decisions that email the person.
"""
from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .auth import audit, moderator_required, signed_in
from ..extensions import db
from ..models import Activity, Organisation, utcnow
from . import bp
from .forms import ActivityForm, OrganisationForm, activity_values
from .limits import check_claim
from .models import ChangeRequest, Claim, Membership, User
from ..links import public_url
from ..notify import notify_moderators
from .notify import send_email
from .rule_forms import ClaimForm, ReasonForm
from .publish import (
    ChangeError, activity_snapshot, apply_change, diff, merged, organisation_snapshot,
    reject_change, submit,
)


def _me() -> User:
    return db.session.get(User, current_user.id)


def _public_items() -> tuple[list[Any], list[Any]]:
    """Suggestions and problem reports from the recommend feature, when it is installed."""
    try:
        from ..connect.models import ProblemReport, Suggestion
    except ImportError:
        return [], []
    suggestions = db.session.scalars(select(Suggestion).where(Suggestion.status == "new")
                                     .order_by(Suggestion.id)).all()
    # Safeguarding concerns went to SAFEGUARDING_CONTACT and are kept out of this queue.
    reports = db.session.scalars(select(ProblemReport).where(
        ProblemReport.status == "new", ProblemReport.reason != "safeguarding")
        .order_by(ProblemReport.id)).all()
    return suggestions, reports


@bp.get("/queue")
@moderator_required
def queue():
    changes = db.session.scalars(select(ChangeRequest).where(ChangeRequest.status == "pending")
                                 .order_by(ChangeRequest.id)).all()
    claims = db.session.scalars(select(Claim).where(Claim.status == "pending")
                                .order_by(Claim.id)).all()
    suggestions, reports = _public_items()
    return render_template("manage/queue.html", changes=changes, claims=claims,
                           suggestions=suggestions, reports=reports)


def _change(change_id: int) -> ChangeRequest:
    change = db.session.get(ChangeRequest, change_id)
    if change is None:
        abort(404)
    return change


@bp.get("/queue/changes/<int:change_id>")
@moderator_required
def change(change_id: int):
    item = _change(change_id)
    return render_template("manage/change.html", change=item, error="", **_review(item))


def current_rows(item: ChangeRequest) -> tuple[list, bool]:
    """What approving would change on the listing as published now (three-way merge, as
    apply_change does), and whether the listing changed since the editor saw it."""
    if item.kind == "register":
        return diff({}, item.payload.get("organisation", {})) + \
            diff({}, item.payload.get("activity", {})), False
    current: dict | None = None
    if item.kind == "activity" and item.activity_id:
        activity = db.session.get(Activity, item.activity_id)
        current = activity_snapshot(activity) if activity else None
    elif item.kind == "organisation" and item.organisation:
        current = organisation_snapshot(item.organisation)
    if current is None or item.status != "pending":
        return diff(item.base, item.payload), False
    return diff(current, merged(item.base, item.payload, current)), bool(diff(item.base, current))


def other_requests(item: ChangeRequest) -> list[ChangeRequest]:
    """Other pending requests for the same listing: a second request is marked, not hidden."""
    if not item.activity_id or item.kind != "activity":
        return []
    return db.session.scalars(select(ChangeRequest).where(
        ChangeRequest.activity_id == item.activity_id, ChangeRequest.status == "pending",
        ChangeRequest.id != item.id).order_by(ChangeRequest.id)).all()


def _review(item: ChangeRequest) -> dict[str, Any]:
    rows, moved = current_rows(item)
    return {"rows": rows, "moved_on": moved, "others": other_requests(item)}


@bp.post("/queue/changes/<int:change_id>/supersede/<int:older_id>")
@moderator_required
def supersede(change_id: int, older_id: int):
    """Close an older request for the same listing: this newer one replaces it."""
    item, older = _change(change_id), _change(older_id)
    if older.activity_id != item.activity_id or older.id == item.id or item.kind != "activity":
        abort(400)
    try:
        reject_change(older, _me(), f"Replaced by a later change ({item.summary})",
                      status="superseded")
    except ChangeError:
        abort(409)
    db.session.commit()
    flash(f"Change {older.id} is superseded by change {item.id}.")
    return redirect(url_for("manage.change", change_id=item.id))


def _tell_submitter(item: ChangeRequest, approved: bool) -> None:
    if item.submitted_by is None:
        return
    site = current_app.config["SITE_NAME"]
    listings = public_url("manage.dashboard")
    if approved:
        body = (f"Your change is now published on {site}:\n\n{item.summary}\n\n"
                f"Thank you for keeping your listing up to date.\n\nYour listings: {listings}\n")
    else:
        body = (f"A moderator did not publish your change on {site}:\n\n{item.summary}\n\n"
                f"Their reason:\n{item.reason}\n\nYou can sign in and edit it again: "
                f"{listings}\n")
    send_email(item.submitted_by.email,
               f"Your change was {'published' if approved else 'not published'}", body,
               kind="change-decision")


@bp.post("/queue/changes/<int:change_id>/approve")
@moderator_required
def approve_change(change_id: int):
    item = _change(change_id)
    try:
        apply_change(item, _me())
    except ChangeError as exc:
        return render_template("manage/change.html", change=item,
                               error=f"This change cannot be published: {exc}",
                               **_review(item)), 409
    _tell_submitter(item, approved=True)
    db.session.commit()
    flash(f"Published: {item.summary}")
    return redirect(url_for("manage.queue"))


@bp.post("/queue/changes/<int:change_id>/reject")
@moderator_required
def reject(change_id: int):
    item = _change(change_id)
    form = ReasonForm()
    reason = form.values["reason"] if form.validate() else ""
    if not reason:
        return render_template("manage/change.html", change=item, error="",
                               reason_error=form.messages.get("reason") or "Enter the reason, "
                               "so the editor can put it right", **_review(item)), 400
    try:
        reject_change(item, _me(), reason)
    except ChangeError:
        abort(409)
    _tell_submitter(item, approved=False)
    db.session.commit()
    flash(f"Rejected: {item.summary}")
    return redirect(url_for("manage.queue"))


# -- claims: "Is this your group?" -----------------------------------------------------------

@bp.route("/claim/<kind>/<slug>", methods=["GET", "POST"])
@signed_in
def claim(kind: str, slug: str):
    if kind == "activity":
        activity = db.first_or_404(select(Activity).where(Activity.slug == slug))
        organisation = activity.organisation
    elif kind == "organisation":
        organisation = db.first_or_404(select(Organisation).where(Organisation.slug == slug))
    else:
        abort(404)
    user = _me()
    if any(m.organisation_id == organisation.id for m in user.memberships):
        return redirect(url_for("manage.organisation", slug=organisation.slug))
    form = ClaimForm()
    if form.validate_on_submit():
        values = form.values
        if _pending_claim(user, organisation):
            flash(f"You have already asked to edit {organisation.name}. A moderator will "
                  "email you.", "info")
            return redirect(url_for("manage.dashboard"))
        check_claim(user)
        item = Claim(user_id=user.id, organisation_id=organisation.id,
                     role_in_group=values["role_in_group"][:200], message=values["message"])
        db.session.add(item)
        audit("claim.submitted", organisation.slug, actor=user)
        db.session.flush()
        notify_moderators(
            "claim", f"a request to edit {organisation.name}",
            f"Someone asks to edit the listings of {organisation.name}.",
            public_url("manage.queue", _anchor=f"claim-{item.id}"))
        db.session.commit()
        flash(f"Thank you. A moderator will check that you run {organisation.name} and "
              "email you.")
        return redirect(url_for("manage.dashboard"))
    return render_template("manage/claim.html", organisation=organisation, v=form.values,
                           errors=form.messages), 400 if form.messages else 200


def _pending_claim(user: User, organisation: Organisation) -> bool:
    return db.session.scalar(select(Claim.id).where(
        Claim.user_id == user.id, Claim.organisation_id == organisation.id,
        Claim.status == "pending").limit(1)) is not None


@bp.post("/queue/claims/<int:claim_id>/<decision>")
@moderator_required
def decide_claim(claim_id: int, decision: str):
    item = db.session.get(Claim, claim_id)
    if item is None or decision not in ("approve", "reject"):
        abort(404)
    if item.status != "pending":
        abort(409)
    form = ReasonForm()
    reason = form.values["reason"] if form.validate() else ""
    if form.messages:
        flash(form.messages["reason"], "info")
        return redirect(url_for("manage.queue"))
    if decision == "reject" and not reason:
        flash("Enter a reason to reject a claim.", "info")
        return redirect(url_for("manage.queue"))
    item.status = "approved" if decision == "approve" else "rejected"
    item.reviewer_id, item.reviewed_at, item.reason = current_user.id, utcnow(), reason
    exists = db.session.scalar(select(Membership).where(
        Membership.user_id == item.user_id, Membership.organisation_id == item.organisation_id))
    if decision == "approve" and exists is None:
        db.session.add(Membership(user_id=item.user_id, organisation_id=item.organisation_id))
    audit(f"claim.{item.status}", item.organisation.slug, claim=item.id, reason=reason)
    site = current_app.config["SITE_NAME"]
    send_email(item.user.email, f"Your request to manage {item.organisation.name}",
               (f"You can now sign in to {site} and edit the listings of "
                f"{item.organisation.name}.\n") if decision == "approve" else
               (f"A moderator did not confirm you as an editor of {item.organisation.name}.\n\n"
                f"Their reason:\n{reason}\n"), kind="claim-decision")
    db.session.commit()
    flash(f"Claim {item.status}.")
    return redirect(url_for("manage.queue"))


# -- registering a new organisation ------------------------------------------------------------

def _from_suggestion(suggestion_id: int, org_values: dict, values: dict) -> None:
    """"Start a listing from this suggestion": a moderator's draft pre-filled with what the
    public suggested (the moderator checks and completes it before sending)."""
    try:
        from ..connect.models import Suggestion
    except ImportError:
        return
    item = db.session.get(Suggestion, suggestion_id)
    if item is None or not current_user.is_moderator:
        return
    org_values["name"] = item.group_name[:200]
    values.update(title=item.group_name[:200], summary=item.description[:200],
                  description=item.description, schedule_notes=item.when)
    notes = [f"Where (as suggested): {item.where}" if item.where else "",
             f"Contact (as suggested): {item.contact}" if item.contact else ""]
    values["join_notes"] = "\n".join(note for note in notes if note)


@bp.route("/register", methods=["GET", "POST"])
@signed_in
def register():
    """A new organisation and its first activity, as one change request for a moderator."""
    from .editing import _form_context

    org_form = OrganisationForm(prefix="org_")
    org_values = org_form.values
    form = ActivityForm(activity_values({}), "new-activity")
    if request.method == "GET" and request.args.get("suggestion", "").isdigit():
        _from_suggestion(int(request.args["suggestion"]), org_values, form.values)
    errors: dict[str, str] = {}
    if form.is_submitted():
        org_form.validate()
        org_values = org_form.values
        if not form.more_rows:
            form.validate()  # both forms, so the summary lists every problem at once
            errors = {**org_form.messages, **form.messages}
            if not errors:
                change = ChangeRequest(kind="register", payload={
                    "organisation": org_values, "activity": form.payload}, base={},
                    summary=f"Register “{org_values['name']}”")
                submit(change, _me())
                flash("Thank you. A moderator will check your organisation and its first "
                      "activity, and email you when they are published.")
                return redirect(url_for("manage.dashboard"))
    return render_template("manage/register.html", org=org_values,
                           **_form_context(form.values, errors)), 400 if errors else 200


# -- the public's suggestions and problem reports ----------------------------------------------

@bp.post("/queue/<kind>/<int:item_id>/close")
@moderator_required
def close_item(kind: str, item_id: int):
    try:
        from ..connect.models import ProblemReport, Suggestion
    except ImportError:
        abort(404)
    model = {"suggestions": Suggestion, "reports": ProblemReport}.get(kind)
    item = db.session.get(model, item_id) if model else None
    if item is None:
        abort(404)
    outcome = request.form.get("outcome")
    if outcome not in ("done", "dismissed"):
        abort(400)
    item.status = outcome
    audit(f"{kind}.{outcome}", f"{kind}:{item_id}")
    db.session.commit()
    flash("Marked as done." if outcome == "done" else "Dismissed.")
    return redirect(url_for("manage.queue"))
