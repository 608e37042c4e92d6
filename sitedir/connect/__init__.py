"""For connectors (librarians, youth workers, link workers): shortlist, recommend, report."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("connect", __name__)

from . import models, views  # noqa: E402,F401  (models for create_app; views register routes)


def init_app(app: Flask) -> None:
    """Register the blueprint, its template helpers and its mail hook."""
    from .. import mail, privacy, sessions
    from . import shortlist
    from .signpost import erase_after_send
    from .views import SENDER_KEY

    app.register_blueprint(bp)
    # A connector who signs in to edit their own group's listing keeps their list.
    sessions.keep_at_sign_in(app, shortlist.KEY, SENDER_KEY)
    app.jinja_env.globals.update(
        shortlist_count=shortlist.count, in_shortlist=shortlist.contains)
    mail.after_send(app, erase_after_send)
    privacy.register_eraser(app, models.erase_expired)
