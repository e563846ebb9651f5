"""Analytic and simulated power.

References for the analytic values:
* Fleiss JL, *Statistical Methods for Rates and Proportions*, 2nd ed. (1981), Table A.3:
  p1 = 0.40, p2 = 0.60, alpha = 0.05 two-sided, power 0.80 -> 107 per group with the continuity
  correction (97 without; the uncorrected value follows from the formula of §3.2).
* Zar JH, *Biostatistical Analysis*, 4th ed. (1999), Example 24.26 (reproduced in the Unistat
  manual, "Sample size for two proportions"): p1 = 0.45, p2 = 0.25, alpha = 0.05 two-sided,
  power 0.90 -> n1 = 127.2343 (Fleiss' continuity-corrected formula).
* The unpooled-variance formula (Chow, Shao & Wang, *Sample Size Calculations in Clinical
  Research*, §4.2) equals statsmodels' NormalIndPower with h = delta / sqrt((p0q0 + p1q1)/2).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.power import NormalIndPower

from hepatrial.analysis.binary import newcombe_difference
from hepatrial.simulate import power as pw


def test_fleiss_table_value_for_40_versus_60_percent():
    assert pw.sample_size_two_proportions(0.40, 0.60).n_per_arm == 97
    assert pw.sample_size_two_proportions(0.40, 0.60, continuity=True).n_per_arm == 107


def test_zar_worked_example_with_continuity_correction():
    ss = pw.sample_size_two_proportions(0.25, 0.45, power=0.90, continuity=True)
    assert ss.n_per_arm_exact == pytest.approx(127.2343, abs=5e-4)
    assert ss.n_per_arm == 128


def test_unpooled_formula_equals_statsmodels_normal_ind_power():
    ss = pw.sample_size_two_proportions(0.65, 0.85, variance="unpooled")
    assert ss.n_per_arm == 70
    es = 0.20 / math.sqrt((0.65 * 0.35 + 0.85 * 0.15) / 2)
    n_sm = NormalIndPower().solve_power(effect_size=es, alpha=0.05, power=0.80, ratio=1.0)
    assert ss.n_per_arm_exact == pytest.approx(n_sm, rel=1e-4)


def test_dropout_inflates_the_evaluable_sample_size():
    ss = pw.sample_size_two_proportions(0.20, 0.50, dropout=0.10)
    assert ss.n_per_arm == 39
    assert ss.n_per_arm_enrolled == math.ceil(39 / 0.9) == 44
    assert ss.total == 88


@settings(max_examples=40, deadline=None)
@given(
    p0=st.floats(0.05, 0.7),
    delta=st.floats(0.08, 0.25),
    target=st.floats(0.6, 0.95),
    continuity=st.booleans(),
)
def test_power_at_the_computed_sample_size_is_the_target(p0, delta, target, continuity):
    p1 = p0 + delta
    ss = pw.sample_size_two_proportions(p0, p1, power=target, continuity=continuity)
    achieved = pw.power_two_proportions(p0, p1, ss.n_per_arm_exact, continuity=continuity)
    assert achieved == pytest.approx(target, abs=1e-6)


def test_vectorized_newcombe_decisions_equal_the_analysis_function():
    rng = np.random.default_rng(3)
    n1, n0 = 46, 44
    x1, x0 = rng.integers(0, n1 + 1, 400), rng.integers(0, n0 + 1, 400)
    fast = pw.newcombe_reject(x1, np.full(400, n1), x0, np.full(400, n0))
    for i in range(400):
        ci = newcombe_difference(int(x1[i]), n1, int(x0[i]), n0)
        assert fast[i] == (ci["ci_lower"] > 0 or ci["ci_upper"] < 0)


def test_simulated_power_converges_to_analytic_power():
    # the normal approximation is off by < 1 point at n = 97 and less at larger n
    for p0, p1, tol in ((0.40, 0.60, 0.015), (0.45, 0.55, 0.008)):
        n = pw.sample_size_two_proportions(p0, p1).n_per_arm
        analytic = pw.power_two_proportions(p0, p1, n)
        sim = pw.simulate_power_primary(p0, p1, n, n_sim=100_000, seed=1, test="ztest")
        assert abs(sim.power - analytic) < tol, (p0, sim.power, analytic)


def test_type_one_error_is_close_to_alpha():
    sim = pw.simulate_power_primary(0.3, 0.3, 46, n_sim=100_000, seed=2)
    assert abs(sim.power - 0.05) < 0.012


def test_dropouts_as_non_responders_lose_power_relative_to_no_dropout():
    full = pw.simulate_power_primary(0.2, 0.5, 46, n_sim=40_000, seed=4).power
    nr = pw.simulate_power_primary(
        0.2, 0.5, 46, n_sim=40_000, seed=4, dropout=0.1, dropout_handling="non_responder"
    ).power
    assert nr < full


def test_loop_and_vectorized_simulations_estimate_the_same_power():
    loop = pw.simulate_power_primary_loop(0.2, 0.5, 46, n_sim=3_000, seed=5)
    vec = pw.simulate_power_primary(0.2, 0.5, 46, n_sim=100_000, seed=5)
    assert abs(loop.power - vec.power) < 4 * loop.mc_se


def test_simulated_ancova_power_matches_the_analytic_formula():
    for delta, n in ((-2.0, 46), (-3.0, 40)):
        analytic = pw.power_ancova(delta, 5.5, 0.6, n)
        sim = pw.simulate_power_ancova(delta, 5.5, 0.6, n, n_sim=20_000, seed=6)
        assert abs(sim.power - analytic) < 0.015


def test_ancova_sample_size_reaches_the_target():
    n = pw.sample_size_ancova(-2.0, 5.5, 0.6)
    assert pw.power_ancova(-2.0, 5.5, 0.6, n) >= 0.8 > pw.power_ancova(-2.0, 5.5, 0.6, n - 1)
