"""Pages for everyone: home, categories, organisations, activities, editorial pages."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)

from . import views  # noqa: E402,F401  (registers the routes on bp)
