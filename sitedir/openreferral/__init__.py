"""Open data: the Open Referral UK read API under /openreferral/ and `flask import|export`."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("openreferral", __name__, url_prefix="/openreferral")

from . import api, models  # noqa: E402,F401  (routes and the ExternalRecord table)


def init_app(app: Flask) -> None:
    """Register the API blueprint and the import/export commands."""
    from .csv_io import export_cli, import_csv_command
    from .importer import import_cli

    app.register_blueprint(bp)
    import_cli.add_command(import_csv_command)
    app.cli.add_command(import_cli)
    app.cli.add_command(export_cli)
