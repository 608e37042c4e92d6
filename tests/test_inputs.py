"""The shared input models: every cross-field rule has a stable code that the edit form maps."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from sitedir import inputs
from sitedir.manage.forms import RULE_MESSAGES


def test_every_rule_code_the_models_raise_has_a_form_field_and_message() -> None:
    raised = set(re.findall(r'broken_rule\(\s*"([a-z_]+)"', Path(inputs.__file__).read_text()))
    assert raised, "no rule codes found"
    assert raised <= set(RULE_MESSAGES), raised - set(RULE_MESSAGES)


@pytest.mark.parametrize(("data", "code"), [
    ({"type": "paid"}, "paid_needs_amount"),
    ({"type": "free", "amount": "2.50"}, "free_has_no_amount"),
])
def test_a_broken_rule_is_reported_by_its_code_not_its_wording(data, code) -> None:
    with pytest.raises(ValidationError) as caught:
        inputs.CostIn.model_validate(data)
    assert [error["type"] for error in caught.value.errors()] == [code]
