"""run_analysis on synthetic NCT06242405 data, the plan, the CLI and hand-checked formulas."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pytest

from hepatrial.analysis import binary, cli
from hepatrial.analysis.datasets import write_adam
from hepatrial.analysis.plan import AnalysisPlan
from hepatrial.analysis.run import run_analysis
from tests.analysis.nct import nct_plan


@pytest.fixture(scope="module")
def results(trial92) -> dict:
    return run_analysis(trial92, nct_plan())


def test_results_are_plain_json_without_nan(results):
    text = json.dumps(results, allow_nan=False)
    assert json.loads(text) == results


def test_results_cover_every_registered_outcome(results):
    assert set(results) == {
        "meta", "populations", "endpoints", "primary", "change_from_baseline", "survival",
        "competing_risks", "safety", "descriptive",
    }  # fmt: skip
    assert set(results["change_from_baseline"]) == set(nct_plan().summary()["change_params"])
    assert {"DECOMP", "GIBLEED", "ASCITES", "HE", "LTX"} <= set(results["competing_risks"])
    assert {"DEATH", "TFS"} <= set(results["survival"])
    assert results["change_from_baseline"]["ALT"]["scale"] == "log"
    assert results["change_from_baseline"]["ALB"]["scale"] == "linear"


def test_primary_counts_death_and_transplant_as_not_class_a(trial92, results):
    adsl = trial92.adsl
    lb = trial92.adlb
    w24 = lb[(lb["PARAMCD"] == "CPCLASS") & (lb["AVISITN"] == 168)].set_index("USUBJID")["AVALC"]
    ice = ((adsl["DTHDT"] - adsl["RANDDT"]).dt.days <= 168) | (
        (adsl["LTXDT"] - adsl["RANDDT"]).dt.days <= 168
    )
    resp = adsl["USUBJID"].map(w24).eq("A") & ~ice
    for arm in ("SINGLE", "DOUBLE"):
        sel = adsl["ARMCD"] == arm
        got = results["primary"]["by_arm"][arm]
        assert got["responders"] == int(resp[sel].sum())
        assert got["n"] == int(sel.sum())
    assert results["primary"]["missing_data"] == "non_responder"
    assert set(results["primary"]["sensitivity"]) == {
        "complete_case", "multiple_imputation", "per_protocol",
    }  # fmt: skip


def test_multiple_imputation_is_reproducible_with_its_seed(trial92):
    first = run_analysis(trial92, nct_plan())["primary"]["sensitivity"]["multiple_imputation"]
    second = run_analysis(trial92, nct_plan())["primary"]["sensitivity"]["multiple_imputation"]
    assert first == second
    other = run_analysis(trial92, nct_plan(seed=1))["primary"]["sensitivity"]
    assert other["multiple_imputation"] != first


def test_rubin_rules_by_hand():
    est, var = [0.1, 0.2, 0.3], [0.01, 0.02, 0.03]
    res = binary.rubin_combine(est, var)
    w, b = 0.02, 0.01
    t = w + (1 + 1 / 3) * b
    assert res["estimate"] == pytest.approx(0.2)
    assert res["se"] == pytest.approx(math.sqrt(t))
    assert res["df"] == pytest.approx(2 * (1 + w / ((1 + 1 / 3) * b)) ** 2)


def test_newcombe_matches_the_published_worked_example():
    # Newcombe (1998) Table II, example (a): 56/70 vs 48/80, method 10: 0.0524 to 0.3339
    res = binary.newcombe_difference(56, 70, 48, 80)
    assert res["ci_lower"] == pytest.approx(0.0524, abs=5e-5)
    assert res["ci_upper"] == pytest.approx(0.3339, abs=5e-5)


def test_plan_from_dict_reads_back_what_to_dict_writes_and_rejects_unknown_keys():
    plan = nct_plan()
    assert AnalysisPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    with pytest.raises(ValueError, match="unknown analysis plan keys"):
        AnalysisPlan.from_dict({**plan.to_dict(), "alpha": 0.05})
    with pytest.raises(ValueError, match="endpoint CPA_W24: missing_data 'last_observation'"):
        nct_plan(missing_data="last_observation")


def test_complete_case_primary_uses_only_observed_participants(trial92):
    plan = nct_plan(missing_data="complete_case", sensitivity=("non_responder",))
    res = run_analysis(trial92, plan)["primary"]
    missing = sum(c["missing"] for c in res["counts"].values())
    assert missing > 0
    assert sum(a["n"] for a in res["by_arm"].values()) == 92 - missing
    assert "non_responder" in res["sensitivity"]


def test_safety_counts_participants_once_and_every_event(trial92, results):
    ae = trial92.adae.merge(trial92.adsl[["USUBJID", "ACTARMCD", "SAFFL"]], on="USUBJID")
    ae = ae[(ae["SAFFL"] == "Y") & (ae["TRTEMFL"] == "Y")]
    for arm in ("SINGLE", "DOUBLE"):
        sub = ae[ae["ACTARMCD"] == arm]
        got = results["safety"]["overview"]["any"][arm]
        assert got["events"] == len(sub)
        assert got["participants"] == sub["USUBJID"].nunique()
    worst = results["safety"]["by_worst_grade"]
    total = sum(worst[g]["SINGLE"]["participants"] for g in worst)
    assert total == results["safety"]["overview"]["any"]["SINGLE"]["participants"]


def test_safety_of_a_blinded_export_counts_arms_as_randomized(trial92):
    blinded = type(trial92)(
        trial92.adsl.assign(ACTARMCD=""), trial92.adlb, trial92.adtte, trial92.adae
    )
    res = run_analysis(blinded, nct_plan())
    assert res["safety"]["arm_column"] == "ARMCD"
    ae = trial92.adae.merge(trial92.adsl[["USUBJID", "ARMCD", "SAFFL"]], on="USUBJID")
    ae = ae[(ae["SAFFL"] == "Y") & (ae["TRTEMFL"] == "Y") & (ae["ARMCD"] == "SINGLE")]
    assert res["safety"]["overview"]["any"]["SINGLE"]["events"] == len(ae) > 0
    assert sum(res["populations"]["SAFFL"].values()) == (trial92.adsl["SAFFL"] == "Y").sum()


def test_shift_table_accounts_for_every_participant_once(trial92, results):
    shift = results["descriptive"]["child_pugh_shift"]
    for arm, table in shift["by_arm"].items():
        total = sum(sum(row.values()) for row in table.values())
        assert total == results["populations"]["ITTFL"][arm]
    primary = results["primary"]
    for arm in ("SINGLE", "DOUBLE"):
        class_a = sum(row["A"] for row in shift["by_arm"][arm].values())
        assert class_a == primary["by_arm"][arm]["responders"]


def test_trajectory_means_match_the_data(trial92, results):
    alt = results["descriptive"]["trajectories"]["ALT"]
    lb = trial92.adlb.merge(trial92.adsl[["USUBJID", "ARMCD"]], on="USUBJID")
    week24 = lb[(lb["PARAMCD"] == "ALT") & (lb["AVISITN"] == 168) & (lb["ANL01FL"] == "Y")]
    expected = week24[week24["ARMCD"] == "DOUBLE"]["AVAL"]
    got = next(v for v in alt["by_arm"]["DOUBLE"] if v["visit"] == 168)
    assert got["n"] == len(expected)
    assert got["mean"] == pytest.approx(expected.mean())
    assert got["ci_lower"] < got["mean"] < got["ci_upper"]


def test_numbers_at_risk_count_follow_up_at_or_beyond_each_tick(trial92, results):
    death = trial92.adtte[trial92.adtte["PARAMCD"] == "DEATH"].merge(
        trial92.adsl[["USUBJID", "ARMCD"]], on="USUBJID"
    )
    table = results["survival"]["DEATH"]["by_arm"]["SINGLE"]["risk_table"]
    times = death[death["ARMCD"] == "SINGLE"]["AVAL"]
    assert table["n"] == [int((times >= t).sum()) for t in table["time"]]
    assert table["time"][0] == 0 and table["n"][0] == len(times)


def test_cli_writes_results_json(trial92, tmp_path):
    write_adam(trial92, tmp_path / "adam")
    plan = {**nct_plan().to_dict(), "km_timepoints": [28, 168]}
    (tmp_path / "plan.yaml").write_text(json.dumps(plan))
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(
        ["analyze", "--adam", str(tmp_path / "adam"), "--out", str(tmp_path / "out"),
         "--plan", str(tmp_path / "plan.yaml")]
    )  # fmt: skip
    assert args.func(args) == 0
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["meta"]["plan"]["km_timepoints"] == [28, 168]
    times = [tp["time"] for tp in data["survival"]["DEATH"]["by_arm"]["SINGLE"]["timepoints"]]
    assert times == [28, 168]


def test_cli_reports_invalid_datasets_with_exit_code_1(tmp_path, capsys):
    (tmp_path / "plan.json").write_text(json.dumps(nct_plan().to_dict()))
    args = argparse.Namespace(adam=str(tmp_path), out=str(tmp_path / "out"), plan=None,
                              no_report=True)  # fmt: skip
    assert cli.run(args) == 1
    assert "adsl.csv" in capsys.readouterr().err


def test_large_trial_runs(tmp_path):
    from hepatrial.analysis.synthetic import synthetic_adam

    res = run_analysis(synthetic_adam(1000, seed=3), nct_plan())
    assert (
        res["populations"]["randomized"]["SINGLE"] + res["populations"]["randomized"]["DOUBLE"]
        == 1000
    )
    assert np.isfinite(res["competing_risks"]["DECOMP"]["gray_test"]["statistic"])


def test_multiple_imputation_as_primary_reports_arms_and_difference(trial92):
    res = run_analysis(trial92, nct_plan(missing_data="multiple_imputation"))["primary"]
    assert res["missing_data"] == "multiple_imputation"
    single, double = res["by_arm"]["SINGLE"], res["by_arm"]["DOUBLE"]
    assert single["ci_lower"] <= single["proportion"] <= single["ci_upper"]
    rd = res["risk_difference"]
    assert rd["estimate"] == pytest.approx(double["proportion"] - single["proportion"])
    assert rd["n_missing"] == sum(c["missing"] for c in res["counts"].values())


def test_analysis_package_does_not_import_django():
    import subprocess
    import sys

    code = (
        "import sys, hepatrial.analysis.run, hepatrial.analysis.cli, hepatrial.analysis.datasets;"
        "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_datasets_whose_arms_are_not_the_plans_are_refused(tmp_path):
    from hepatrial.analysis.run import PlanMismatch, run_analysis
    from hepatrial.analysis.synthetic import synthetic_adam

    datasets = synthetic_adam(40, seed=3)
    datasets.adsl["ARMCD"] = datasets.adsl["ARMCD"].map({"SINGLE": "X", "DOUBLE": "Y"})
    with pytest.raises(PlanMismatch, match="ADSL ARMCD has arms X, Y but the analysis plan"):
        run_analysis(datasets, nct_plan())


def test_trajectories_without_the_optional_unit_column(trial92):
    data = type(trial92)(trial92.adsl, trial92.adlb.drop(columns="AVALU"), trial92.adtte,
                         trial92.adae)  # fmt: skip
    results = run_analysis(data, nct_plan())
    assert results["descriptive"]["trajectories"]["ALT"]["unit"] == ""
