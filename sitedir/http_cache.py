"""Conditional GETs: a repeat visit to an unchanged page or feed costs a 304, not the body.

The ETag is a digest of the body, so it is right whatever went into the page (an edit, the next
session moving on, the visitor's own list). Last-Modified is only given where the body is a
function of stored rows with a known time (the feeds): a page that also shows the next session
or the visitor's list would be wrongly "unchanged" to a client that only sends a date.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import time

from flask import Response, current_app, make_response, request

# Flask-WTF's signed CSRF token carries the second it was made, so a page with a form would
# never look unchanged. Its value is left out of the digest and the digest names the current
# period instead: a copy kept by the browser is only reused while its token is young enough.
_CSRF_VALUE = re.compile(rb'(name="csrf_token" value=")[^"]*(")')
TOKEN_PERIOD_SECONDS = 1800


def _token_period() -> int:
    limit = current_app.config.get("WTF_CSRF_TIME_LIMIT", 3600)
    return max(1, min(TOKEN_PERIOD_SECONDS, int(limit or TOKEN_PERIOD_SECONDS * 2) // 2))


def revalidated(body: object, *, private: bool = False,
                last_modified: dt.datetime | None = None) -> Response:
    """The response with an ETag (and Last-Modified when given), 304 when the client has it.

    `private` for pages that carry anything of the visitor's (a CSRF token, their list): shared
    caches must not keep them. Either way caches ask again each time (no-cache), since a
    listing can change at any moment.
    """
    response = make_response(body)
    data = response.get_data()
    if private:
        period = int(time.time() // _token_period())
        data = _CSRF_VALUE.sub(rb"\1\2", data) + b"%d" % period
    response.set_etag(hashlib.sha256(data).hexdigest()[:32])
    if last_modified is not None:
        response.last_modified = last_modified.replace(tzinfo=dt.timezone.utc, microsecond=0)
    response.headers["Cache-Control"] = "private, no-cache" if private else "no-cache"
    return response.make_conditional(request)
