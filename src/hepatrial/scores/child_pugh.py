"""Child-Pugh score (Pugh et al., Br J Surg 1973;60:646-649, after Child and Turcotte 1964).

Pugh's table gives bilirubin in mg/100 mL (mg/dL): 1-2, 2-3, >3, and for primary biliary
cirrhosis 1-4, 4-10, >10. Those thresholds are the ones applied here, after converting the
bilirubin to mg/dL with the exact factor of the unit registry; the rounded SI tables (<34, 34-50,
>50 µmol/L) are not used. docs/scores.md lists where the two disagree.
"""

from __future__ import annotations

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
    number,
    to_unit,
    with_missing,
)

BILIRUBIN_MG_DL = (2.0, 3.0)
CHOLESTATIC_BILIRUBIN_MG_DL = (4.0, 10.0)
ALBUMIN_G_L = (28.0, 35.0)
INR = (1.7, 2.3)
PT_PROLONGATION_S = (4.0, 6.0)
CLASS_B_FROM, CLASS_C_FROM = 7, 10

CHILD_PUGH_VERSION = "child-pugh-pugh-1973"

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


def _add_band_points(total: np.ndarray, values: np.ndarray, low: Any, high: Any) -> None:
    """Add 1 point below ``low``, 2 from ``low`` to ``high`` inclusive, 3 above ``high``."""
    total += 1.0
    total += values >= low
    total += values > high


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
) -> np.ndarray:
    bili = to_unit(
        number(batch, "bilirubin", bilirubin), "bilirubin", bilirubin_unit, "bilirubin", "mg/dL"
    )
    alb = to_unit(number(batch, "albumin", albumin), "albumin", albumin_unit, "albumin", "g/L")
    ascites_grade = category(batch, ASCITES, ascites)
    encephalopathy_grade = category(batch, ENCEPHALOPATHY, encephalopathy)
    cholestatic_flag = category(batch, CHOLESTATIC, cholestatic)
    if inr is None and pt_prolongation_s is None:
        if not batch.many:
            raise ScoreInputError("inr", None, "either inr or pt_prolongation_s must be given")
        inr = np.nan
    inr_ = number(batch, "inr", inr) if inr is not None else np.asarray(np.nan)
    pt = np.asarray(np.nan)
    if pt_prolongation_s is not None:
        pt = number(batch, "pt_prolongation_s", pt_prolongation_s)

    shape = batch.shape
    total = np.zeros(shape)
    cholestatic_disease = cholestatic_flag == 1
    _add_band_points(
        total,
        bili,
        np.where(cholestatic_disease, CHOLESTATIC_BILIRUBIN_MG_DL[0], BILIRUBIN_MG_DL[0]),
        np.where(cholestatic_disease, CHOLESTATIC_BILIRUBIN_MG_DL[1], BILIRUBIN_MG_DL[1]),
    )
    total += 1.0
    total += alb <= ALBUMIN_G_L[1]
    total += alb < ALBUMIN_G_L[0]
    has_inr = ~np.isnan(inr_)
    if has_inr.all():
        _add_band_points(total, inr_, *INR)
        coagulation_missing = np.zeros((), dtype=bool)
    else:
        coagulation_points = np.zeros(shape)
        _add_band_points(coagulation_points, inr_, *INR)
        pt_points = np.zeros(shape)
        _add_band_points(pt_points, pt, *PT_PROLONGATION_S)
        total += np.where(has_inr, coagulation_points, pt_points)
        coagulation_missing = ~has_inr & np.isnan(pt)
    total += 1.0
    total += ascites_grade >= 1
    total += ascites_grade >= 2
    total += 1.0
    total += encephalopathy_grade >= 1
    total += encephalopathy_grade >= 3
    missing = any_missing(bili, alb, ascites_grade, encephalopathy_grade, cholestatic_flag)
    return with_missing(total, missing | coagulation_missing)


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
) -> Any:
    """Child-Pugh points, 5 to 15 (Pugh et al., Br J Surg 1973).

    Each of five items scores 1, 2 or 3 points:

    - bilirubin (mg/dL): < 2 | 2 to 3 | > 3; cholestatic disease (PBC, PSC): < 4 | 4 to 10 | > 10
    - albumin (g/L): > 35 | 28 to 35 | < 28
    - INR: < 1.7 | 1.7 to 2.3 | > 2.3; or, without INR, prothrombin time prolongation (s):
      < 4 | 4 to 6 | > 6. When both are given, INR is used.
    - ascites: none | mild | moderate-severe
    - hepatic encephalopathy: none | grade 1-2 | grade 3-4

    On a threshold: the middle band is closed at both ends, so exactly 2.0 and 3.0 mg/dL, 28 and
    35 g/L, INR 1.7 and 2.3, and 4 and 6 seconds all score 2 points.
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
    )
    return batch.numbers(total, "child_pugh_points", integer=True)


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
    )
    return batch.labels(_class_from_points(total), "child_pugh_class")
