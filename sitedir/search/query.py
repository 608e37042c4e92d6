"""The query side of search: public words in, a safe parsed Whoosh query out."""
from __future__ import annotations

import re
from typing import Any

from whoosh import qparser
from whoosh.query import NullQuery, Query

from .. import indexing
from .words import TEXT_FIELDS

MAX_QUERY_TERMS = 12


class QueryTooLong(ValueError):
    """The search words are longer than SEARCH_MAX_QUERY_LENGTH."""


# Wildcards and ranges can expand to every term (`*` alone took 131 ms on 5k listings);
# fields, boosts and `*:*` would let a visitor reach fields and weights that are ours to set.
_REMOVED_PLUGINS = (qparser.WildcardPlugin, qparser.RangePlugin, qparser.FieldsPlugin,
                    qparser.BoostPlugin, qparser.EveryPlugin)


def make_parser(group: Any = qparser.AndGroup) -> qparser.QueryParser:
    """The public parser: words, "phrases", AND/OR/NOT, brackets; nothing that can be slow."""
    parser = qparser.MultifieldParser(list(TEXT_FIELDS), indexing.SCHEMA, group=group)
    for plugin in _REMOVED_PLUGINS:
        parser.remove_plugin_class(plugin)
    return parser


AND_PARSER = make_parser()
OR_PARSER = make_parser(qparser.OrGroup.factory(0.9))


def clean_text(text: str, max_length: int) -> str:
    """Collapse spaces, drop control characters and cap the number of words."""
    if len(text) > max_length:
        raise QueryTooLong(f"Search words must be {max_length} characters or fewer")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    words = text.split()
    return " ".join(words[:MAX_QUERY_TERMS])


def parse_query(text: str, parser: qparser.QueryParser) -> Query | None:
    """Parsed public search words, or None when nothing in them is searchable.

    Whoosh-Reloaded 2.7.5's parser raises on some runs of operators ("NOT AND knit"), so the
    text is read again with the operators as plain words (they are upper case only), and at
    last as bare words without quotes or brackets.
    """
    for attempt in (text, text.lower(), re.sub(r"[^\w\s]", " ", text.lower())):
        try:
            query = parser.parse(attempt)
        except (IndexError, ValueError, TypeError, AttributeError):
            continue
        if query is None or query is NullQuery or not list(query.iter_all_terms()):
            return None
        return query
    return None


def normal_title(text: str) -> str:
    """A title or typed text as the title_sort field holds it, to spot an exact title."""
    return " ".join(text.lower().split())
