"""Search: one public surface over the engine (index reading, bitmaps, ranking) and the query
side (parsing public words). Callers ask questions and get ids back; they never touch a searcher,
a bitmap or a Whoosh query.
"""
from __future__ import annotations

from flask import Flask, current_app

from .. import indexing, vocabulary
from .engine import (
    FACET_FIELDS, SORTS, Hit, IndexUnavailable, SearchRequest, SearchResult, SearchService,
)
from .filter_words import FilterWords, read_filter_words, tidy_words
from .query import MAX_QUERY_TERMS, QueryTooLong, clean_text
from .words import SENTENCE_WORDS

__all__ = ["FACET_FIELDS", "MAX_QUERY_TERMS", "SENTENCE_WORDS", "SORTS", "FilterWords", "Hit",
           "IndexUnavailable", "QueryTooLong", "SearchRequest", "SearchResult", "SearchService",
           "clean_text", "get_service", "init_app", "read_filter_words", "tidy_words"]

EXTENSION_KEY = "sitedir.search"


def get_service(app: Flask | None = None) -> SearchService:
    """The app's search service."""
    app = app or current_app
    return app.extensions[EXTENSION_KEY]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = SearchService(
        lambda: indexing.index_dir(app), int(app.config["STALE_AFTER_DAYS"]),
        lambda: vocabulary.current_vocabulary(app))
