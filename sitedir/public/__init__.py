"""Pages for everyone: home, categories, organisations, activities, editorial pages, search
and the feeds (Atom, iCal, sitemap, JSON-LD)."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("public", __name__)

from . import feeds, search_views, share, views  # noqa: E402,F401  (they register routes on bp)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(share_links=share.share_links,
                                 calendar_links=share.calendar_links, short_url=share.short_url)
    search_views.init_app(app)
    feeds.init_app(app)
