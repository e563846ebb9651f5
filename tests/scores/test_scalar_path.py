"""One patient given as plain values is scored by plain Python; it must agree with numpy.

For every score, random inputs (valid, invalid, missing, on and around every limit, in every
accepted unit and category spelling, under several protocol settings) are scored three ways:

- the plain-Python path (what every caller with one patient now gets),
- the numpy function called with the same plain values (what one patient got before), and
- the numpy function called with one-element arrays (one row of a batch).

The first two give the same value of the same type, or the same :class:`ScoreInputError`
(argument, value and problem). Where a value comes out, the batch row gives it too. Where
one patient's value is unusable the batch row is missing instead, as a batch never raises for
one row; a unit the score cannot use raises in every mode.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hepatrial.protocol import default_protocol_path, load_protocol
from hepatrial.scores import SCORES, ScoreInputError, child_pugh_class, meld
from hepatrial.scores._inputs import number_one, scalar_path, snap, snap_one
from hepatrial.scores.child_pugh import ASCITES, CHOLESTATIC, ENCEPHALOPATHY
from hepatrial.scores.meld import (
    ALBUMIN_HIGH_G_DL,
    ALBUMIN_LOW_G_DL,
    DIALYSIS,
    LAB_FLOOR,
    MELD3_CREATININE_CAP_MG_DL,
    MELD_CREATININE_CAP_MG_DL,
    SEX,
    SODIUM_HIGH,
    SODIUM_LOW,
)
from hepatrial.scores.settings import (
    DEFAULT_CHILD_PUGH_TEXT,
    DEFAULT_SETTINGS,
    ChildPughTable,
    ScoreSettings,
)
from hepatrial.scores.units import QUANTITIES

SHIPPED = load_protocol(default_protocol_path()).protocol.score_settings()
STRICT_LIMITS = ScoreSettings(
    child_pugh=ChildPughTable.parse(
        "other band ends",
        {
            **DEFAULT_CHILD_PUGH_TEXT,
            "bilirubin": {
                "µmol/L": ["<=34.2", "34.3-51.3", ">51.3"],
                "mg/dL": ["<=2", "2.1-3", ">3"],
            },
            "albumin": {"g/L": [">=35", "28-34.9", "<28"], "g/dL": [">=3.5", "2.8-3.4", "<2.8"]},
            "inr": ["≤1.7", "1.8-2.3", ">2.3"],
        },
    ),
    factors={"bilirubin": 10_000 / 584.66, "creatinine": 10_000 / 113.12},
)
"""A protocol with other band ends and the molar-mass factors; its bands leave gaps (2.05 mg/dL
falls in no band), so it also shows what a value outside every band gives."""
SETTINGS = [None, DEFAULT_SETTINGS, SHIPPED, STRICT_LIMITS]

NUMBERS = ("bilirubin", "creatinine", "inr", "sodium", "albumin", "pt_prolongation_s")
CATEGORIES = {
    "sex": SEX,
    "dialysis": DIALYSIS,
    "ascites": ASCITES,
    "encephalopathy": ENCEPHALOPATHY,
    "cholestatic": CHOLESTATIC,
}
UNIT_QUANTITY = {
    "bilirubin_unit": "bilirubin",
    "creatinine_unit": "creatinine",
    "albumin_unit": "albumin",
    "sodium_unit": "sodium",
}


def _band_limits(settings: ScoreSettings) -> set[float]:
    table = settings.child_pugh
    every = [table.inr, table.pt_prolongation_s]
    for criterion in (table.bilirubin, table.cholestatic_bilirubin, table.albumin):
        every += list(criterion.values())
    return {
        limit
        for bands in every
        for band in bands.bands
        for limit in (band.low, band.high)
        if limit is not None
    }


def _limits() -> list[float]:
    factors = [1.0, 10.0, 17.1, 88.4, 10_000 / 584.66, 10_000 / 113.12]
    printed = set().union(*(_band_limits(s) for s in (DEFAULT_SETTINGS, STRICT_LIMITS)))
    printed |= {
        LAB_FLOOR,
        MELD_CREATININE_CAP_MG_DL,
        MELD3_CREATININE_CAP_MG_DL,
        SODIUM_LOW,
        SODIUM_HIGH,
        ALBUMIN_LOW_G_DL,
        ALBUMIN_HIGH_G_DL,
    }
    converted = {v * f for v in printed for f in factors} | {
        v / f for v in printed for f in factors
    }
    return sorted(printed | converted)


LIMITS = _limits()
"""Every Child-Pugh limit and MELD bound, as printed and converted both ways with every factor."""

on_a_limit = st.tuples(
    st.sampled_from(LIMITS),
    st.sampled_from([0.0, 1e-12, -1e-12, 1e-10, -1e-10, 5e-10, -5e-10, 1e-9, -1e-9, 1e-3, -1e-3]),
).map(lambda pair: max(pair[0] + pair[1], 0.0))
typed = st.integers(0, 200_000).map(lambda n: n / 1000) | st.integers(0, 2_000).map(
    lambda n: n / 10
)
anything_positive = st.floats(min_value=0.0, max_value=1e6, allow_nan=False)
valid_float = st.one_of(on_a_limit, typed, anything_positive)
valid_number = st.one_of(
    valid_float,
    valid_float,
    st.integers(0, 500),
    valid_float.map(np.float64),
    valid_float.map(np.float32),
    st.integers(0, 500).map(np.int64),
    typed.map(lambda v: Decimal(str(v))),
)
unusable_number = st.sampled_from(
    [
        None,
        math.nan,
        np.nan,
        math.inf,
        -math.inf,
        -0.1,
        -1,
        True,
        False,
        np.True_,
        "2.0",
        "high",
        "",
        1e300,
        1.7976931348623157e308,
    ]
) | st.floats(max_value=-1e-12, allow_nan=False)


def number_values() -> st.SearchStrategy[Any]:
    return st.one_of(valid_number, valid_number, valid_number, unusable_number)


def _variants(text: str) -> list[str]:
    return [
        text,
        text.upper(),
        text.title(),
        f"  {text} ",
        text.replace(" ", "_"),
        text.replace("-", "\u2013"),
        text.replace("-", "\u2014"),
        text.replace(" ", "  "),
    ]


def category_values(kind) -> st.SearchStrategy[Any]:
    spellings = sorted({v for key in kind.spellings for v in _variants(key)})
    choices: list[Any] = [
        None,
        math.nan,
        True,
        False,
        np.bool_(True),
        "maybe",
        "",
        "grade 5",
        -1,
        1.5,
        7,
        "7",
        " 2 ",
        "1.0",
        "nan",
        object(),
    ]
    if kind.integers:
        low, high = kind.integers
        whole = st.integers(low, high)
        choices_by_number = st.one_of(
            whole, whole.map(float), whole.map(np.int64), whole.map(np.float64), whole.map(str)
        )
    else:
        choices_by_number = st.nothing()
    return st.one_of(
        st.sampled_from(spellings),
        st.sampled_from(spellings),
        choices_by_number,
        st.sampled_from(choices),
    )


def unit_values(quantity_name: str) -> st.SearchStrategy[Any]:
    spellings = set()
    for unit in QUANTITIES[quantity_name].units.values():
        for text in (unit.symbol, unit.ucum):
            spellings |= {
                text,
                text.lower(),
                text.upper(),
                f" {text} ",
                text.replace("/", " / "),
                text.replace("µ", "\u03bc"),
            }
    wrong = [None, "", "mmol", "mg/L", "g/dl/", 17.1, "µkat/L", "kg"]
    return st.one_of(st.sampled_from(sorted(spellings)), st.sampled_from(wrong))


def value_strategy(argument: str) -> st.SearchStrategy[Any]:
    if argument in NUMBERS:
        return number_values()
    if argument in CATEGORIES:
        return category_values(CATEGORIES[argument])
    if argument in UNIT_QUANTITY:
        return unit_values(UNIT_QUANTITY[argument])
    assert argument == "settings", argument
    return st.sampled_from(SETTINGS)


ABSENT = object()


@st.composite
def calls(draw, name: str) -> dict[str, Any]:
    """Keyword arguments of one call of ``name``: every required one, some optional ones."""
    definition = SCORES[name]
    inputs = {}
    for argument in definition.inputs:
        value = draw(value_strategy(argument))
        if argument not in definition.required:
            value = draw(st.sampled_from([value, value, ABSENT]))
        if value is not ABSENT:
            inputs[argument] = value
    return inputs


def outcome(function, inputs: dict[str, Any]) -> tuple:
    """What a call gives: ("value", type, value) or ("error", type, argument, value, problem)."""
    try:
        result = function(**inputs)
    except ScoreInputError as exc:
        return ("error", type(exc), exc.argument, repr(exc.value), exc.problem)
    return ("value", type(result), result)


def one_row(inputs: dict[str, Any]) -> dict[str, Any]:
    """The same patient as the only row of a batch: values in arrays, units and settings not."""
    row = {}
    for argument, value in inputs.items():
        if argument in NUMBERS or argument in CATEGORIES:
            if isinstance(value, bool | int | float | np.generic):
                row[argument] = np.array([value])
            else:
                row[argument] = np.empty(1, dtype=object)
                row[argument][0] = value
        else:
            row[argument] = value
    return row


def same_number(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= 1e-12


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def text_read_as_a_number(inputs: dict[str, Any]) -> bool:
    """A batch reads a text column of numbers as numbers; one patient's "2.0" is refused."""
    return any(isinstance(inputs.get(n), str) for n in NUMBERS)


def usable(parse, value: Any) -> float | None:
    try:
        return parse(value)
    except ScoreInputError:
        return None


def not_needed_in_a_batch(argument: str, inputs: dict[str, Any]) -> bool:
    """A batch row is still scored without a value that row does not need: creatinine after
    dialysis (it counts as the cap), or one of INR and prothrombin time when the other is usable.
    One patient's unusable value raises all the same."""
    if argument == "creatinine":
        return usable(DIALYSIS.parse_one, inputs.get("dialysis", False)) == 1
    other = {"inr": "pt_prolongation_s", "pt_prolongation_s": "inr"}.get(argument)
    return (
        other is not None and usable(lambda v: number_one(other, v), inputs.get(other)) is not None
    )


def check(name: str, inputs: dict[str, Any]) -> None:
    function = SCORES[name].function
    plain = outcome(function, inputs)
    try:
        with np.errstate(all="ignore"):
            before = outcome(function.vectorized, inputs)
    except ValueError as exc:
        # One patient scored by numpy could not turn a missing whole-number score into an int;
        # the plain path gives the missing value, like the batch row below.
        assert "NaN" in str(exc)
        before = ("value", float, math.nan)
    assert plain[:2] == before[:2], (plain, before)
    if plain[0] == "error":
        assert plain == before
    else:
        assert same_number(plain[2], before[2]), (plain, before)
        if SCORES[name].result == "integer" and not is_missing(plain[2]):
            assert plain[1] is int
        if SCORES[name].result == "number":
            assert plain[1] is float

    with np.errstate(all="ignore"):
        batch = outcome(function.vectorized, one_row(inputs))
    if batch[0] == "error":
        # A batch raises only for a unit; one patient raises for the first unusable argument.
        assert plain[0] == "error" and batch[2].endswith("_unit"), (plain, batch)
        if plain[2].endswith("_unit"):
            assert batch == plain
        return
    (row,) = list(batch[2])
    if plain[0] == "value":
        assert same_number(row, plain[2]), (plain, row)
    else:
        assert not plain[2].endswith("_unit"), (plain, row)
        assert (
            is_missing(row)
            or text_read_as_a_number(inputs)
            or not_needed_in_a_batch(plain[2], inputs)
        ), (plain, row)


@pytest.mark.parametrize("name", list(SCORES))
def test_plain_values_score_as_numpy_scores_them_and_as_a_one_row_batch(name):
    @settings(max_examples=250, deadline=None)
    @given(calls(name))
    def scalar_matches_numpy(inputs):
        check(name, inputs)

    scalar_matches_numpy()


VALID_ONLY = {
    "bilirubin": valid_float,
    "creatinine": valid_float,
    "inr": valid_float,
    "sodium": valid_float,
    "albumin": valid_float,
    "pt_prolongation_s": valid_float,
}


@pytest.mark.parametrize("name", list(SCORES))
def test_valid_patients_on_and_around_every_limit_get_the_numpy_score(name):
    definition = SCORES[name]
    units = {
        argument: st.sampled_from(QUANTITIES[UNIT_QUANTITY[argument]].symbols)
        for argument in definition.inputs
        if argument in UNIT_QUANTITY
    }
    categories = {
        argument: st.sampled_from(sorted(CATEGORIES[argument].spellings))
        for argument in definition.inputs
        if argument in CATEGORIES
    }
    numbers = {a: VALID_ONLY[a] for a in definition.inputs if a in VALID_ONLY}
    patient = st.fixed_dictionaries(
        {**numbers, **units, **categories, "settings": st.sampled_from(SETTINGS)}
    )

    @settings(max_examples=150, deadline=None)
    @given(patient)
    def valid_scalar_matches_numpy(inputs):
        check(name, inputs)
        if "pt_prolongation_s" in inputs:
            without_inr = {k: v for k, v in inputs.items() if k != "inr"}
            check(name, without_inr)

    valid_scalar_matches_numpy()


@settings(max_examples=2000, deadline=None)
@given(st.one_of(valid_float, st.floats(allow_nan=True, allow_infinity=True)))
def test_snapping_one_float_is_bit_for_bit_numpy_snapping(value):
    with np.errstate(over="ignore", invalid="ignore"):
        expected = float(snap(np.float64(value)))
    got = snap_one(value)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


def test_a_value_in_no_band_of_the_table_gives_no_child_pugh_score():
    patient = {
        "bilirubin": 2.05,
        "bilirubin_unit": "mg/dL",
        "albumin": 30,
        "albumin_unit": "g/L",
        "ascites": "none",
        "encephalopathy": "none",
        "inr": 1.2,
        "settings": STRICT_LIMITS,
    }
    assert child_pugh_class(**patient) is None
    assert math.isnan(SCORES["child_pugh_points"].function(**patient))


def test_batches_still_go_to_numpy_and_keep_their_form():
    labs = {
        "bilirubin": pd.Series([2.0, 3.0], index=["a", "b"]),
        "bilirubin_unit": "mg/dL",
        "creatinine": [1.0, 1.5],
        "creatinine_unit": "mg/dL",
        "inr": np.array([1.2, 1.8]),
    }
    scores = meld(**labs)
    assert isinstance(scores, pd.Series)
    assert list(scores.index) == ["a", "b"]
    assert list(scores) == [meld(**{**labs, "bilirubin": b, "creatinine": c, "inr": i})
                            for b, c, i in [(2.0, 1.0, 1.2), (3.0, 1.5, 1.8)]]  # fmt: skip


def test_wrong_arguments_raise_the_type_error_of_the_score():
    with pytest.raises(TypeError, match="meld"):
        meld(bilirubin=1.0, bilirubin_unit="mg/dL", creatinine=1.0, creatinine_unit="mg/dL")
    with pytest.raises(TypeError, match="weight"):
        meld(
            bilirubin=1.0,
            bilirubin_unit="mg/dL",
            creatinine=1.0,
            creatinine_unit="mg/dL",
            inr=1.0,
            weight=70,
        )


def test_a_plain_twin_must_take_exactly_the_arguments_of_its_score():
    def one(*, bilirubin: Any) -> float:
        return 0.0

    def score(*, bilirubin: Any, bilirubin_unit: str = "mg/dL") -> float:
        return 0.0

    with pytest.raises(TypeError, match="exactly the keyword arguments"):
        scalar_path(one)(score)
