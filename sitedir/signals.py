"""Signals that let a feature react to core pages without the core importing the feature.

`search_done` is sent by the search page after it has run a search, with `parsed` (the
validated parameters) and `result` (the search service's answer). Receivers must be quick and
must not raise: they run inside the request.
"""
from __future__ import annotations

from flask.signals import Namespace

_signals = Namespace()
search_done = _signals.signal("search-done")
