"""The administrator's pages: every account, which organisations publish without review,
and the latest audit events."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Organisation
from . import bp
from .auth import admin_required, audit
from .models import AuditEvent, TrustedOrganisation, User


@bp.get("/admin")
@admin_required
def admin():
    users = db.session.scalars(select(User).order_by(User.email)).all()
    trusted = set(db.session.scalars(select(TrustedOrganisation.organisation_id)))
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(50)).all()
    return render_template("manage/admin.html", users=users, trusted=trusted,
                           organisations=organisations, events=events)


@bp.post("/admin/organisations/<slug>/trust")
@admin_required
def set_trusted(slug: str):
    organisation = db.first_or_404(select(Organisation).where(Organisation.slug == slug))
    row = db.session.get(TrustedOrganisation, organisation.id)
    wanted = request.form.get("trusted") == "yes"
    if wanted and row is None:
        db.session.add(TrustedOrganisation(organisation_id=organisation.id,
                                           set_by_id=current_user.id))
    elif not wanted and row is not None:
        db.session.delete(row)
    audit("organisation.trusted" if wanted else "organisation.untrusted", organisation.slug)
    db.session.commit()
    outcome = "now publishes without review" if wanted else "is reviewed again"
    flash(f"{organisation.name} {outcome}.")
    return redirect(url_for("manage.admin"))
