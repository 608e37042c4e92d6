"""HTML from a feed's description as our Markdown subset (headings, paragraphs, lists,
links, emphasis), so a page shows "Our group" as a heading and not as "<h1>Our group</h1>".

Text without tags is returned as it is. Anything outside the subset keeps its text and loses
its tags; scripts and styles lose their content too. Links keep only http(s) addresses.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

from ..web_address import is_web_address

LOOKS_LIKE_HTML = re.compile(r"</?(?:p|br|h[1-6]|ul|ol|li|a|div|span|strong|b|em|i|table)\b",
                             re.IGNORECASE)
BLOCKS = {"p", "div", "section", "article", "header", "footer", "table", "tr", "blockquote",
          "ul", "ol"}
HEADINGS = {"h1": "## ", "h2": "## ", "h3": "### ", "h4": "#### ", "h5": "#### ", "h6": "#### "}
INLINE = {"br": "\n", "strong": "**", "b": "**", "em": "*", "i": "*"}
DROPPED = {"script", "style", "head", "title", "template", "noscript"}
# Characters that would start Markdown syntax in the middle of plain text.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list[int]] = []  # [counter] per open list; counter -1 for bullets
        self.link: str | None = None
        self.link_text: list[str] = []
        self.dropping = 0

    def _block(self) -> None:
        self.out.append("\n\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED:
            self.dropping += 1
        elif tag in HEADINGS:
            self._block()
            self.out.append(HEADINGS[tag])
        elif tag in ("ul", "ol"):
            self._block()
            self.lists.append([0 if tag == "ol" else -1])
        elif tag == "li":
            counter = self.lists[-1] if self.lists else [-1]
            if counter[0] >= 0:
                counter[0] += 1
            indent = "   " * max(len(self.lists) - 1, 0)
            self.out.append(f"\n{indent}{counter[0]}. " if counter[0] >= 0 else f"\n{indent}- ")
        elif tag in BLOCKS:
            self._block()
        elif tag in INLINE:
            self.out.append(INLINE[tag])
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.link = href.strip() if is_web_address(href) else None
            self.link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED:
            self.dropping = max(self.dropping - 1, 0)
        elif tag in HEADINGS or tag in BLOCKS:
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            self._block()
        elif tag in ("strong", "b"):
            self.out.append("**")
        elif tag in ("em", "i"):
            self.out.append("*")
        elif tag == "a":
            text = "".join(self.link_text).strip()
            if self.link and text:
                self.out.append(f"[{text}]({self.link.replace(')', '%29')})")
            else:
                self.out.append(text)
            self.link = None
            self.link_text = []

    def handle_data(self, data: str) -> None:
        if self.dropping:
            return
        text = _MARKDOWN_SPECIAL.sub(r"\\\1", re.sub(r"\s+", " ", data))
        (self.link_text if self.link is not None or self.link_text else self.out).append(text)

    def result(self) -> str:
        text = "".join(self.out)
        lines = [line.strip() if not re.match(r"^\s+(?:\d+\.|-) ", line) else line.rstrip()
                 for line in text.split("\n")]
        text = "\n".join(lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def description_text(text: str) -> str:
    """A description as Markdown: HTML converted, plain text (or Markdown) unchanged."""
    if not text or not LOOKS_LIKE_HTML.search(text):
        return text
    converter = _Converter()
    converter.feed(text)
    converter.close()
    return converter.result()
