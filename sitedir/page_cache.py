"""Rendered pages kept for a short while, for visitors with nothing of their own on the page.

A search page costs tens of milliseconds (the search, the cards' records, the template), and a
popular search (a category, a town) is asked for again and again. Two anonymous visitors see
the same page but for the CSRF token in its forms, so the page is kept with the token taken
out and each visitor gets their own put back. A page is reused only:
- while its key holds: the full URL and whatever else the caller names (the index generation,
  the vocabulary), so a commit to the index or a new vocabulary means new pages;
- for at most PAGE_CACHE_SECONDS (the next session and freshness notes follow the clock);
- for a visitor whose session holds nothing that changes a page (no shortlist, not signed in,
  no messages waiting): any other session key means the page is rendered for them alone.
Set PAGE_CACHE_SECONDS to 0 to turn it off. Each process keeps its own (PAGE_CACHE_ENTRIES
pages at most); nothing personal is ever kept, since only such visitors' pages are stored.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable

from flask import Flask, current_app, g, session
from flask_wtf.csrf import generate_csrf

EXTENSION_KEY = "sitedir.page_cache"
# Session keys that never change how a page looks: the CSRF secret (the token is put back per
# visitor), the rate limiter's random id and Flask-Login's "not a fresh sign-in" mark, which
# its session protection sets in an anonymous visitor's session too (signed in means _user_id).
NEUTRAL_SESSION_KEYS = frozenset({"csrf_token", "limit_id", "_fresh"})
_TOKEN_SLOT = "\x00sitedir-csrf-token\x00"  # cannot occur in rendered HTML


@dataclass
class Kept:
    """A kept page: its HTML without the token, its status, and what the caller stored with it."""

    html: str
    status: int
    extra: Any
    expires: float


class PageCache:
    """A bounded, expiring map from a key to a kept page; safe to share between threads."""

    def __init__(self, seconds: float, entries: int) -> None:
        self.seconds = seconds
        self.entries = entries
        self._pages: OrderedDict[Hashable, Kept] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Kept | None:
        with self._lock:
            kept = self._pages.get(key)
            if kept is None:
                return None
            if kept.expires <= time.monotonic():
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return kept

    def put(self, key: Hashable, html: str, status: int, extra: Any) -> None:
        with self._lock:
            self._pages[key] = Kept(html, status, extra, time.monotonic() + self.seconds)
            self._pages.move_to_end(key)
            while len(self._pages) > self.entries:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


def _cache(app: Flask | None = None) -> PageCache | None:
    return (app or current_app).extensions.get(EXTENSION_KEY)


def shareable() -> bool:
    """True when this visitor's page would be anyone's: caching is on and their session holds
    nothing that changes a page."""
    return _cache() is not None and set(session.keys()) <= NEUTRAL_SESSION_KEYS


def cached_page(key: Hashable, render: Callable[[], tuple[str, int, Any]]
                ) -> tuple[str, int, Any]:
    """(html, status, extra) for `key`: the kept page with this visitor's token, or a fresh
    render (kept when the visitor's page is shareable). `render` returns the same triple."""
    cache = _cache()
    if cache is None or not shareable():
        return render()
    kept = cache.get(key)
    if kept is not None:
        return kept.html.replace(_TOKEN_SLOT, generate_csrf()), kept.status, kept.extra
    html, status, extra = render()
    if shareable():  # rendering may have added to the session (a message, a shortlist)
        # Flask-WTF keeps the request's token in g under the field name once a form asked.
        token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
        cache.put(key, html.replace(token, _TOKEN_SLOT) if token else html, status, extra)
    return html, status, extra


def init_app(app: Flask) -> None:
    seconds = float(app.config["PAGE_CACHE_SECONDS"])
    if seconds > 0:
        app.extensions[EXTENSION_KEY] = PageCache(seconds, int(app.config["PAGE_CACHE_ENTRIES"]))
