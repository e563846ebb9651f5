"""Child-Pugh score (Pugh et al., Br J Surg 1973;60:646-649, after Child and Turcotte 1964).

Each laboratory value is scored by the table of the protocol (``settings.child_pugh``) in the
unit it was entered in: nothing is converted, so 34.2 µmol/L and 2.0 mg/dL both score 2
bilirubin points by the default table (SI limits as MDCalc and the Chinese guidelines print
them; mg/dL limits as Pugh printed them). A value exactly on a printed limit falls in the band
whose printed range includes it. docs/scores.md gives the tables and their sources.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hepatrial.scores._inputs import (
    YES_NO,
    Batch,
    Category,
    ScoreInputError,
    any_missing,
    category,
    in_chunks,
    integer_or_nan,
    number,
    number_one,
    scalar_path,
    snap,
    snap_one,
    unit_symbol,
    with_missing,
)
from hepatrial.scores.settings import DEFAULT_SETTINGS, ChildPughTable, ScoreSettings

CLASS_B_FROM, CLASS_C_FROM = 7, 10

CHILD_PUGH_VERSION = "child-pugh-table-v2"
"""v2: the protocol's table applied in the unit entered (v1, ``child-pugh-pugh-1973``, converted
µmol/L to mg/dL with the molar-mass factor 17.104 and applied Pugh's mg/dL limits)."""

ASCITES = Category(
    "ascites",
    {
        "none": 0,
        "absent": 0,
        "no": 0,
        "mild": 1,
        "slight": 1,
        "moderate": 2,
        "severe": 3,
        "moderate-severe": 2,
        "moderate to severe": 2,
        "moderate severe": 2,
        "gross": 3,
        "tense": 3,
    },
    integers=(0, 3),
    description="none, mild or moderate-severe, or the International Ascites Club grade 0-3",
)
"""Integers are International Ascites Club grades (Moore et al., Hepatology 2003): 0 none,
1 mild (seen only on ultrasound), 2 moderate, 3 large/tense; grades 2 and 3 both score 3."""

ENCEPHALOPATHY = Category(
    "encephalopathy",
    {
        "none": 0,
        "absent": 0,
        "no": 0,
        "1-2": 1,
        "grade 1-2": 1,
        "mild": 1,
        "3-4": 3,
        "grade 3-4": 3,
        "severe": 3,
    },
    integers=(0, 4),
    description="none, grade 1-2 or grade 3-4, or the West Haven grade 0-4",
)

CHOLESTATIC = Category(
    "cholestatic",
    YES_NO,
    integers=(0, 1),
    allow_bool=True,
    description="yes/no (true/false, 1/0)",
)


def _bands(table: ChildPughTable, criterion: str, argument: str, unit_text: Any, quantity: str):
    symbol = unit_symbol(argument, unit_text, quantity)
    try:
        return table.bands_for(criterion, symbol)
    except KeyError:
        raise ScoreInputError(
            f"{argument}_unit", unit_text, f"the Child-Pugh table has no {symbol} limits"
        ) from None


def _points(
    bilirubin: Any,
    bilirubin_unit: str,
    albumin: Any,
    albumin_unit: str,
    ascites: Any,
    encephalopathy: Any,
    inr: Any,
    pt_prolongation_s: Any,
    cholestatic: Any,
    batch: Batch,
    settings: ScoreSettings | None,
) -> np.ndarray:
    table = (settings or DEFAULT_SETTINGS).child_pugh
    bilirubin_bands = _bands(table, "bilirubin", "bilirubin", bilirubin_unit, "bilirubin")
    cholestatic_bands = _bands(
        table, "cholestatic_bilirubin", "bilirubin", bilirubin_unit, "bilirubin"
    )
    albumin_bands = _bands(table, "albumin", "albumin", albumin_unit, "albumin")
    bili = snap(number(batch, "bilirubin", bilirubin))
    alb = snap(number(batch, "albumin", albumin))
    ascites_grade = category(batch, ASCITES, ascites)
    encephalopathy_grade = category(batch, ENCEPHALOPATHY, encephalopathy)
    cholestatic_flag = category(batch, CHOLESTATIC, cholestatic)
    if inr is None and pt_prolongation_s is None:
        if not batch.many:
            raise ScoreInputError("inr", None, "either inr or pt_prolongation_s must be given")
        inr = np.nan
    inr_ = snap(number(batch, "inr", inr)) if inr is not None else np.asarray(np.nan)
    pt = np.asarray(np.nan)
    if pt_prolongation_s is not None:
        pt = snap(number(batch, "pt_prolongation_s", pt_prolongation_s))

    shape = batch.shape
    bili, alb, inr_, pt = (np.broadcast_to(v, shape) for v in (bili, alb, inr_, pt))
    total = np.where(
        np.broadcast_to(cholestatic_flag == 1, shape),
        cholestatic_bands.points(bili),
        bilirubin_bands.points(bili),
    )
    total += albumin_bands.points(alb)
    has_inr = ~np.isnan(inr_)
    if has_inr.all():
        total += table.inr.points(inr_)
    else:
        total += np.where(has_inr, table.inr.points(inr_), table.pt_prolongation_s.points(pt))
    total += 1.0
    total += ascites_grade >= 1
    total += ascites_grade >= 2
    total += 1.0
    total += encephalopathy_grade >= 1
    total += encephalopathy_grade >= 3
    missing = any_missing(ascites_grade, encephalopathy_grade, cholestatic_flag)
    return with_missing(total, missing)


def _points_one(
    bilirubin: Any,
    bilirubin_unit: str,
    albumin: Any,
    albumin_unit: str,
    ascites: Any,
    encephalopathy: Any,
    inr: Any,
    pt_prolongation_s: Any,
    cholestatic: Any,
    settings: ScoreSettings | None,
) -> float:
    """:func:`_points` of one patient, read and checked in the same order."""
    table = (settings or DEFAULT_SETTINGS).child_pugh
    bilirubin_bands = _bands(table, "bilirubin", "bilirubin", bilirubin_unit, "bilirubin")
    cholestatic_bands = _bands(
        table, "cholestatic_bilirubin", "bilirubin", bilirubin_unit, "bilirubin"
    )
    albumin_bands = _bands(table, "albumin", "albumin", albumin_unit, "albumin")
    bili = snap_one(number_one("bilirubin", bilirubin))
    alb = snap_one(number_one("albumin", albumin))
    ascites_grade = ASCITES.parse_one(ascites)
    encephalopathy_grade = ENCEPHALOPATHY.parse_one(encephalopathy)
    cholestatic_flag = CHOLESTATIC.parse_one(cholestatic)
    if inr is None and pt_prolongation_s is None:
        raise ScoreInputError("inr", None, "either inr or pt_prolongation_s must be given")
    inr_ = snap_one(number_one("inr", inr)) if inr is not None else math.nan
    pt = math.nan
    if pt_prolongation_s is not None:
        pt = snap_one(number_one("pt_prolongation_s", pt_prolongation_s))

    bands = cholestatic_bands if cholestatic_flag == 1 else bilirubin_bands
    total = bands.points_one(bili)
    total += albumin_bands.points_one(alb)
    if inr_ == inr_:
        total += table.inr.points_one(inr_)
    else:
        total += table.pt_prolongation_s.points_one(pt)
    total += 1.0
    total += ascites_grade >= 1
    total += ascites_grade >= 2
    total += 1.0
    total += encephalopathy_grade >= 1
    total += encephalopathy_grade >= 3
    return total


_CLASS_BY_POINTS = np.array(
    [None] * 5
    + ["A"] * (CLASS_B_FROM - 5)
    + ["B"] * (CLASS_C_FROM - CLASS_B_FROM)
    + ["C"] * (16 - CLASS_C_FROM),
    dtype=object,
)
"""Index = points (5-15); index 0 stands for missing."""


def _class_from_points(points: np.ndarray) -> np.ndarray:
    """A for 5-6 points, B for 7-9, C for 10-15; None where points are missing."""
    index = np.nan_to_num(points, nan=0.0).astype(np.intp)
    return _CLASS_BY_POINTS[index]


def _points_score_one(
    *,
    bilirubin: Any,
    bilirubin_unit: str,
    albumin: Any,
    albumin_unit: str,
    ascites: Any,
    encephalopathy: Any,
    inr: Any,
    pt_prolongation_s: Any,
    cholestatic: Any,
    settings: ScoreSettings | None,
) -> int | float:
    return integer_or_nan(
        _points_one(
            bilirubin,
            bilirubin_unit,
            albumin,
            albumin_unit,
            ascites,
            encephalopathy,
            inr,
            pt_prolongation_s,
            cholestatic,
            settings,
        )
    )


def _class_one(
    *,
    bilirubin: Any,
    bilirubin_unit: str,
    albumin: Any,
    albumin_unit: str,
    ascites: Any,
    encephalopathy: Any,
    inr: Any,
    pt_prolongation_s: Any,
    cholestatic: Any,
    settings: ScoreSettings | None,
) -> str | None:
    points = _points_one(
        bilirubin,
        bilirubin_unit,
        albumin,
        albumin_unit,
        ascites,
        encephalopathy,
        inr,
        pt_prolongation_s,
        cholestatic,
        settings,
    )
    return _CLASS_BY_POINTS[int(points) if points == points else 0]


@scalar_path(_points_score_one)
@in_chunks
def child_pugh_points(
    *,
    bilirubin: Any,
    bilirubin_unit: str,
    albumin: Any,
    albumin_unit: str,
    ascites: Any,
    encephalopathy: Any,
    inr: Any = None,
    pt_prolongation_s: Any = None,
    cholestatic: Any = False,
    settings: ScoreSettings | None = None,
) -> Any:
    """Child-Pugh points, 5 to 15 (Pugh et al., Br J Surg 1973), by the table of ``settings``.

    Each of five items scores 1, 2 or 3 points; by the default table:

    - bilirubin: < 34.2 | 34.2 to 51.3 | > 51.3 µmol/L, or < 2 | 2 to 3 | > 3 mg/dL; cholestatic
      disease (PBC, PSC): < 68.4 | 68.4 to 171 | > 171 µmol/L, or < 4 | 4 to 10 | > 10 mg/dL
    - albumin: > 35 | 28 to 35 | < 28 g/L, or > 3.5 | 2.8 to 3.5 | < 2.8 g/dL
    - INR: < 1.7 | 1.7 to 2.3 | > 2.3; or, without INR, prothrombin time prolongation (s):
      < 4 | 4 to 6 | > 6. When both are given, INR is used.
    - ascites: none | mild | moderate-severe
    - hepatic encephalopathy: none | grade 1-2 | grade 3-4

    Laboratory values are compared in the unit given, with the limits the table prints for that
    unit. On a limit: the middle band is closed at both ends, so exactly 34.2 and 51.3 µmol/L,
    2.0 and 3.0 mg/dL, 28 and 35 g/L, INR 1.7 and 2.3, and 4 and 6 seconds all score 2 points.
    """
    batch = Batch.of(locals())
    total = _points(
        bilirubin,
        bilirubin_unit,
        albumin,
        albumin_unit,
        ascites,
        encephalopathy,
        inr,
        pt_prolongation_s,
        cholestatic,
        batch,
        settings,
    )
    return batch.numbers(total, "child_pugh_points", integer=True)


@scalar_path(_class_one)
@in_chunks
def child_pugh_class(
    *,
    bilirubin: Any,
    bilirubin_unit: str,
    albumin: Any,
    albumin_unit: str,
    ascites: Any,
    encephalopathy: Any,
    inr: Any = None,
    pt_prolongation_s: Any = None,
    cholestatic: Any = False,
    settings: ScoreSettings | None = None,
) -> Any:
    """Child-Pugh class (Pugh 1973): A for 5-6 points, B for 7-9, C for 10-15.

    On a threshold: 6 points is class A, 7 is B, 9 is B, 10 is C. Missing inputs in a batch give
    None. Inputs and their thresholds as in :func:`child_pugh_points`.
    """
    batch = Batch.of(locals())
    total = _points(
        bilirubin,
        bilirubin_unit,
        albumin,
        albumin_unit,
        ascites,
        encephalopathy,
        inr,
        pt_prolongation_s,
        cholestatic,
        batch,
        settings,
    )
    return batch.labels(_class_from_points(total), "child_pugh_class")
