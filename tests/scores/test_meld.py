"""MELD, MELD-Na and MELD 3.0: worked examples, every bound, cap and rounding rule."""

import math

import pytest

from hepatrial.scores import meld, meld3, meld_na
from hepatrial.scores._inputs import round_half_up

MG = {"bilirubin_unit": "mg/dL", "creatinine_unit": "mg/dL"}
NORMAL = {"bilirubin": 1.0, "creatinine": 1.0, "inr": 1.0, **MG}


def inr_for_raw(raw_meld_i: float) -> float:
    """INR that makes MELD(i) (before rounding) equal ``raw_meld_i`` with other labs at 1.0."""
    return math.exp((raw_meld_i - 0.643) / 1.120)


def meld3_inputs(**changes):
    inputs = {
        "sex": "M",
        "sodium": 137,
        "albumin": 3.5,
        "albumin_unit": "g/dL",
        **NORMAL,
    }
    return {**inputs, **changes}


# Inputs of Kim et al., Gastroenterology 2021;161:1887-1895, Table 4 (hypothetical candidates).
# Expected values computed by hand from the published formulas, step by step in docs/scores.md.
KIM_2021_TABLE_4 = [
    # sex, bilirubin, sodium, inr, creatinine, albumin -> meld, meld_na, meld3
    ("M", 2.5, 131, 1.0, 1.2, 3.8, 12, 18, 16),
    ("F", 2.5, 131, 1.0, 1.2, 3.8, 12, 18, 17),
    ("M", 6.0, 131, 1.5, 1.5, 3.5, 22, 26, 25),
    ("M", 6.0, 131, 1.5, 1.5, 2.2, 22, 26, 26),
    ("F", 6.0, 131, 1.5, 1.5, 2.2, 22, 26, 27),
    ("M", 12.0, 128, 2.2, 1.8, 2.0, 30, 33, 34),
    ("M", 12.0, 128, 2.2, 2.8, 2.0, 35, 36, 38),
    ("F", 12.0, 128, 2.2, 2.8, 2.0, 35, 36, 39),
]


@pytest.mark.parametrize("case", KIM_2021_TABLE_4)
def test_kim_2021_table_4_candidates(case):
    sex, bili, sodium, inr, creat, alb, want_meld, want_na, want_3 = case
    labs = {"bilirubin": bili, "creatinine": creat, "inr": inr, **MG}
    assert meld(**labs) == want_meld
    assert meld_na(**labs, sodium=sodium) == want_na
    assert meld3(**labs, sex=sex, sodium=sodium, albumin=alb, albumin_unit="g/dL") == want_3


def test_meld_of_normal_labs_is_the_optn_minimum_of_6():
    assert meld(**NORMAL) == 6
    assert meld_na(**NORMAL, sodium=140) == 6
    assert meld3(**meld3_inputs()) == 6


def test_results_are_python_ints_for_one_patient():
    assert type(meld(**NORMAL)) is int
    assert type(meld3(**meld3_inputs())) is int


def test_lab_values_below_one_are_set_to_one():
    assert meld(bilirubin=0.2, creatinine=0.4, inr=0.9, **MG) == meld(**NORMAL)
    assert meld(bilirubin=0.0, creatinine=0.0, inr=0.0, **MG) == 6
    low = meld3_inputs(bilirubin=0.3, creatinine=0.5, inr=0.8)
    assert meld3(**low) == meld3(**meld3_inputs())


def test_meld_creatinine_is_capped_at_4():
    at_cap = meld(bilirubin=3.0, creatinine=4.0, inr=1.4, **MG)
    assert meld(bilirubin=3.0, creatinine=7.5, inr=1.4, **MG) == at_cap
    assert meld(bilirubin=3.0, creatinine=3.9, inr=1.4, **MG) < at_cap


def test_dialysis_sets_meld_creatinine_to_4_whatever_it_measured():
    at_cap = meld(bilirubin=3.0, creatinine=4.0, inr=1.4, **MG)
    assert meld(bilirubin=3.0, creatinine=0.7, inr=1.4, dialysis=True, **MG) == at_cap
    assert meld(bilirubin=3.0, creatinine=0.7, inr=1.4, dialysis="yes", **MG) == at_cap
    assert meld(bilirubin=3.0, creatinine=0.7, inr=1.4, dialysis=False, **MG) < at_cap


def test_meld_i_is_rounded_to_the_tenth_half_up_before_multiplying_by_10():
    assert meld(bilirubin=1, creatinine=1, inr=inr_for_raw(1.05), **MG) == 11
    assert meld(bilirubin=1, creatinine=1, inr=inr_for_raw(1.0499), **MG) == 10
    assert meld(bilirubin=1, creatinine=1, inr=inr_for_raw(1.0501), **MG) == 11


def test_round_half_up_treats_float_noise_below_a_half_as_the_half():
    assert round_half_up(23.5) == 24
    assert round_half_up(23.4999999999) == 24
    assert round_half_up(23.49) == 23
    assert round_half_up(22.5) == 23


def test_meld_is_capped_at_40():
    huge = {"bilirubin": 80.0, "creatinine": 4.0, "inr": 9.0, **MG}
    assert meld(**huge) == 40
    assert meld_na(**huge, sodium=120) == 40
    assert meld3(**meld3_inputs(**huge, sodium=120, albumin=1.0)) == 40


def test_sodium_term_applies_only_when_meld_i_is_above_11():
    eleven = {"bilirubin": 1, "creatinine": 1, "inr": inr_for_raw(1.1), **MG}
    twelve = {"bilirubin": 1, "creatinine": 1, "inr": inr_for_raw(1.2), **MG}
    assert meld(**eleven) == 11 and meld(**twelve) == 12
    assert meld_na(**eleven, sodium=125) == 11
    # 12 + 1.32 * 12 - 0.033 * 12 * 12 = 23.088
    assert meld_na(**twelve, sodium=125) == 23


def test_meld_na_sodium_is_bounded_to_125_137():
    labs = {"bilirubin": 4.0, "creatinine": 1.5, "inr": 1.6, **MG}
    assert meld_na(**labs, sodium=110) == meld_na(**labs, sodium=125)
    assert meld_na(**labs, sodium=150) == meld_na(**labs, sodium=137) == meld(**labs)
    assert meld_na(**labs, sodium=126) < meld_na(**labs, sodium=125)


def test_meld_na_accepts_meq_per_litre_as_the_same_unit():
    labs = {"bilirubin": 4.0, "creatinine": 1.5, "inr": 1.6, **MG}
    assert meld_na(**labs, sodium=130, sodium_unit="mEq/L") == meld_na(**labs, sodium=130)


def test_meld_na_formula_on_a_hand_computed_case():
    labs = {"bilirubin": 4.0, "creatinine": 1.5, "inr": 1.6, **MG}
    raw = 0.957 * math.log(1.5) + 0.378 * math.log(4.0) + 1.120 * math.log(1.6) + 0.643
    meld_i = math.floor(raw * 10 + 0.5)
    expected = math.floor(meld_i + 1.32 * 7 - 0.033 * meld_i * 7 + 0.5)
    assert meld_na(**labs, sodium=130) == expected


def test_meld3_creatinine_is_capped_at_3_and_set_to_3_after_dialysis():
    at_cap = meld3(**meld3_inputs(creatinine=3.0))
    assert meld3(**meld3_inputs(creatinine=3.6)) == at_cap
    assert meld3(**meld3_inputs(creatinine=0.8, dialysis=True)) == at_cap
    assert meld3(**meld3_inputs(creatinine=2.5)) < at_cap


def test_meld3_albumin_is_bounded_to_1_5_and_3_5_g_per_dl():
    assert meld3(**meld3_inputs(albumin=4.5)) == meld3(**meld3_inputs(albumin=3.5))
    low = {"creatinine": 2.0}
    assert meld3(**meld3_inputs(albumin=0.9, **low)) == meld3(**meld3_inputs(albumin=1.5, **low))
    assert meld3(**meld3_inputs(albumin=1.6, **low)) <= meld3(**meld3_inputs(albumin=1.5, **low))


def test_meld3_sodium_is_bounded_to_125_137():
    base = {"bilirubin": 3.0}
    assert meld3(**meld3_inputs(sodium=118, **base)) == meld3(**meld3_inputs(sodium=125, **base))
    assert meld3(**meld3_inputs(sodium=141, **base)) == meld3(**meld3_inputs(sodium=137, **base))


def test_meld3_interaction_terms_on_a_hand_computed_case():
    b, na, inr, cr, alb = 3.2, 129.0, 1.7, 1.9, 2.6
    raw = (
        1.33
        + 4.56 * math.log(b)
        + 0.82 * (137 - na)
        - 0.24 * (137 - na) * math.log(b)
        + 9.09 * math.log(inr)
        + 11.14 * math.log(cr)
        + 1.85 * (3.5 - alb)
        - 1.83 * (3.5 - alb) * math.log(cr)
        + 6
    )
    inputs = meld3_inputs(sex="female", bilirubin=b, sodium=na, inr=inr, creatinine=cr, albumin=alb)
    assert meld3(**inputs) == math.floor(raw + 0.5)


def test_meld3_female_adds_1_33_points_before_rounding():
    # Male raw 6 + 1.85 * 0.4 = 6.74 -> 7; female 8.07 -> 8.
    assert meld3(**meld3_inputs(albumin=3.1)) == 7
    assert meld3(**meld3_inputs(albumin=3.1, sex="F")) == 8
