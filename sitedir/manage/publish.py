"""Change requests: snapshot a listing, diff two snapshots, and apply a change (publish).

`apply_change` is the one piece of code that publishes: moderator approval, trusted
organisations' auto-publish, restores and registrations all go through it. It validates with
content.py's ActivityIn/OrganisationIn and writes with the content loader's own upsert, so an
edit made here and a line changed in content/ land in the database the same way. Publishing
through the ORM writes the search outbox row in the same transaction (models.before_flush).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import has_request_context
from pydantic import ValidationError
from sqlalchemy import select, update

from .. import content, geo
from ..inputs import ActivityIn, NewVenueIn, OrganisationIn
from ..extensions import db
from ..listing import local_now
from ..models import Activity, Organisation, Term, Venue, unique_slug, utcnow
from .models import ChangeRequest, ListingVersion, Membership, TrustedOrganisation, User
from ..links import public_url
from ..notify import notify_moderators

ORGANISATION_FIELDS = content.ORGANISATION_COLUMNS  # an organisation's editable fields

# Plain-language names of snapshot fields, for diffs and error summaries.
FIELD_LABELS = {
    "slug": "Web address", "title": "Name of the activity", "summary": "Short summary",
    "description": "What happens", "categories": "Type of activity", "helps": "Who it helps",
    "age_min": "Youngest age", "age_max": "Oldest age", "formats": "How it runs",
    "venue": "Venue", "hide_address": "Hide the address",
    "online_details": "Online or phone details",
    "schedule": "When it runs", "schedule_notes": "Notes about when it runs",
    "term_time_only": "Term time only", "status": "Status", "waiting_list": "Waiting list",
    "break_until": "Back from a break on", "cost": "Cost", "join": "How to join",
    "first_visit": "First visit", "accessibility": "Access", "contact": "Contact",
    "last_reviewed": "Last reviewed", "new_venue": "New venue",
    "name": "Name", "website": "Website", "email": "Email", "phone": "Phone",
    "charity_number": "Registered charity number",
}


class ChangeError(ValueError):
    """A change that cannot be published as it stands (invalid, or its target is gone)."""


def activity_snapshot(activity: Activity) -> dict[str, Any]:
    """An activity as ActivityIn's JSON: the payload format of change requests and history."""
    return activity_json(ActivityIn.model_validate(content.activity_record(activity)))


def activity_json(item: ActivityIn) -> dict[str, Any]:
    """ActivityIn as JSON that ActivityIn reads back (times as "10:00", as in content files)."""
    data = item.model_dump(mode="json")
    for entry in data["schedule"]:
        entry["start"], entry["end"] = entry["start"][:5], entry["end"][:5]
    return data


def organisation_snapshot(organisation: Organisation) -> dict[str, Any]:
    """An organisation's own fields (not its activities)."""
    return {name: getattr(organisation, name) or "" for name in ORGANISATION_FIELDS}


def diff(base: dict[str, Any], proposed: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
    """Field-by-field differences: (key, label, before, after), in the payload's order."""
    rows = []
    for key in proposed:
        if key in ("last_reviewed",):
            continue
        before, after = base.get(key), proposed.get(key)
        if _normal(before) != _normal(after):
            rows.append((key, FIELD_LABELS.get(key, key), before, after))
    return rows


def _normal(value: Any) -> Any:
    """Treat empty values alike, so "" versus None is not shown as a change."""
    if value in ("", None, [], {}):
        return None
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items() if _normal(v) is not None} or None
    return value


def merged(base: dict[str, Any], proposed: dict[str, Any],
           current: dict[str, Any]) -> dict[str, Any]:
    """Apply only what the editor changed onto the listing as it is now (three-way merge)."""
    result = dict(current)
    for key, value in proposed.items():
        if key == "last_reviewed":  # set by publishing, never by the form
            continue
        if _normal(value) != _normal(base.get(key)) or key not in current:
            result[key] = value
    return result


def _terms_and_venues(item: ActivityIn) -> tuple[dict, dict]:
    terms = {(t.taxonomy, t.key): t for t in db.session.scalars(select(Term))}
    missing = [key for taxonomy, keys in (("category", item.categories), ("need", item.helps),
                                          ("accessibility", item.accessibility))
               for key in keys if (taxonomy, key) not in terms]
    if missing:
        raise ChangeError(f"unknown taxonomy keys: {', '.join(missing)}")
    venues = {}
    if item.venue:
        venue = db.session.scalar(select(Venue).where(Venue.slug == item.venue))
        if venue is None:
            raise ChangeError(f"no venue {item.venue!r}")
        venues[item.venue] = venue
    return terms, venues


def validate_activity(data: dict[str, Any]) -> ActivityIn:
    """ActivityIn, or ChangeError naming each problem."""
    try:
        return ActivityIn.model_validate(data)
    except ValidationError as exc:
        raise ChangeError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                    for e in exc.errors())) from exc


def _create_venue(proposed: dict[str, Any]) -> Venue:
    """A venue an editor added, placed by its postcode (offline gazetteer or imported table)."""
    postcode = geo.normalise_postcode(proposed.get("postcode") or "", full_only=True)
    if not proposed.get("name") or postcode is None:
        raise ChangeError("the new venue needs a name and a full postcode")
    point = geo.lookup_postcode_in_db(postcode)
    if point is None:
        try:
            place = geo.find_place(postcode)
            point = (place.latitude, place.longitude)
        except geo.PlaceError:
            point = (None, None)
    try:
        item = NewVenueIn.model_validate({
            "slug": unique_slug(Venue, proposed["name"]), "name": proposed["name"],
            "address": proposed.get("address") or [], "town": proposed.get("town") or "",
            "postcode": postcode, "latitude": point[0], "longitude": point[1]})
    except ValidationError as exc:
        raise ChangeError(f"the new venue: {exc.errors()[0]['msg']}") from exc
    venue = Venue(slug=item.slug)
    content.upsert_venue(venue, item, [])
    db.session.flush()
    return venue


def _write_activity(organisation: Organisation, data: dict[str, Any]) -> Activity:
    data = dict(data)
    proposed_venue = data.pop("new_venue", None)
    if proposed_venue:
        data["venue"] = _create_venue(proposed_venue).slug
    item = validate_activity(data)
    terms, venues = _terms_and_venues(item)
    content.upsert_activity(organisation, item, venues, terms)
    db.session.flush()
    return db.session.scalar(select(Activity).where(Activity.slug == item.slug))


def _write_organisation(organisation: Organisation, data: dict[str, Any]) -> None:
    try:
        item = OrganisationIn.model_validate(
            {name: data.get(name, "") for name in ORGANISATION_FIELDS})
    except ValidationError as exc:
        raise ChangeError(str(exc)) from exc
    content.upsert_organisation(organisation, item)


def _edit_activity(change: ChangeRequest, organisation: Organisation, today: dt.date) -> Activity:
    activity = db.session.get(Activity, change.activity_id)
    if activity is None or activity.organisation_id != organisation.id:
        raise ChangeError("the activity no longer exists")
    data = merged(change.base, change.payload, activity_snapshot(activity))
    data["slug"] = activity.slug  # the address never changes through an edit
    data["last_reviewed"] = today.isoformat()  # publishing an edit is a review
    return _write_activity(organisation, data)


def _new_activity(payload: dict[str, Any], organisation: Organisation,
                  today: dt.date) -> Activity:
    data = dict(payload)
    data["slug"] = unique_slug(Activity, data.get("title") or "activity")  # address from the name
    data["last_reviewed"] = today.isoformat()
    return _write_activity(organisation, data)


def _publish(change: ChangeRequest, today: dt.date) -> tuple[Organisation, str, str, dict]:
    """Write the change; returns the organisation and the new version's target, uuid, snapshot."""
    if change.kind == "register":
        organisation = _register(change)
        activity = _new_activity(change.payload.get("activity", {}), organisation, today)
    else:
        organisation = db.session.get(Organisation, change.organisation_id)
        if organisation is None:
            raise ChangeError("the organisation no longer exists")
        if change.kind == "organisation":
            data = merged(change.base, change.payload, organisation_snapshot(organisation))
            _write_organisation(organisation, data)
            db.session.flush()
            return (organisation, "organisation", organisation.uuid,
                    organisation_snapshot(organisation))
        if change.kind == "activity":
            activity = _edit_activity(change, organisation, today)
        else:
            activity = _new_activity(change.payload, organisation, today)
    db.session.flush()
    change.activity_id = activity.id
    return organisation, "activity", activity.uuid, activity_snapshot(activity)


def _decide(change: ChangeRequest, status: str, reviewer: User | None) -> None:
    """Move a pending change to status, once: of two moderators deciding at the same moment,
    the second one's conditional UPDATE matches no row (it waits for the first's lock)."""
    db.session.flush()
    decided = db.session.execute(
        update(ChangeRequest).where(ChangeRequest.id == change.id,
                                    ChangeRequest.status == "pending")
        .values(status=status, reviewer_id=reviewer.id if reviewer else None,
                reviewed_at=utcnow()).execution_options(synchronize_session=False))
    if decided.rowcount != 1:
        db.session.rollback()
        db.session.refresh(change)
        raise ChangeError(f"change {change.id} is already {change.status}")
    db.session.refresh(change)


def apply_change(change: ChangeRequest, reviewer: User | None, note: str = "") -> None:
    """Publish a change request with its history row and audit event. It flushes; the caller
    commits, with whatever else belongs to the decision (the email to the submitter).

    Raises ChangeError, with the transaction rolled back, when it cannot be published.
    """
    from .auth import audit

    _decide(change, "approved", reviewer)
    try:
        organisation, target, uuid, snapshot = _publish(change, local_now().date())
        db.session.add(ListingVersion(
            target=target, target_uuid=uuid, organisation_id=organisation.id, snapshot=snapshot,
            change_request_id=change.id, created_by_id=change.submitted_by_id,
            note=note or f"Change {change.id} published"))
        audit("change.approved", f"change:{change.id}", actor=reviewer, kind=change.kind)
        db.session.flush()
    except Exception:
        db.session.rollback()
        raise


def _register(change: ChangeRequest) -> Organisation:
    """Create the organisation of a registration and make the applicant its editor."""
    data = change.payload.get("organisation", {})
    organisation = Organisation(slug=unique_slug(Organisation, data.get("name", "")),
                                name=data.get("name", ""))
    db.session.add(organisation)
    _write_organisation(organisation, data)
    db.session.flush()
    change.organisation_id = organisation.id
    if change.submitted_by_id:
        db.session.add(Membership(user_id=change.submitted_by_id,
                                  organisation_id=organisation.id))
    return organisation


def is_trusted(organisation: Organisation | None) -> bool:
    """Trusted organisations' edits publish without review."""
    return organisation is not None and \
        db.session.get(TrustedOrganisation, organisation.id) is not None


def record_first_version(target: str, obj: Activity | Organisation) -> None:
    """Keep the state before the first managed change, so it can be restored."""
    exists = db.session.scalar(select(ListingVersion.id).where(
        ListingVersion.target_uuid == obj.uuid).limit(1))
    if exists is None:
        snapshot = activity_snapshot(obj) if target == "activity" else organisation_snapshot(obj)
        organisation_id = obj.organisation_id if target == "activity" else obj.id
        db.session.add(ListingVersion(target=target, target_uuid=obj.uuid,
                                      organisation_id=organisation_id, snapshot=snapshot,
                                      note="As first listed"))


def submit(change: ChangeRequest, user: User) -> bool:
    """Save a change request; publish at once for moderators and trusted organisations.

    Returns True when it was published.
    """
    from .auth import audit

    from .limits import check_change

    check_change(user, change)  # a 429 before anything is saved or emailed
    change.submitted_by_id = user.id
    if change.kind == "activity":
        record_first_version("activity", db.session.get(Activity, change.activity_id))
    elif change.kind == "organisation":
        record_first_version("organisation", change.organisation)
    db.session.add(change)
    audit("change.submitted", f"{change.kind}", actor=user, summary=change.summary)
    publish_now = change.kind != "register" and (
        (user.is_moderator and _privileged_now()) or is_trusted(change.organisation))
    if not publish_now:
        _tell_moderators(change)
    # Committed before publishing: if publishing fails, the request must still wait in the queue.
    db.session.commit()
    if not publish_now:
        return False
    try:
        apply_change(change, user, note=f"Change {change.id} published without review")
        db.session.commit()
    except ChangeError:
        # Not published after all: it waits in the queue, so a moderator must hear of it.
        if change.status == "pending":
            _tell_moderators(change)
            db.session.commit()
        raise
    return True


def _privileged_now() -> bool:
    """A moderator's change skips review only with the second factor given in this session
    (outside a request, e.g. a command run by the operator, there is no session to ask)."""
    from .auth import second_factor_given

    return not has_request_context() or second_factor_given()


def _tell_moderators(change: ChangeRequest) -> None:
    """Email the moderators about a change waiting for review (the caller commits)."""
    db.session.flush()  # the change's id, for the link
    if change.kind == "register":
        name = change.payload.get("organisation", {}).get("name", "")
        description = f"A new organisation asks to be listed: “{name}”, with its first activity."
    else:
        description = (f"{change.organisation.name if change.organisation else 'An editor'} "
                       f"sent a change to check: {change.summary}.")
    notify_moderators(f"change-{change.kind}", change.summary, description,
                      public_url("manage.change", change_id=change.id))


def reject_change(change: ChangeRequest, reviewer: User, reason: str,
                  status: str = "rejected") -> None:
    """Close a change request unpublished (rejected, or superseded by a later one), with the
    reason the editor will be sent (flushes; the caller commits)."""
    from .auth import audit

    _decide(change, status, reviewer)
    change.reason = reason
    audit(f"change.{status}", f"change:{change.id}", actor=reviewer, reason=reason)
    db.session.flush()
