"""Self-service for organisations and the moderators who check their changes."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("manage", __name__, url_prefix="/manage")

from . import (  # noqa: E402,F401  (routes on bp)
    accounts, admin, editing, freshness_report, moderation, reminders, sections, two_factor,
)
from . import models  # noqa: E402,F401  (so create_app's metadata sees the tables)


def init_app(app: Flask) -> None:
    """Sign-in, the blueprint and the `flask users` / `flask reminders` commands."""
    from .. import notify as moderator_notify, privacy
    from . import retention
    from . import auth
    from .cli import users_cli
    from .notify import moderator_addresses

    auth.init_app(app)
    privacy.register_eraser(app, retention.erase_expired)
    moderator_notify.register_moderator_addresses(app, moderator_addresses)
    app.register_blueprint(bp)
    app.cli.add_command(users_cli)
    app.cli.add_command(reminders.reminders_cli)
