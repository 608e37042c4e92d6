"""Timetable wording and next-session dates, on fixed dates (never the real clock)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from sitedir.schedule import describe, format_time, next_sessions, occurrences


@dataclass
class E:
    weekday: int | None = None
    weeks: list[int] = field(default_factory=list)
    date: dt.date | None = None
    start_time: dt.time = dt.time(10)
    end_time: dt.time = dt.time(12)
    title: str = ""


@dataclass
class A:
    schedule: list[E]
    status: str = "running"
    break_until: dt.date | None = None
    term_time_only: bool = False


@pytest.mark.parametrize("value, text", [
    (dt.time(10), "10am"), (dt.time(18, 30), "6:30pm"), (dt.time(12), "midday"),
    (dt.time(0), "midnight"), (dt.time(12, 15), "12:15pm"), (dt.time(0, 5), "12:05am"),
])
def test_time_words(value: dt.time, text: str) -> None:
    assert format_time(value) == text


@pytest.mark.parametrize("entry, text", [
    (E(weekday=1), "Tuesdays, 10am to midday"),
    (E(weekday=0, weeks=[1]), "First Monday of the month, 10am to midday"),
    (E(weekday=0, weeks=[3, 1]), "First and third Monday of the month, 10am to midday"),
    (E(weekday=4, weeks=[-1, 2]), "Second and last Friday of the month, 10am to midday"),
    (E(date=dt.date(2027, 3, 16), start_time=dt.time(13), end_time=dt.time(15)),
     "Tuesday 16 March 2027, 1pm to 3pm"),
])
def test_describe(entry: E, text: str) -> None:
    assert describe(entry) == text


# Wednesday 25 November 2026, 11:00
NOW = dt.datetime(2026, 11, 25, 11, 0)


def test_weekly_next_session_skips_a_session_already_started() -> None:
    wednesday = E(weekday=2, start_time=dt.time(10), end_time=dt.time(12))
    assert occurrences([wednesday], NOW)[0].date == dt.date(2026, 12, 2)
    later_today = E(weekday=2, start_time=dt.time(14), end_time=dt.time(15))
    assert occurrences([later_today], NOW)[0].date == dt.date(2026, 11, 25)


def test_nth_and_last_weekday_of_month() -> None:
    first_monday = E(weekday=0, weeks=[1])
    assert [o.date for o in occurrences([first_monday], NOW, limit=2)] == [
        dt.date(2026, 12, 7), dt.date(2027, 1, 4)]
    last_sunday = E(weekday=6, weeks=[-1])
    assert [o.date for o in occurrences([last_sunday], NOW, limit=2)] == [
        dt.date(2026, 11, 29), dt.date(2026, 12, 27)]


def test_dated_sessions_end() -> None:
    event = E(date=dt.date(2027, 3, 16), title="Open day")
    assert occurrences([event], NOW)[0].title == "Open day"
    past = E(date=dt.date(2026, 3, 16))
    assert occurrences([past], NOW) == []


def test_status_break_and_term_time() -> None:
    tuesday = E(weekday=1)
    assert next_sessions(A([tuesday], status="closed"), NOW) == []
    on_break = A([tuesday], status="on_break", break_until=dt.date(2027, 1, 11))
    assert next_sessions(on_break, NOW)[0].date == dt.date(2027, 1, 12)
    holidays = [(dt.date(2026, 11, 30), dt.date(2026, 12, 4))]
    term_only = A([tuesday], term_time_only=True)
    assert next_sessions(term_only, NOW, holidays)[0].date == dt.date(2026, 12, 8)
    assert next_sessions(A([tuesday]), NOW, holidays)[0].date == dt.date(2026, 12, 1)
