"""ALBI score and grade (Johnson et al., J Clin Oncol 2015)."""

import math

import pytest

from hepatrial.scores import ScoreInputError, albi, albi_grade, grade_for_albi_score


def test_albi_is_0_66_log10_bilirubin_minus_0_085_albumin():
    assert albi(bilirubin=10, bilirubin_unit="µmol/L", albumin=40, albumin_unit="g/L") == (
        pytest.approx(0.66 * 1 - 0.085 * 40)
    )
    value = albi(bilirubin=17, bilirubin_unit="umol/L", albumin=35, albumin_unit="g/L")
    assert value == pytest.approx(0.66 * math.log10(17) - 0.085 * 35)


def test_albi_converts_mg_dl_with_the_laboratory_factor_17_1():
    conventional = albi(bilirubin=1.2, bilirubin_unit="mg/dL", albumin=3.1, albumin_unit="g/dL")
    si = albi(
        bilirubin=1.2 * 17.1,
        bilirubin_unit="µmol/L",
        albumin=31,
        albumin_unit="g/L",
    )
    assert conventional == pytest.approx(si, abs=1e-12)


@pytest.mark.parametrize(
    ("score", "grade"),
    [(-3.5, 1), (-2.6, 1), (-2.5999, 2), (-2.0, 2), (-1.39, 2), (-1.3899, 3), (0.4, 3)],
)
def test_grade_1_up_to_minus_2_60_grade_2_up_to_minus_1_39_then_grade_3(score, grade):
    assert grade_for_albi_score(score) == grade


def test_grade_cut_points_hold_against_float_noise():
    assert grade_for_albi_score(-2.6 + 1e-12) == 1
    assert grade_for_albi_score(-1.39 + 1e-12) == 2


def test_albi_grade_from_labs():
    assert albi_grade(bilirubin=10, bilirubin_unit="µmol/L", albumin=40, albumin_unit="g/L") == 1
    assert albi_grade(bilirubin=30, bilirubin_unit="µmol/L", albumin=30, albumin_unit="g/L") == 2
    assert albi_grade(bilirubin=100, bilirubin_unit="µmol/L", albumin=25, albumin_unit="g/L") == 3


def test_zero_bilirubin_has_no_logarithm_and_is_an_error():
    with pytest.raises(ScoreInputError, match="bilirubin"):
        albi(bilirubin=0, bilirubin_unit="µmol/L", albumin=40, albumin_unit="g/L")
