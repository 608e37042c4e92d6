"""Connector views: the shortlist, recommending, confirmation, print sheets, QR codes, reports.

Every POST keeps CSRF and redirects after success; the confirmation page is a GET that reads
what the POST committed, so it cannot show before the commit.
"""
from __future__ import annotations

from flask import (
    Response, abort, current_app, flash, redirect, render_template, request, session, url_for,
)
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from .. import mail
from ..extensions import db
from ..limiter import form_limits
from ..links import public_url, safe_next
from ..models import Activity, FULL_ACTIVITY
from ..notify import notify_moderators
from . import bp, shortlist
from .forms import GuardedForm, ProblemForm, RecommendForm, SuggestForm
from .models import (
    DELIVERIES, PROBLEM_REASONS, ROLES, SAFEGUARDING, ProblemReport, Recommendation, Suggestion,
)
from ..public.share import short_url
from ..qr import qr_svg, qr_svg_data_uri
from .signpost import create_recommendation, sender_line

RECENT_KEY = "recommendations"  # tokens this browser made: only it may see or reprint them
RECENT_MAX = 10
SENDER_KEY = "sender"  # the connector's role and organisation, for their next recommendation
AUTOMATED_MESSAGE = "Sorry, we could not accept that. Check your answers and send the form again."


@bp.after_request
def no_store(response: Response) -> Response:
    """These pages can hold a person's name or note: never keep them in any cache."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _activity_or_404(slug: str) -> Activity:
    return db.first_or_404(select(Activity).options(*FULL_ACTIVITY).where(Activity.slug == slug))


def _safe_next(default: str) -> str:
    """Where to go back to: only a path on this site (never an open redirect)."""
    return safe_next(request.form.get("next") or request.args.get("next"), default)


# --- the shortlist --------------------------------------------------------------------------------

@bp.get("/shortlist")
def shortlist_page():
    return render_template("connect/shortlist.html", activities=shortlist.activities(),
                           max_items=shortlist.MAX_ITEMS)


def _back_with(message: str, category: str = "success",
               activity: Activity | None = None) -> BaseResponse:
    """Redirect back; the message shows only on our own pages (other pages show no flashes).
    A card's button (back_to=card) comes back to that card, not the top of a long list."""
    target = _safe_next(url_for("connect.shortlist_page"))
    if activity is not None and request.form.get("back_to") == "card" and "#" not in target:
        target += f"#card-{activity.slug}"
    if target.split("?")[0].split("#")[0] == url_for("connect.shortlist_page"):
        flash(message, category)
    return redirect(target)


@bp.post("/shortlist/add")
def shortlist_add() -> BaseResponse:
    activity = _activity_or_404(request.form.get("slug", ""))
    if not shortlist.add(activity.id):
        flash(f"Your list is full ({shortlist.MAX_ITEMS} activities). Remove one first.",
              "error")
        return redirect(url_for("connect.shortlist_page"))
    # The header count and the button ("On your list") show the change on the page itself.
    return _back_with(f"Added {activity.title} to your list", activity=activity)


@bp.post("/shortlist/remove")
def shortlist_remove() -> BaseResponse:
    activity = _activity_or_404(request.form.get("slug", ""))
    shortlist.remove(activity.id)
    return _back_with(f"Removed {activity.title} from your list", activity=activity)


@bp.post("/shortlist/move")
def shortlist_move():
    activity = _activity_or_404(request.form.get("slug", ""))
    shortlist.move(activity.id, -1 if request.form.get("direction") == "up" else 1)
    return redirect(url_for("connect.shortlist_page") + f"#item-{activity.slug}")


@bp.post("/shortlist/clear")
def shortlist_clear() -> BaseResponse:
    shortlist.clear()
    return _back_with("Your list is now empty")


# --- recommending ----------------------------------------------------------------------

def _remembered_sender() -> dict[str, str]:
    """The connector's role and organisation from their last recommendation in this browser
    session (the signed session cookie only: nothing kept on the server)."""
    saved = session.get(SENDER_KEY)
    if not isinstance(saved, dict):
        return {}
    return {key: str(saved[key]) for key in ("role", "recommender_organisation")
            if isinstance(saved.get(key), str) and saved[key]}


def _remember_sender(form: RecommendForm) -> None:
    session[SENDER_KEY] = {"role": form.role.data or "",
                           "recommender_organisation": (form.recommender_organisation.data
                                                        or "").strip()}


def _recommend(activities: list[Activity], cancel_url: str):
    """Show the form; on a valid POST commit the recommendation (and email) and redirect."""
    remembered = _remembered_sender() if request.method == "GET" else {}
    form = RecommendForm(data=remembered) if remembered else RecommendForm()
    if form.validate_on_submit():
        if form.looks_automated():
            form.restart_timer()
            flash(AUTOMATED_MESSAGE, "error")
        else:
            recommendation = create_recommendation(form, activities)
            db.session.commit()  # the outbox row goes in this same commit
            _remember_sender(form)
            recent = [recommendation.token] + list(session.get(RECENT_KEY, []))
            session[RECENT_KEY] = recent[:RECENT_MAX]
            return redirect(url_for("connect.confirmation", token=recommendation.token))
    elif form.is_submitted():
        form.restart_timer()
    status = 400 if form.is_submitted() else 200
    return render_template("connect/recommend.html", form=form, activities=activities,
                           cancel_url=cancel_url, roles=ROLES, deliveries=DELIVERIES,
                           remembered=bool(remembered)), status


@bp.route("/activities/<slug>/recommend", methods=["GET", "POST"])
@form_limits("recommend")
def recommend_one(slug: str):
    activity = _activity_or_404(slug)
    return _recommend([activity], url_for("public.activity", slug=slug))


@bp.route("/shortlist/recommend", methods=["GET", "POST"])
@form_limits("recommend")
def recommend_list():
    activities = shortlist.activities()
    if not activities:
        flash("Add at least one activity to your list first", "error")
        return redirect(url_for("connect.shortlist_page"))
    return _recommend(activities, url_for("connect.shortlist_page"))


def _own_recommendation(token: str) -> Recommendation:
    """A recommendation this browser made; anyone else gets a 404 (it may hold a note)."""
    if token not in session.get(RECENT_KEY, []):
        abort(404)
    recommendation = db.session.scalar(select(Recommendation).where(Recommendation.token == token))
    if recommendation is None:
        abort(404)
    return recommendation


def _qr_codes(activities: list[Activity]) -> list[tuple[Activity, str, str]]:
    """Each listing with its short link and that link as a QR code: a printed code keeps
    working when the listing's title (and so its address) changes."""
    return [(activity, short_url(activity), qr_svg_data_uri(short_url(activity)))
            for activity in activities]


@bp.get("/recommendations/<token>")
def confirmation(token: str):
    recommendation = _own_recommendation(token)
    email = db.session.get(mail.OutboxEmail, recommendation.outbox_email_id) \
        if recommendation.outbox_email_id else None
    return render_template("connect/confirmation.html", recommendation=recommendation,
                           activities=recommendation.activities, email=email,
                           codes=_qr_codes(recommendation.activities),
                           sender=sender_line(recommendation))


@bp.get("/recommendations/<token>/print")
def print_sheet(token: str):
    recommendation = _own_recommendation(token)
    large = request.args.get("large", "1" if recommendation.large_print else "") == "1"
    return render_template("connect/print.html", recommendation=recommendation,
                           codes=_qr_codes(recommendation.activities), large=large,
                           sender=sender_line(recommendation))


@bp.get("/activities/<slug>/qr.svg")
def activity_qr(slug: str) -> Response:
    """The listing's public address as a QR code (no personal data: cacheable)."""
    activity = _activity_or_404(slug)
    response = Response(qr_svg(short_url(activity)), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


# --- suggestions and problem reports ------------------------------------------------------------

def _guarded_post(form: GuardedForm) -> bool:
    """True when the form is valid and sent by a person; otherwise ready to show again."""
    if form.validate_on_submit():
        if not form.looks_automated():
            return True
        flash(AUTOMATED_MESSAGE, "error")
    if form.is_submitted():
        form.restart_timer()
    return False


@bp.route("/suggest", methods=["GET", "POST"])
@form_limits("suggest")
def suggest():
    form = SuggestForm()
    if _guarded_post(form):
        item = Suggestion(
            group_name=form.group_name.data.strip(), description=form.description.data.strip(),
            where=(form.where.data or "").strip(), when=(form.when.data or "").strip(),
            contact=(form.contact.data or "").strip(), role=form.role.data or "")
        db.session.add(item)
        db.session.flush()
        # What they wrote stays in the queue, behind the moderators' sign-in.
        notify_moderators(
            "suggestion", "a suggested activity", "A member of the public suggested an activity.",
            public_url("manage.queue", _anchor=f"suggestion-{item.id}"))
        db.session.commit()
        return redirect(url_for("connect.thanks", kind="suggestion"))
    return render_template("connect/suggest.html", form=form), \
        400 if form.is_submitted() else 200


def _tell_about_report(item: ProblemReport, activity: Activity) -> bool:
    """Email whoever must act; True when an email was queued (the caller commits).

    A safeguarding concern goes at once, with what was written, to SAFEGUARDING_CONTACT only;
    other reports tell the moderators the reason (the reporter's own words stay in the queue).
    """
    if item.reason == SAFEGUARDING:
        contact = str(current_app.config.get("SAFEGUARDING_CONTACT") or "").strip()
        if contact:
            listing = public_url("public.activity", slug=activity.slug)
            mail.enqueue(contact, f"Safeguarding concern about “{activity.title}”",
                         f"A safeguarding concern was reported about “{activity.title}” "
                         f"({activity.organisation.name}), {listing}"
                         f"\n\nWhat they wrote:\n{item.details}\n\nThe reporter was not asked "
                         "who they are. This report is not shown in the moderation queue.\n",
                         "", kind="safeguarding")
            return True
        # No named person yet (a development install): the moderators hear that one waits.
        return notify_moderators(
            "safeguarding", f"a safeguarding concern about “{activity.title}”",
            "A safeguarding concern was reported, and SAFEGUARDING_CONTACT is not set: set it "
            "so that these go to your safeguarding lead.", public_url("manage.queue"))
    return notify_moderators(
        "report", f"a problem report about “{activity.title}”",
        f"A member of the public reported a problem with “{activity.title}”: "
        f"{PROBLEM_REASONS.get(item.reason, 'something else').lower()}.",
        public_url("manage.queue", _anchor=f"report-{item.id}"))


@bp.route("/activities/<slug>/report", methods=["GET", "POST"])
@form_limits("report")
def report_problem(slug: str):
    activity = _activity_or_404(slug)
    form = ProblemForm()
    if _guarded_post(form):
        item = ProblemReport(activity=activity, activity_uuid=activity.uuid,
                             reason=form.reason.data, details=(form.details.data or "").strip())
        db.session.add(item)
        db.session.flush()
        _tell_about_report(item, activity)
        db.session.commit()
        return redirect(url_for("connect.thanks", kind="report", slug=slug))
    return render_template("connect/report.html", form=form, activity=activity,
                           reasons=PROBLEM_REASONS), 400 if form.is_submitted() else 200


@bp.get("/thanks/<kind>")
def thanks(kind: str) -> str | BaseResponse:
    if kind not in ("suggestion", "report"):
        abort(404)
    activity = None
    if kind == "report" and request.args.get("slug"):
        activity = db.session.scalar(
            select(Activity).where(Activity.slug == request.args["slug"]))
    return render_template("connect/thanks.html", kind=kind, activity=activity,
                           site_name=current_app.config["SITE_NAME"])
