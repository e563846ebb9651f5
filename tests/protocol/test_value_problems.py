"""An entered value that cannot be stored says why as a code with parameters, not a sentence."""

from __future__ import annotations

import pickle

import pytest

from hepatrial.problems import Problem
from hepatrial.protocol import default_protocol_path, load_protocol
from hepatrial.protocol.values import EnteredValue, InvalidValue, ValueStatus, check_value

ITEMS = load_protocol(default_protocol_path()).protocol.items()


def problem_for(oid: str, text: str = "", unit: str | None = None, **kwargs) -> Problem:
    with pytest.raises(InvalidValue) as caught:
        check_value(ITEMS[oid], EnteredValue(text, unit, **kwargs))
    assert str(caught.value) == caught.value.problem
    return caught.value.problem


def test_a_value_below_the_hard_range_names_the_limit_and_unit():
    problem = problem_for("I.ALB", "0.3", "g/dL")
    assert problem.code == "value.below_hard_range"
    assert dict(problem.params) == {"value": 3.0, "low": 5.0, "unit": "g/L"}
    assert problem == "3 g/L is below the lowest possible value 5 g/L"


def test_a_value_above_the_hard_range_names_the_limit_and_unit():
    problem = problem_for("I.AGE", "130")
    assert (problem.code, dict(problem.params)) == (
        "value.above_hard_range", {"value": 130.0, "high": 120.0, "unit": "years"},
    )  # fmt: skip


def test_an_unusual_value_is_a_warning_with_the_usual_range():
    checked = check_value(ITEMS["I.ALT"], EnteredValue("2500", "U/L"))
    [warning] = checked.warnings
    assert warning.code == "value.outside_plausible_range"
    assert dict(warning.params) == {"value": 2500.0, "low": 3.0, "high": 2000.0, "unit": "U/L"}


@pytest.mark.parametrize(
    ("oid", "text", "unit", "code", "params"),
    [
        ("I.ALT", "4o", "U/L", "value.not_a_number", {"text": "4o"}),
        ("I.AGE", "54.5", None, "value.not_a_whole_number", {"text": "54.5"}),
        ("I.ALT", "inf", "U/L", "value.not_finite", {"text": "inf"}),
        ("I.TBIL", "49.6", None, "value.unit_missing", {"units": ["µmol/L", "mg/dL"]}),
        ("I.ALB", "29", "mg/dL", "value.unit_not_allowed",
         {"unit": "mg/dL", "units": ["g/L", "g/dL"]}),
        ("I.SEX", "X", None, "value.not_a_choice", {"text": "X", "choices": ["M", "F"]}),
        ("I.DIALYSIS", "maybe", None, "value.not_yes_or_no", {"text": "maybe"}),
        ("I.DTHDT", "31/12/2025", None, "value.not_a_date", {"text": "31/12/2025"}),
        ("I.SEX", "M", "kg", "value.takes_no_unit", {"data_type": "choice"}),
        ("I.ALT", "", "U/L", "value.empty", {}),
    ],
)  # fmt: skip
def test_each_kind_of_bad_value_has_its_code(oid, text, unit, code, params):
    problem = problem_for(oid, text, unit)
    assert (problem.code, dict(problem.params)) == (code, params)


def test_a_value_given_for_an_item_marked_missing():
    problem = problem_for("I.ALT", "45", "U/L", status=ValueStatus.NOT_DONE)
    assert (problem.code, problem.params["status"]) == ("value.given_but_missing", "not_done")


def test_the_english_text_reads_as_before():
    assert problem_for("I.ALT", "4o", "U/L") == "'4o' is not a number"
    assert problem_for("I.TBIL", "49.6") == "unit missing: choose one of µmol/L, mg/dL"
    assert problem_for("I.SEX", "X") == "'X' is not one of M, F"


def test_a_problem_survives_pickling_and_json():
    problem = problem_for("I.ALB", "0.3", "g/dL")
    again = pickle.loads(pickle.dumps(problem))
    assert (again, again.code, dict(again.params)) == (problem, problem.code, dict(problem.params))
    assert Problem.from_json(problem.to_json()) == problem


def test_a_choice_may_be_typed_as_its_label_in_any_language_of_the_label():
    checked = check_value(ITEMS["I.ASCITES"], EnteredValue("mild"))
    assert checked.normalized_text == "mild"
    zh = next(c.label.zh for c in ITEMS["I.ASCITES"].choices if c.code == "mild")
    assert check_value(ITEMS["I.ASCITES"], EnteredValue(zh)).normalized_text == "mild"
