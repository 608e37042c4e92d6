"""The one rule for a web address from any source (content, forms, imports, the API): an
absolute http or https URL with a host name, and nothing else. A value that breaks the rule is
never stored by a new write and never rendered as a link (see the `web_address` filter).
"""
from __future__ import annotations

import re
import urllib.parse

MAX_LENGTH = 300
# A host of letters, digits, hyphens and dots with at least one dot (or localhost), an
# optional port; no user:password@ (a classic way to disguise where a link goes).
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]{2,}(?::\d{1,5})?$|"
                   r"^localhost(?::\d{1,5})?$", re.IGNORECASE)


class WebAddressError(ValueError):
    """Not an http(s) address; str(error) says why, in words for the person who typed it."""


def web_address(value: object) -> str:
    """`value` as a clean http(s) URL ('' stays ''); raises WebAddressError otherwise."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WebAddressError("must be a web address as text")
    text = value.strip()
    if not text:
        return ""
    if len(text) > MAX_LENGTH:
        raise WebAddressError(f"must be at most {MAX_LENGTH} characters")
    # Browsers ignore tabs and newlines inside a URL ("java\tscript:"), so refuse them here.
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise WebAddressError("must not contain spaces or control characters")
    parts = urllib.parse.urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise WebAddressError("must start with https:// or http://")
    if "@" in parts.netloc or not _HOST.match(parts.netloc):
        raise WebAddressError("must name a web site, like https://example.org")
    return text


def is_web_address(value: object) -> bool:
    """True for a non-empty value that `web_address` accepts."""
    try:
        return bool(web_address(value))
    except WebAddressError:
        return False


def link_target(value: object) -> str:
    """The value when it may be a link's href, else '' (a template filter: an old bad value
    in the database is shown as text at most, never as a link)."""
    return str(value).strip() if is_web_address(value) else ""
