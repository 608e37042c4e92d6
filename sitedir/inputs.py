"""The validated input shape of every noun (activity, organisation, venue, page, place...).

Content files, the edit forms, ORUK and CSV imports all validate with these models, so a rule
is written once. A rule that an editor can break across fields raises broken_rule() with a stable
code: forms map the code to a field and a plain message (manage/forms.py RULE_MESSAGES), so
rewording the English here never moves an error to the wrong field.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from .text import EmailLine, Line, Text
from pydantic import (
    AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError,
    field_validator, model_validator,
)
from pydantic_core import PydanticCustomError

from . import geo
from . import models as m
from .web_address import web_address


def broken_rule(code: str, message: str) -> PydanticCustomError:
    """The error to raise for a broken rule: pydantic reports it with type=code, msg=message."""
    return PydanticCustomError(code, message)


SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _time(value: Any) -> Any:
    """Accept "10:00"; also 600, which is how YAML 1.1 reads an unquoted 10:00 (sexagesimal)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return dt.time(value // 60, value % 60)
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        hours, minutes = (int(part) for part in value.strip().split(":"))
        if hours < 24 and minutes < 60:
            return dt.time(hours, minutes)
    if isinstance(value, dt.time):
        return value
    raise ValueError("must be a time like \"09:30\" (24-hour clock, in quotes)")


Clock = Annotated[dt.time, BeforeValidator(_time)]
Slug = Annotated[str, Field(pattern=SLUG, max_length=120)]
ShortText = Annotated[Line, Field(max_length=300)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TermIn(Strict):
    key: Slug
    name: Annotated[Line, Field(min_length=1, max_length=120)]
    description: Text = ""


class TaxonomyIn(Strict):
    categories: list[TermIn] = Field(min_length=1)
    needs: list[TermIn] = []
    accessibility: list[TermIn] = []


class HolidayIn(Strict):
    name: str
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> HolidayIn:
        if self.end < self.start:
            raise broken_rule("end_before_start", "end is before start")
        return self


class CalendarIn(Strict):
    school_holidays: list[HolidayIn] = []


class PageIn(Strict):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    summary: ShortText = ""
    order: int = 100
    body: str = ""


class VenueIn(Strict):
    slug: Slug
    name: Annotated[str, Field(min_length=1, max_length=200)]
    address: list[str] = []
    town: str = ""
    postcode: str
    latitude: Annotated[float, Field(ge=49.8, le=60.9)]
    longitude: Annotated[float, Field(ge=-8.7, le=1.8)]
    accessibility: list[str] = []
    directions: str = ""

    @field_validator("postcode")
    @classmethod
    def _full_postcode(cls, value: str) -> str:
        compact = re.sub(r"\s+", "", value).upper()
        if not re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}", compact):
            raise ValueError("must be a full UK postcode, like LS9 8AB")
        return f"{compact[:-3]} {compact[-3:]}"


class ScheduleIn(Strict):
    day: Literal[m.WEEKDAYS] | None = None
    weeks: list[Annotated[int, Field(ge=-1, le=4)]] = []
    date: dt.date | None = None
    start: Clock
    end: Clock
    title: Line = ""

    @model_validator(mode="after")
    def _shape(self) -> ScheduleIn:
        if (self.day is None) == (self.date is None):
            raise broken_rule("day_or_date",
                              "give either a day (repeating) or a date (one session), not both")
        if self.date is not None and self.weeks:
            raise broken_rule("weeks_need_day", "weeks only goes with day")
        if 0 in self.weeks:
            raise broken_rule("weeks_range", "weeks are 1-4, or -1 for the last week of the month")
        if self.end <= self.start:
            raise broken_rule("end_after_start", "end must be after start")
        return self


class CostIn(Strict):
    type: Literal[m.COST_TYPES]
    amount: Annotated[Decimal, Field(ge=0, le=10000, decimal_places=2)] | None = None
    per: Literal[m.COST_PERIODS] | None = None
    notes: str = ""

    @model_validator(mode="after")
    def _amount(self) -> CostIn:
        if self.type == "paid" and not self.amount:
            raise broken_rule("paid_needs_amount", "a paid activity needs an amount")
        if self.type == "free" and self.amount:
            raise broken_rule("free_has_no_amount", "a free activity has no amount")
        return self


class JoinIn(Strict):
    how: Literal[m.JOIN_METHODS]
    referral_from: list[Literal[m.REFERRERS]] = []
    notes: str = ""

    @model_validator(mode="after")
    def _referral(self) -> JoinIn:
        if self.how == "referral" and not self.referral_from:
            raise broken_rule("referral_needs_referrers", "say who can refer (referral_from)")
        return self


class FirstVisitIn(Strict):
    bring_friend: bool | None = None
    what_to_bring: Text = ""
    welcome: Text = ""


class ContactIn(Strict):
    name: Line = ""
    phone: Line = ""
    email: EmailLine = ""


class ActivityIn(Strict):
    slug: Slug
    title: Annotated[Line, Field(min_length=1, max_length=200)]
    summary: Annotated[Line, Field(min_length=1, max_length=200)]
    description: Text = ""
    categories: list[str] = Field(min_length=1)
    helps: list[str] = []
    age_min: Annotated[int, Field(ge=0, le=120)] | None = None
    age_max: Annotated[int, Field(ge=0, le=120)] | None = None
    formats: list[Literal[m.FORMATS]] = Field(min_length=1)
    venue: Slug | None = None
    hide_address: bool = False
    online_details: Text = ""
    schedule: list[ScheduleIn] = Field(min_length=1)
    schedule_notes: Text = ""
    term_time_only: bool = False
    status: Literal[m.STATUSES] = "running"
    waiting_list: bool = False
    break_until: dt.date | None = None
    cost: CostIn
    join: JoinIn
    first_visit: FirstVisitIn = FirstVisitIn()
    accessibility: list[str] = []
    contact: ContactIn = ContactIn()
    last_reviewed: dt.date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ActivityIn:
        _venue_and_ages(self)
        if self.status == "on_break" and not self.break_until:
            raise broken_rule("break_needs_date", "an activity on a break needs break_until")
        return self


def _venue_and_ages(activity: ActivityIn) -> None:
    """The rules between fields that hold wherever an activity comes from."""
    if "in_person" in activity.formats and not activity.venue:
        raise broken_rule("in_person_needs_venue", "an in-person activity needs a venue")
    if activity.age_min is not None and activity.age_max is not None \
            and activity.age_max < activity.age_min:
        raise broken_rule("ages_reversed", "age_max is below age_min")


class OrganisationIn(Strict):
    name: Annotated[Line, Field(min_length=1, max_length=200)]
    summary: ShortText = ""
    description: Text = ""
    website: Line = ""
    email: EmailLine = ""
    phone: Line = ""
    charity_number: Line = ""
    activities: list[ActivityIn] = []

    @field_validator("website")
    @classmethod
    def _web_address(cls, value: str) -> str:
        return web_address(value)

    @field_validator("charity_number", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


# -- what another directory may send ------------------------------------------------------
# Imports (ORUK feeds, spreadsheets) validate with the models above, each field by its own
# rule; these variants only leave out what a listing written here must have but another
# directory may not say. The importer keeps such a record and drops a field that breaks a rule.

class ImportedCostIn(CostIn):
    """A feed may call a listing paid without a price we can read ("£3"): it stays paid (the
    price goes into the notes), never called free; and a feed's prices go up to 999999."""

    amount: Annotated[Decimal, Field(ge=0, lt=1000000)] | None = None

    @model_validator(mode="after")
    def _amount(self) -> ImportedCostIn:
        if self.type == "free" and self.amount:
            raise broken_rule("free_has_no_amount", "a free activity has no amount")
        return self


class ImportedActivityIn(ActivityIn):
    """An activity from another directory: it may have no summary (or one up to the column's
    300 characters), no category, no timetable and no break end date."""

    summary: Annotated[Line, Field(max_length=300)] = ""
    categories: list[str] = []
    schedule: list[ScheduleIn] = []
    cost: ImportedCostIn = ImportedCostIn(type="free")
    join: JoinIn = JoinIn(how="drop_in")

    @model_validator(mode="after")
    def _consistent(self) -> ImportedActivityIn:
        _venue_and_ages(self)
        return self


class NewVenueIn(VenueIn):
    """A venue an editor adds: placed by its postcode, which may not be in the gazetteer or
    the postcode table yet, so its point may be missing."""

    latitude: Annotated[float, Field(ge=49.8, le=60.9)] | None = None
    longitude: Annotated[float, Field(ge=-8.7, le=1.8)] | None = None


class ImportedVenueIn(VenueIn):
    """A venue from another directory: its point may be missing (it is placed by its postcode)
    or anywhere on Earth, and its postcode may be only a district, or missing."""

    postcode: str = ""
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None

    @field_validator("postcode")
    @classmethod
    def _full_postcode(cls, value: str) -> str:
        return (geo.normalise_postcode(value) or value.upper())[:10] if value else ""


def _sector(value: str) -> str:
    """'ls8 5' → 'LS8 5', if the gazetteer knows that postcode sector."""
    sector = geo.normalise_postcode(value)
    if sector is None or not re.fullmatch(r"\S+ \d", sector):
        raise ValueError(f"{value!r} is not a postcode sector like \"LS8 5\"")
    if geo.Gazetteer().sector_point(sector) is None:
        raise ValueError(f"unknown postcode sector {sector!r}")
    return sector


PlaceName = Annotated[str, Field(min_length=1, max_length=120)]


class LocalPlaceIn(Strict):
    name: PlaceName
    postcode_sectors: list[Annotated[str, AfterValidator(_sector)]] = []
    latitude: Annotated[float, Field(ge=49.8, le=60.9)] | None = None
    longitude: Annotated[float, Field(ge=-8.7, le=1.8)] | None = None
    area: Annotated[str, Field(max_length=120)] = ""
    also_known_as: list[PlaceName] = []

    @model_validator(mode="after")
    def _one_position(self) -> LocalPlaceIn:
        has_point = self.latitude is not None or self.longitude is not None
        if bool(self.postcode_sectors) == has_point:
            raise ValueError("give either postcode_sectors or latitude and longitude")
        if has_point and (self.latitude is None or self.longitude is None):
            raise ValueError("give both latitude and longitude")
        return self

    @property
    def point(self) -> tuple[float, float]:
        """Its latitude and longitude, or the mean of its sectors' centres."""
        if not self.postcode_sectors:
            assert self.latitude is not None and self.longitude is not None
            return self.latitude, self.longitude
        found = [geo.Gazetteer().sector_point(code) for code in self.postcode_sectors]
        points = [point for point in found if point is not None]
        assert len(points) == len(found)  # each sector was checked when it was validated
        return (round(sum(lat for lat, _ in points) / len(points), 5),
                round(sum(lon for _, lon in points) / len(points), 5))


def error_path(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a field path: activities[2].schedule[0].start."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in ("function-after", "function-before") and not str(part).startswith(
                ("literal[", "nullable[", "decimal", "date", "is-instance")):
            path += f".{part}" if path else str(part)
    return path


def validate_into(model: type[BaseModel], data: Any, where: str, errors: list[str],
                  prefix: str = "") -> Any:
    """data as a model, or None with each problem added to errors as "where: field: message"."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            path = prefix + (f".{error_path(error['loc'])}" if prefix and error["loc"] else
                             error_path(error["loc"]))
            message = error["msg"].removeprefix("Value error, ")
            errors.append(f"{where}: {path}: {message}" if path else f"{where}: {message}")
        return None
