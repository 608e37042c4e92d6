"""Public page views: look up, 404 if missing, render."""
from __future__ import annotations

from flask import abort, current_app, redirect, render_template, url_for
from sqlalchemy import func, select

from ..extensions import db
from ..freshness import sink_order
from ..http_cache import revalidated
from ..listing import local_now
from ..models import FULL_ACTIVITY, Activity, Organisation, Page, Term, current_slug
from ..pagination import requested_page
from . import bp


def _listed(query):
    """Full, on a break, out of date and closed sink below the rest (freshness.sink_order)."""
    return query.options(*FULL_ACTIVITY).order_by(*sink_order(local_now().date()))


@bp.get("/")
def home():
    counts = dict(db.session.execute(
        select(Term.id, func.count(Activity.id)).join(Term, Activity.terms)
        .where(Term.taxonomy == "category", Activity.status != "closed").group_by(Term.id)).all())
    total = db.session.scalar(select(func.count(Activity.id)).where(Activity.status != "closed"))
    terms = db.session.scalars(select(Term).where(Term.taxonomy.in_(("category", "need")))
                               .order_by(Term.position)).all()
    return render_template(
        "public/home.html", counts=counts, total=total,
        categories=[term for term in terms if term.taxonomy == "category"],
        needs=[term for term in terms if term.taxonomy == "need"])


@bp.get("/categories/<key>")
def category(key: str):
    term = db.first_or_404(select(Term).where(Term.taxonomy == "category", Term.key == key))
    query = select(Activity).where(Activity.terms.any(Term.id == term.id))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pagination = requested_page(total, current_app.config["PAGE_SIZE"])
    activities = db.session.scalars(
        _listed(query).limit(pagination.per_page).offset(pagination.offset)).all()
    return render_template("public/category.html", term=term, activities=activities,
                           pagination=pagination)


@bp.get("/organisations")
def organisations():
    rows = db.session.execute(
        select(Organisation, func.count(Activity.id)).outerjoin(Organisation.activities)
        .group_by(Organisation.id).order_by(func.lower(Organisation.name))).all()
    return render_template("public/organisations.html", rows=rows)


@bp.get("/organisations/<slug>")
def organisation(slug: str):
    org = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        return _renamed("organisation", slug, "public.organisation")
    activities = db.session.scalars(
        _listed(select(Activity).where(Activity.organisation_id == org.id))).all()
    return render_template("public/organisation.html", organisation=org, activities=activities)


def _renamed(kind: str, slug: str, endpoint: str):
    """A permanent redirect from a slug something used to have, else 404."""
    current = current_slug(kind, slug)
    if current is None:
        abort(404)
    return redirect(url_for(endpoint, slug=current), 301)


@bp.get("/activities/<slug>")
def activity(slug: str):
    item = db.session.scalar(select(Activity).options(*FULL_ACTIVITY).where(Activity.slug == slug))
    if item is None:
        return _renamed("activity", slug, "public.activity")
    return revalidated(render_template("public/activity.html", activity=item), private=True)


@bp.get("/pages/<slug>")
def page(slug: str):
    item = db.first_or_404(select(Page).where(Page.slug == slug))
    return render_template("public/page.html", page=item)


@bp.get("/healthz")
def healthz():
    """For load balancers: the database answers and this node's index is not too far behind."""
    from ..indexing import health

    db.session.execute(select(1))
    ready, details = health()
    return {"status": "ok" if ready else "not ready", **details}, 200 if ready else 503
