"""Insight: anonymous figures on unmet demand and on the use of each listing.

A feature package: the core never imports it. It listens to the search page's `search_done`
signal, counts listing pages by endpoint in an after-request hook, registers its retention work
with `flask privacy purge`, and adds its report pages under /insight/.
"""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("insight", __name__, url_prefix="/insight")

from . import models, views  # noqa: E402,F401  (models for migrations; views register routes)


def init_app(app: Flask) -> None:
    """Wire the recorder, the hooks, the pages, the template globals and `flask insight`."""
    from .. import privacy
    from ..signals import search_done
    from .cli import insight_cli
    from .recording import EXTENSION_KEY, Recorder, after_request, on_search
    app.extensions[EXTENSION_KEY] = Recorder(app)
    search_done.connect(on_search, app)
    app.after_request(after_request)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(insight_enabled=True, usage_ping=views.usage_ping,
                                 organisation_insight=views.organisation_panel)
    app.cli.add_command(insight_cli)
    privacy.register_eraser(app, _fold)


def _fold(now: object) -> dict[str, int]:
    """The retention eraser: raw unmet-search rows past INSIGHT_RETENTION_DAYS become totals."""
    from .reports import fold_expired

    deleted, kept = fold_expired()
    return {"raw insight search rows folded and deleted": deleted,
            "insight word totals updated": kept}
