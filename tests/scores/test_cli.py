"""`hepatrial score`: one patient from flags, a batch from CSV."""

import argparse
import subprocess
import sys

import pandas as pd
import pytest

from hepatrial.scores import cli
from hepatrial.scores.table import INPUT_COLUMNS, SCORE_COLUMNS


def run_score(argv):
    parser = argparse.ArgumentParser(prog="hepatrial")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["score", *argv])
    return args.func(args)


def test_register_adds_the_score_subcommand():
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["score", "--csv", "in.csv", "--out", "out.csv"])
    assert args.func is cli.run


def test_csv_reproduces_the_worked_examples(tmp_path, worked_examples, capsys):
    source = tmp_path / "in.csv"
    worked_examples.to_csv(source, index=False)
    out = tmp_path / "out.csv"
    assert run_score(["--csv", str(source), "--out", str(out)]) == 0
    scored = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(scored.columns) == list(worked_examples.columns) + SCORE_COLUMNS
    for name in SCORE_COLUMNS:
        assert list(scored[name]) == list(worked_examples[f"expected_{name}"]), name
    assert "9 of 9 rows scored" in capsys.readouterr().out


def test_bad_rows_are_reported_with_number_and_reason_and_others_still_scored(
    tmp_path, worked_examples, capsys
):
    table = worked_examples[INPUT_COLUMNS].copy()
    table.loc[2, "bilirubin"] = "-6"
    table.loc[4, "albumin_unit"] = "mg/dL"
    table.loc[5, "encephalopathy"] = "grade 5"
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    table.to_csv(source, index=False)
    assert run_score(["--csv", str(source), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "row 3 (case kim2021-t4-3): bilirubin='-6': must not be negative" in err
    assert "row 5 (case kim2021-t4-5): albumin_unit='mg/dL'" in err
    assert "row 6 (case kim2021-t4-6): encephalopathy='grade 5'" in err
    scored = pd.read_csv(out, dtype=str, keep_default_na=False)
    for bad in (2, 4, 5):
        assert all(scored.loc[bad, name] == "" for name in SCORE_COLUMNS)
    assert list(scored.loc[[0, 1, 3, 6, 7], "meld3"]) == ["16", "17", "26", "38", "39"]
    assert list(scored["case_id"]) == list(table["case_id"])


def test_empty_cells_leave_only_the_scores_that_need_them_empty(tmp_path, worked_examples):
    table = worked_examples[INPUT_COLUMNS].head(1).copy()
    table.loc[0, ["sex", "sodium", "ascites"]] = ["", "NA", "n/a"]
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    table.to_csv(source, index=False)
    assert run_score(["--csv", str(source), "--out", str(out)]) == 0
    row = pd.read_csv(out, dtype=str, keep_default_na=False).iloc[0]
    assert row["meld"] == "12" and row["albi_grade"] == "2"
    assert row["meld_na"] == row["meld3"] == row["child_pugh_points"] == ""


def test_missing_columns_stop_the_batch(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text("case_id,bilirubin\n1,2\n")
    assert run_score(["--csv", str(source), "--out", str(tmp_path / "o.csv")]) == 2
    assert "missing columns" in capsys.readouterr().err


def test_one_patient_from_flags(capsys):
    argv = [
        "--sex",
        "F",
        "--bilirubin",
        "12",
        "--bilirubin-unit",
        "mg/dL",
        "--creatinine",
        "2.8",
        "--creatinine-unit",
        "mg/dL",
        "--inr",
        "2.2",
        "--sodium",
        "128",
        "--albumin",
        "2.0",
        "--albumin-unit",
        "g/dL",
        "--ascites",
        "moderate-severe",
        "--encephalopathy",
        "grade 3-4",
    ]
    assert run_score(argv) == 0
    out = capsys.readouterr().out
    assert "meld3              39" in out
    assert "child_pugh_class   C" in out


def test_one_patient_reports_which_inputs_are_missing(capsys):
    assert run_score(["--bilirubin", "20", "--bilirubin-unit", "umol/L", "--inr", "1.1"]) == 0
    out = capsys.readouterr().out
    assert "meld               not computed (missing creatinine)" in out
    assert "child_pugh_points  not computed (missing albumin, ascites, encephalopathy)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--bilirubin", "-1", "--bilirubin-unit", "mg/dL"],
            "bilirubin='-1': must not be negative",
        ),
        (["--bilirubin", "1", "--bilirubin-unit", "mmol/L"], "bilirubin_unit='mmol/L'"),
        (["--bilirubin", "1"], "bilirubin_unit='': the unit of bilirubin is missing"),
        (["--ascites", "4"], "ascites='4': is out of range"),
    ],
)
def test_one_patient_with_bad_input_fails_naming_it(argv, message, capsys):
    assert run_score(argv) == 1
    assert message in capsys.readouterr().err


def test_module_runs_as_a_script(tmp_path, worked_examples):
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    worked_examples.to_csv(source, index=False)
    done = subprocess.run(
        [sys.executable, "-m", "hepatrial.scores.cli", "score", "--csv", source, "--out", out],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert pd.read_csv(out)["meld3"].tolist() == [16, 17, 25, 26, 27, 34, 38, 39, 16]
