"""Markdown to safe HTML: markdown-it-py with raw HTML off, then nh3 as a second fence."""
from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "em", "h2", "h3", "h4", "hr", "li", "ol", "p",
    "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
# GOV.UK Frontend styles come from classes, so add them to the tags the renderer makes.
CLASSES = {
    "p": "govuk-body", "h2": "govuk-heading-l", "h3": "govuk-heading-m", "h4": "govuk-heading-s",
    "ul": "govuk-list govuk-list--bullet", "ol": "govuk-list govuk-list--number",
    "a": "govuk-link", "table": "govuk-table", "blockquote": "govuk-inset-text",
    "hr": "govuk-section-break govuk-section-break--l govuk-section-break--visible",
}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable("table")
    # Headings in content start at h2: the page title is the only h1.
    parser.core.ruler.push("sitedir_levels", _shift_headings)
    return parser


def _shift_headings(state) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close") and token.tag == "h1":
            token.tag = "h2"
        if token.type.endswith("_open") and token.tag in CLASSES:
            token.attrSet("class", CLASSES[token.tag])
        if token.type == "hr":
            token.attrSet("class", CLASSES["hr"])
        if token.type == "inline" and token.children:
            for child in token.children:
                if child.type == "link_open":
                    child.attrSet("class", CLASSES["a"])


def render_markdown(text: str | None) -> Markup:
    """Render trusted-format, untrusted-content Markdown to sanitised HTML."""
    html = _parser().render(text or "")
    clean = nh3.clean(
        html, tags=ALLOWED_TAGS,
        attributes={"*": {"class"}, "a": {"href", "title"}, "abbr": {"title"},
                    "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https"},  # the site's one rule for links (web_address.py)
        link_rel="noopener noreferrer",
    )
    return Markup(clean)
