"""Words that are filters: "saturday", "evenings", "free", "online", "by phone", "teens",
"over 60s" typed into the search box mean a day, a time of day, a cost, a format or an age,
not words to find in a description. `read_filter_words` takes them out of the text and says
what they mean; the caller applies them (and says so, with a way back to the plain words).

Life-stage words ("teens", "older people") stay in the text as well: they also say who an
activity is for, which the vocabulary knows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAYS = {day: [day] for day in WEEKDAYS}
_DAYS.update({day + "s": [day] for day in WEEKDAYS})
_DAYS.update({day[:3]: [day] for day in WEEKDAYS if day[:3] not in ("sat", "sun", "wed")})
_DAYS.update({"weekend": ["saturday", "sunday"], "weekends": ["saturday", "sunday"],
              "weekday": list(WEEKDAYS[:5]), "weekdays": list(WEEKDAYS[:5])})
_TIMES = {"morning": "morning", "mornings": "morning", "afternoon": "afternoon",
          "afternoons": "afternoon", "evening": "evening", "evenings": "evening",
          "night": "evening", "nights": "evening", "tonight": "evening",
          "after work": "evening", "after school": "afternoon"}
_FORMATS = {"online": "online", "zoom": "online", "virtual": "online", "video call": "online",
            "by phone": "phone", "over the phone": "phone", "on the phone": "phone",
            "by telephone": "phone", "phone call": "phone", "phone calls": "phone",
            "in person": "in_person", "face to face": "in_person", "face-to-face": "in_person"}
_FREE = ("free", "no cost", "free of charge", "costs nothing", "for free")
# Phrases in which a filter word means something else: "get online" is computer help.
_NOT_FILTERS = re.compile(r"\b(?:get|getting|go|going|be|being|stay|staying)\s+online\b"
                          r"|\bfree\s+(?:time|from)\b|\bphone\s+(?:help|skills|calls? help)\b"
                          r"|\bnight\s+(?:out|shelter)\b", re.IGNORECASE)
# Life stages → an age that the activity must welcome (the words stay in the text too).
_STAGES = {"teens": 15, "teen": 15, "teenagers": 15, "teenager": 15, "teenage": 15,
           "kids": 9, "children": 9, "child": 9, "older people": 70, "elderly": 70,
           "pensioners": 70, "seniors": 70, "retired": 70, "oap": 70, "oaps": 70}
_OVER = re.compile(r"\b(?:over|over the age of)\s+(\d{2})'?s?\b", re.IGNORECASE)
_AGED = re.compile(r"\b(?:aged?|for a|for an)\s+(\d{1,2})(?:\s*-?\s*years?[\s-]*olds?)?\b"
                   r"|\b(\d{1,2})\s*-?\s*years?[\s-]*olds?\b", re.IGNORECASE)


@dataclass
class FilterWords:
    """What the typed words asked for besides words to match."""

    text: str  # what is left to search as words
    days: list[str] = field(default_factory=list)
    times: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    free: bool = False
    age: int | None = None
    typed: list[str] = field(default_factory=list)  # the words read as filters, as typed

    @property
    def found(self) -> bool:
        return bool(self.days or self.times or self.formats or self.free or self.age is not None)


def _take(text: str, phrases: dict[str, object], keep: bool = False) -> tuple[str, list]:
    """Remove each whole phrase (longest first) from the text; returns (text, [(typed, value)])."""
    found = []
    for phrase in sorted(phrases, key=len, reverse=True):
        pattern = re.compile(r"(?<![\w'-])" + re.escape(phrase) + r"(?![\w'-])", re.IGNORECASE)
        match = pattern.search(text)
        if match:
            found.append((match.group(0), phrases[phrase]))
            if not keep:
                text = pattern.sub(" ", text, count=1)
    return text, found


def read_filter_words(text: str) -> FilterWords:
    """The filters in typed words, and the words left to search."""
    typed_text = text
    # Joined with "_" (a word character) so the filter patterns skip them; undone below.
    text = _NOT_FILTERS.sub(lambda match: "_".join(match.group(0).split()), text)
    text, days = _take(text, _DAYS)
    text, times = _take(text, _TIMES)
    text, formats = _take(text, _FORMATS)
    text, free = _take(text, {phrase: True for phrase in _FREE})
    result = FilterWords(text="")
    for typed, values in days:
        result.days += [day for day in values if day not in result.days]
    result.times = sorted({value for _typed, value in times})
    result.formats = sorted({value for _typed, value in formats})
    result.free = bool(free)
    result.typed = [typed for typed, _value in days + times + formats + free]
    age = _age(text)
    if age is not None:
        result.age, typed, numeric = age
        result.typed.append(typed)
        if numeric:  # "for a 15 year old" is not words to find; "teens" and "over 60s" are
            text = text.replace(typed, " ", 1)
    result.text = tidy_words(text.replace("_", " ")) if result.typed else typed_text
    return result


_DANGLING = {"and", "or", "on", "in", "at", "for", "the", "a", "by", "every", "only"}


def tidy_words(text: str) -> str:
    """Spaces collapsed and connecting words left dangling at either end removed."""
    words = text.split()
    while words and words[-1].lower() in _DANGLING:
        words.pop()
    while words and words[0].lower() in _DANGLING:
        words.pop(0)
    return " ".join(words)


def _age(text: str) -> tuple[int, str, bool] | None:
    """An age the words ask for: "over 60s" (65), "aged 15", "teens" (15), "kids" (9); and
    whether it was a number (whose words are then not searched)."""
    over = _OVER.search(text)
    if over:
        return int(over.group(1)) + 5, over.group(0), False
    aged = _AGED.search(text)
    if aged:
        return int(aged.group(1) or aged.group(2)), aged.group(0), True
    _text, stages = _take(text, _STAGES, keep=True)
    if stages:
        typed, age = stages[0]
        return int(age), typed, False
    return None
