"""Pages for everyone: home, categories, organisations, activities, editorial pages, search
and the feeds (Atom, iCal, sitemap, JSON-LD)."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("public", __name__)

from . import feeds, search_views, views  # noqa: E402,F401  (views registers the routes on bp)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    search_views.init_app(app)
    feeds.init_app(app)
