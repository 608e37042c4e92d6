"""Bar charts as data for the SVG template: label, the numbers in words, bar lengths in %."""
from __future__ import annotations

from dataclasses import dataclass

MAX_BARS = 15
MAX_LABEL = 44  # characters that fit one line at 375 px; the table beside has the full text


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the figure in words, shown after the label
    percent: float  # length of the bar, 0–100
    part_percent: float | None = None  # a darker part of the bar (e.g. unmet searches)


def _length(value: float, largest: float) -> float:
    if not largest or value <= 0:
        return 0.0
    return max(round(100 * value / largest, 1), 0.5)  # a non-zero figure stays visible


def short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1].rstrip() + "…"


def bars(items: list[tuple[str, float, str]], part: list[float] | None = None) -> list[Bar]:
    """Bars for (label, value, text), scaled to the largest value; `part` values share the scale."""
    items = items[:MAX_BARS]
    largest = max((value for _label, value, _text in items), default=0)
    return [Bar(short(label), text, _length(value, largest),
                _length(part[i], largest) if part is not None else None)
            for i, (label, value, text) in enumerate(items)]


def plural(count: int, word: str) -> str:
    """'1 day', '2 days', '3 searches'."""
    if count == 1:
        return f"{count} {word}"
    return f"{count} {word}" + ("es" if word.endswith(("s", "sh", "ch", "x")) else "s")
