"""Forms for recommending, suggesting and reporting, with their anti-abuse fields.

No CAPTCHA (WCAG 2.2 3.3.8): a hidden honeypot field, a signed "form started at" time with a
minimum fill time, rate limits (sitedir.limiter) and no web links in free text.
"""
from __future__ import annotations

import re
import secrets
import time
from typing import Callable

from flask import current_app
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer
from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..limiter import limiter, session_key
from ..text import TextError, clean_line, clean_text, email_address
from .models import DELIVERIES, PROBLEM_REASONS, ROLES

LINE = [clean_line]  # WTForms filters: sitedir.text's rules for one line / several lines
TEXT = [clean_text]

NOTE_MAX = 500
DETAILS_MAX = 1000
LINK_PATTERN = re.compile(r"(https?://|www\.|\b[\w-]+\.(com|net|org|ru|info|biz|xyz|top)\b)",
                          re.IGNORECASE)


def no_links(what: str) -> Callable[[FlaskForm, StringField], None]:
    """Free text must not carry web links: an email from us never points somewhere unknown."""
    def check(form: FlaskForm, field: StringField) -> None:
        if field.data and LINK_PATTERN.search(field.data):
            raise ValidationError(f"{what} must not include web links")
    return check


FORM_MAX_AGE = 6 * 3600  # a form left open longer is shown again with a fresh timer


def _timer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="connect-form-started")


def _new_timer() -> str:
    """A signed (start time, one-time id, this session's id) for the hidden "started" field."""
    return _timer().dumps({"t": time.time(), "n": secrets.token_urlsafe(12),
                           "s": session_key()})


def _first_use(nonce: str) -> bool:
    """True the first time a form's one-time id is sent (counted in the rate-limit store, so
    several processes share it when that store is Redis)."""
    return limiter.storage.incr(f"connect-form:{nonce}", expiry=FORM_MAX_AGE) == 1


class GuardedForm(FlaskForm):
    """A form with a honeypot field and a minimum time between showing and sending it.

    The timer is bound to the session it was shown in and works once, so neither dropping the
    cookie (to escape the per-session limit) nor replaying one timer gets a form through.
    """

    # People never see this field (hidden); simple bots fill in every field they find.
    website = StringField("Leave this field empty", validators=[Optional()])
    started = HiddenField()

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_submitted():
            self.started.data = _new_timer()

    def restart_timer(self) -> None:
        """A fresh timer, for a form shown again after errors."""
        self.started.data = _new_timer()

    def looks_automated(self) -> bool:
        """True when the honeypot is filled, the timer is not this session's, was used before,
        or the form came back faster than a person types."""
        if self.website.data:
            return True
        try:
            timer = _timer().loads(self.started.data or "")
            started, nonce, owner = float(timer["t"]), str(timer["n"]), timer["s"]
        except (BadSignature, TypeError, ValueError, KeyError):
            return True
        elapsed = time.time() - started
        if owner != session_key() or not 0 <= elapsed <= FORM_MAX_AGE:
            return True
        if elapsed < float(current_app.config["CONNECT_MIN_FILL_SECONDS"]):
            return True
        return not _first_use(nonce)


def _choices(mapping: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in mapping.items()]


class RecommendForm(GuardedForm):
    role = RadioField("Your role", choices=_choices(ROLES), validators=[
        DataRequired("Select your role")])
    recommender_name = StringField("Your name (optional)", filters=LINE, validators=[
        Optional(), Length(max=80, message="Your name must be 80 characters or fewer"),
        no_links("Your name")])
    recommender_organisation = StringField("Your organisation (optional)", validators=[
        Optional(), Length(max=120, message="Your organisation must be 120 characters or fewer"),
        no_links("Your organisation")], filters=LINE)
    person_name = StringField("Their first name (optional)", filters=LINE, validators=[
        Optional(), Length(max=40, message="Their first name must be 40 characters or fewer"),
        no_links("Their first name")])
    note = TextAreaField("A short note for them (optional)", filters=TEXT, validators=[
        Optional(),
        Length(max=NOTE_MAX, message=f"The note must be {NOTE_MAX} characters or fewer"),
        no_links("The note")])
    delivery = RadioField("How do you want to give it to them?", choices=_choices(DELIVERIES),
                          validators=[DataRequired("Select how you want to give it to them")])
    large_print = BooleanField("Large print")
    email = StringField("Their email address")  # required only for email: see validate_email
    consent = BooleanField("They have agreed that we email them this once")
    reply_to = StringField("Your email address for their reply (optional)")

    def validate_reply_to(self, field: StringField) -> None:
        if self.delivery.data != "email" or not (field.data or "").strip():
            return
        try:
            field.data = email_address(field.data)
        except TextError as error:
            raise ValidationError(
                "Enter your email address in the correct format, like name@example.com, "
                "or leave it empty") from error

    def validate_email(self, field: StringField) -> None:
        if self.delivery.data != "email":
            return
        if not (field.data or "").strip():
            raise ValidationError("Enter their email address")
        try:
            field.data = email_address(field.data)
        except TextError as error:
            raise ValidationError(str(error)) from error

    def validate_consent(self, field: BooleanField) -> None:
        if self.delivery.data == "email" and not field.data:
            raise ValidationError("Confirm they have agreed to get this email")


class SuggestForm(GuardedForm):
    group_name = StringField("Name of the group or activity", filters=LINE, validators=[
        DataRequired("Enter the name of the group or activity"),
        Length(max=200, message="The name must be 200 characters or fewer"),
        no_links("The name")])
    description = TextAreaField("What happens there", filters=TEXT, validators=[
        DataRequired("Describe what happens there"),
        Length(max=DETAILS_MAX,
               message=f"The description must be {DETAILS_MAX} characters or fewer")])
    where = StringField("Where it meets (optional)", filters=LINE, validators=[
        Optional(), Length(max=300, message="Where it meets must be 300 characters or fewer")])
    when = StringField("When it meets (optional)", filters=LINE, validators=[
        Optional(), Length(max=300, message="When it meets must be 300 characters or fewer")])
    contact = StringField("The group's public contact details or website (optional)", validators=[
        Optional(), Length(max=300, message="The contact details must be 300 characters or fewer")],
        filters=LINE)
    role = RadioField("Your role (optional)", choices=_choices(ROLES), validators=[Optional()])


class ProblemForm(GuardedForm):
    reason = RadioField("What is wrong?", choices=_choices(PROBLEM_REASONS), validators=[
        DataRequired("Select what is wrong with this listing")])
    # No Optional(): it would stop validate_details, which needs details when reason is "other".
    details = TextAreaField("Tell us more (optional)", filters=TEXT, validators=[
        Length(max=DETAILS_MAX, message=f"The details must be {DETAILS_MAX} characters or fewer")])

    def validate_details(self, field: TextAreaField) -> None:
        if self.reason.data in ("other", "safeguarding") and not (field.data or "").strip():
            raise ValidationError("Tell us what is wrong" if self.reason.data == "other" else
                                  "Tell us what happened, so the safeguarding lead can act")
