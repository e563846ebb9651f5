"""ALBI score and grade (Johnson et al., J Clin Oncol 2015;33:550-558)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hepatrial.scores._inputs import (
    Batch,
    ScoreInputError,
    any_missing,
    in_chunks,
    integer_or_nan,
    number,
    number_one,
    scalar_path,
    snap,
    snap_one,
    to_unit,
    to_unit_one,
    with_missing,
)
from hepatrial.scores.settings import DEFAULT_SETTINGS, ScoreSettings

ALBI_BILIRUBIN, ALBI_ALBUMIN = 0.66, 0.085
"""ALBI = 0.66 log10(bilirubin, µmol/L) - 0.085 albumin (g/L) (Johnson 2015)."""
GRADE_1_AT_MOST = -2.60
GRADE_2_AT_MOST = -1.39
ALBI_VERSION = "albi-johnson-2015-v2"
"""v2: mg/dL converted with the protocol's laboratory factor (17.1), not the molar mass."""


def _albi(
    bilirubin: Any,
    bilirubin_unit: str,
    albumin: Any,
    albumin_unit: str,
    batch: Batch,
    settings: ScoreSettings | None,
):
    bili = to_unit(
        number(batch, "bilirubin", bilirubin),
        "bilirubin",
        bilirubin_unit,
        "bilirubin",
        "µmol/L",
        (settings or DEFAULT_SETTINGS).factors,
    )
    if not batch.many and float(bili) == 0:
        raise ScoreInputError("bilirubin", bilirubin, "must be greater than 0 for ALBI (log10)")
    alb = to_unit(number(batch, "albumin", albumin), "albumin", albumin_unit, "albumin", "g/L")
    positive_bili = np.where(bili > 0, bili, np.nan)
    score = ALBI_BILIRUBIN * np.log10(positive_bili) - ALBI_ALBUMIN * alb
    return with_missing(score, any_missing(positive_bili, alb))


def _albi_one(
    bilirubin: Any,
    bilirubin_unit: str,
    albumin: Any,
    albumin_unit: str,
    settings: ScoreSettings | None,
) -> float:
    """:func:`_albi` of one patient, read and checked in the same order."""
    bili = to_unit_one(
        number_one("bilirubin", bilirubin),
        "bilirubin",
        bilirubin_unit,
        "bilirubin",
        "µmol/L",
        (settings or DEFAULT_SETTINGS).factors,
    )
    if bili == 0:
        raise ScoreInputError("bilirubin", bilirubin, "must be greater than 0 for ALBI (log10)")
    alb = to_unit_one(number_one("albumin", albumin), "albumin", albumin_unit, "albumin", "g/L")
    return ALBI_BILIRUBIN * math.log10(bili) - ALBI_ALBUMIN * alb


def grade_for_albi_score(score: Any) -> Any:
    """ALBI grade from the unrounded score: 1 if <= -2.60, 2 if <= -1.39, else 3 (Johnson 2015).

    The score is first snapped to 9 decimals so that a score exactly on a cut-point is not moved
    across it by floating point. On a threshold: -2.60 is grade 1, -1.39 is grade 2.
    """
    values = snap(np.asarray(score, dtype=float))
    grade = np.where(values <= GRADE_1_AT_MOST, 1.0, np.where(values <= GRADE_2_AT_MOST, 2.0, 3.0))
    return with_missing(grade, np.isnan(values))


def _grade_one(score: float) -> float:
    """:func:`grade_for_albi_score` of one float."""
    value = snap_one(score)
    if value != value:
        return math.nan
    return 1.0 if value <= GRADE_1_AT_MOST else 2.0 if value <= GRADE_2_AT_MOST else 3.0


def _albi_score_one(
    *,
    bilirubin: Any,
    bilirubin_unit: str,
    albumin: Any,
    albumin_unit: str,
    settings: ScoreSettings | None,
) -> float:
    return _albi_one(bilirubin, bilirubin_unit, albumin, albumin_unit, settings)


def _albi_grade_one(
    *,
    bilirubin: Any,
    bilirubin_unit: str,
    albumin: Any,
    albumin_unit: str,
    settings: ScoreSettings | None,
) -> int | float:
    score = _albi_one(bilirubin, bilirubin_unit, albumin, albumin_unit, settings)
    return integer_or_nan(_grade_one(score))


@scalar_path(_albi_score_one)
@in_chunks
def albi(
    *,
    bilirubin: Any,
    bilirubin_unit: str,
    albumin: Any,
    albumin_unit: str,
    settings: ScoreSettings | None = None,
) -> Any:
    """ALBI = 0.66 log10(bilirubin, µmol/L) - 0.085 albumin (g/L) (Johnson et al., JCO 2015).

    mg/dL is converted with the laboratory factor of ``settings`` (17.1 by default).
    Returned unrounded (publications show two decimals). Bilirubin must be greater than 0: a
    logarithm of 0 does not exist, so a single zero raises and a zero in a batch gives NaN.
    """
    batch = Batch.of(locals())
    score = _albi(bilirubin, bilirubin_unit, albumin, albumin_unit, batch, settings)
    return batch.numbers(score, "albi", integer=False)


@scalar_path(_albi_grade_one)
@in_chunks
def albi_grade(
    *,
    bilirubin: Any,
    bilirubin_unit: str,
    albumin: Any,
    albumin_unit: str,
    settings: ScoreSettings | None = None,
) -> Any:
    """ALBI grade 1, 2 or 3 (Johnson et al., JCO 2015): score <= -2.60 | > -2.60 to <= -1.39 |
    > -1.39, applied to the unrounded score (see :func:`grade_for_albi_score`).

    On a threshold: a score of exactly -2.60 is grade 1 and exactly -1.39 is grade 2.
    """
    batch = Batch.of(locals())
    score = _albi(bilirubin, bilirubin_unit, albumin, albumin_unit, batch, settings)
    return batch.numbers(grade_for_albi_score(score), "albi_grade", integer=True)
