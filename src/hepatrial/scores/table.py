"""Score a table of patients given as text (a CSV file, or the flags of one patient).

Every row is read on its own: a cell that cannot be read makes the row "bad", the row is
reported with its number and reason and gets empty scores, and every other row is still scored.
An empty cell is not an error: the scores that need it are left empty for that row. Reading is
per row; the scoring itself is vectorized over all rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hepatrial.scores._inputs import Category, ScoreInputError, snap
from hepatrial.scores.albi import albi, albi_grade
from hepatrial.scores.child_pugh import (
    ASCITES,
    CHOLESTATIC,
    ENCEPHALOPATHY,
    child_pugh_class,
    child_pugh_points,
)
from hepatrial.scores.meld import DIALYSIS, SEX, meld, meld3, meld_na
from hepatrial.scores.units import UnitError, resolve_unit

INPUT_COLUMNS = [
    "case_id",
    "sex",
    "bilirubin",
    "bilirubin_unit",
    "creatinine",
    "creatinine_unit",
    "inr",
    "sodium",
    "albumin",
    "albumin_unit",
    "dialysis",
    "ascites",
    "encephalopathy",
    "pt_prolongation_s",
    "cholestatic",
]
SCORE_COLUMNS = [
    "meld",
    "meld_na",
    "meld3",
    "child_pugh_points",
    "child_pugh_class",
    "albi",
    "albi_grade",
]
ALBI_DECIMALS = 4

_MEASURED = {
    "bilirubin": ("bilirubin", "bilirubin_unit", "mg/dL"),
    "creatinine": ("creatinine", "creatinine_unit", "mg/dL"),
    "albumin": ("albumin", "albumin_unit", "g/L"),
    "inr": ("ratio", None, None),
    "sodium": ("sodium", None, None),
    "pt_prolongation_s": ("prothrombin_time", None, None),
}
MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null"})
"""Cell texts read as an empty cell (case ignored); none of them is a valid value."""

_CATEGORIES: dict[str, tuple[Category, float]] = {
    "sex": (SEX, math.nan),
    "dialysis": (DIALYSIS, 0.0),
    "ascites": (ASCITES, math.nan),
    "encephalopathy": (ENCEPHALOPATHY, math.nan),
    "cholestatic": (CHOLESTATIC, 0.0),
}
"""Each categorical column with the value an empty cell stands for: flags default to "no"."""


@dataclass(frozen=True)
class RowProblem:
    row: int
    """1-based data row; the header is not counted, so row 1 is line 2 of a CSV file."""
    case_id: str
    reason: str

    def __str__(self) -> str:
        case = f" (case {self.case_id})" if self.case_id else ""
        return f"row {self.row}{case}: {self.reason}"


def _read_number(column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScoreInputError(column, text, "is not a number") from None
    if not math.isfinite(value):
        raise ScoreInputError(column, text, "is not a finite number")
    if value < 0:
        raise ScoreInputError(column, text, "must not be negative")
    return value


def _cell(row: dict[str, str], column: str) -> str:
    text = row[column].strip()
    return "" if text.casefold() in MISSING_MARKERS else text


def _read_measurement(row: dict[str, str], column: str) -> float:
    quantity_name, unit_column, target = _MEASURED[column]
    text = _cell(row, column)
    if not text:
        return math.nan
    value = _read_number(column, text)
    if unit_column is None:
        return value
    unit_text = _cell(row, unit_column)
    if not unit_text:
        raise ScoreInputError(unit_column, unit_text, f"the unit of {column} is missing")
    try:
        source = resolve_unit(quantity_name, unit_text)
        target_unit = resolve_unit(quantity_name, target)
    except UnitError as exc:
        raise ScoreInputError(unit_column, unit_text, str(exc)) from None
    return value * (source.factor / target_unit.factor)


def _read_row(row: dict[str, str]) -> dict[str, float]:
    """Canonical numbers for one row: bilirubin and creatinine in mg/dL, albumin in g/L.

    Raises :class:`RowError` listing every unreadable cell of the row.
    """
    values: dict[str, float] = {}
    errors: list[str] = []
    for column in _MEASURED:
        try:
            values[column] = _read_measurement(row, column)
        except ScoreInputError as exc:
            errors.append(str(exc))
    for column, (kind, empty) in _CATEGORIES.items():
        text = _cell(row, column)
        try:
            values[column] = kind.parse_one(text) if text else empty
        except ScoreInputError as exc:
            errors.append(str(exc))
    if errors:
        raise RowError("; ".join(errors))
    return values


class RowError(ValueError):
    """Every problem found in one row, joined."""


def score_table(table: pd.DataFrame) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Every input column kept as given, plus one column per score; and the bad rows."""
    missing = [c for c in INPUT_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    text = table.fillna("").astype(str)
    problems: list[RowProblem] = []
    parsed: list[dict[str, float]] = []
    for number, row in enumerate(text.to_dict("records"), start=1):
        try:
            parsed.append(_read_row(row))
        except RowError as exc:
            problems.append(RowProblem(number, row["case_id"].strip(), str(exc)))
            parsed.append({column: math.nan for column in [*_MEASURED, *_CATEGORIES]})
    columns = {
        c: snap(np.array([p[c] for p in parsed], dtype=float)) for c in [*_MEASURED, *_CATEGORIES]
    }
    scores = _score_columns(columns)
    result = table.copy()
    for name in SCORE_COLUMNS:
        result[name] = scores[name]
    return result, problems


def _score_columns(c: dict[str, np.ndarray]) -> dict[str, object]:
    labs = {
        "bilirubin": c["bilirubin"],
        "bilirubin_unit": "mg/dL",
        "creatinine": c["creatinine"],
        "creatinine_unit": "mg/dL",
        "inr": c["inr"],
        "dialysis": c["dialysis"],
    }
    liver = {
        "bilirubin": c["bilirubin"],
        "bilirubin_unit": "mg/dL",
        "albumin": c["albumin"],
        "albumin_unit": "g/L",
    }
    child_pugh = {
        **liver,
        "ascites": c["ascites"],
        "encephalopathy": c["encephalopathy"],
        "inr": c["inr"],
        "pt_prolongation_s": c["pt_prolongation_s"],
        "cholestatic": c["cholestatic"],
    }
    sex = np.where(np.isnan(c["sex"]), None, np.where(c["sex"] == 1, "F", "M")).astype(object)
    albi_score = albi(**liver)
    return {
        "meld": pd.array(meld(**labs), dtype="Int64"),
        "meld_na": pd.array(meld_na(**labs, sodium=c["sodium"]), dtype="Int64"),
        "meld3": pd.array(
            meld3(
                **labs,
                sex=sex,
                sodium=c["sodium"],
                albumin=c["albumin"],
                albumin_unit="g/L",
            ),
            dtype="Int64",
        ),
        "child_pugh_points": pd.array(child_pugh_points(**child_pugh), dtype="Int64"),
        "child_pugh_class": child_pugh_class(**child_pugh),
        "albi": np.round(albi_score, ALBI_DECIMALS),
        "albi_grade": pd.array(albi_grade(**liver), dtype="Int64"),
    }
