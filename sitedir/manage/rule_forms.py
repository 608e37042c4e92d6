"""Flask-WTF forms for manage whose only validation is the project's own rules.

A `RuleForm` declares its fields (so WTForms reads the request, as connect's forms do) but has
no WTForms validators: `check()` runs the rule that already decides (sitedir.text, the input
models, `status_values`) and its errors land on the fields. A rule is kept in one place and the
messages stay the ones the rule gives. Templates keep rendering through manage/_fields.html,
from `values` and `messages`, so names, ids and error markup do not change.
"""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField

from ..text import EMAIL_MESSAGE, TextError, cleaned_form
from .models import account_email
from .status import status_values

CLAIM_LABELS = {"role_in_group": "Your role in the group", "message": "Your message"}
REASON_LABELS = {"reason": "The reason"}


class YesField(BooleanField):
    """A checkbox that is on only when it sends "yes", as every manage checkbox does."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = bool(valuelist) and valuelist[0] == "yes"


class RuleForm(FlaskForm):
    """A form validated by `check()` alone; `values` and `messages` are what templates show."""

    class Meta:
        csrf = False  # CSRFProtect already refuses a POST without a valid token, before views

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.messages: dict[str, str] = {}
        self.values: dict[str, Any] = self.sent()

    def sent(self) -> dict[str, Any]:
        """The fields as sent (or as given on a GET), by their names without the prefix."""
        return {field.short_name: "" if field.data is None else field.data for field in self}

    def check(self, sent: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """(values to keep or show, errors by field short name): the rule's own answer."""
        raise NotImplementedError

    def validate(self, extra_validators: Any = None) -> bool:
        super().validate(extra_validators)  # no validators of its own: nothing repeats a rule
        self.values, errors = self.check(self.sent())
        self.place(errors)
        return not self.messages

    def place(self, errors: dict[str, str]) -> None:
        """Each rule's error onto its field; `messages` by the field's name on the page."""
        self.messages = {}
        for name, message in errors.items():
            self[name].errors = [message]
            self.messages[self[name].name] = message


class SignInForm(RuleForm):
    email = StringField()

    def check(self, sent: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        try:
            return {"email": account_email(sent["email"])}, {}
        except TextError:
            return {"email": sent["email"][:254]}, {"email": EMAIL_MESSAGE}  # shown as typed


class StatusForm(RuleForm):
    """A quick status: the dashboard's form, and a reminder's confirm button."""

    status = StringField()
    break_until = StringField()
    waiting_list = YesField()

    def check(self, sent: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        shown = {**sent, "break_until": sent["break_until"].strip()}
        self.checked, errors = status_values(sent["status"], shown["break_until"],
                                             sent["waiting_list"])
        return shown, errors


class ReasonForm(RuleForm):
    """A moderator's reason (rejecting a change or a claim); whether one is needed is theirs."""

    reason = TextAreaField()

    def check(self, sent: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        values, errors = cleaned_form(sent, texts=("reason",), labels=REASON_LABELS)
        return {"reason": values["reason"][:2000]}, errors


class ClaimForm(RuleForm):
    role_in_group = StringField()
    message = TextAreaField()

    def check(self, sent: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        values, errors = cleaned_form(sent, lines=("role_in_group",), texts=("message",),
                                      labels=CLAIM_LABELS)
        values = {name: value[:2000] for name, value in values.items()}
        if not values["role_in_group"] and "role_in_group" not in errors:
            errors["role_in_group"] = "Enter your role in the group, like “volunteer organiser”"
        return values, errors
