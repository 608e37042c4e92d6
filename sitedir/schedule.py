"""When activities happen: plain-English timetables and the next session date."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Protocol

ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HORIZON_DAYS = 400  # look this far ahead for a next session (covers a yearly event)


class Entry(Protocol):
    weekday: int | None
    weeks: list[int]
    date: dt.date | None
    start_time: dt.time
    end_time: dt.time
    title: str


@dataclass(frozen=True)
class Occurrence:
    """One session of an activity on a date."""

    date: dt.date
    start: dt.time
    end: dt.time
    title: str = ""

    @property
    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(self.date, self.start)


def format_time(value: dt.time) -> str:
    """GOV.UK style: 10am, 6:30pm, midday, midnight."""
    if value.hour == 12 and value.minute == 0:
        return "midday"
    if value.hour == 0 and value.minute == 0:
        return "midnight"
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def format_time_range(start: dt.time, end: dt.time) -> str:
    return f"{format_time(start)} to {format_time(end)}"


def format_date(value: dt.date, with_year: bool = True) -> str:
    """GOV.UK style: Tuesday 16 March 2027."""
    text = f"{DAY_NAMES[value.weekday()]} {value.day} {value.strftime('%B')}"
    return f"{text} {value.year}" if with_year else text


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def describe(entry: Entry) -> str:
    """One timetable line in plain English: 'Tuesdays, 10am to midday'."""
    times = format_time_range(entry.start_time, entry.end_time)
    if entry.date is not None:
        return f"{format_date(entry.date)}, {times}"
    day = DAY_NAMES[entry.weekday or 0]
    if not entry.weeks:
        return f"{day}s, {times}"
    ordinals = [ORDINALS[week] for week in sorted(entry.weeks, key=lambda w: (w < 0, w))]
    return f"{_join(ordinals).capitalize()} {day} of the month, {times}"


def _week_of_month(date: dt.date) -> tuple[int, bool]:
    """Which occurrence of its weekday a date is (1-5), and whether it is the month's last."""
    nth = (date.day - 1) // 7 + 1
    return nth, (date + dt.timedelta(days=7)).month != date.month


def _matches(entry: Entry, date: dt.date) -> bool:
    if entry.date is not None:
        return entry.date == date
    if date.weekday() != entry.weekday:
        return False
    if not entry.weeks:
        return True
    nth, last = _week_of_month(date)
    return nth in entry.weeks or (last and -1 in entry.weeks)


def in_holiday(date: dt.date, holidays: Iterable[tuple[dt.date, dt.date]]) -> bool:
    return any(start <= date <= end for start, end in holidays)


def occurrences(entries: Iterable[Entry], start: dt.datetime, *, limit: int = 1,
                term_time_only: bool = False,
                holidays: Iterable[tuple[dt.date, dt.date]] = (),
                not_before: dt.date | None = None) -> list[Occurrence]:
    """The next `limit` sessions that start at or after `start` (local time)."""
    entries = list(entries)
    holidays = list(holidays)
    found: list[Occurrence] = []
    day = max(start.date(), not_before) if not_before else start.date()
    last_dated = max((e.date for e in entries if e.date is not None), default=None)
    repeating = any(e.date is None for e in entries)
    # Days worth looking at: a weekday some repeating entry uses, or a dated session's day
    # (a list card asks this for every result; most days of the horizon match nothing).
    weekdays = {e.weekday for e in entries if e.date is None}
    dates = {e.date for e in entries if e.date is not None}
    end = day + dt.timedelta(days=HORIZON_DAYS)
    while day <= end and len(found) < limit:
        if not repeating and (last_dated is None or day > last_dated):
            break
        if (day.weekday() in weekdays or day in dates) \
                and not (term_time_only and in_holiday(day, holidays)):
            todays = sorted((e for e in entries if _matches(e, day)), key=lambda e: e.start_time)
            for entry in todays:
                occurrence = Occurrence(day, entry.start_time, entry.end_time, entry.title)
                if occurrence.starts_at >= start and len(found) < limit:
                    found.append(occurrence)
        day += dt.timedelta(days=1)
    return found


def next_sessions(activity: object, now: dt.datetime,
                  holidays: Iterable[tuple[dt.date, dt.date]] = (),
                  limit: int = 1) -> list[Occurrence]:
    """The activity's next sessions, allowing for its status, breaks and school holidays."""
    status = getattr(activity, "status", "running")
    if status == "closed":
        return []
    not_before = getattr(activity, "break_until", None) if status == "on_break" else None
    return occurrences(getattr(activity, "schedule"), now, limit=limit,
                       term_time_only=getattr(activity, "term_time_only", False),
                       holidays=holidays, not_before=not_before)
