"""The analysis plan read from the protocol, and datasets brought from elsewhere."""

from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest
import yaml

from hepatrial.analysis import cli
from hepatrial.analysis.datasets import AdamValidationError, read_adam, write_adam
from hepatrial.analysis.plan import AnalysisPlan
from hepatrial.analysis.run import PlanMismatch, run_analysis
from hepatrial.protocol.loader import ProtocolError, parse_protocol
from tests.analysis.nct import PROTOCOL, nct_plan


def _protocol_with(edit) -> str:
    """The shipped protocol's text with ``edit`` applied to its parsed analysis section."""
    data = yaml.safe_load(PROTOCOL.read_text(encoding="utf-8"))
    edit(data["analysis"])
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _endpoint(analysis: dict, code: str) -> dict:
    return next(e for e in analysis["endpoints"] if e["code"] == code)


def test_plan_follows_the_protocols_analysis_section():
    plan = nct_plan()
    primary = plan.primary
    assert (primary.code, primary.params, primary.responder_value) == ("CPA_W24", ("CPCLASS",), "A")
    assert primary.composite_events == ("DTHDT", "LTXDT")
    assert (primary.timepoint_visit, primary.population) == (168.0, "ITTFL")
    change = {e.code: e for e in plan.endpoints if e.kind == "change_from_baseline"}
    assert change["LIVER_CHG_LOG"].params == ("ALT", "AST", "ALP", "BILI")
    assert change["LIVER_CHG_LOG"].log_scale and not change["LIVER_CHG"].log_scale
    assert change["LIVER_CHG"].exclude_after == ("LTXDT",)  # while on treatment: transplant
    assert "MELD" in change["LIVER_CHG"].params  # a derived item, through its score
    decomp = next(e for e in plan.endpoints if e.code == "DECOMP")
    assert decomp.params == ("DECOMP", "GIBLEED", "ASCITES", "HE")  # by the item's role
    assert plan.covariates == ("STRATAR",)  # the stratification factor by default
    assert [v.day for v in plan.visits] == [7, 28, 56, 84, 168]
    assert (plan.safety_population, plan.per_protocol_population) == ("SAFFL", "PPROTFL")


def test_editing_the_endpoints_missing_data_in_the_protocol_changes_the_analysis(trial92):
    def complete_case(analysis):
        _endpoint(analysis, "CPA_W24")["missing_data"] = "complete_case"

    protocol = parse_protocol(_protocol_with(complete_case)).protocol
    res = run_analysis(trial92, AnalysisPlan.from_protocol(protocol))["primary"]
    assert res["missing_data"] == "complete_case"
    missing = sum(c["missing"] for c in res["counts"].values())
    assert missing > 0 and sum(a["n"] for a in res["by_arm"].values()) == 92 - missing


def test_editing_the_endpoints_method_in_the_protocol_changes_the_analysis(trial92):
    def unadjusted(analysis):
        _endpoint(analysis, "LIVER_CHG")["method"] = "ancova_baseline"
        _endpoint(analysis, "LIVER_CHG")["sensitivity"] = []

    before = run_analysis(trial92, nct_plan())["change_from_baseline"]["ALB"]
    protocol = parse_protocol(_protocol_with(unadjusted)).protocol
    after = run_analysis(trial92, AnalysisPlan.from_protocol(protocol))["change_from_baseline"]
    assert before["covariates"] == ["STRATAR"] and after["ALB"]["covariates"] == []
    assert after["ALB"]["ancova"]["estimate"] != before["ancova"]["estimate"]
    assert "mixed_model" in before and "mixed_model" not in after["ALB"]


def test_an_unknown_method_is_an_error_naming_the_endpoint():
    def unknown(analysis):
        _endpoint(analysis, "SURVIVAL")["method"] = "weibull_aft"

    with pytest.raises(
        ProtocolError, match="endpoints\\[4\\].method.*unknown method 'weibull_aft'"
    ):
        parse_protocol(_protocol_with(unknown))
    with pytest.raises(ValueError, match="endpoint SURVIVAL: unknown method 'weibull_aft'"):
        plan = nct_plan().to_dict()
        plan["endpoints"][4]["method"] = "weibull_aft"
        AnalysisPlan.from_dict({k: v for k, v in plan.items() if k in ("arms", "endpoints")})


def test_protocol_covariates_and_strata_reach_the_cox_model(trial92):
    def stratified(analysis):
        _endpoint(analysis, "SURVIVAL").update(covariates=["AGE"], strata=["STRATAR"])

    protocol = parse_protocol(_protocol_with(stratified)).protocol
    death = run_analysis(trial92, AnalysisPlan.from_protocol(protocol))["survival"]["DEATH"]
    fit = death["cox_adjusted"]["fit"]
    assert [c["name"] for c in fit["coefficients"]] == ["treated", "AGE"]
    assert fit["stratified"] and fit["strata"] == 2
    assert {"likelihood_ratio_test", "score_test", "wald_test", "concordance"} <= set(fit)


def test_a_summary_key_that_contradicts_the_endpoints_is_refused():
    plan = nct_plan().to_dict()
    plan["missing_data"] = "complete_case"
    with pytest.raises(ValueError, match="missing_data is derived from the endpoints"):
        AnalysisPlan.from_dict(plan)


def _pbc_like(trial92, tmp_path, upper: bool = True):
    write_adam(trial92, tmp_path)
    if upper:
        for name in ("adsl", "adlb", "adtte", "adae"):
            (tmp_path / f"{name}.csv").rename(tmp_path / f"{name.upper()}.csv")
    return tmp_path


def test_dataset_file_names_match_in_any_case(trial92, tmp_path):
    folder = _pbc_like(trial92, tmp_path)
    (folder / "ADSL.csv").rename(folder / "Adsl.CSV")
    assert len(read_adam(folder).adsl) == 92


def test_two_files_matching_one_dataset_are_named(trial92, tmp_path):
    folder = _pbc_like(trial92, tmp_path)
    (folder / "adsl.csv").write_text((folder / "ADSL.csv").read_text())
    with pytest.raises(AdamValidationError, match="two files match .*: ADSL.csv and adsl.csv"):
        read_adam(folder)


def test_only_the_columns_the_plan_reads_are_required(trial92, tmp_path):
    write_adam(trial92, tmp_path)
    adsl = pd.read_csv(tmp_path / "adsl.csv", dtype=str, keep_default_na=False)
    unused = ["ETIOLOGY", "CPCLSBL", "EOSSTT", "UNBLINDFL", "SITEID", "AGE", "SEX", "LSTALVDT"]
    adsl.drop(columns=unused).to_csv(tmp_path / "adsl.csv", index=False)
    plan = nct_plan()
    with pytest.raises(AdamValidationError, match="CPCLSBL: required column is missing"):
        read_adam(tmp_path)  # the full specification, as an export is checked
    data = read_adam(tmp_path, plan)
    assert run_analysis(data, plan)["primary"]["by_arm"]["SINGLE"]["n"] == 46
    adsl.drop(columns=["STRATAR"]).to_csv(tmp_path / "adsl.csv", index=False)
    with pytest.raises(AdamValidationError, match="adsl.csv column STRATAR: required column"):
        read_adam(tmp_path, plan)  # the plan's covariate


def test_a_plan_entry_without_data_is_an_error_naming_it(trial92):
    plan = nct_plan()
    data = type(trial92)(trial92.adsl, trial92.adlb, trial92.adtte[trial92.adtte["PARAMCD"]
                         != "GIBLEED"], trial92.adae)  # fmt: skip
    with pytest.raises(PlanMismatch, match="endpoint DECOMP, parameter GIBLEED: no ADTTE records"):
        run_analysis(data, plan)


def test_a_plan_may_report_an_entry_without_data_as_not_estimable(trial92):
    data = type(trial92)(trial92.adsl, trial92.adlb[trial92.adlb["PARAMCD"] != "PT"],
                         trial92.adtte, trial92.adae)  # fmt: skip
    res = run_analysis(data, nct_plan(if_no_data="not_estimable"))
    entry = res["endpoints"]["LIVER_CHG"]["not_estimable"]["PT"]
    assert entry["estimable"] is False and "no ADLB records of PT" in entry["reason"]
    assert "PT" not in res["change_from_baseline"] and "ALB" in res["change_from_baseline"]


def test_analyze_without_a_plan_or_protocol_says_what_to_give(trial92, tmp_path, capsys):
    write_adam(trial92, tmp_path / "adam")
    args = argparse.Namespace(adam=str(tmp_path / "adam"), out=str(tmp_path / "out"), plan=None,
                              no_report=True, protocol=None)  # fmt: skip
    assert cli.run(args) == 2
    assert "no analysis plan: give --plan FILE" in capsys.readouterr().err
    (tmp_path / "adam" / "protocol.yaml").write_text(PROTOCOL.read_text(encoding="utf-8"))
    assert cli.run(args) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["meta"]["plan"]["responder_param"] == "CPCLASS"


def test_an_endpoint_names_the_event_codes_of_its_event_and_competing_events(trial92):
    """Death before transplant as the event of LTX's records, transplant as its competitor."""
    plan = nct_plan()
    swapped = AnalysisPlan.from_dict(
        {
            "arms": list(plan.arms),
            "endpoints": [
                {"code": "DEATH_FIRST", "kind": "incidence", "params": ["LTX"],
                 "method": "cumulative_incidence_aalen_johansen_gray", "population": "ITTFL",
                 "timepoint_day": 168, "event_code": 2, "competing_codes": [1]}
            ],
        }
    )  # fmt: skip
    res = run_analysis(trial92, swapped)["competing_risks"]["LTX"]["by_arm"]["SINGLE"]
    tte = trial92.adtte.merge(trial92.adsl[["USUBJID", "ARMCD"]], on="USUBJID")
    single = tte[(tte["PARAMCD"] == "LTX") & (tte["ARMCD"] == "SINGLE") & (tte["AVAL"] <= 168)]
    assert res["participants_with_event"] == int((single["EVNTCD"] == 2).sum())
    assert res["competing_events"] == int((single["EVNTCD"] == 1).sum())
