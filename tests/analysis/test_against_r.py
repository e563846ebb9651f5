"""hepatrial's statistics against R on the Mayo Clinic PBC trial (survival::pbc, pbcseq).

Each comparison quotes the R call it is checked against (see r_reference.R). Tolerances:
closed-form quantities (Kaplan-Meier, log-rank, Aalen-Johansen, Gray's test, least squares,
Wilson/Newcombe, Fisher) agree to rounding, 1e-8 relative; iterative fits (hepatrial's Cox
Newton-Raphson vs coxph, logistic IRLS) to 1e-6; the REML mixed model (statsmodels MixedLM vs
nlme::lme, different optimizers) to 1e-4 relative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hepatrial.analysis import ancova, binary, competing_risks, survival
from hepatrial.analysis.datasets import VisitSchedule, VisitWindow, derive_analysis_flags

TIMES = [1000.0, 2000.0, 3000.0]


@pytest.fixture(scope="module")
def pbc(r_reference: dict) -> pd.DataFrame:
    df = pd.read_csv(f"{r_reference['_dir']}/pbc.csv")
    df["treated"] = (df["trt"] == 2).astype(int)
    return df


@pytest.fixture(scope="module")
def pbcseq(r_reference: dict) -> pd.DataFrame:
    return pd.read_csv(f"{r_reference['_dir']}/pbcseq.csv")


def close(a, b, rel=1e-8, abs_=1e-12):
    return a == pytest.approx(b, rel=rel, abs=abs_)


def test_kaplan_meier_at_timepoints_matches_survfit_log_ci(pbc, r_reference):
    ref = r_reference["km"]
    # R: summary(survfit(Surv(time, dead) ~ arm, conf.type = "log"), times = c(1000, 2000, 3000))
    got = []
    for arm in (1, 2):
        sel = pbc["trt"] == arm
        t, e = pbc.loc[sel, "time"].to_numpy(float), (pbc.loc[sel, "status"] == 2).to_numpy()
        got += survival.km_at(survival.kaplan_meier(t, e), TIMES, t.max())
    assert close([g["surv"] for g in got], ref["surv"])
    assert close([g["lower"] for g in got], ref["lower"])
    assert close([g["upper"] for g in got], ref["upper"])
    assert close([g["se"] for g in got], ref["std_err"])


def test_median_survival_and_its_interval_match_survfit(pbc, r_reference):
    # R: summary(km)$table[, c("median", "0.95LCL", "0.95UCL")]; NA = not reached
    ref = r_reference["km_median"]
    for i, arm in enumerate((1, 2)):
        sel = pbc["trt"] == arm
        table = survival.kaplan_meier(pbc.loc[sel, "time"], pbc.loc[sel, "status"] == 2)
        med = survival.km_median(table)
        assert (med["median"], med["lower"], med["upper"]) == (
            ref["median"][i],
            ref["lower"][i],
            ref["upper"][i],
        )
    # R: survfit(Surv(time, status > 0) ~ 1) (transplant-free survival)
    table = survival.kaplan_meier(pbc["time"], pbc["status"] > 0)
    tfs = r_reference["km_tfs_median"]
    assert survival.km_median(table) == {
        "median": tfs["median"],
        "lower": tfs["lower"],
        "upper": tfs["upper"],
    }


def test_logrank_matches_survdiff(pbc, r_reference):
    # R: survdiff(Surv(time, dead) ~ arm)
    res = survival.logrank(pbc["time"], pbc["status"] == 2, pbc["trt"])
    assert close(res["chisq"], r_reference["logrank"]["chisq"])
    assert close(list(res["observed"].values()), r_reference["logrank"]["obs"])
    assert close(list(res["expected"].values()), r_reference["logrank"]["exp"])
    # R: survdiff(Surv(time, dead) ~ stage), four groups
    sel = pbc["stage"].notna()
    res4 = survival.logrank(
        pbc.loc[sel, "time"], pbc.loc[sel, "status"] == 2, pbc.loc[sel, "stage"]
    )
    assert close(res4["chisq"], r_reference["logrank_stage"]["chisq"])
    assert res4["df"] == r_reference["logrank_stage"]["df"]


def test_cox_efron_hazard_ratio_matches_coxph(pbc, r_reference):
    # R: coxph(Surv(time, dead) ~ arm, ties = "efron"); exp(confint(fit))
    res = survival.cox_hazard_ratio(pbc["time"].to_numpy(float), pbc["status"] == 2, pbc["treated"])
    ref = r_reference["cox"]
    assert close(res["log_hazard_ratio"], ref["coef"], rel=1e-6)
    assert close(res["se"], ref["se"], rel=1e-4)
    assert close(res["ci_lower"], ref["lower"], rel=1e-6)
    assert close(res["ci_upper"], ref["upper"], rel=1e-6)
    assert close(res["p_value"], ref["p"], rel=1e-6)
    # R: coxph(Surv(time, dead) ~ arm + sex, ties = "efron")
    female = pd.DataFrame({"female": (pbc["sex"] == "f").astype(float)})
    adj = survival.cox_hazard_ratio(
        pbc["time"].to_numpy(float), pbc["status"] == 2, pbc["treated"], female
    )
    assert close(adj["log_hazard_ratio"], r_reference["cox_adjusted"]["coef"], rel=1e-6)
    assert close(adj["se"], r_reference["cox_adjusted"]["se"], rel=1e-6)


def _status_for_cause(status: np.ndarray, cause: int) -> np.ndarray:
    """pbc status (0 censored, 1 transplant, 2 death) recoded to 1 = cause, 2 = the other."""
    return np.where(status == 0, 0, np.where(status == cause, 1, 2))


def _cuminc_rows(time, status, group, times):
    est, var = [], []
    for cause in (1, 2):
        for g in np.unique(group):
            sel = group == g
            fit = competing_risks.cumulative_incidence(
                time[sel], _status_for_cause(status[sel], cause)
            )
            at = competing_risks.cif_at(fit, times, time[sel].max())
            est.append([a["cif"] for a in at])
            var.append([a["se"] ** 2 for a in at])
    return est, var


def test_aalen_johansen_estimate_and_variance_match_cuminc(pbc, r_reference):
    # R: timepoints(cuminc(time, status, trt, cencode = 0), c(1000, 2000, 3000))
    # rows "1 1", "2 1", "1 2", "2 2" = group x cause
    t, s, g = pbc["time"].to_numpy(float), pbc["status"].to_numpy(), pbc["trt"].to_numpy()
    est, var = _cuminc_rows(t, s, g, TIMES)
    assert close(np.ravel(est), np.ravel(r_reference["cuminc"]["est"]))
    assert close(np.ravel(var), np.ravel(r_reference["cuminc"]["var"]))


def test_cumulative_incidence_interval_is_the_log_minus_log_interval(pbc, r_reference):
    # R: est^exp(+/- qnorm(0.975) * sqrt(var) / (est * log(est))) on timepoints(cuminc(...))
    t, s, g = pbc["time"].to_numpy(float), pbc["status"].to_numpy(), pbc["trt"].to_numpy()
    lower, upper = [], []
    for cause in (1, 2):
        for arm in (1, 2):
            sel = g == arm
            fit = competing_risks.cumulative_incidence(t[sel], _status_for_cause(s[sel], cause))
            at = competing_risks.cif_at(fit, TIMES, t[sel].max())
            lower.append([a["lower"] for a in at])
            upper.append([a["upper"] for a in at])
    assert close(np.ravel(lower), np.ravel(r_reference["cuminc"]["lower"]))
    assert close(np.ravel(upper), np.ravel(r_reference["cuminc"]["upper"]))


def test_aalen_johansen_with_heavy_ties_matches_cuminc(pbc, r_reference):
    # R: timepoints(cuminc(ceiling(time / 30.4375), status, stage, cencode = 0), c(24, 60, 100))
    sel = pbc["stage"].notna().to_numpy()
    months = np.ceil(pbc["time"].to_numpy(float) / 30.4375)[sel]
    s, g = pbc["status"].to_numpy()[sel], pbc["stage"].to_numpy()[sel]
    est, var = _cuminc_rows(months, s, g, [24.0, 60.0, 100.0])
    ref = r_reference["cuminc_ties"]
    ref_est = np.array(ref["est"], dtype=float)
    assert close(np.ravel(est), np.ravel(ref_est))
    assert close(np.ravel(var), np.ravel(np.array(ref["var"], dtype=float)))


@pytest.mark.parametrize("cause", [1, 2])
def test_gray_test_matches_cuminc_tests(pbc, r_reference, cause):
    t, s, g = pbc["time"].to_numpy(float), pbc["status"].to_numpy(), pbc["trt"].to_numpy()
    st = _status_for_cause(s, cause)
    # R: cuminc(time, status, trt, cencode = 0)$Tests  (columns stat, pv, df)
    stat, pv, df = r_reference["cuminc"]["tests"][cause - 1]
    res = competing_risks.gray_test(t, st, g)
    assert close(res["statistic"], stat, rel=1e-7)
    assert close(res["p_value"], pv, rel=1e-6)
    assert res["df"] == df
    # R: cuminc(time, status, trt, strata = sex, cencode = 0)$Tests
    stat, pv, _ = r_reference["cuminc_strat_tests"][cause - 1]
    res = competing_risks.gray_test(t, st, g, strata=pbc["sex"].to_numpy())
    assert close(res["statistic"], stat, rel=1e-7)
    # R: cuminc(time, status, trt, cencode = 0, rho = 1)$Tests
    stat, _, _ = r_reference["cuminc_rho1_tests"][cause - 1]
    assert close(competing_risks.gray_test(t, st, g, rho=1.0)["statistic"], stat, rel=1e-7)


@pytest.mark.parametrize("cause", [1, 2])
def test_gray_test_four_groups_with_ties_matches_cuminc(pbc, r_reference, cause):
    # R: cuminc(ceiling(time / 30.4375), status, stage, cencode = 0)$Tests
    sel = pbc["stage"].notna().to_numpy()
    months = np.ceil(pbc["time"].to_numpy(float) / 30.4375)[sel]
    st = _status_for_cause(pbc["status"].to_numpy()[sel], cause)
    stat, pv, df = r_reference["cuminc_ties"]["tests"][cause - 1]
    res = competing_risks.gray_test(months, st, pbc["stage"].to_numpy()[sel])
    assert close(res["statistic"], stat, rel=1e-7)
    assert close(res["p_value"], pv, rel=1e-6)
    assert res["df"] == df == 3


def test_binary_intervals_and_tests_match_r(pbc, r_reference):
    ref = r_reference["binary"]
    (x0, x1), (n0, n1) = ref["x"], ref["n"]
    # R: prop.test(x, n, correct = FALSE)$conf.int
    assert close(binary.wilson_interval(x0, n0), ref["wilson_ref"])
    assert close(binary.wilson_interval(x1, n1), ref["wilson_trt"])
    assert close(binary.wilson_interval(0, 20), ref["wilson_zero"])
    # R: Newcombe (1998) method 10 computed by hand from the prop.test limits
    nc = binary.newcombe_difference(x1, n1, x0, n0)
    assert close([nc["ci_lower"], nc["ci_upper"]], ref["newcombe"])
    # R: fisher.test(table(arm, hepato))$p.value
    assert close(binary.fisher_exact(x1, n1, x0, n0), ref["fisher_p"], rel=1e-7)
    # R: binom.test(x, n)$conf.int
    assert close(binary.clopper_pearson_interval(x0, n0), ref["clopper_ref"])
    assert close(binary.clopper_pearson_interval(0, 20), ref["clopper_zero"])


def test_logistic_regression_matches_glm(pbc, r_reference):
    # R: glm(hepato ~ arm + sex, family = binomial); confint.default
    sel = pbc["hepato"].notna()
    d = pbc[sel]
    res = binary.logistic_regression(
        d["hepato"].to_numpy(float),
        d["treated"].to_numpy(),
        (d["sex"] == "f").to_numpy(float)[:, None],
    )
    ref = r_reference["glm"]
    assert close(res["log_odds_ratio"], ref["coef"], rel=1e-6)
    assert close(res["se"], ref["se"], rel=1e-4)
    assert close(res["p_value"], ref["p"], rel=1e-6)
    assert close([res["ci_lower"], res["ci_upper"]], [ref["lower"], ref["upper"]], rel=1e-6)


SCHEDULE = VisitSchedule(
    (VisitWindow("6 months", 182, 60, 60), VisitWindow("1 year", 365, 60, 60),
     VisitWindow("2 years", 730, 90, 90))
)  # fmt: skip


@pytest.fixture(scope="module")
def windowed(pbcseq, pbc) -> pd.DataFrame:
    """pbcseq albumin and bilirubin through hepatrial's visit-window rules, one row per visit."""
    frames = []
    for param, column in (("ALB", "albumin"), ("BILI", "bili")):
        rec = pd.DataFrame(
            {"USUBJID": pbcseq["id"], "PARAMCD": param, "ADY": pbcseq["day"],
             "AVAL": pbcseq[column]}
        )  # fmt: skip
        frames.append(derive_analysis_flags(rec, SCHEDULE))
    lb = pd.concat(frames)
    lb = lb[(lb["ANL01FL"] == "Y") & (lb["ABLFL"] != "Y")]
    arms = pbc.set_index("id")
    lb["treated"] = lb["USUBJID"].map(arms["treated"])
    lb["female"] = lb["USUBJID"].map((arms["sex"] == "f").astype(float))
    return lb


def test_visit_windows_select_the_same_records_as_r(windowed, r_reference):
    # R: per id and target (182 +/- 60, 365 +/- 60, 730 +/- 90) the record nearest the target,
    # ties to the earlier day (order(abs(day - target), day)); baseline = last day <= 0
    ref = r_reference["windows"]
    expected = set(zip(ref["id"], map(float, ref["visit"]), ref["day"]))
    alb = windowed[windowed["PARAMCD"] == "ALB"]
    got = set(zip(alb["USUBJID"], alb["AVISITN"], alb["ADY"]))
    assert got == expected


@pytest.mark.parametrize(("param", "log", "key"), [("BILI", True, "ancova_log"),
                                                    ("ALB", False, "ancova_lin")])  # fmt: skip
def test_ancova_matches_lm(windowed, r_reference, param, log, key):
    # R: lm(I(log(bili) - log(bili_base)) ~ treated + log(bili_base) + female)   (log scale)
    # R: lm(I(albumin - albumin_base) ~ treated + albumin_base + female)         (linear)
    d = windowed[(windowed["PARAMCD"] == param) & (windowed["AVISITN"] == 365)]
    res = ancova.ancova(
        d["AVAL"].to_numpy(float), d["BASE"].to_numpy(float), d["treated"].to_numpy(),
        d["female"].to_numpy(float)[:, None], log_scale=log,
    )  # fmt: skip
    ref = r_reference[key]
    assert res["n"] == ref["n"] and res["df"] == ref["df"]
    assert close(res["coef"], ref["coef"])
    assert close(res["se"], ref["se"])
    assert close(res["p_value"], ref["p"], rel=1e-7)
    lower, upper = (np.log(res["ci_lower"]), np.log(res["ci_upper"])) if log else (
        res["ci_lower"], res["ci_upper"])  # fmt: skip
    assert close([lower, upper], [ref["lower"], ref["upper"]])


@pytest.mark.parametrize(("param", "log", "key"), [("ALB", False, "lme"),
                                                    ("BILI", True, "lme_log")])  # fmt: skip
def test_mixed_model_matches_nlme_lme(windowed, r_reference, param, log, key):
    # R: lme(y ~ 0 + v182 + v365 + v730 + tv182 + tv365 + tv730 + base + female,
    #        random = ~ 1 | id, method = "REML"); fixef(fit)["tv365"], vcov
    d = windowed[windowed["PARAMCD"] == param]
    long = pd.DataFrame(
        {"id": d["USUBJID"], "visit": d["AVISITN"], "treated": d["treated"], "aval": d["AVAL"],
         "base": d["BASE"], "s_female": d["female"]}
    )  # fmt: skip
    res = ancova.mixed_model(long, 365.0, log_scale=log)
    ref = r_reference[key]
    assert res["converged"]
    assert close(res["coef"], ref["coef"], rel=1e-4)
    assert close(res["se"], ref["se"], rel=1e-4)
    # R: summary(fit)$tTable["tv365", c("DF", "p-value")]; intervals(fit, which = "fixed")
    assert res["df"] == ref["df"]
    assert close(res["p_value"], ref["p"], rel=1e-4)
    lower, upper = (np.log(res["ci_lower"]), np.log(res["ci_upper"])) if log else (
        res["ci_lower"], res["ci_upper"])  # fmt: skip
    assert close([lower, upper], [ref["lower"], ref["upper"]], rel=1e-4)


def _design(pbc: pd.DataFrame, stage: bool = True) -> pd.DataFrame:
    design = pd.DataFrame({"treated": pbc["treated"].astype(float)})
    if stage:
        design["female"] = (pbc["sex"] == "f").astype(float)
    design["edema"] = pbc["edema"].astype(float)
    if stage:
        for level in (2, 3, 4):
            design[f"stage{level}"] = (pbc["stage"] == level).astype(float)
    return design


def _assert_whole_fit(fit: dict, ref: dict, rel: float = 1e-6) -> None:
    coefs = fit["coefficients"]
    for key in ("coef", "se", "z", "p_value", "ci_lower", "ci_upper"):
        r_key = {"p_value": "p", "ci_lower": "lower", "ci_upper": "upper"}.get(key, key)
        assert close([c[key] for c in coefs], ref[r_key], rel=rel), key
    assert close([fit["loglik_null"], fit["loglik"]], ref["loglik"], rel=1e-9)
    for mine, theirs in (("likelihood_ratio_test", "lrt"), ("score_test", "score"),
                         ("wald_test", "wald")):  # fmt: skip
        statistic, df, p = ref[theirs]
        assert close(fit[mine]["statistic"], statistic, rel=rel), mine
        assert fit[mine]["df"] == df
        assert close(fit[mine]["p_value"], p, rel=1e-5), mine
    assert close(fit["concordance"]["concordance"], ref["concordance"], rel=1e-9)
    assert (fit["n"], fit["events"]) == (ref["n"], ref["events"])


def test_cox_whole_fit_with_covariates_matches_coxph(pbc, r_reference):
    # R: coxph(Surv(time, dead) ~ arm + sex + edema + factor(stage)); summary(): every
    # coefficient, logtest, sctest, waldtest; fit$concordance
    sel = pbc["stage"].notna().to_numpy()
    data = pbc[sel].reset_index(drop=True)
    fit = survival.cox_fit(data["time"], data["status"] == 2, _design(data))
    _assert_whole_fit(fit, r_reference["cox_whole"])


def test_stratified_cox_matches_coxph_strata(pbc, r_reference):
    # R: coxph(Surv(time, dead) ~ arm + edema + strata(sex))
    fit = survival.cox_fit(
        pbc["time"], pbc["status"] == 2, _design(pbc, stage=False), strata=pbc["sex"].to_numpy()
    )
    assert fit["stratified"] and fit["strata"] == 2
    _assert_whole_fit(fit, r_reference["cox_stratified"])


def test_cox_with_heavy_ties_uses_efron_as_coxph(pbc, r_reference):
    # R: coxph(Surv(ceiling(time / 365.25), dead) ~ arm + sex): years, many tied deaths
    design = pd.DataFrame(
        {"treated": pbc["treated"].astype(float), "female": (pbc["sex"] == "f").astype(float)}
    )
    fit = survival.cox_fit(np.ceil(pbc["time"] / 365.25), pbc["status"] == 2, design)
    _assert_whole_fit(fit, r_reference["cox_heavy_ties"])
