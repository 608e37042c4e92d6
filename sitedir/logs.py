"""Secrets out of logs: sign-in, reminder and recommendation tokens never reach a log line.

Those tokens are URL paths, so any log line that names a path (the access log, the error log's
"Unhandled error on POST /manage/sign-in/...") could hand a live link to whoever reads the
logs. Every log record made in the process passes through `redact`, whichever library logs it
(werkzeug, waitress, gunicorn's access log, sitedir itself), because it is applied where
records are made (logging's record factory), not per handler.

For gunicorn, `gunicorn -c python:sitedir.gunicorn_conf wsgi:app` logs requests without query
strings (a search near a postcode is personal data) or referrers.
"""
from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask

REDACTED = "[redacted]"
# Query parameters that carry secrets, wherever they appear.
_QUERY_SECRETS = re.compile(r"(?i)([?&](?:token|code|key)=)[^&\s\"']+")
_patterns: list[re.Pattern[str]] = []


def token_patterns(app: Flask) -> list[re.Pattern[str]]:
    """One pattern per route whose path holds a <token>: its fixed part, then the token."""
    patterns = []
    for rule in app.url_map.iter_rules():
        if "token" not in rule.arguments:
            continue
        prefix = rule.rule.split("<token>", 1)[0]
        if "<" in prefix or not prefix:
            continue
        patterns.append(re.compile(f"({re.escape(prefix)})[^/?#\\s\"']+"))
    return patterns


def redact(text: str) -> str:
    """text with every token in a known token route (or secret query value) replaced."""
    for pattern in _patterns:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return _QUERY_SECRETS.sub(lambda match: match.group(1) + REDACTED, text)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Format the record's message once and keep only the redacted text."""
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: let logging report it as it always does
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    return record


class RedactTokens(logging.Filter):
    """The same redaction as a filter, for a logging configuration (e.g. gunicorn's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def _install_record_factory() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, "sitedir_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    factory.sitedir_redacts = True
    logging.setLogRecordFactory(factory)


def init_app(app: Flask) -> None:
    """Call after every blueprint is registered: the token routes come from the URL map."""
    for pattern in token_patterns(app):
        if pattern.pattern not in {known.pattern for known in _patterns}:
            _patterns.append(pattern)
    _install_record_factory()
