"""MELD, MELD-Na and MELD 3.0 exactly as OPTN computes them for candidates aged 18 and over.

Sources: OPTN Policy 9.1.D (MELD, in force 2002-2016; MELD-Na, in force January 2016 - July
2023; MELD 3.0, in force from 13 July 2023); Kamath et al., Hepatology 2001;33:464-470;
Kim et al., N Engl J Med 2008;359:1018-1026 (MELD-Na); Kim et al., Gastroenterology
2021;161:1887-1895 (MELD 3.0). See docs/scores.md for every convention.

µmol/L values are converted to mg/dL with the laboratory factors of ``settings`` (the
protocol's :class:`~hepatrial.scores.settings.ScoreSettings`; by default 17.1 µmol/L per mg/dL
of bilirubin and 88.4 of creatinine), so that 34.2 µmol/L is exactly 2.0 mg/dL.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hepatrial.scores._inputs import (
    YES_NO,
    Batch,
    Category,
    any_missing,
    at_least,
    at_most,
    bounded,
    category,
    in_chunks,
    integer_or_nan,
    number,
    number_one,
    round_half_up,
    round_half_up_one,
    scalar_path,
    to_unit,
    to_unit_one,
    with_missing,
)
from hepatrial.scores.settings import DEFAULT_SETTINGS, ScoreSettings

MELD_I_CREATININE = 0.957
MELD_I_BILIRUBIN = 0.378
MELD_I_INR = 1.120
MELD_I_CONSTANT = 0.643
"""The MELD(i) coefficients (Kamath 2001 as OPTN applies them), shared by MELD and MELD-Na."""
NA_COEFFICIENT, NA_BY_MELD_COEFFICIENT = 1.32, 0.033
"""MELD-Na: MELD(i) + 1.32 (137 - Na) - 0.033 MELD(i) (137 - Na) (Kim 2008)."""
MELD3_FEMALE = 1.33
MELD3_BILIRUBIN, MELD3_BILIRUBIN_BY_SODIUM = 4.56, 0.24
MELD3_SODIUM = 0.82
MELD3_INR = 9.09
MELD3_CREATININE, MELD3_CREATININE_BY_ALBUMIN = 11.14, 1.83
MELD3_ALBUMIN = 1.85
MELD3_CONSTANT = 6
"""The MELD 3.0 coefficients (Kim et al., Gastroenterology 2021; OPTN Policy 9.1.D 2023)."""
LAB_FLOOR = 1.0
"""Bilirubin, INR and creatinine below 1.0 (mg/dL, ratio) are set to 1.0."""
MELD_CREATININE_CAP_MG_DL = 4.0
MELD3_CREATININE_CAP_MG_DL = 3.0
SODIUM_LOW, SODIUM_HIGH = 125.0, 137.0
ALBUMIN_LOW_G_DL, ALBUMIN_HIGH_G_DL = 1.5, 3.5
MELD_CAP = 40
MELD_NA_APPLIES_ABOVE = 11
"""The sodium term is applied only when the rounded MELD(i) is greater than 11."""

MELD_VERSION = "meld-optn-2016-v2"
MELD_NA_VERSION = "meld-na-optn-2016-v2"
MELD3_VERSION = "meld3-optn-2023-v2"
"""v2: µmol/L converted with the protocol's laboratory factors (17.1, 88.4), not molar masses."""

DIALYSIS = Category(
    "dialysis",
    YES_NO,
    integers=(0, 1),
    allow_bool=True,
    description="yes/no (true/false, 1/0)",
)
SEX = Category(
    "sex",
    {"f": 1, "female": 1, "woman": 1, "w": 1, "m": 0, "male": 0, "man": 0},
    description="female or male (F/M)",
)


def _lab_values(
    batch: Batch,
    bilirubin: Any,
    bilirubin_unit: Any,
    creatinine: Any,
    creatinine_unit: Any,
    inr: Any,
    dialysis: Any,
    settings: ScoreSettings | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    factors = (settings or DEFAULT_SETTINGS).factors
    bilirubin_mg_dl = to_unit(
        number(batch, "bilirubin", bilirubin),
        "bilirubin",
        bilirubin_unit,
        "bilirubin",
        "mg/dL",
        factors,
    )
    creatinine_mg_dl = to_unit(
        number(batch, "creatinine", creatinine),
        "creatinine",
        creatinine_unit,
        "creatinine",
        "mg/dL",
        factors,
    )
    return (
        bilirubin_mg_dl,
        creatinine_mg_dl,
        number(batch, "inr", inr),
        category(batch, DIALYSIS, dialysis),
    )


def _log_floored(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """ln(max(value, 1.0)) as a new array of the batch ``shape``."""
    result = np.empty(shape)
    np.maximum(values, LAB_FLOOR, out=result)
    np.log(result, out=result)
    return result


def _log_bounded_creatinine(
    creatinine: np.ndarray, dialysis: np.ndarray, cap: float, shape: tuple[int, ...]
) -> np.ndarray:
    """ln of creatinine floored at 1.0 and capped at ``cap``; ``cap`` after dialysis."""
    result = np.empty(shape)
    np.clip(creatinine, LAB_FLOOR, cap, out=result)
    np.copyto(result, cap, where=dialysis == 1)
    np.log(result, out=result)
    return result


def _rounded_meld_i(
    bilirubin: np.ndarray,
    creatinine: np.ndarray,
    inr: np.ndarray,
    dialysis: np.ndarray,
    shape: tuple[int, ...],
) -> np.ndarray:
    """MELD(i) rounded to the tenth and multiplied by 10, i.e. an integer from 6 upwards."""
    total = _log_bounded_creatinine(creatinine, dialysis, MELD_CREATININE_CAP_MG_DL, shape)
    total *= MELD_I_CREATININE
    term = _log_floored(bilirubin, shape)
    term *= MELD_I_BILIRUBIN
    total += term
    term = _log_floored(inr, shape)
    term *= MELD_I_INR
    total += term
    total += MELD_I_CONSTANT
    total *= 10
    return round_half_up(total)


def _lab_values_one(
    bilirubin: Any,
    bilirubin_unit: Any,
    creatinine: Any,
    creatinine_unit: Any,
    inr: Any,
    dialysis: Any,
    settings: ScoreSettings | None,
) -> tuple[float, float, float, float]:
    """:func:`_lab_values` of one patient, read and checked in the same order."""
    factors = (settings or DEFAULT_SETTINGS).factors
    bilirubin_mg_dl = to_unit_one(
        number_one("bilirubin", bilirubin),
        "bilirubin",
        bilirubin_unit,
        "bilirubin",
        "mg/dL",
        factors,
    )
    creatinine_mg_dl = to_unit_one(
        number_one("creatinine", creatinine),
        "creatinine",
        creatinine_unit,
        "creatinine",
        "mg/dL",
        factors,
    )
    return (
        bilirubin_mg_dl,
        creatinine_mg_dl,
        number_one("inr", inr),
        DIALYSIS.parse_one(dialysis),
    )


def _log_bounded_creatinine_one(creatinine: float, dialysis: float, cap: float) -> float:
    return math.log(cap if dialysis == 1 else bounded(creatinine, LAB_FLOOR, cap))


def _rounded_meld_i_one(bilirubin: float, creatinine: float, inr: float, dialysis: float) -> float:
    """:func:`_rounded_meld_i` of one patient, the same operations in the same order."""
    total = (
        _log_bounded_creatinine_one(creatinine, dialysis, MELD_CREATININE_CAP_MG_DL)
        * MELD_I_CREATININE
    )
    total += math.log(at_least(bilirubin, LAB_FLOOR)) * MELD_I_BILIRUBIN
    total += math.log(at_least(inr, LAB_FLOOR)) * MELD_I_INR
    total += MELD_I_CONSTANT
    total *= 10
    return round_half_up_one(total)


def _meld_one(
    *,
    bilirubin: Any,
    bilirubin_unit: str,
    creatinine: Any,
    creatinine_unit: str,
    inr: Any,
    dialysis: Any,
    settings: ScoreSettings | None,
) -> int | float:
    bili, creat, inr_, dial = _lab_values_one(
        bilirubin, bilirubin_unit, creatinine, creatinine_unit, inr, dialysis, settings
    )
    return integer_or_nan(at_most(_rounded_meld_i_one(bili, creat, inr_, dial), MELD_CAP))


@scalar_path(_meld_one)
@in_chunks
def meld(
    *,
    bilirubin: Any,
    bilirubin_unit: str,
    creatinine: Any,
    creatinine_unit: str,
    inr: Any,
    dialysis: Any = False,
    settings: ScoreSettings | None = None,
) -> Any:
    """MELD as OPTN computed it for allocation before 2016 (OPTN Policy 9.1.D; Kamath 2001).

    MELD(i) = 0.957 ln(creatinine) + 0.378 ln(bilirubin) + 1.120 ln(INR) + 0.643, in mg/dL;
    rounded to the tenth (half up), multiplied by 10, capped at 40. Bilirubin, creatinine and INR
    below 1.0 are set to 1.0; creatinine above 4.0 mg/dL is set to 4.0, and set to 4.0 whatever
    its value when ``dialysis`` is true (two or more dialyses in the week before the creatinine
    test, or 24 hours of CVVHD). On a threshold: a value of exactly 1.0 or 4.0 is unchanged (the
    bounds are inclusive); an exact half at the tenth (e.g. 1.55) rounds up. Result 6 to 40.
    """
    batch = Batch.of(locals())
    bili, creat, inr_, dial = _lab_values(
        batch, bilirubin, bilirubin_unit, creatinine, creatinine_unit, inr, dialysis, settings
    )
    score = np.minimum(_rounded_meld_i(bili, creat, inr_, dial, batch.shape), MELD_CAP)
    return batch.numbers(with_missing(score, any_missing(bili, inr_, dial)), "meld", integer=True)


def _meld_na_one(
    *,
    bilirubin: Any,
    bilirubin_unit: str,
    creatinine: Any,
    creatinine_unit: str,
    inr: Any,
    sodium: Any,
    sodium_unit: str,
    dialysis: Any,
    settings: ScoreSettings | None,
) -> int | float:
    bili, creat, inr_, dial = _lab_values_one(
        bilirubin, bilirubin_unit, creatinine, creatinine_unit, inr, dialysis, settings
    )
    sodium_mmol = to_unit_one(
        number_one("sodium", sodium), "sodium", sodium_unit, "sodium", "mmol/L"
    )
    meld_i = _rounded_meld_i_one(bili, creat, inr_, dial)
    if meld_i <= MELD_NA_APPLIES_ABOVE:
        return integer_or_nan(at_most(meld_i, MELD_CAP))
    deficit = SODIUM_HIGH - bounded(sodium_mmol, SODIUM_LOW, SODIUM_HIGH)
    adjusted = (NA_COEFFICIENT - NA_BY_MELD_COEFFICIENT * meld_i) * deficit + meld_i
    return integer_or_nan(at_most(round_half_up_one(adjusted), MELD_CAP))


@scalar_path(_meld_na_one)
@in_chunks
def meld_na(
    *,
    bilirubin: Any,
    bilirubin_unit: str,
    creatinine: Any,
    creatinine_unit: str,
    inr: Any,
    sodium: Any,
    sodium_unit: str = "mmol/L",
    dialysis: Any = False,
    settings: ScoreSettings | None = None,
) -> Any:
    """MELD-Na as OPTN computed it from January 2016 (OPTN Policy 9.1.D 2016; Kim NEJM 2008).

    MELD(i) as in :func:`meld` (rounded to the tenth, times 10, so an integer). If MELD(i) > 11:
    MELD = MELD(i) + 1.32 (137 - Na) - 0.033 MELD(i) (137 - Na), sodium bounded to 125-137
    mmol/L; otherwise MELD = MELD(i). Rounded to the nearest integer (half up), capped at 40.
    On a threshold: MELD(i) of exactly 11 gets no sodium term, 12 does; sodium of exactly 125 or
    137 is unchanged. Capping MELD(i) at 40 before or after the sodium term gives the same
    result (for MELD(i) > 40 the adjusted value stays above 40), so the order does not matter.
    """
    batch = Batch.of(locals())
    bili, creat, inr_, dial = _lab_values(
        batch, bilirubin, bilirubin_unit, creatinine, creatinine_unit, inr, dialysis, settings
    )
    sodium_mmol = to_unit(
        number(batch, "sodium", sodium), "sodium", sodium_unit, "sodium", "mmol/L"
    )
    meld_i = _rounded_meld_i(bili, creat, inr_, dial, batch.shape)
    deficit = SODIUM_HIGH - np.clip(sodium_mmol, SODIUM_LOW, SODIUM_HIGH)
    adjusted = NA_COEFFICIENT - NA_BY_MELD_COEFFICIENT * meld_i
    adjusted *= deficit
    adjusted += meld_i
    score = round_half_up(adjusted)
    np.copyto(score, meld_i, where=meld_i <= MELD_NA_APPLIES_ABOVE)
    score = np.minimum(score, MELD_CAP, out=score)
    missing = any_missing(bili, inr_, dial, sodium_mmol)
    return batch.numbers(with_missing(score, missing), "meld_na", integer=True)


def _meld3_one(
    *,
    sex: Any,
    bilirubin: Any,
    bilirubin_unit: str,
    creatinine: Any,
    creatinine_unit: str,
    inr: Any,
    sodium: Any,
    albumin: Any,
    albumin_unit: str,
    sodium_unit: str,
    dialysis: Any,
    settings: ScoreSettings | None,
) -> int | float:
    female = SEX.parse_one(sex)
    bili, creat, inr_, dial = _lab_values_one(
        bilirubin, bilirubin_unit, creatinine, creatinine_unit, inr, dialysis, settings
    )
    sodium_mmol = to_unit_one(
        number_one("sodium", sodium), "sodium", sodium_unit, "sodium", "mmol/L"
    )
    albumin_g_dl = to_unit_one(
        number_one("albumin", albumin), "albumin", albumin_unit, "albumin", "g/dL"
    )
    log_bili = math.log(at_least(bili, LAB_FLOOR))
    log_creat = _log_bounded_creatinine_one(creat, dial, MELD3_CREATININE_CAP_MG_DL)
    sodium_deficit = SODIUM_HIGH - bounded(sodium_mmol, SODIUM_LOW, SODIUM_HIGH)
    albumin_deficit = ALBUMIN_HIGH_G_DL - bounded(albumin_g_dl, ALBUMIN_LOW_G_DL, ALBUMIN_HIGH_G_DL)
    raw = math.log(at_least(inr_, LAB_FLOOR)) * MELD3_INR
    raw += MELD3_CONSTANT + MELD3_FEMALE * female
    raw += (MELD3_BILIRUBIN - MELD3_BILIRUBIN_BY_SODIUM * sodium_deficit) * log_bili
    raw += MELD3_SODIUM * sodium_deficit
    raw += (MELD3_CREATININE - MELD3_CREATININE_BY_ALBUMIN * albumin_deficit) * log_creat
    raw += MELD3_ALBUMIN * albumin_deficit
    return integer_or_nan(at_most(round_half_up_one(raw), MELD_CAP))


@scalar_path(_meld3_one)
@in_chunks
def meld3(
    *,
    sex: Any,
    bilirubin: Any,
    bilirubin_unit: str,
    creatinine: Any,
    creatinine_unit: str,
    inr: Any,
    sodium: Any,
    albumin: Any,
    albumin_unit: str,
    sodium_unit: str = "mmol/L",
    dialysis: Any = False,
    settings: ScoreSettings | None = None,
) -> Any:
    """MELD 3.0 (Kim et al., Gastroenterology 2021) as OPTN Policy 9.1.D applies it since 2023.

    1.33 (if female) + 4.56 ln(bilirubin) + 0.82 (137 - Na) - 0.24 (137 - Na) ln(bilirubin)
    + 9.09 ln(INR) + 11.14 ln(creatinine) + 1.85 (3.5 - albumin) - 1.83 (3.5 - albumin)
    ln(creatinine) + 6; bilirubin and creatinine in mg/dL, albumin in g/dL. Bilirubin, INR and
    creatinine below 1.0 set to 1.0; creatinine capped at 3.0 mg/dL and set to 3.0 after dialysis
    (as in :func:`meld`); sodium bounded to 125-137; albumin bounded to 1.5-3.5 g/dL. Rounded
    once to the nearest integer (half up), capped at 40 (OPTN kept the cap although Kim 2021
    did not require it). On a threshold: bounds are inclusive, so exactly 3.0, 125, 137, 1.5 or
    3.5 are unchanged. Adults only: the OPTN rule that candidates aged 12-17 get the 1.33
    points whatever their sex is not implemented.
    """
    batch = Batch.of(locals())
    female = category(batch, SEX, sex)
    bili, creat, inr_, dial = _lab_values(
        batch, bilirubin, bilirubin_unit, creatinine, creatinine_unit, inr, dialysis, settings
    )
    sodium_mmol = to_unit(
        number(batch, "sodium", sodium), "sodium", sodium_unit, "sodium", "mmol/L"
    )
    albumin_g_dl = to_unit(
        number(batch, "albumin", albumin), "albumin", albumin_unit, "albumin", "g/dL"
    )
    shape = batch.shape
    log_bili = _log_floored(bili, shape)
    log_creat = _log_bounded_creatinine(creat, dial, MELD3_CREATININE_CAP_MG_DL, shape)
    sodium_deficit = SODIUM_HIGH - np.clip(sodium_mmol, SODIUM_LOW, SODIUM_HIGH)
    albumin_deficit = ALBUMIN_HIGH_G_DL - np.clip(albumin_g_dl, ALBUMIN_LOW_G_DL, ALBUMIN_HIGH_G_DL)
    raw = _log_floored(inr_, shape)
    raw *= MELD3_INR
    raw += MELD3_CONSTANT + MELD3_FEMALE * female
    raw += (MELD3_BILIRUBIN - MELD3_BILIRUBIN_BY_SODIUM * sodium_deficit) * log_bili
    raw += MELD3_SODIUM * sodium_deficit
    raw += (MELD3_CREATININE - MELD3_CREATININE_BY_ALBUMIN * albumin_deficit) * log_creat
    raw += MELD3_ALBUMIN * albumin_deficit
    score = np.minimum(round_half_up(raw), MELD_CAP)
    missing = any_missing(female, bili, inr_, dial, sodium_mmol, albumin_g_dl)
    return batch.numbers(with_missing(score, missing), "meld3", integer=True)
