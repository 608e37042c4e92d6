"""Snippets mark the searched words as the index reads them, escaped, with bounded work."""
from __future__ import annotations

import pytest

from sitedir.search import snippets


@pytest.mark.parametrize(("text", "terms", "marked"), [
    ("We meet for knitting on Tuesdays.", {"knit"}, ["knitting"]),
    ("Knitters welcome; bring your knitting.", {"knitter", "knit"}, ["Knitters", "knitting"]),
    ("Tea at the Café Nero.", {"cafe"}, ["Café"]),
    ("Cycling and cycle repair.", {"cycl"}, ["Cycling", "cycle"]),
])
def test_words_are_marked_as_the_index_reads_them(text: str, terms: set[str],
                                                  marked: list[str]) -> None:
    found = str(snippets.snippet(text, terms))
    assert [piece.split("</mark>")[0] for piece in found.split("<mark>")[1:]] == marked


def test_text_is_escaped_and_only_words_are_marked() -> None:
    found = str(snippets.snippet("We sing <script>alert(1)</script> & dance", {"sing", "script"}))
    assert "<script>" not in found and "&lt;<mark>script</mark>&gt;" in found
    assert "&amp; dance" in found


def test_no_match_or_no_terms_gives_no_snippet() -> None:
    assert snippets.snippet("A walking group.", {"knit"}) is None
    assert snippets.snippet("A walking group.", set()) is None
    assert snippets.snippet("", {"walk"}) is None


def test_long_text_gives_two_short_passages() -> None:
    filler = " ".join(["lorem"] * 60)
    text = f"Choir first. {filler} Choir again. {filler} Choir a third time."
    found = str(snippets.snippet(text, {"choir"}))
    assert found.count("<mark>") == 2 and " … " in found
    assert len(found) < 2 * (snippets.FRAGMENT_CHARS + 40)


def test_work_per_hit_is_capped() -> None:
    assert snippets.snippet("x" * (snippets.SOURCE_CHARS + 10) + " choir", {"choir"}) is None
