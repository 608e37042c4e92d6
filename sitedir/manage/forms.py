"""The edit forms: Flask-WTF forms ⇄ ActivityIn/OrganisationIn payloads, with plain errors.

The timetable is a FieldList of rows; "Add more times" is a submit button that shows the form
again with blank rows, so it works without JavaScript. The forms have no WTForms validators:
validation is ActivityIn's (OrganisationIn's) own, and each pydantic error is mapped back to
the form field that caused it, in plain language (RULE_MESSAGES, FIELD_OF, MISSING_MESSAGES).
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from pydantic import ValidationError
from wtforms import Field, FieldList, Form, FormField, StringField, TextAreaField

from .. import geo
from ..inputs import ActivityIn, OrganisationIn
from ..models import WEEKDAYS
from ..text import EMAIL_MESSAGE, TextError, clean_line, clean_text, optional_email_address
from ..web_address import is_web_address
from .publish import FIELD_LABELS, ORGANISATION_FIELDS, activity_json
from .rule_forms import RuleForm, YesField

WEEK_CHOICES = [("", "Every week"), ("1", "1st week of the month"),
                ("2", "2nd week of the month"), ("3", "3rd week of the month"),
                ("4", "4th week of the month"), ("-1", "Last week of the month"),
                ("1,3", "1st and 3rd weeks"), ("2,4", "2nd and 4th weeks")]
BLANK_ROWS = 2  # empty schedule rows offered under the filled ones (more on request, no JS)
MAX_ROWS = 50  # timetable rows of each kind read from one form
TEXT_FIELDS = ("title", "summary", "description", "online_details", "schedule_notes",
               "cost_notes", "join_notes", "what_to_bring", "welcome", "contact_name",
               "contact_phone", "contact_email")
LIST_FIELDS = ("categories", "helps", "formats", "referral_from", "accessibility")
FLAG_FIELDS = ("hide_address", "term_time_only", "waiting_list")
NEW_VENUE = "new"  # the venue choice that means "a venue not in the list yet"
NEW_VENUE_FIELDS = ("new_venue_name", "new_venue_address", "new_venue_town",
                    "new_venue_postcode")

# Rules that the input models check across fields, by their stable code (inputs.broken_rule):
# the form field each points at, and what to tell the editor.
RULE_MESSAGES = {
    "in_person_needs_venue": ("venue", "Choose the venue, or untick “In person”"),
    "break_needs_date": (
        "break_until", "Enter the date the activity is back from its break, like 2027-01-11"),
    "ages_reversed": (
        "age_max", "Oldest age must be the same as or more than the youngest age"),
    "paid_needs_amount": ("cost_amount", "Enter the cost, like 3.50"),
    "free_has_no_amount": (
        "cost_amount", "Remove the amount, or choose “Paid” or “Pay what you can”"),
    "referral_needs_referrers": ("referral_from", "Select who can refer people"),
    "end_after_start": ("end", "The end time must be after the start time"),
    "end_before_start": ("end", "The end time must be after the start time"),
    "day_or_date": ("day", "Choose a day for a weekly slot (or a date for a single session)"),
    "weeks_need_day": ("weeks", "Choose “Every week” for a single dated session"),
    "weeks_range": ("weeks", "Choose which weeks of the month from the list"),
}
FIELD_OF = {("cost", "amount"): "cost_amount", ("cost", "type"): "cost_type",
            ("cost", "per"): "cost_per", ("join", "how"): "join_how",
            ("join", "referral_from"): "referral_from", ("cost",): "cost_amount",
            ("join",): "referral_from", ("first_visit", "bring_friend"): "bring_friend",
            ("contact", "email"): "contact_email", ("contact", "phone"): "contact_phone",
            ("contact", "name"): "contact_name"}
MISSING_MESSAGES = {
    "title": "Enter the name of the activity",
    "summary": "Enter a short summary of the activity",
    "categories": "Select at least one type of activity",
    "formats": "Select how it runs: in person, online or by phone",
}
FORM_LABELS = {**FIELD_LABELS, "cost_amount": "Cost", "cost_type": "Cost",
               "join_how": "How to join", "referral_from": "Who can refer",
               "contact_email": "Contact email", "contact_phone": "Contact phone",
               "contact_name": "Contact name", "bring_friend": "Bringing a friend",
               "new_venue_name": "The venue’s name", "new_venue_town": "The venue’s town",
               "new_venue_address": "The venue’s address"}


def activity_values(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Form values for an activity snapshot (ActivityIn JSON)."""
    cost, join = snapshot.get("cost") or {}, snapshot.get("join") or {}
    first, contact = snapshot.get("first_visit") or {}, snapshot.get("contact") or {}
    values: dict[str, Any] = {name: snapshot.get(name) or "" for name in TEXT_FIELDS}
    values.update({name: "" for name in NEW_VENUE_FIELDS})
    values.update({name: list(snapshot.get(name) or []) for name in LIST_FIELDS})
    values.update({name: bool(snapshot.get(name)) for name in FLAG_FIELDS})
    values.update(
        age_min=_text(snapshot.get("age_min")), age_max=_text(snapshot.get("age_max")),
        venue=snapshot.get("venue") or "", status=snapshot.get("status") or "running",
        break_until=snapshot.get("break_until") or "",
        cost_type=cost.get("type") or "free", cost_amount=_text(cost.get("amount")),
        cost_per=cost.get("per") or "", cost_notes=cost.get("notes") or "",
        join_how=join.get("how") or "drop_in", referral_from=list(join.get("referral_from") or []),
        join_notes=join.get("notes") or "",
        bring_friend={True: "yes", False: "no"}.get(first.get("bring_friend"), ""),
        what_to_bring=first.get("what_to_bring") or "", welcome=first.get("welcome") or "",
        contact_name=contact.get("name") or "", contact_phone=contact.get("phone") or "",
        contact_email=contact.get("email") or "")
    slots, dates = [], []
    for entry in snapshot.get("schedule") or []:
        row = {"start": (entry.get("start") or "")[:5], "end": (entry.get("end") or "")[:5],
               "title": entry.get("title") or ""}
        if entry.get("date"):
            dates.append({**row, "date": entry["date"]})
        else:
            weeks = ",".join(str(w) for w in entry.get("weeks") or [])
            slots.append({**row, "day": entry.get("day") or "", "weeks": weeks})
    values["slots"] = _pad(slots, ("day", "weeks", "start", "end", "title"))
    values["dates"] = _pad(dates, ("date", "start", "end", "title"))
    return values


def _text(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return text.removesuffix(".00") if re.fullmatch(r"\d+\.00", text) else text


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _pad(rows: list[dict], keys: tuple[str, ...], extra: int = BLANK_ROWS) -> list[dict]:
    return rows + [{key: "" for key in keys} for _ in range(extra)]


class ListField(Field):
    """Every value sent under one name (a group of checkboxes), in order; which values are
    allowed is the input model's rule, not the field's."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = list(valuelist)


class RowList(FieldList):
    """Timetable rows: the first MAX_ROWS sent are read; blank rows are added to show."""

    def _extract_indices(self, prefix: str, formdata: Any) -> Any:
        return (index for index in super()._extract_indices(prefix, formdata)
                if index < MAX_ROWS)


class SlotRowForm(Form):
    """A regular time: slot-<n>-day, -weeks, -start, -end, -title."""

    day = StringField()
    weeks = StringField()
    start = StringField()
    end = StringField()
    title = StringField()


class DateRowForm(Form):
    """A dated session: date-<n>-date, -start, -end, -title."""

    date = StringField()
    start = StringField()
    end = StringField()
    title = StringField()


class NewVenueForm(Form):
    """A venue not in the list yet: new_venue_name, _address, _town, _postcode."""

    name = StringField()
    address = TextAreaField()
    town = StringField()
    postcode = StringField()


ROW_KEYS = {"slot": ("day", "weeks", "start", "end", "title"),
            "date": ("date", "start", "end", "title")}
ROW_PATTERN = re.compile(r"(slot|date)-(\d+)-(\w+)")


class ActivityForm(RuleForm):
    """The activity form (edit, add, one section, register), validated by ActivityIn.

    `slug` is the listing's, or made from the sent values for a new one. `shown` is what a
    GET shows and what a section's POST keeps of the fields it does not
    edit; "Add more times" is a submit button (action=more-rows), so no JavaScript is needed.
    """

    title, summary, description = StringField(), StringField(), TextAreaField()
    online_details, schedule_notes = TextAreaField(), TextAreaField()
    cost_notes, join_notes = TextAreaField(), TextAreaField()
    what_to_bring, welcome = TextAreaField(), TextAreaField()
    contact_name, contact_phone, contact_email = StringField(), StringField(), StringField()
    categories, helps, formats = ListField(), ListField(), ListField()
    referral_from, accessibility = ListField(), ListField()
    hide_address, term_time_only, waiting_list = YesField(), YesField(), YesField()
    age_min, age_max, venue, status = StringField(), StringField(), StringField(), StringField()
    break_until, cost_type, cost_amount = StringField(), StringField(), StringField()
    cost_per, join_how, bring_friend = StringField(), StringField(), StringField()
    new_venue = FormField(NewVenueForm, separator="_")
    slot = RowList(FormField(SlotRowForm))
    date = RowList(FormField(DateRowForm))
    action = StringField()

    def __init__(self, shown: dict[str, Any], slug: str | Callable[[dict[str, Any]], str],
                 fields: tuple[str, ...] | None = None, **kwargs: Any) -> None:
        self.shown, self.slug, self.fields = shown, slug, fields
        self.payload: dict[str, Any] = {}
        super().__init__(**kwargs)
        self._show_rows()

    @property
    def more_rows(self) -> bool:
        return self.action.data == "more-rows"

    def sent(self) -> dict[str, Any]:
        """The values as sent (re-shown on errors or with more rows); a section keeps the
        rest from `shown`."""
        if not self.is_submitted():
            return self.shown
        # Browsers send textarea line breaks as CRLF; the store (and content/ YAML) uses LF,
        # and without this every edit showed the unchanged description as a change.
        values: dict[str, Any] = {name: _lf(self[name].data or "").strip()
                                  for name in TEXT_FIELDS}
        values.update({f"new_venue_{part}": _lf(self.new_venue[part].data or "").strip()
                       for part in ("name", "address", "town", "postcode")})
        values.update({name: self[name].data or [] for name in LIST_FIELDS})
        values.update({name: self[name].data for name in FLAG_FIELDS})
        for name in ("age_min", "age_max", "venue", "status", "break_until", "cost_type",
                     "cost_amount", "cost_per", "join_how", "bring_friend"):
            values[name] = (self[name].data or "").strip()
        extra = BLANK_ROWS + (2 if self.more_rows else 0)
        for kind, key in (("slot", "slots"), ("date", "dates")):
            rows = [{part: (entry[part].data or "").strip() for part in ROW_KEYS[kind]}
                    for entry in self[kind]]
            values[key] = _pad([row for row in rows if any(row.values())], ROW_KEYS[kind],
                               extra)
        if self.fields is None:
            return values
        return {**self.shown, **{name: values[name] for name in self.fields}}

    def check(self, sent: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        slug = self.slug(sent) if callable(self.slug) else self.slug
        self.payload, errors = activity_payload(sent, slug)
        return sent, errors

    def place(self, errors: dict[str, str]) -> None:
        """Errors are named as the page names fields (slot-0-start, new_venue_name)."""
        self._show_rows()
        self.messages = dict(errors)
        for name, message in errors.items():
            self._field_named(name).errors = [message]

    def _show_rows(self) -> None:
        """The timetable rows as shown (filled rows first, then blank ones), so a row error
        such as slot-0-start lands on the row the page shows with that name."""
        for kind, key in (("slot", "slots"), ("date", "dates")):
            rows = self[kind]
            rows.entries, rows.last_index = [], -1
            for row in self.values[key]:
                rows.append_entry(row)

    def _field_named(self, name: str) -> Any:
        """The field an error's form name points at (the form itself for a whole-record one)."""
        row = ROW_PATTERN.fullmatch(name)
        if row and int(row[2]) < len(self[row[1]].entries):
            return self[row[1]][int(row[2])][row[3]]
        if name.startswith("new_venue_"):
            return self.new_venue[name.removeprefix("new_venue_")]
        return self._fields.get(name) or _FormErrors(self)


class _FormErrors:
    """Where an error without a field of its own goes: the form's own errors."""

    def __init__(self, form: ActivityForm) -> None:
        self.form = form

    @property
    def errors(self) -> list[str]:
        return self.form.form_errors

    @errors.setter
    def errors(self, messages: list[str]) -> None:
        self.form.form_errors.extend(messages)


def _number(values: dict, name: str, errors: dict, label: str, decimal: bool = False) -> Any:
    raw = values.get(name, "").replace("£", "").replace(",", "").strip()
    if not raw:
        return None
    try:
        return Decimal(raw) if decimal else int(raw)
    except (ValueError, InvalidOperation):
        example = "3.50" if decimal else "18"
        errors[name] = f"{label} must be a number, like {example}"
        return None


def activity_payload(values: dict[str, Any], slug: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Form values → (ActivityIn JSON payload, errors by field name); no errors means valid."""
    errors: dict[str, str] = {}
    schedule, row_ids = _schedule(values)
    amount = _number(values, "cost_amount", errors, "Cost", decimal=True)
    payload = {
        "slug": slug, "title": values["title"], "summary": values["summary"],
        "description": values["description"], "categories": values["categories"],
        "helps": values["helps"],
        "age_min": _number(values, "age_min", errors, "Youngest age"),
        "age_max": _number(values, "age_max", errors, "Oldest age"),
        "formats": values["formats"], "venue": _venue_choice(values, errors),
        "hide_address": values["hide_address"], "online_details": values["online_details"],
        "schedule": schedule, "schedule_notes": values["schedule_notes"],
        "term_time_only": values["term_time_only"], "status": values["status"] or "running",
        "waiting_list": values["waiting_list"], "break_until": values["break_until"] or None,
        "cost": {"type": values["cost_type"] or "free", "amount": amount,
                 "per": values["cost_per"] or None, "notes": values["cost_notes"]},
        "join": {"how": values["join_how"] or "drop_in", "referral_from": values["referral_from"],
                 "notes": values["join_notes"]},
        "first_visit": {"bring_friend": {"yes": True, "no": False}.get(values["bring_friend"]),
                        "what_to_bring": values["what_to_bring"], "welcome": values["welcome"]},
        "accessibility": values["accessibility"],
        "contact": {"name": values["contact_name"], "phone": values["contact_phone"],
                    "email": values["contact_email"]},
    }
    if not _email_ok(values["contact_email"]):
        errors["contact_email"] = EMAIL_MESSAGE
    # Validate even after the form's own errors, so the summary lists every problem at once
    # rather than one more after each submit; the form's own message for a field wins.
    try:
        item = ActivityIn.model_validate(payload)
    except ValidationError as exc:
        for error in exc.errors():
            name, message = _form_error(error, row_ids)
            errors.setdefault(name, message)
        return payload, errors
    if errors:
        return payload, errors
    payload = activity_json(item)
    if values["venue"] == NEW_VENUE:
        payload["new_venue"] = new_venue(values)
    return payload, errors


def _schedule(values: dict[str, Any]) -> tuple[list[dict], list[str]]:
    """The filled-in schedule rows, and the form row each came from (to place errors)."""
    schedule, row_ids = [], []
    for index, row in enumerate(values["slots"]):
        if any(row.get(k) for k in ("day", "start", "end")):
            weeks = [int(w) for w in row["weeks"].split(",") if w.strip()] if row["weeks"] else []
            schedule.append({"day": row["day"] or None, "weeks": weeks, "start": row["start"],
                             "end": row["end"], "title": row["title"]})
            row_ids.append(f"slot-{index}")
    for index, row in enumerate(values["dates"]):
        if any(row.get(k) for k in ("date", "start", "end")):
            schedule.append({"date": row["date"] or None, "start": row["start"],
                             "end": row["end"], "title": row["title"]})
            row_ids.append(f"date-{index}")
    return schedule, row_ids


def _venue_choice(values: dict[str, Any], errors: dict[str, str]) -> str | None:
    """The chosen venue's slug; for a new venue, check its fields and use a stand-in slug."""
    if values["venue"] != NEW_VENUE:
        return values["venue"] or None
    for name, clean in (("new_venue_name", clean_line), ("new_venue_town", clean_line),
                        ("new_venue_address", clean_text)):
        try:
            clean(values[name])
        except TextError as refused:
            errors[name] = f"{FORM_LABELS.get(name, 'The venue')} {refused}"
    if not values["new_venue_name"]:
        errors["new_venue_name"] = "Enter the name of the venue, like “St Mary’s Church Hall”"
    if geo.normalise_postcode(values["new_venue_postcode"], full_only=True) is None:
        errors["new_venue_postcode"] = "Enter the venue’s full postcode, like LS9 8AB"
    return "new-venue"  # replaced by the real venue's slug when the change is published


def new_venue(values: dict[str, Any]) -> dict[str, Any]:
    """A proposed venue, as the change request carries it."""
    return {"name": clean_line(values["new_venue_name"])[:200],
            "address": [clean_line(line) for line in clean_text(values["new_venue_address"])
                        .splitlines() if clean_line(line)][:6],
            "town": clean_line(values["new_venue_town"])[:100],
            "postcode": geo.normalise_postcode(values["new_venue_postcode"], full_only=True)}


def _form_error(error: dict, row_ids: list[str]) -> tuple[str, str]:
    """A pydantic error as (form field name, plain-language message)."""
    loc = tuple(part for part in error["loc"] if not str(part).startswith(
        ("function-", "literal[", "nullable[", "decimal", "date", "is-instance")))
    message = error["msg"].removeprefix("Value error, ")
    rule = RULE_MESSAGES.get(error["type"])
    if loc and loc[0] == "schedule":
        return _schedule_error(loc, message, rule, row_ids)
    if rule:
        return rule
    name = FIELD_OF.get(loc[:2]) or FIELD_OF.get(loc[:1]) or (str(loc[0]) if loc else "title")
    return name, _plain_message(name, error, message)


def _schedule_error(loc: tuple, message: str, rule: tuple[str, str] | None,
                    row_ids: list[str]) -> tuple[str, str]:
    """A schedule error, pointed at the row (and field) of the form it came from."""
    if len(loc) == 1:
        return "slot-0-day", "Add at least one time it runs: a weekly slot or a dated session"
    row = row_ids[loc[1]] if loc[1] < len(row_ids) else "slot-0"
    part = loc[2] if len(loc) > 2 else (rule[0] if rule else "start")
    if rule:
        message = rule[1]
    elif "time like" in message:  # the clock parser's own error (not a cross-field rule)
        message = "Enter a time like 10:00 or 18:30"
    return f"{row}-{part}", f"{_row_label(row)}, {ROW_PARTS.get(part, part)}: " \
        f"{message[0].lower()}{message[1:]}"


ROW_PARTS = {"day": "day", "weeks": "which weeks", "start": "start", "end": "end",
             "date": "date", "title": "name"}


def _row_label(row: str) -> str:
    """'slot-0' → 'Regular time 1', 'date-2' → 'Dated session 3', as the form's legends say."""
    kind, index = row.split("-", 1)
    return f"{'Regular time' if kind == 'slot' else 'Dated session'} {int(index) + 1}"


def _email_ok(value: str) -> bool:
    try:
        optional_email_address(value)
    except TextError:
        return False
    return True


def _plain_message(name: str, error: dict, message: str) -> str:
    label = FORM_LABELS.get(name, name.replace("_", " ").capitalize())
    kind = error["type"]
    refused = (error.get("ctx") or {}).get("error")
    if isinstance(refused, TextError):  # an input rule (sitedir.text) in its own words
        return str(refused) if refused.code.startswith("email") else f"{label} {refused}"
    if kind in ("missing", "string_too_short", "too_short"):
        if name in MISSING_MESSAGES:
            return MISSING_MESSAGES[name]
        return f"{'Select' if name in LIST_FIELDS else 'Enter'} {label.lower()}"
    if kind in ("string_too_long", "too_long"):
        return f"{label} must be {error['ctx']['max_length']} characters or fewer"
    if kind.startswith("date_"):
        return f"{label} must be a real date, like 2027-01-11"
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"{label} must be between 0 and 120"
    return f"{label}: {message}"


class OrganisationForm(RuleForm):
    """An organisation's fields; `prefix="org_"` keeps them apart on the registration form."""

    name = StringField()
    summary = StringField()
    description = TextAreaField()
    website = StringField()
    email = StringField()
    phone = StringField()
    charity_number = StringField()

    def check(self, sent: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        return organisation_payload(sent)


def organisation_payload(sent: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """The organisation's fields as sent → (payload, errors by field name)."""
    payload = {name: _lf(sent.get(name) or "").strip() for name in ORGANISATION_FIELDS}
    errors: dict[str, str] = {}
    try:
        item = OrganisationIn.model_validate(payload)
        payload = {name: getattr(item, name) for name in ORGANISATION_FIELDS}  # as cleaned
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "name"
            label = FIELD_LABELS.get(name, name)
            refused = (error.get("ctx") or {}).get("error")
            if isinstance(refused, TextError):
                errors.setdefault(name, _plain_message(name, error, ""))
            elif error["type"] in ("missing", "string_too_short"):
                errors.setdefault(name, f"Enter the organisation’s {label.lower()}")
            elif error["type"] == "string_too_long":
                errors.setdefault(
                    name, f"{label} must be {error['ctx']['max_length']} characters or fewer")
            else:
                errors.setdefault(name, f"{label}: {error['msg']}")
    if payload["website"] and not is_web_address(payload["website"]):
        errors["website"] = "Enter the full web address, starting with https://"
    if not _email_ok(payload["email"]):
        errors["email"] = EMAIL_MESSAGE
    return payload, errors


def weekday_choices() -> list[tuple[str, str]]:
    return [("", "Choose a day")] + [(day, day.capitalize()) for day in WEEKDAYS]
