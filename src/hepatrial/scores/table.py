"""Score a table of patients given as text (a CSV file, or the flags of one patient).

Every row is read on its own: a cell that cannot be read makes the row "bad", the row is
reported with its number and reason and gets empty scores, and every other row is still scored.
An empty cell is not an error: the scores that need it are left empty for that row. Reading is
per row; the scoring is vectorized over the rows that share their units: each value keeps the
unit it was entered in and goes to the same score functions as one patient would, so a table
row and a single call give the same scores.
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
from hepatrial.scores.settings import DEFAULT_SETTINGS, ScoreSettings
from hepatrial.scores.units import QUANTITIES, UnitError, resolve_unit

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
    "bilirubin": ("bilirubin", "bilirubin_unit"),
    "creatinine": ("creatinine", "creatinine_unit"),
    "albumin": ("albumin", "albumin_unit"),
    "inr": ("ratio", None),
    "sodium": ("sodium", None),
    "pt_prolongation_s": ("prothrombin_time", None),
}
_UNIT_COLUMNS = {unit: QUANTITIES[q].symbols[0] for q, unit in _MEASURED.values() if unit}
"""Each unit column with the unit assumed for a row whose value is empty (it scores nothing)."""
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


def _read_measurement(row: dict[str, str], column: str, values: dict[str, object]) -> None:
    """Put the number of ``column`` (NaN if empty) and its unit symbol into ``values``."""
    quantity_name, unit_column = _MEASURED[column]
    text = _cell(row, column)
    if unit_column is not None:
        values[unit_column] = _UNIT_COLUMNS[unit_column]
    if not text:
        values[column] = math.nan
        return
    value = _read_number(column, text)
    if unit_column is not None:
        unit_text = _cell(row, unit_column)
        if not unit_text:
            raise ScoreInputError(unit_column, unit_text, f"the unit of {column} is missing")
        try:
            values[unit_column] = resolve_unit(quantity_name, unit_text).symbol
        except UnitError as exc:
            raise ScoreInputError(unit_column, unit_text, str(exc)) from None
    values[column] = value


def _read_row(row: dict[str, str]) -> dict[str, object]:
    """One row's numbers in the units entered, the unit symbols, and the categories as codes.

    Raises :class:`RowError` listing every unreadable cell of the row.
    """
    values: dict[str, object] = {}
    errors: list[str] = []
    for column in _MEASURED:
        try:
            _read_measurement(row, column, values)
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


def _empty_row() -> dict[str, object]:
    return {**{c: math.nan for c in [*_MEASURED, *_CATEGORIES]}, **_UNIT_COLUMNS}


def score_table(
    table: pd.DataFrame, settings: ScoreSettings | None = None
) -> tuple[pd.DataFrame, list[RowProblem]]:
    """Every input column kept as given, plus one column per score; and the bad rows.

    ``settings`` are the protocol's Child-Pugh table and laboratory factors (the defaults of
    :mod:`hepatrial.scores.settings` when not given).
    """
    missing = [c for c in INPUT_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    text = table.fillna("").astype(str)
    problems: list[RowProblem] = []
    parsed: list[dict[str, object]] = []
    for number, row in enumerate(text.to_dict("records"), start=1):
        try:
            parsed.append(_read_row(row))
        except RowError as exc:
            problems.append(RowProblem(number, row["case_id"].strip(), str(exc)))
            parsed.append(_empty_row())
    frame = pd.DataFrame(parsed, columns=[*_MEASURED, *_CATEGORIES, *_UNIT_COLUMNS])
    scores: dict[str, list[object]] = {name: [None] * len(frame) for name in SCORE_COLUMNS}
    for _, group in frame.groupby(list(_UNIT_COLUMNS), sort=False):
        rows = group.index.to_numpy()
        columns = {c: group[c].to_numpy(dtype=float) for c in [*_MEASURED, *_CATEGORIES]}
        units = {u: group[u].iloc[0] for u in _UNIT_COLUMNS}
        for name, values in _score_columns(columns, units, settings or DEFAULT_SETTINGS).items():
            for position, value in zip(rows, values, strict=True):
                scores[name][position] = value
    result = table.copy()
    for name in SCORE_COLUMNS:
        result[name] = _column(name, scores[name])
    return result, problems


def _column(name: str, values: list[object]) -> object:
    if name == "child_pugh_class":
        return np.array(values, dtype=object)
    if name == "albi":
        return np.array([np.nan if v is None else v for v in values], dtype=float)
    return pd.array([None if v is None or pd.isna(v) else int(v) for v in values], dtype="Int64")


def _score_columns(
    c: dict[str, np.ndarray], units: dict[str, str], settings: ScoreSettings
) -> dict[str, object]:
    labs = {
        "bilirubin": c["bilirubin"],
        "bilirubin_unit": units["bilirubin_unit"],
        "creatinine": c["creatinine"],
        "creatinine_unit": units["creatinine_unit"],
        "inr": c["inr"],
        "dialysis": c["dialysis"],
        "settings": settings,
    }
    liver = {
        "bilirubin": c["bilirubin"],
        "bilirubin_unit": units["bilirubin_unit"],
        "albumin": c["albumin"],
        "albumin_unit": units["albumin_unit"],
        "settings": settings,
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
        "meld": meld(**labs),
        "meld_na": meld_na(**labs, sodium=c["sodium"]),
        "meld3": meld3(
            **labs,
            sex=sex,
            sodium=c["sodium"],
            albumin=c["albumin"],
            albumin_unit=units["albumin_unit"],
        ),
        "child_pugh_points": child_pugh_points(**child_pugh),
        "child_pugh_class": child_pugh_class(**child_pugh),
        "albi": np.round(snap(albi_score), ALBI_DECIMALS),
        "albi_grade": albi_grade(**liver),
    }
