"""Template filters, globals and response headers shared by every page."""
from __future__ import annotations

from flask import Flask, Response, request
from sqlalchemy import select

from . import listing, schedule
from .extensions import db
from .markdown import render_markdown
from .models import Page, Term


def _nav() -> dict[str, object]:
    """Categories and editorial pages for the header and footer, on every page."""
    categories = db.session.scalars(
        select(Term).where(Term.taxonomy == "category").order_by(Term.position)).all()
    pages = db.session.scalars(select(Page).order_by(Page.position)).all()
    return {"nav_categories": categories, "nav_pages": pages}


def _static_caching(response: Response) -> Response:
    """Static files may be cached for an hour (security headers: sitedir.security)."""
    if request.method == "GET" and request.endpoint == "static":
        response.headers.setdefault("Cache-Control", "public, max-age=3600")
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters.update(
        markdown=render_markdown,
        schedule_line=schedule.describe,
        long_date=schedule.format_date,
        time_range=schedule.format_time_range,
        plain_word=listing.plain_word,
    )
    app.jinja_env.globals.update(
        cost_text=listing.cost_text, ages_text=listing.ages_text,
        status_text=listing.status_text, referral_text=listing.referral_text,
        next_session_text=listing.next_session_text, next_session=listing.next_session,
        is_stale=listing.is_stale, place_text=listing.place_text,
        STATUS_TAG_COLOURS=listing.STATUS_TAG_COLOURS, FORMAT_LABELS=listing.FORMAT_LABELS,
        JOIN_LABELS=listing.JOIN_LABELS,
    )
    app.context_processor(_nav)
    app.after_request(_static_caching)
