"""The insight tables: anonymous counts, and the short-lived raw rows of unmet searches.

Nothing here can identify a person: no postcode beyond its outcode, no coordinates, IP address,
session, email or free-text note. Words are stored only as the search normalised them, and raw
rows are folded into `UnmetWords` and deleted after INSIGHT_RETENTION_DAYS.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

# Per-listing events counted per day (recommendations are counted from their own table).
EVENTS = {
    "view": "Page views",
    "print": "Signpost sheets printed",
    "calendar": "Added to a calendar",
    "share": "Shared",
    "contact": "How-to-join contact clicks",
}


class UnmetSearch(db.Model):
    """One search with fewer than three results, kept for INSIGHT_RETENTION_DAYS at most."""

    __tablename__ = "insight_unmet_search"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    words: Mapped[str] = mapped_column(String(200), default="")  # normalised, sorted
    filters: Mapped[str] = mapped_column(String(300), default="")  # "category=walking;day=monday"
    area: Mapped[str] = mapped_column(String(60), default="")  # outcode or place name, or ""
    results: Mapped[int] = mapped_column(Integer, default=0)  # 0, 1 or 2


class UnmetWords(db.Model):
    """Unmet searches folded together once their raw rows expire: how many, on how many days."""

    __tablename__ = "insight_unmet_words"
    __table_args__ = (UniqueConstraint("words", "filters", "area"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    words: Mapped[str] = mapped_column(String(200), default="")
    filters: Mapped[str] = mapped_column(String(300), default="")
    area: Mapped[str] = mapped_column(String(60), default="")
    days: Mapped[int] = mapped_column(Integer, default=0)
    searches: Mapped[int] = mapped_column(Integer, default=0)
    no_results: Mapped[int] = mapped_column(Integer, default=0)
    last_day: Mapped[dt.date] = mapped_column(Date)


class SearchCount(db.Model):
    """Searches per day, area and category, and how many of them found fewer than three."""

    __tablename__ = "insight_search_count"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    area: Mapped[str] = mapped_column(String(60), primary_key=True)
    category: Mapped[str] = mapped_column(String(60), primary_key=True)  # "" = any category
    searches: Mapped[int] = mapped_column(Integer, default=0)
    unmet: Mapped[int] = mapped_column(Integer, default=0)


class UsageCount(db.Model):
    """One listing's count of one kind of event on one day."""

    __tablename__ = "insight_usage_count"

    activity_uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True, index=True)
    event: Mapped[str] = mapped_column(String(12), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
