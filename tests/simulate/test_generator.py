"""The vectorized generators reproduce their parameters on large n."""

import math

import numpy as np

from hepatrial.simulate import trial as T
from hepatrial.simulate.parameters import LAB_ORDER, LOG_SCALE_LABS, SimulationParameters

N = 40_000


ETIOLOGIES = {"HBV": 0.62, "HCV": 0.06, "ALCOHOL": 0.12, "OTHER": 0.20}


def _cohort(seed=1, params=None):
    params = params or SimulationParameters(etiology=ETIOLOGIES)
    return T.draw_screened(np.random.default_rng(seed), N, params)


def test_demographics_match_their_parameters():
    p = SimulationParameters(etiology=ETIOLOGIES)
    c = _cohort(params=p)
    assert abs((c.sex == "M").mean() - p.male_fraction) < 0.01
    assert abs(c.age.mean() - p.age_mean) < 0.3
    for code, share in p.etiology.items():
        assert abs((c.etiology == code).mean() - share) < 0.01, code
    assert (c.etiology == "HBV").mean() > 0.5


def test_baseline_labs_are_correlated_as_the_documented_one_factor_matrix():
    c = _cohort(2)
    cols = [np.log(c.labs[k]) if k in LOG_SCALE_LABS else c.labs[k] for k in LAB_ORDER]
    observed = np.corrcoef(np.vstack(cols))
    expected = T.implied_lab_correlation()
    assert np.max(np.abs(observed - expected)) < 0.04
    # the clinical signs: bilirubin up with INR, albumin down with bilirubin
    i = {k: j for j, k in enumerate(LAB_ORDER)}
    assert expected[i["TBIL"], i["INR"]] > 0.3
    assert expected[i["TBIL"], i["ALB"]] < -0.3


def test_lab_medians_match_their_parameters():
    p = SimulationParameters()
    c = _cohort(3)
    for k in ("TBIL", "CREAT", "ALT"):
        assert abs(np.log(np.median(c.labs[k])) - p.lab_mean[k]) < 0.03, k
    assert abs(np.median(c.labs["ALB"]) - p.lab_mean["ALB"]) < 0.3


def test_eligible_patients_are_a_child_pugh_b_c_mix_with_b_majority():
    c = _cohort(4)
    e = c.eligible
    share_b = (c.cp_class[e] == "B").mean()
    assert 0.5 < share_b < 0.75
    assert not (c.cp_class[e] == "A").any()
    assert 0.1 < (c.cp_class == "A").mean() < 0.4


def test_ninety_day_mortality_by_meld_band_matches_published_rates():
    p = SimulationParameters(decomp_death_hr=1.0)
    rng = np.random.default_rng(5)
    for meld, band in ((8.0, "<10"), (15.0, "10-19"), (25.0, "20-29"), (35.0, "30-39")):
        t = T.event_times(rng, np.full(N, meld), np.full(N, "B"), np.zeros(N, bool), p)
        assert abs((t["death"] <= 90).mean() - p.meld_band_mortality_90d[band]) < 0.012, band


def test_decompensation_incidence_matches_parameters_and_class_c_hazard_ratio():
    p = SimulationParameters()
    rng = np.random.default_rng(6)
    tb = T.event_times(rng, np.full(N, 15.0), np.full(N, "B"), np.zeros(N, bool), p)
    tc = T.event_times(rng, np.full(N, 15.0), np.full(N, "C"), np.zeros(N, bool), p)
    for kind, prob in p.decomp_24w_class_b.items():
        assert abs((tb[kind] <= 168).mean() - prob) < 0.01, kind
        expected_c = 1 - (1 - prob) ** p.decomp_hr_class_c
        assert abs((tc[kind] <= 168).mean() - expected_c) < 0.012, kind


def test_arm_effect_parameter_sets_the_difference_in_severity_at_week_24():
    days = np.array([168.0])
    for effect in (0.0, 0.35, 0.8):
        p = SimulationParameters(arm_effect_24w={"DOUBLE": effect})
        single = T.severity_at(days, 0.0, 0.0, p.arm_effect_24w.get("SINGLE", 0.0), np.inf, p)
        double = T.severity_at(days, 0.0, 0.0, p.arm_effect_24w["DOUBLE"], 28.0, p)
        expected = effect * (1 - math.exp(-(168 - 28) / p.effect_time_constant_days))
        assert abs((single - double)[0] - expected) < 1e-12


def test_a_participant_never_infused_gets_no_treatment_effect():
    p = SimulationParameters(arm_effect_24w={"DOUBLE": 0.5})
    days = np.array([168.0])
    untreated = T.severity_at(days, 0.0, 0.0, 0.5, np.inf, p, first_day=np.inf)
    assert abs(untreated[0] - p.natural_drift_per_24w) < 1e-12


def test_double_arm_reaches_child_pugh_a_more_often_when_the_arm_effect_is_positive():
    p = SimulationParameters(arm_effect_24w={"DOUBLE": 0.6})
    rng = np.random.default_rng(8)
    c = _cohort(9, p)
    c = c.take(np.flatnonzero(c.eligible))
    share = {}
    for arm, effect_day in (("SINGLE", np.inf), ("DOUBLE", 28.0)):
        effect = p.arm_effect_24w.get(arm, 0.0)
        sev = T.severity_at(np.full(c.n, 168.0), c.severity, 0.0, effect, effect_day, p)
        labs = T.lab_values(rng, sev, c.residual, p)
        asc, he, _ = T.clinical_grades(rng, sev, p, c.clinical_residual)
        share[arm] = (T.child_pugh(labs, asc, he, np.zeros(c.n, bool))[1] == "A").mean()
    assert share["DOUBLE"] > share["SINGLE"] + 0.05


def test_ascites_grades_persist_from_visit_to_visit_and_keep_their_screening_spread():
    """Most of the noise of a clinical sign is the participant's own, so a grade changes with
    the disease rather than at random at every visit (each change needs a decompensation)."""
    p = SimulationParameters()
    rng = np.random.default_rng(10)
    c = _cohort(11, p)
    again, _, _ = T.clinical_grades(rng, c.severity, p, c.clinical_residual)
    assert (again != c.ascites).mean() < 0.15
    fresh, _, _ = T.clinical_grades(rng, c.severity, p)
    for grade in (0, 1, 2):
        assert abs((fresh == grade).mean() - (c.ascites == grade).mean()) < 0.01
