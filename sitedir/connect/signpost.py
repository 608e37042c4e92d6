"""Turning a filled-in form into a recommendation: the record, the email, the QR codes."""
from __future__ import annotations

from flask import current_app, render_template


from .. import links, mail
from ..extensions import db
from ..listing import local_now
from ..models import Activity, utcnow
from .forms import RecommendForm
from .models import ROLES, Recommendation, RecommendationItem


def listing_url(activity: Activity) -> str:
    """The listing's address on the public site (PUBLIC_BASE_URL), for QR codes and emails."""
    return links.public_url("public.activity", slug=activity.slug)


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def create_recommendation(form: RecommendForm, activities: list[Activity]) -> Recommendation:
    """Add the recommendation (and its email, if asked for) to the session; the caller commits."""
    now = utcnow()
    recommendation = Recommendation(
        created_at=now, month=now.strftime("%Y-%m"), role=form.role.data,
        delivery=form.delivery.data, large_print=bool(form.large_print.data),
        recommender_name=_clean(form.recommender_name.data),
        recommender_organisation=_clean(form.recommender_organisation.data),
        person_name=_clean(form.person_name.data), note=_clean(form.note.data))
    recommendation.items = [
        RecommendationItem(activity=activity, activity_uuid=activity.uuid, position=position)
        for position, activity in enumerate(activities)]
    db.session.add(recommendation)
    if recommendation.delivery == "email":
        subject, text, html = render_email(recommendation, activities)
        outbox = mail.enqueue(form.email.data.strip(), subject, text, html, kind="recommendation",
                              reply_to=(form.reply_to.data or "").strip() or None)
        db.session.flush()  # the outbox row's id, for the link below
        recommendation.outbox_email_id = outbox.id
    return recommendation


ROLE_PHRASES = {
    "library": "someone at a library", "youth_work": "a youth worker",
    "link_worker": "a social prescribing link worker", "gp_practice": "someone at a GP practice",
    "housing": "someone from a housing service", "job_centre": "someone at a job centre",
    "vcse": "someone from a voluntary or community group", "other": "a community connector",
}


def sender_line(recommendation: Recommendation) -> str:
    """Who recommended it: 'Sam, Leeds Central Library (Library)' or 'a youth worker'."""
    who = ", ".join(part for part in (recommendation.recommender_name,
                                      recommendation.recommender_organisation) if part)
    if who:
        return f"{who} ({ROLES.get(recommendation.role, 'Other')})"
    return ROLE_PHRASES.get(recommendation.role, "a community connector")


def render_email(recommendation: Recommendation,
                 activities: list[Activity]) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the email to the person."""
    site = current_app.config["SITE_NAME"]
    if len(activities) == 1:
        subject = f"An activity recommended for you: {activities[0].title}"
    else:
        subject = f"{len(activities)} activities recommended for you"
    context = {
        "recommendation": recommendation, "activities": activities, "site_name": site,
        "sender": sender_line(recommendation), "listing_url": listing_url,
        "home_url": links.public_url("public.home"),
        "today": local_now().date(), "subject": subject,
    }
    text = render_template("email/recommendation.txt", **context)
    html = render_template("email/recommendation.html", **context)
    return subject[:200], text, html


def erase_after_send(row: mail.OutboxEmail) -> None:
    """Once the email has gone, the recommendation keeps only activities, month, role, delivery."""
    for recommendation in db.session.query(Recommendation).filter_by(outbox_email_id=row.id):
        recommendation.erase_personal_data()
