"""The statistical report: every registered outcome, CONSORT counts, blinding by recoding, stamp."""

import argparse
import hashlib
import json
import re
import subprocess

import pandas as pd
import pytest

from hepatrial.analysis import cli as analysis_cli
from hepatrial.analysis.datasets import AdamDatasets, read_adam, write_adam
from hepatrial.analysis.synthetic import synthetic_adam
from hepatrial.protocol import load_protocol
from hepatrial.reports import build_report
from hepatrial.reports.blinding import (
    UnblindingLeak,
    blinded_inputs,
    check_no_leak,
    is_coded,
    recode_datasets,
)
from hepatrial.reports.render import SECTIONS
from tests.analysis.nct import nct_plan

TRUE_NAMES = ("SINGLE", "DOUBLE", "Single infusion", "Double infusion")


@pytest.fixture(scope="module")
def data() -> AdamDatasets:
    return synthetic_adam(92)


@pytest.fixture(scope="module")
def blinded(data):
    return build_report(data, nct_plan(), seed=7)


@pytest.fixture(scope="module")
def unblinded(data):
    return build_report(data, nct_plan(), blinded=False)


def _screening(n_randomized: int) -> pd.DataFrame:
    failed = [
        ("IE.EXC03", "Serious cardiopulmonary disease"),
        ("IE.EXC03;IE.EXC05", "Serious cardiopulmonary disease;HIV infection"),
        ("IE.INC01", "Aged 18 to 80 years"),
    ]
    rows = [("randomized", "", "")] * n_randomized
    rows += [("screen_failed", code, label) for code, label in failed]
    rows += [("declined", "", ""), ("pending", "", ""), ("other", "", "")]
    return pd.DataFrame(rows, columns=["SCRSTAT", "FAILCRIT", "FAILLBL"])


def test_every_section_and_registered_outcome_is_in_the_report(blinded):
    for key in SECTIONS:
        assert f"id='{key}'" in blinded.html
    for outcome in ("Child-Pugh class A", "Alanine aminotransferase", "Aspartate aminotransferase",
                    "Alkaline phosphatase", "Total bilirubin", "Albumin", "Prothrombin time",
                    "International normalized ratio", "MELD score", "Child-Pugh score",
                    "gastrointestinal bleeding", "ascites", "hepatic encephalopathy",
                    "death from any cause", "Liver transplantation"):  # fmt: skip
        assert outcome.lower() in blinded.html.lower(), outcome


def test_figures_are_drawn_for_each_outcome(blinded):
    html = blinded.html
    assert html.count("Number at risk") == 2 + 4 + 1  # KM (death, TFS), 4 CIF, transplant CIF
    assert html.count("mean and 95% CI at each visit") == len(nct_plan().summary()["change_params"])
    assert "Proportion in Child-Pugh class A: difference between arms" in html
    assert html.count("<svg") == 1 + 1 + 9 + 7


def test_numbers_at_risk_printed_under_a_curve_are_the_results(blinded):
    section = blinded.html[blinded.html.index("id='survival'") :]
    figure = section[section.index("<figure>") : section.index("</figure>")]
    texts = re.findall(r">([^<]+)</text>", figure[figure.index("Number at risk") :])
    x_at, y_at = texts.index("Arm X"), texts.index("Arm Y")
    by_arm = blinded.results["survival"]["DEATH"]["by_arm"]
    assert [int(n) for n in texts[x_at + 1 : y_at]] == by_arm["X"]["risk_table"]["n"]
    y_counts = by_arm["Y"]["risk_table"]["n"]
    assert [int(n) for n in texts[y_at + 1 : y_at + 1 + len(y_counts)]] == y_counts


def test_primary_table_shows_estimate_and_sensitivity_rows(blinded):
    primary = blinded.results["primary"]
    section = blinded.html[blinded.html.index("id='primary'") : blinded.html.index("id='change")]
    x = primary["by_arm"]["X"]
    assert f"{x['responders']}/{x['n']}" in section
    assert (
        "Sensitivity: Complete cases" in section and "Sensitivity: Multiple imputation" in section
    )
    assert "Sensitivity: Per-protocol population" in section
    assert "Risk difference, Arm Y vs Arm X" in section


def test_shift_table_rows_add_up_to_the_arm(blinded):
    shift = blinded.results["descriptive"]["child_pugh_shift"]["by_arm"]
    for arm in ("X", "Y"):
        total = sum(sum(r.values()) for r in shift[arm].values())
        assert total == blinded.results["populations"]["ITTFL"][arm]


def test_consort_counts_and_exclusion_reasons_by_criterion(data):
    html = build_report(data, nct_plan(), screening=_screening(92), seed=1).html
    assert "Assessed for eligibility (n=98)" in html and "Excluded (n=6)" in html
    assert "Not meeting eligibility criteria (n=3)" in html
    assert "IE.EXC03 Serious cardiopulmonary disease (n=2)" in html
    assert "IE.EXC05 HIV infection (n=1)" in html
    assert "a person may fail more than one criterion" in html
    assert "Declined to participate (n=1)" in html and "not yet randomized (n=1)" in html
    allocated = [int(n) for n in re.findall(r"Allocated to [^<]*\(n=(\d+)\)", html)]
    assert sum(allocated) == 92
    assert html.count('marker-end="url(#arrow)"') == 2 + 2 + 2 * 2


def test_consort_without_screening_says_where_it_starts(blinded):
    assert "No screening list (screening.csv) supplied" in blinded.html


def test_blinded_report_never_shows_a_true_arm_name_in_html_or_pdf(blinded, tmp_path):
    assert "Blinded report: arms are coded" in blinded.html
    for word in TRUE_NAMES:
        assert word not in blinded.html
    blinded.write(tmp_path)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    for word in TRUE_NAMES:
        assert word not in text
    assert "Blinded report" in text and "Arm X" in text


def test_blinded_contrast_is_always_y_versus_x_whatever_the_coding(data):
    for seed in (1, 2, 3, 4):
        results = build_report(data, nct_plan(), seed=seed).results
        assert results["meta"]["reference_arm"] == "X"
        assert results["meta"]["contrast"] == "Y versus X"


def test_blinded_numbers_are_the_unblinded_numbers_under_the_coding(data, unblinded):
    coded, plan, _ = blinded_inputs(data, nct_plan(), seed=5)
    mapping = dict(zip(data.adsl["ARMCD"], coded.adsl["ARMCD"], strict=True))
    results = build_report(data, nct_plan(), seed=5).results
    for true_arm, letter in mapping.items():
        clear = unblinded.results["primary"]["by_arm"][true_arm]
        assert results["primary"]["by_arm"][letter]["responders"] == clear["responders"]
        assert (
            results["populations"]["ITTFL"][letter]
            == unblinded.results["populations"]["ITTFL"][true_arm]
        )


def test_unblinded_report_names_the_arms(unblinded):
    assert "Single infusion" in unblinded.html and "Blinded report" not in unblinded.html


def test_leak_check_refuses_a_page_with_a_true_name():
    with pytest.raises(UnblindingLeak, match="SINGLE"):
        check_no_leak("<td>SINGLE</td>", {"SINGLE"})
    check_no_leak("<p>single-masked, a single model</p>", {"SINGLE", "Single infusion"})


def test_already_coded_datasets_keep_their_letters(data):
    coded = recode_datasets(data, {"SINGLE": "Y", "DOUBLE": "X"})
    assert is_coded(coded.adsl)
    plan = nct_plan(arms=("Y", "X"), arm_labels={"Y": "Arm Y", "X": "Arm X"})
    same, plan2, secret = blinded_inputs(coded, plan)
    assert same is coded and plan2.arms == ("X", "Y") and secret == {}


def test_stamp_has_hashes_of_data_plan_and_protocol(data, tmp_path):
    f = tmp_path / "adsl.csv"
    f.write_text("a,b\n1,2\n")
    protocol = load_protocol("protocols/nct06242405.yaml")
    html = build_report(data, nct_plan(), seed=1, data_files=[f], protocol=protocol).html
    stamp = html[html.index("id='stamp'") :]
    assert hashlib.sha256(f.read_bytes()).hexdigest() in stamp
    assert protocol.content_hash in stamp and "analysis plan SHA-256" in stamp
    assert "NCT06242405" in html


def test_methods_follow_the_plan(data):
    plan = nct_plan(missing_data="complete_case", km_timepoints=(30.0, 90.0), imputations=20)
    html = build_report(data, plan, seed=1).html
    methods = html[html.index("id='methods'") : html.index("id='consort'")]
    assert "no value are excluded (complete-case analysis)" in methods
    assert "days 30 and 90" in methods and "20 imputations" in methods


def test_received_counts_come_from_the_safety_flag_which_blinded_exports_keep(data):
    blinded_export = AdamDatasets(data.adsl.assign(ACTARMCD=""), data.adlb, data.adtte, data.adae)
    html = build_report(blinded_export, nct_plan(), seed=3).html
    received = [int(n) for n in re.findall(r"Received allocated intervention \(n=(\d+)\)", html)]
    assert sum(received) == int((data.adsl["SAFFL"] == "Y").sum()) > 0
    assert "safety population analysed as randomized" in html


def test_analyze_writes_results_html_and_pdf(data, tmp_path):
    write_adam(data, tmp_path / "adam")
    (tmp_path / "adam" / "plan.json").write_text(json.dumps(nct_plan().to_dict()))
    _screening(92).to_csv(tmp_path / "adam" / "screening.csv", index=False)
    parser = argparse.ArgumentParser()
    analysis_cli.register(parser.add_subparsers())
    args = parser.parse_args(["analyze", "--adam", str(tmp_path / "adam"), "--out",
                              str(tmp_path / "out")])  # fmt: skip
    assert args.func(args) == 0
    out = tmp_path / "out"
    assert json.loads((out / "results.json").read_text())["primary"]
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    html = (out / "report.html").read_text()
    assert "Blinded report" in html and "Excluded (n=6)" in html
    assert hashlib.sha256((tmp_path / "adam" / "adsl.csv").read_bytes()).hexdigest() in html
    assert read_adam(tmp_path / "adam").adsl.shape[0] == 92


def test_ids_are_unique_across_the_page_so_no_figure_clips_to_another(blinded):
    ids = re.findall(r'\bid="([^"]+)"', blinded.html)
    assert len(ids) > 100 and len(ids) == len(set(ids))
    for target in set(re.findall(r"url\(#([^)]+)\)", blinded.html)):
        assert target in ids


def test_report_of_a_blinded_export_says_infusion_reactions_are_withheld(data):
    coded = recode_datasets(data, {"SINGLE": "X", "DOUBLE": "Y"})
    without = AdamDatasets(coded.adsl, coded.adlb, coded.adtte,
                           coded.adae[coded.adae["INFRFL"] != "Y"])  # fmt: skip
    plan = nct_plan(arms=("X", "Y"), arm_labels={"X": "Arm X", "Y": "Arm Y"})
    assert "leaves infusion reactions out" in build_report(without, plan).html
    assert "leaves infusion reactions out" not in build_report(data, nct_plan(), seed=1).html


def test_results_given_by_the_caller_are_reused_only_for_the_same_arms_and_plan(data, unblinded):
    clear = unblinded.results
    again = build_report(data, nct_plan(), blinded=False, results=clear)
    assert again.results is clear
    blinded = build_report(data, nct_plan(), seed=2, results=clear)
    assert blinded.results is not clear and blinded.results["meta"]["arms"] == {
        "X": "Arm X", "Y": "Arm Y"
    }  # fmt: skip
    for word in TRUE_NAMES:
        assert word not in blinded.html


def _analyze(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    analysis_cli.register(parser.add_subparsers())
    args = parser.parse_args(["analyze", *argv])
    return args.func(args)


def test_analyze_checks_protocol_and_screening_list_before_any_work(data, tmp_path, capsys):
    write_adam(data, tmp_path / "adam")
    (tmp_path / "adam" / "plan.json").write_text(json.dumps(nct_plan().to_dict()))
    broken = tmp_path / "broken.yaml"
    broken.write_text("study: [\n")
    out = tmp_path / "out"
    assert _analyze("--adam", str(tmp_path / "adam"), "--out", str(out),
                    "--protocol", str(broken)) == 2  # fmt: skip
    assert "broken.yaml:2" in capsys.readouterr().err and not out.exists()
    screening = _screening(92)
    screening.loc[[3, 95], "SCRSTAT"] = ["randomised", ""]
    screening.to_csv(tmp_path / "adam" / "screening.csv", index=False)
    assert _analyze("--adam", str(tmp_path / "adam"), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "SCRSTAT must be one of" in err and "data rows 4, 96" in err and not out.exists()
