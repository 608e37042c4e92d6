"""Template filters, globals and response headers shared by every page."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from . import freshness, listing, schedule
from .cards import cards_for
from .extensions import db
from .markdown import render_markdown
from .site_details import fill as fill_site_details
from .slug_urls import activity_url
from .models import Page
from .web_address import link_target


def _nav() -> dict[str, object]:
    """The editorial pages for the footer of every page (two plain columns: the ORM objects
    cost a sixth of a search page's time)."""
    pages = db.session.execute(select(Page.slug, Page.title).order_by(Page.position)).all()
    return {"nav_pages": pages}


def _freshness_note(activity: object) -> str:
    """Why an open listing's details are in doubt ("" when they are not), as of today."""
    return freshness.freshness_note(activity, listing.local_now().date())


def init_app(app: Flask) -> None:
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters.update(
        markdown=render_markdown,
        site_details=fill_site_details,
        schedule_line=schedule.describe,
        long_date=schedule.format_date,
        time_range=schedule.format_time_range,
        plain_word=listing.plain_word,
        web_address=link_target,
    )
    app.jinja_env.globals.update(
        activity_url=activity_url, cost_text=listing.cost_text, ages_text=listing.ages_text,
        status_text=listing.status_text, referral_text=listing.referral_text,
        next_session_text=listing.next_session_text, next_session=listing.next_session,
        is_stale=listing.is_stale, place_text=listing.place_text,
        public_location=listing.public_location,
        STATUS_TAG_COLOURS=listing.STATUS_TAG_COLOURS, FORMAT_LABELS=listing.FORMAT_LABELS,
        JOIN_LABELS=listing.JOIN_LABELS, freshness_note=_freshness_note,
        is_not_confirmed=freshness.is_not_confirmed,
    )
    app.jinja_env.globals["cards_for"] = cards_for
    app.context_processor(_nav)
