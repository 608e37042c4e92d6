"""The manage forms are Flask-WTF forms whose only rules are the input models' own."""
from __future__ import annotations

import pytest
from flask import Flask

from sitedir.manage.forms import MAX_ROWS, ActivityForm, OrganisationForm, activity_values
from sitedir.manage.rule_forms import StatusForm
from tests.manage_helpers import manage_app


@pytest.fixture()
def app(make_app) -> Flask:
    return manage_app(make_app)


def _form(app: Flask, cls, data: dict, *args, **kwargs):
    with app.test_request_context(method="POST", data=data):
        form = cls(*args, **kwargs)
        return form, form.validate()


def test_a_row_error_lands_on_the_row_the_page_shows(app) -> None:
    data = {"slot-3-day": "monday", "slot-3-start": "9am", "slot-3-end": "10:00",
            f"slot-{MAX_ROWS}-day": "friday", f"slot-{MAX_ROWS}-start": "10:00"}
    form, valid = _form(app, ActivityForm, data, activity_values({}), "a-slug")
    assert not valid
    # The empty rows before it are dropped, so the page shows the sent row as row 1.
    assert form.messages["slot-0-start"].startswith("Regular time 1, start")
    assert form.slot[0].start.errors == [form.messages["slot-0-start"]]
    assert form.slot[0].start.name == "slot-0-start"
    assert form.title.errors == ["Enter the name of the activity"]
    # A row past the limit is not read; two blank rows follow the one filled row.
    assert [row["day"] for row in form.values["slots"]] == ["monday", "", ""]


def test_an_error_with_no_field_of_its_own_is_kept_on_the_form(app) -> None:
    form, _ = _form(app, ActivityForm, {}, activity_values({}), "a-slug")
    form.place({"first_visit": "First visit: not valid"})
    assert form.form_errors == ["First visit: not valid"]
    assert form.messages == {"first_visit": "First visit: not valid"}


def test_a_prefixed_form_names_its_errors_as_the_page_does(app) -> None:
    form, valid = _form(app, OrganisationForm, {"org_name": "", "org_website": "nope"},
                        prefix="org_")
    assert not valid
    assert set(form.messages) == {"org_name", "org_website"}
    assert form.website.errors == ["Enter the full web address, starting with https://"]


def test_a_checkbox_is_on_only_when_it_sends_yes(app) -> None:
    for sent, expected in (("yes", True), ("no", False), ("on", False)):
        form, valid = _form(app, StatusForm, {"status": "full", "waiting_list": sent})
        assert valid and form.checked["waiting_list"] is expected
