"""Published worked examples and published results, through the Python API and `hepatrial score`.

`published_examples.csv` holds worked examples taken from outside sources, one row each, with the
published result in the `expected_*` columns (empty where the source gives none), the kind of
source (`primary` or `secondary`) and the citation in `source`. A published result that
disagrees with hepatrial fails the test. docs/scores.md, "Published worked examples",
lists every source and the sources that were looked at and rejected.

The OPTN/UNOS statement on the size of the MELD-Na change (2015) is a published result, not a
worked example with given inputs, so it is tested over every MELD(i) and sodium value instead.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hepatrial.scores import SCORES, cli, meld, meld_na
from hepatrial.scores.table import INPUT_COLUMNS, SCORE_COLUMNS

PUBLISHED_EXAMPLES = Path(__file__).with_name("published_examples.csv")
_TABLE = pd.read_csv(PUBLISHED_EXAMPLES, dtype=str, keep_default_na=False)
_NUMBERS = {"bilirubin", "creatinine", "inr", "sodium", "albumin", "pt_prolongation_s"}

UNOS_2015 = (
    "UNOS, 'Upcoming MELD serum sodium policy implementation: New Resources Available for Liver "
    "Transplant Programs', transplantpro.org news announcing the 11 January 2016 change of OPTN "
    "Policy 9.1 (https://www.transplantpro.org/news/li/upcoming-meld-serum-sodium-policy-"
    "implementation/): 'Some will not change at all. Others may experience an increase of a few "
    "MELD points, while a small subset of candidates (especially those with serum sodium values "
    "lower than 128 mEq/L) may have MELD scores increase by as many as 11 points.'"
)


def _cases() -> list:
    cases = []
    for row in _TABLE.to_dict("records"):
        for score in SCORE_COLUMNS:
            if not row[f"expected_{score}"]:
                continue
            cases.append(pytest.param(row["case_id"], score, id=f"{row['case_id']}-{score}"))
    return cases


CASES = _cases()


def _row(case_id: str) -> dict[str, str]:
    (row,) = _TABLE[_TABLE["case_id"] == case_id].to_dict("records")
    return row


def _matches(result: object, published: str) -> bool:
    """Equal at the precision the source printed: integers and labels exactly, a number with d
    decimals to within half a unit of its last decimal."""
    if published.lstrip("-").isdigit():
        return str(result) == published or (
            isinstance(result, (int, float)) and float(result) == int(published)
        )
    try:
        value = Decimal(published)
    except ArithmeticError:
        return str(result) == published
    decimals = max(-value.as_tuple().exponent, 0)
    return abs(float(result) - float(value)) <= 0.5 * 10.0**-decimals + 1e-12


def test_the_table_has_every_input_column_and_a_source_for_every_row():
    assert list(_TABLE.columns[: len(INPUT_COLUMNS)]) == INPUT_COLUMNS
    assert set(_TABLE["source_kind"]) <= {"primary", "secondary"}
    assert all(_TABLE["source"].str.len() > 40)
    assert CASES, "no published expected value in published_examples.csv"


@pytest.mark.parametrize(("case_id", "score"), CASES)
def test_python_api_reproduces_the_published_example(case_id, score):
    row = _row(case_id)
    definition = SCORES[score]
    arguments = {
        name: float(row[name]) if name in _NUMBERS else row[name]
        for name in definition.inputs
        if name in row and row[name]
    }
    result = definition(**arguments)
    assert _matches(result, row[f"expected_{score}"]), (result, row["source"])


@pytest.fixture(scope="module")
def scored_by_the_cli(tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("published")
    source, out = folder / "in.csv", folder / "out.csv"
    _TABLE.to_csv(source, index=False)
    parser = argparse.ArgumentParser(prog="hepatrial")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["score", "--csv", str(source), "--out", str(out)])
    assert args.func(args) == 0
    return pd.read_csv(out, dtype=str, keep_default_na=False).set_index("case_id")


@pytest.mark.parametrize(("case_id", "score"), CASES)
def test_cli_reproduces_the_published_example(case_id, score, scored_by_the_cli):
    published = _row(case_id)[f"expected_{score}"]
    assert _matches(scored_by_the_cli.loc[case_id, score], published)


def _meld_i_by_sodium_grid() -> pd.DataFrame:
    """Every MELD(i) from 6 to 40 crossed with sodium 120 to 140 mmol/L.

    Bilirubin alone sets MELD(i) (creatinine and INR 1.0): for MELD(i) = m the bilirubin is
    exp((m / 10 - 0.643) / 0.378), the middle of m's rounding interval.
    """
    meld_i = np.arange(6, 41)
    bilirubin = np.exp((meld_i / 10 - 0.643) / 0.378)
    bilirubin[0] = 1.0  # MELD(i) 6 is the floor: 0.643 -> 0.6
    sodium = np.arange(120, 141)
    grid = pd.DataFrame(
        [(m, b, na) for m, b in zip(meld_i, bilirubin, strict=True) for na in sodium],
        columns=["meld_i", "bilirubin", "sodium"],
    )
    return grid


def _unos_2015_claims(meld_i, meld_score, meld_na_score, sodium) -> None:
    assert list(meld_score) == list(meld_i)
    increase = np.asarray(meld_na_score, dtype=float) - np.asarray(meld_score, dtype=float)
    sodium = np.asarray(sodium, dtype=float)
    assert increase.min() == 0
    assert (increase == 0).any(), UNOS_2015  # "some will not change at all"
    assert increase.max() == 11, UNOS_2015  # "increase by as many as 11 points"
    assert sodium[increase == 11].max() < 128, UNOS_2015  # "sodium values lower than 128"


def test_unos_2015_meld_na_raises_meld_by_at_most_11_points():
    """Published result (primary): UNOS_2015. Python API."""
    grid = _meld_i_by_sodium_grid()
    labs = {
        "bilirubin": grid["bilirubin"].to_numpy(),
        "bilirubin_unit": "mg/dL",
        "creatinine": 1.0,
        "creatinine_unit": "mg/dL",
        "inr": 1.0,
    }
    meld_score = meld(**labs)
    meld_na_score = meld_na(**labs, sodium=grid["sodium"].to_numpy())
    _unos_2015_claims(grid["meld_i"], meld_score.astype(int), meld_na_score, grid["sodium"])


def test_unos_2015_meld_na_raises_meld_by_at_most_11_points_through_the_cli(tmp_path):
    """Published result (primary): UNOS_2015. `hepatrial score --csv`."""
    grid = _meld_i_by_sodium_grid()
    table = pd.DataFrame({name: [""] * len(grid) for name in INPUT_COLUMNS})
    table["case_id"] = [
        f"meld-i-{m}-na-{na}" for m, na in zip(grid["meld_i"], grid["sodium"], strict=True)
    ]
    table["bilirubin"] = [repr(float(b)) for b in grid["bilirubin"]]
    table["bilirubin_unit"] = table["creatinine_unit"] = "mg/dL"
    table["creatinine"] = table["inr"] = "1.0"
    table["sodium"] = grid["sodium"].astype(str)
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    table.to_csv(source, index=False)
    parser = argparse.ArgumentParser(prog="hepatrial")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["score", "--csv", str(source), "--out", str(out)])
    assert args.func(args) == 0
    scored = pd.read_csv(out)
    _unos_2015_claims(grid["meld_i"], scored["meld"], scored["meld_na"], scored["sodium"])


def test_docs_list_the_published_sources():
    docs = Path(__file__).parents[2] / "docs" / "scores.md"
    text = docs.read_text(encoding="utf-8")
    assert "Published worked examples" in text
    assert "upcoming-meld-serum-sodium-policy-implementation" in text
    assert "calculatorlib.com" in text
