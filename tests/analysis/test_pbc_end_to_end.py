"""The whole pipeline on another trial, as a new user brings it: the Mayo Clinic PBC trial.

R's ``survival::pbc`` written as ADaM CSVs with upper-case file names (``ADSL.csv``...) and only
the columns its statistics read, a plan in YAML that names its own endpoints and parameter
codes (``ALBUMIN``, ``BILIRUBIN``, ``OS``), run through ``hepatrial analyze``; the results
equal R's. Different arms, stratum, visits (6 months, 1 year, 2 years), timepoint (day 365)
and Kaplan-Meier timepoints from NCT06242405: everything comes from the plan.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from hepatrial.analysis import cli
from hepatrial.analysis.datasets import (
    ADAE,
    AdamDatasets,
    VisitSchedule,
    VisitWindow,
    derive_analysis_flags,
    write_adam,
)
from hepatrial.cli import build_parser

PLAN = """
arms: [DPCA, PLACEBO]                 # ADSL ARMCD; the first is the reference
arm_labels: {DPCA: D-penicillamine, PLACEBO: Placebo}
covariates: [STRATAR]                 # adjusted for by every endpoint (here: sex)
km_timepoints: [1000, 2000, 3000]
safety_population: null               # no adverse-event data
parameters:
  ALBUMIN: {label: Serum albumin, unit: g/dL}
  BILIRUBIN: {label: Serum bilirubin, unit: mg/dL}
  OS: {label: Overall survival (days)}
  TFS: {label: Transplant-free survival (days)}
  LTX: {label: Time to liver transplant (days)}
visits:
  - {name: 6 months, day: 182, before: 60, after: 60}
  - {name: 1 year, day: 365, before: 60, after: 60}
  - {name: 2 years, day: 730, before: 90, after: 90}
endpoints:
  - code: ALB_NORMAL
    label: Normal albumin at one year
    kind: proportion
    method: risk_difference_newcombe
    params: [ALBUMIN]
    responder_value: NORMAL
    population: ITTFL
    timepoint_visit: 365
    missing_data: non_responder
    composite_events: [DTHDT, LTXDT]
  - code: BILI_CHG
    kind: change_from_baseline
    method: ancova_baseline_stratum
    params: [BILIRUBIN]
    log_scale: true
    population: ITTFL
    timepoint_visit: 365
  - code: ALB_CHG
    kind: change_from_baseline
    method: ancova_baseline_stratum
    params: [ALBUMIN]
    population: ITTFL
    timepoint_visit: 365
    sensitivity: [mixed_model_all_visits]
  - code: SURVIVAL
    kind: time_to_event
    method: kaplan_meier_logrank_cox
    params: [OS, TFS]
    population: ITTFL
  - code: TRANSPLANT
    kind: incidence
    method: cumulative_incidence_aalen_johansen_gray
    params: [LTX]
    population: ITTFL
"""
SCHEDULE = VisitSchedule(
    (VisitWindow("6 months", 182, 60, 60), VisitWindow("1 year", 365, 60, 60),
     VisitWindow("2 years", 730, 90, 90))
)  # fmt: skip
NEEDED = {
    "ADSL": ["USUBJID", "ARMCD", "ITTFL", "STRATAR", "RANDDT", "DTHDT", "LTXDT"],
    "ADLB": ["USUBJID", "PARAMCD", "AVAL", "AVALC", "BASE", "ABLFL", "AVISITN", "ANL01FL"],
    "ADTTE": ["USUBJID", "PARAMCD", "AVAL", "EVNTCD"],
}
"""The columns the plan's statistics read (docs/datasets.md): nothing else is written."""


def pbc_as_adam(pbc: pd.DataFrame, seq: pd.DataFrame) -> AdamDatasets:
    start = pd.Timestamp("1980-01-01")
    end = start + pd.to_timedelta(pbc["time"], unit="D")
    arm = np.where(pbc["trt"] == 1, "DPCA", "PLACEBO")
    label = np.where(pbc["trt"] == 1, "D-penicillamine", "Placebo")
    sex = pbc["sex"].str.upper()
    adsl = pd.DataFrame(
        {
            "USUBJID": pbc["id"].astype(str), "SITEID": "MAYO", "ARMCD": arm, "ARM": label,
            "ACTARMCD": arm, "TRT01P": label, "TRT01A": label, "STRATAR": sex,
            "ITTFL": "Y", "PPROTFL": "Y", "SAFFL": "Y", "RANDDT": start, "AGE": 50.0,
            "SEX": sex, "ETIOLOGY": "PBC", "CPCLSBL": "B", "CPSCRBL": np.nan, "MELDBL": np.nan,
            "EOSSTT": "COMPLETED", "DCSREAS": None, "EOSDT": end,
            "DTHDT": end.where(pbc["status"] == 2), "LTXDT": end.where(pbc["status"] == 1),
            "LSTALVDT": end, "UNBLINDFL": "N",
        }
    )  # fmt: skip
    ids = pbc["id"].astype(str)
    tte = []
    for code, evnt in (
        ("OS", np.where(pbc["status"] == 2, 1, 0)),
        ("TFS", np.where(pbc["status"] > 0, 1, 0)),
        ("LTX", pbc["status"].map({0: 0, 1: 1, 2: 2}).to_numpy()),
    ):
        tte.append(
            pd.DataFrame(
                {
                    "USUBJID": ids,
                    "PARAMCD": code,
                    "PARAM": code,
                    "AVAL": pbc["time"],
                    "CNSR": np.where(evnt == 1, 0, 1),
                    "EVNTCD": evnt,
                    "STARTDT": start,
                    "ADT": end,
                }
            )  # fmt: skip
        )
    labs = []
    for param, column in (("ALBUMIN", "albumin"), ("BILIRUBIN", "bili")):
        rec = pd.DataFrame(
            {"USUBJID": seq["id"].astype(str), "PARAMCD": param, "PARAM": param,
             "ADY": seq["day"], "AVAL": seq[column]}
        )  # fmt: skip
        labs.append(derive_analysis_flags(rec, SCHEDULE))
    adlb = pd.concat(labs, ignore_index=True)
    adlb["ADT"] = start + pd.to_timedelta(adlb["ADY"], unit="D")
    adlb["AVALC"] = np.where(
        adlb["PARAMCD"] == "ALBUMIN", np.where(adlb["AVAL"] >= 3.5, "NORMAL", "LOW"), None
    )
    adae = pd.DataFrame({c: [] for c in ADAE.names})
    return AdamDatasets(adsl, adlb, pd.concat(tte, ignore_index=True), adae)


def _analyze(folder, extra=()) -> dict:
    (folder / "plan.yaml").write_text(PLAN)
    args = build_parser(plugged={"hepatrial.analysis.cli"}).parse_args(
        ["analyze", "--adam", str(folder / "adam"), "--out", str(folder / "out"),
         "--plan", str(folder / "plan.yaml"), *extra]
    )  # fmt: skip
    assert cli.run(args) == 0
    return json.loads((folder / "out" / "results.json").read_text())


@pytest.fixture(scope="module")
def pbc_data(r_reference) -> AdamDatasets:
    pbc = pd.read_csv(f"{r_reference['_dir']}/pbc.csv")
    seq = pd.read_csv(f"{r_reference['_dir']}/pbcseq.csv")
    return pbc_as_adam(pbc, seq)


@pytest.fixture(scope="module")
def results(pbc_data, tmp_path_factory) -> dict:
    """PBC as a new user writes it: ADSL.csv..., only the needed columns, no ADAE.csv."""
    folder = tmp_path_factory.mktemp("pbc_adam")
    (folder / "adam").mkdir()
    for name, columns in NEEDED.items():
        frame = pbc_data.by_name()[name][columns]
        frame.to_csv(folder / "adam" / f"{name}.csv", index=False, date_format="%Y-%m-%d")
    return _analyze(folder, ["--no-report"])


@pytest.fixture(scope="module")
def report(pbc_data, tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("pbc_report")
    write_adam(pbc_data, folder / "adam")
    plan = yaml.safe_load(PLAN) | {"safety_population": "SAFFL"}
    (folder / "plan.yaml").write_text(yaml.safe_dump(plan))
    args = build_parser(plugged={"hepatrial.analysis.cli"}).parse_args(
        ["analyze", "--adam", str(folder / "adam"), "--out", str(folder / "out"),
         "--plan", str(folder / "plan.yaml"), "--unblinded"]
    )  # fmt: skip
    assert cli.run(args) == 0
    return (folder / "out" / "report.html").read_text(encoding="utf-8")


def test_the_new_users_files_are_what_was_written(results):
    assert set(results["endpoints"]) == {"ALB_NORMAL", "BILI_CHG", "ALB_CHG", "SURVIVAL",
                                         "TRANSPLANT"}  # fmt: skip
    assert set(results["change_from_baseline"]) == {"ALBUMIN", "BILIRUBIN"}
    assert set(results["survival"]) == {"OS", "TFS"} and set(results["competing_risks"]) == {"LTX"}
    assert results["safety"] is None
    assert all(not e["not_estimable"] for e in results["endpoints"].values())


def test_another_trials_datasets_get_their_report(report):
    """Not our trial, not our arms: the report still shows every section, in their names."""
    html = report
    assert "Allocated to D-penicillamine" in html and "Allocated to Placebo" in html
    assert "Blinded report" not in html and html.count("Number at risk") >= 2


def approx(value, rel=1e-8):
    return pytest.approx(value, rel=rel, abs=1e-12)


def test_composite_responder_analysis_matches_r(results, r_reference):
    # R: albumin >= 3.5 at the 1-year window; death/transplant by day 365 or missing = 0;
    # Newcombe limits from prop.test(correct = FALSE); fisher.test(table(arm, resp))
    ref = r_reference["composite"]
    primary = results["primary"]
    assert [primary["by_arm"][a]["responders"] for a in ("DPCA", "PLACEBO")] == ref["x"]
    assert [primary["by_arm"][a]["n"] for a in ("DPCA", "PLACEBO")] == ref["n"]
    rd = primary["risk_difference"]
    assert [rd["ci_lower"], rd["ci_upper"]] == approx(ref["newcombe"])
    assert primary["fisher_exact_p"] == approx(ref["fisher_p"], rel=1e-7)


def test_change_from_baseline_ancova_matches_lm(results, r_reference):
    # R: lm(I(log(bili) - log(bili_base)) ~ treated + log(bili_base) + female), visit 365
    bili = results["change_from_baseline"]["BILIRUBIN"]["ancova"]
    assert bili["coef"] == approx(r_reference["ancova_log"]["coef"])
    assert np.log(bili["estimate"]) == approx(r_reference["ancova_log"]["coef"])
    # R: lm(I(albumin - albumin_base) ~ treated + albumin_base + female), visit 365
    alb = results["change_from_baseline"]["ALBUMIN"]["ancova"]
    assert alb["coef"] == approx(r_reference["ancova_lin"]["coef"])
    assert alb["p_value"] == approx(r_reference["ancova_lin"]["p"], rel=1e-7)
    # R: nlme::lme(..., random = ~ 1 | id, method = "REML"), contrast at visit 365
    mm = results["change_from_baseline"]["ALBUMIN"]["mixed_model"]
    assert mm["coef"] == approx(r_reference["lme"]["coef"], rel=1e-4)


def test_survival_results_match_survfit_survdiff_coxph(results, r_reference):
    death = results["survival"]["OS"]
    # R: summary(survfit(Surv(time, dead) ~ arm), times = c(1000, 2000, 3000))
    surv = [tp["surv"] for a in ("DPCA", "PLACEBO") for tp in death["by_arm"][a]["timepoints"]]
    assert surv == approx(r_reference["km"]["surv"])
    lower = [tp["lower"] for a in ("DPCA", "PLACEBO") for tp in death["by_arm"][a]["timepoints"]]
    assert lower == approx(r_reference["km"]["lower"])
    # R: survdiff(Surv(time, dead) ~ arm)$chisq
    assert death["logrank"]["chisq"] == approx(r_reference["logrank"]["chisq"])
    # R: coxph(Surv(time, dead) ~ arm) and coxph(Surv(time, dead) ~ arm + sex)
    assert death["cox"]["log_hazard_ratio"] == approx(r_reference["cox"]["coef"], rel=1e-6)
    adjusted = death["cox_adjusted"]
    assert adjusted["log_hazard_ratio"] == approx(r_reference["cox_adjusted"]["coef"], rel=1e-6)
    assert adjusted["se"] == approx(r_reference["cox_adjusted"]["se"], rel=1e-6)
    assert [c["name"] for c in adjusted["fit"]["coefficients"]] == ["treated", "STRATAR=M"]
    # R: median of survfit(Surv(time, status > 0) ~ 1) is pooled; per arm from km_median
    assert death["by_arm"]["DPCA"]["median"]["median"] == r_reference["km_median"]["median"][0]


def test_transplant_cumulative_incidence_matches_cuminc(results, r_reference):
    ltx = results["competing_risks"]["LTX"]
    # R: timepoints(cuminc(time, status, trt, cencode = 0), times)$est rows "1 1", "2 1"
    est = [
        tp["cif"] for a in ("DPCA", "PLACEBO") for tp in ltx["by_arm"][a]["cumulative_incidence"]
    ]
    assert est == approx(list(np.ravel(r_reference["cuminc"]["est"][:2])))
    # R: cuminc(...)$Tests["1", "stat"] and with strata = sex
    assert ltx["gray_test"]["statistic"] == approx(r_reference["cuminc"]["tests"][0][0], rel=1e-7)
    stratified = ltx["gray_test_stratified"]["statistic"]
    assert stratified == approx(r_reference["cuminc_strat_tests"][0][0], rel=1e-7)
