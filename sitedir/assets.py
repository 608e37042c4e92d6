"""Static files: fingerprinted names cached for a year, compression of text responses.

`url_for('static', filename='css/sitedir.css')` gives `/static/css/sitedir.3f2a91c0be.css`, a
name carrying a digest of the file's bytes, served with `Cache-Control: public,
max-age=31536000, immutable`: a browser never asks again, and a changed file gets a new name.
The plain name still works (files referred to from inside CSS or JS, old pages in caches) with
an hour's caching. Responses are compressed by Flask-Compress (zstd, brotli or gzip, whichever
the browser accepts first in that order); a reverse proxy that compresses already may set
COMPRESS_RESPONSES to false.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, send_from_directory
from flask_compress import Compress

DIGEST_CHARS = 10
YEAR_SECONDS = 31_536_000
PLAIN_MAX_AGE = 3600
_FINGERPRINTED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{%d})(?P<suffix>\.[^./]+)$"
                            % DIGEST_CHARS)
_EXTENSION = "sitedir.assets"


class Fingerprints:
    """Digests of static files, read once per file (and again when its mtime changes)."""

    def __init__(self, folder: Path, watch: bool = True) -> None:
        self.folder = folder
        self.watch = watch  # look at mtimes on every call (development); else read files once
        self._known: dict[str, tuple[float, str | None]] = {}

    def digest(self, filename: str) -> str | None:
        known = self._known.get(filename)
        if known is not None and not self.watch:
            return known[1]
        path = (self.folder / filename).resolve()
        if self.folder not in path.parents or not path.is_file():
            self._known[filename] = (0.0, None)
            return None
        mtime = path.stat().st_mtime
        if known is None or known[0] != mtime:
            known = (mtime, hashlib.sha256(path.read_bytes()).hexdigest()[:DIGEST_CHARS])
            self._known[filename] = known
        return known[1]

    def name(self, filename: str) -> str:
        """`css/sitedir.css` → `css/sitedir.<digest>.css` (unchanged if there is no such file)."""
        digest = self.digest(filename)
        if digest is None:
            return filename
        stem, dot, suffix = filename.rpartition(".")
        if not dot or "/" in suffix:
            return f"{filename}.{digest}"
        return f"{stem}.{digest}.{suffix}"

    def original(self, filename: str) -> str | None:
        """The real file behind a fingerprinted name whose digest is current, else None."""
        match = _FINGERPRINTED.match(filename)
        if match is None:
            return None
        plain = match["stem"] + match["suffix"]
        return plain if self.digest(plain) == match["digest"] else None


def _fingerprint_urls(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values:
        values["filename"] = current_app.extensions[_EXTENSION].name(values["filename"])


def _static(filename: str) -> Response:
    """Serve a static file: a current fingerprinted name for a year, anything else an hour."""
    fingerprints: Fingerprints = current_app.extensions[_EXTENSION]
    original = fingerprints.original(filename)
    if original is not None:
        response = send_from_directory(fingerprints.folder, original, max_age=YEAR_SECONDS)
        response.headers["Cache-Control"] = f"public, max-age={YEAR_SECONDS}, immutable"
        return response
    if _FINGERPRINTED.match(filename) and not (fingerprints.folder / filename).is_file():
        # An old digest of a file that has changed since: serve today's file, briefly cached.
        match = _FINGERPRINTED.match(filename)
        assert match is not None
        filename = match["stem"] + match["suffix"]
    response = send_from_directory(fingerprints.folder, filename, max_age=PLAIN_MAX_AGE)
    response.headers["Cache-Control"] = f"public, max-age={PLAIN_MAX_AGE}"
    return response


def init_app(app: Flask) -> None:
    """Fingerprinted static URLs with long caching; compression unless turned off."""
    assert app.static_folder is not None
    # A page links a dozen static files: outside development, digest each file once.
    watch = bool(app.debug or app.config.get("TEMPLATES_AUTO_RELOAD"))
    app.extensions[_EXTENSION] = Fingerprints(Path(app.static_folder).resolve(), watch)
    app.url_defaults(_fingerprint_urls)
    app.view_functions["static"] = _static
    if app.config["COMPRESS_RESPONSES"]:
        app.extensions["sitedir.compress"] = Compress(app)
