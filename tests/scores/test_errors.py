"""Bad input for one patient raises an error naming the argument and the value."""

import math

import pytest

from hepatrial.scores import ScoreInputError, ScoreUnitError, albi, meld, meld3, meld_na
from hepatrial.scores.units import UnitError

LABS = {
    "bilirubin": 2.0,
    "bilirubin_unit": "mg/dL",
    "creatinine": 1.0,
    "creatinine_unit": "mg/dL",
    "inr": 1.2,
}


@pytest.mark.parametrize(
    ("argument", "value", "problem"),
    [
        ("bilirubin", -1.0, "negative"),
        ("creatinine", -0.1, "negative"),
        ("inr", -2, "negative"),
        ("bilirubin", "2.0", "not a number"),
        ("inr", "high", "not a number"),
        ("creatinine", None, "missing"),
        ("bilirubin", math.nan, "missing"),
        ("inr", math.inf, "finite"),
        ("bilirubin", True, "not a number"),
    ],
)
def test_bad_values_name_the_argument_and_the_value(argument, value, problem):
    with pytest.raises(ScoreInputError) as error:
        meld(**{**LABS, argument: value})
    message = str(error.value)
    assert error.value.argument == argument
    assert message.startswith(f"{argument}={value!r}")
    assert problem in message


@pytest.mark.parametrize("unit", ["mmol/L", "mg/L", "", None])
def test_unknown_or_missing_unit_is_an_error_naming_the_unit_argument(unit):
    with pytest.raises(ScoreUnitError) as error:
        meld(**{**LABS, "creatinine_unit": unit})
    assert error.value.argument == "creatinine_unit"
    assert error.value.value == unit
    assert isinstance(error.value, UnitError)


def test_a_unit_from_another_quantity_is_refused():
    with pytest.raises(ScoreUnitError, match="albumin_unit"):
        albi(bilirubin=10, bilirubin_unit="µmol/L", albumin=40, albumin_unit="µmol/L")


def test_sodium_must_be_in_mmol_per_litre():
    with pytest.raises(ScoreUnitError, match="sodium_unit"):
        meld_na(**LABS, sodium=130, sodium_unit="mg/dL")


@pytest.mark.parametrize("sex", ["X", "", 1, None])
def test_unknown_sex_is_an_error(sex):
    with pytest.raises(ScoreInputError) as error:
        meld3(**LABS, sex=sex, sodium=135, albumin=3.0, albumin_unit="g/dL")
    assert error.value.argument == "sex"


@pytest.mark.parametrize("dialysis", ["perhaps", 2, -1])
def test_unknown_dialysis_answer_is_an_error(dialysis):
    with pytest.raises(ScoreInputError, match="dialysis"):
        meld(**LABS, dialysis=dialysis)
