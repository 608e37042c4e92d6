"""Editing an activity one section at a time, then "check your answers" and send once.

The editor's unsent answers are a draft change request (status "draft", never in the queue):
each section's page changes only its own fields of the draft; the summary page shows every
section with a Change link; sending turns the draft into an ordinary change request that keeps
the moderation rules (publish.submit). A phone shows one short page at a time instead of a
hundred fields.
"""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ..extensions import db
from ..listing import CODE_WORDS, REFERRER_LABELS
from ..models import Activity, Term, Venue
from . import bp
from .auth import signed_in
from .editing import _activity, _form_context, _me, _submitted
from .forms import NEW_VENUE, NEW_VENUE_FIELDS, ActivityForm, activity_values
from .models import ChangeRequest
from .publish import FIELD_LABELS, activity_snapshot, diff, submit

# key → (title, the form fields it edits, the payload keys it shows)
SECTIONS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "about": ("About the activity", ("title", "summary", "description", "categories"),
              ("title", "summary", "description", "categories")),
    "who": ("Who it is for", ("helps", "age_min", "age_max"), ("helps", "age_min", "age_max")),
    "where": ("Where", ("formats", "venue", "hide_address", "online_details") + NEW_VENUE_FIELDS,
              ("formats", "venue", "new_venue", "hide_address", "online_details")),
    "when": ("When", ("slots", "dates", "term_time_only", "schedule_notes"),
             ("schedule", "term_time_only", "schedule_notes")),
    "join": ("How to join", ("cost_type", "cost_amount", "cost_per", "cost_notes", "join_how",
                             "referral_from", "join_notes", "bring_friend", "welcome",
                             "what_to_bring"), ("cost", "join", "first_visit")),
    "access": ("Access", ("accessibility",), ("accessibility",)),
    "contact": ("Contact", ("contact_name", "contact_phone", "contact_email"), ("contact",)),
}


def section_of(field: str) -> str:
    """The section a form field (or a schedule row's field, "slot-2-start") belongs to."""
    if field.startswith(("slot-", "date-")):
        return "when"
    return next((key for key, (_, fields, _) in SECTIONS.items() if field in fields), "about")


def _draft(activity: Activity, create: bool = True) -> ChangeRequest | None:
    """This editor's unsent answers for the activity, made from the listing when first needed."""
    draft = db.session.scalar(select(ChangeRequest).where(
        ChangeRequest.activity_id == activity.id, ChangeRequest.status == "draft",
        ChangeRequest.submitted_by_id == _me().id))
    if draft is None and create:
        base = activity_snapshot(activity)
        draft = ChangeRequest(kind="activity", organisation_id=activity.organisation_id,
                              activity_id=activity.id, payload=base, base=base,
                              status="draft", submitted_by_id=_me().id,
                              summary=f"Edit “{activity.title}”"[:200])
    return draft


def draft_values(payload: dict[str, Any]) -> dict[str, Any]:
    """Form values of a draft payload, including a proposed new venue."""
    values = activity_values(payload)
    proposed = payload.get("new_venue")
    if proposed:
        values.update(venue=NEW_VENUE, new_venue_name=proposed.get("name", ""),
                      new_venue_address="\n".join(proposed.get("address") or []),
                      new_venue_town=proposed.get("town", ""),
                      new_venue_postcode=proposed.get("postcode", ""))
    return values


@bp.route("/activities/<slug>/edit/<section>", methods=["GET", "POST"])
@signed_in
def edit_section(slug: str, section: str):
    if section not in SECTIONS:
        abort(404)
    activity = _activity(slug)
    draft = _draft(activity)
    # The section's own fields come from the form; the rest stay as the draft has them.
    form = ActivityForm(draft_values(draft.payload), activity.slug, fields=SECTIONS[section][1])
    if form.is_submitted() and not form.more_rows and form.validate():
        draft.payload = form.payload
        db.session.add(draft)
        db.session.commit()
        return redirect(url_for("manage.check_activity", slug=slug, _anchor=section))
    return render_template("manage/edit_section.html", activity=activity, section=section,
                           section_title=SECTIONS[section][0], organisation=activity.organisation,
                           **_form_context(form.values, form.messages)), \
        400 if form.messages else 200


def _words(value: Any, names: dict[str, str]) -> str:
    """A payload value as the summary shows it."""
    if value in (None, "", [], {}):
        return "Not given"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_words(item, names) for item in value)
    if isinstance(value, dict):
        parts = [f"{FIELD_LABELS.get(k, k.replace('_', ' ').capitalize())}: {_words(v, names)}"
                 for k, v in value.items() if v not in (None, "", [], {})]
        return "; ".join(parts) or "Not given"
    text = str(value)
    return names.get(text) or CODE_WORDS.get(text) or REFERRER_LABELS.get(text) or text


def summary_rows(payload: dict[str, Any], base: dict[str, Any]) -> list[dict[str, Any]]:
    """Each section with its answers in words and whether the draft changed it."""
    names = {t.key: t.name for t in db.session.scalars(select(Term))}
    names |= {v.slug: v.name for v in db.session.scalars(select(Venue))}
    changed = {key for key, *_ in diff(base, payload)}
    rows = []
    for key, (title, _, shown) in SECTIONS.items():
        answers = [(FIELD_LABELS.get(name, name), _words(payload.get(name), names))
                   for name in shown if name != "new_venue" or payload.get(name)]
        rows.append({"key": key, "title": title, "answers": answers,
                     "changed": bool(changed & set(shown))})
    return rows


@bp.route("/activities/<slug>/check", methods=["GET", "POST"])
@signed_in
def check_activity(slug: str):
    """GOV.UK "check your answers": every section, a Change link each, one Send button."""
    activity = _activity(slug)
    draft = _draft(activity, create=False)
    payload = draft.payload if draft else activity_snapshot(activity)
    base = draft.base if draft else payload
    if request.method == "POST" and draft is not None:
        if request.form.get("action") == "discard":
            db.session.delete(draft)
            db.session.commit()
            flash("Your unsent changes are discarded.", "info")
            return redirect(url_for("manage.organisation", slug=activity.organisation.slug))
        if diff(draft.base, draft.payload):
            draft.status = "pending"
            return _submitted(draft, submit(draft, _me()), activity.organisation)
    if request.method == "POST":
        flash("You did not change anything.", "info")
    return render_template("manage/check_activity.html", activity=activity,
                           organisation=activity.organisation, draft=draft,
                           rows=summary_rows(payload, base),
                           changed=bool(draft and diff(draft.base, draft.payload)))
