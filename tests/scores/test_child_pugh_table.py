"""Child-Pugh by the printed table: every printed limit in both unit systems, other tables,
and the refusal of tables whose bands overlap or leave a gap."""

import pytest

from hepatrial.scores import child_pugh_points
from hepatrial.scores.settings import (
    DEFAULT_CHILD_PUGH_TEXT,
    Bands,
    ChildPughTable,
    ScoreSettings,
    TableError,
)

BEST = {
    "bilirubin": 1.0,
    "bilirubin_unit": "mg/dL",
    "albumin": 40.0,
    "albumin_unit": "g/L",
    "inr": 1.0,
    "ascites": "none",
    "encephalopathy": "none",
}
ARGUMENT = {
    "bilirubin": ("bilirubin", {}),
    "cholestatic_bilirubin": ("bilirubin", {"cholestatic": True}),
    "albumin": ("albumin", {}),
    "inr": ("inr", {}),
    "pt_prolongation_s": ("pt_prolongation_s", {"inr": None}),
}


def item_points(criterion: str, unit: str | None, value: float, table=None) -> int:
    argument, extra = ARGUMENT[criterion]
    inputs = {**BEST, **extra, argument: value}
    if unit is not None:
        inputs[f"{argument}_unit"] = unit
    if table is not None:
        inputs["settings"] = ScoreSettings(child_pugh=table)
    return child_pugh_points(**inputs) - 4


def printed_limits():
    """(criterion, unit, limit, points just below, on, just above) for every printed limit."""
    for criterion, given in DEFAULT_CHILD_PUGH_TEXT.items():
        by_unit = given.items() if isinstance(given, dict) else [(None, given)]
        for unit, texts in by_unit:
            bands = Bands.parse(texts)
            rising = bands.bands[0].low is None
            for band in bands.bands:
                if band.low is not None and band.high is not None:
                    low, high = (1, 3) if rising else (3, 1)
                    yield criterion, unit, band.low, low, 2, 2
                    yield criterion, unit, band.high, 2, 2, high


@pytest.mark.parametrize(
    ("criterion", "unit", "limit", "below", "on", "above"), list(printed_limits())
)
def test_a_value_on_a_printed_limit_is_in_the_band_whose_range_includes_it(
    criterion, unit, limit, below, on, above
):
    assert item_points(criterion, unit, round(limit - 0.01, 2)) == below
    assert item_points(criterion, unit, limit) == on
    assert item_points(criterion, unit, round(limit + 0.01, 2)) == above


def test_the_default_table_has_limits_in_both_unit_systems():
    limits = {(c, u, v) for c, u, v, *_ in printed_limits()}
    assert ("bilirubin", "µmol/L", 34.2) in limits and ("bilirubin", "mg/dL", 2.0) in limits
    assert ("cholestatic_bilirubin", "µmol/L", 171.0) in limits
    assert ("albumin", "g/dL", 2.8) in limits and ("albumin", "g/L", 35.0) in limits
    assert len(limits) == 16


def rounded_textbook_table() -> ChildPughTable:
    text = {
        **DEFAULT_CHILD_PUGH_TEXT,
        "bilirubin": {"µmol/L": ["<34", "34-51", ">51"], "mg/dL": ["<2", "2-3", ">3"]},
    }
    return ChildPughTable.parse("rounded textbook table", text)


def test_a_protocol_may_name_a_rounded_textbook_table():
    table = rounded_textbook_table()
    assert table.problems() == []
    assert item_points("bilirubin", "µmol/L", 34.0, table) == 2
    assert item_points("bilirubin", "µmol/L", 51.1, table) == 3
    assert item_points("bilirubin", "µmol/L", 34.0) == 1


@pytest.mark.parametrize(
    ("texts", "problem"),
    [
        (["<34.2", "34-51.3", ">51.3"], "'<34.2' and '34-51.3' overlap"),
        (["<34.2", "34.2-51", ">51.3"], "values between '34.2-51' and '>51.3' fall in no band"),
        (["<=34.2", "34.2-51.3", ">51.3"], "34.2 is in both '<=34.2' and '34.2-51.3'"),
        (["<34.2", ">34.2", ">51.3"], "overlap"),
        (["<34.2", "34.2-51.3", "<51.3"], "the bands must run one way"),
        (["1-2", "2-3", ">3"], "values below '1-2' fall in no band"),
        (["<2", "2-3", "3-10"], "values above '3-10' fall in no band"),
    ],
)
def test_bands_that_overlap_or_leave_a_gap_are_refused(texts, problem):
    assert any(problem in message for message in Bands.parse(texts).problems())


@pytest.mark.parametrize("text", ["two", "3-2", "<", "34,2", "-1"])
def test_a_band_that_cannot_be_read_says_how_to_write_one(text):
    with pytest.raises(TableError):
        Bands.parse(["<1", text, ">3"])
