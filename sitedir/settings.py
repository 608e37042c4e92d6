"""Every configuration setting, declared once with its default and help text.

The README's settings table is checked against this list by a test, so a setting that is not
documented fails the suite.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str


SETTINGS: list[Setting] = [
    Setting("SECRET_KEY", None,
            "Signs sessions and links. When unset, a random key is generated once and kept in "
            "instance/secret_key. Set the same value on every web node."),
    Setting("DATABASE_URL", "",
            "SQLAlchemy URL of the database, e.g. postgresql+psycopg://user:pw@host/sitedir. "
            "Empty means SQLite at instance/sitedir.sqlite3 (WAL, synchronous=FULL)."),
    Setting("CONTENT_DIR", "",
            "Folder holding taxonomy.yaml, pages/ and directory/. Empty means the repository's "
            "content/ folder."),
    Setting("SEARCH_INDEX_DIR", "",
            "Folder of the Whoosh search index. Empty means the repository's search_index/ "
            "folder (or instance/search_index when installed as a package)."),
    Setting("SITE_NAME", "Find community activities",
            "The service name shown in the header, page titles and emails."),
    Setting("SITE_AREA", "Leeds",
            "The area the directory covers, used in page text (\"groups in Leeds\")."),
    Setting("PUBLIC_BASE_URL", "http://127.0.0.1:5000",
            "The public address of the site, for links in emails, QR codes and feeds."),
    Setting("TIMEZONE", "Europe/London",
            "Time zone of schedules; next-session dates are computed in it."),
    Setting("STALE_AFTER_DAYS", 365,
            "A listing not reviewed for this many days shows a \"may be out of date\" notice."),
    Setting("PAGE_SIZE", 20, "Activities per page on category, organisation and search pages."),
]


def defaults() -> dict[str, object]:
    """The default value of every setting, for app.config."""
    return {setting.name: setting.default for setting in SETTINGS}
