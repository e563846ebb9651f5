"""Analysis dataset specification: reading, writing, validation and visit windows."""

from __future__ import annotations

import pandas as pd
import pytest

from hepatrial.analysis.datasets import (
    SPECS,
    AdamValidationError,
    VisitWindow,
    assign_visit,
    baseline_record,
    derive_analysis_flags,
    read_adam,
    write_adam,
)
from tests.analysis.nct import nct_schedule

WINDOWS = nct_schedule().windows


def test_written_datasets_read_back_identical(trial92, tmp_path):
    write_adam(trial92, tmp_path)
    back = read_adam(tmp_path)
    for name, frame in trial92.by_name().items():
        got = back.by_name()[name]
        assert list(got.columns[: len(frame.columns)]) == [
            c for c in SPECS[name].names if c in frame.columns
        ] or set(got.columns) == set(frame.columns)
        assert len(got) == len(frame)
    pd.testing.assert_series_equal(back.adsl["RANDDT"], trial92.adsl["RANDDT"], check_names=False)
    assert back.adlb["AVAL"].to_numpy() == pytest.approx(trial92.adlb["AVAL"].to_numpy())


def test_validation_errors_name_file_row_and_column(trial92, tmp_path):
    write_adam(trial92, tmp_path)
    adsl = pd.read_csv(tmp_path / "adsl.csv", dtype=str, keep_default_na=False)
    adsl.loc[2, "SEX"] = "X"
    adsl.loc[4, "RANDDT"] = "2024-13-01"
    adsl.loc[5, "ITTFL"] = ""
    adsl.to_csv(tmp_path / "adsl.csv", index=False)
    tte = pd.read_csv(tmp_path / "adtte.csv", dtype=str, keep_default_na=False)
    tte = tte.drop(columns=["CNSR"])
    tte.to_csv(tmp_path / "adtte.csv", index=False)
    with pytest.raises(AdamValidationError) as err:
        read_adam(tmp_path)
    messages = [str(i) for i in err.value.issues]
    assert "adsl.csv row 3 column SEX: 'X' is not one of ['M', 'F']" in messages
    assert any(m.startswith("adsl.csv row 5 column RANDDT") for m in messages)
    assert "adsl.csv row 6 column ITTFL: value is required" in messages
    assert "adtte.csv column CNSR: required column is missing" in messages


def test_cross_checks_catch_unknown_participants_and_inconsistent_censoring(trial92, tmp_path):
    write_adam(trial92, tmp_path)
    tte = pd.read_csv(tmp_path / "adtte.csv", dtype=str, keep_default_na=False)
    tte.loc[0, "USUBJID"] = "NOBODY"
    tte.loc[1, ["CNSR", "EVNTCD"]] = ["0", "2"]
    tte.to_csv(tmp_path / "adtte.csv", index=False)
    with pytest.raises(AdamValidationError) as err:
        read_adam(tmp_path)
    text = str(err.value)
    assert "adtte.csv row 1 column USUBJID: 'NOBODY' is not in adsl.csv" in text
    assert "adtte.csv row 2 column CNSR" in text


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(AdamValidationError, match="adsl.csv: file not found"):
        read_adam(tmp_path)


@pytest.mark.parametrize(
    ("day", "visit"),
    [(7, "Week 1"), (5, "Week 1"), (9, "Week 1"), (10, None), (25, "Week 4"), (31, "Week 4"),
     (32, None), (49, "Week 8"), (91, "Week 12"), (161, "Week 24"), (175, "Week 24"),
     (176, None), (0, None)],
)  # fmt: skip
def test_study_day_gets_the_visit_whose_window_contains_it(day, visit):
    got = assign_visit(day, WINDOWS)
    assert (got.name if got else None) == visit


def test_overlapping_windows_go_to_the_nearest_target_and_ties_to_the_earlier():
    windows = (VisitWindow("A", 10, 5, 5), VisitWindow("B", 20, 5, 5))
    assert assign_visit(14, windows).name == "A"
    assert assign_visit(16, windows).name == "B"
    assert assign_visit(15, windows).name == "A"


def test_baseline_is_the_last_value_on_or_before_day_zero():
    assert baseline_record([-10, -3, 0, 2], [1.0, 2.0, 3.0, 4.0]) == 2
    assert baseline_record([-10, -3, 0, 2], [1.0, 2.0, float("nan"), 4.0]) == 1
    assert baseline_record([1, 2], [1.0, 2.0]) is None


def test_analysis_flags_pick_the_record_nearest_each_target_ties_earlier():
    rec = pd.DataFrame(
        {"USUBJID": "S1", "PARAMCD": "ALT", "ADY": [-5, 0, 6, 8, 27, 29, 40, 168],
         "AVAL": [40.0, 50.0, 45.0, 44.0, 30.0, 31.0, 99.0, 20.0]}
    )  # fmt: skip
    out = derive_analysis_flags(rec, nct_schedule())
    analysed = out[out["ANL01FL"] == "Y"]
    assert analysed["ADY"].tolist() == [0, 6, 27, 168]
    assert analysed["AVISIT"].tolist() == ["Baseline", "Week 1", "Week 4", "Week 24"]
    assert out.loc[out["ADY"] == 40, "AVISIT"].isna().all()
    assert out["BASE"].eq(50.0).all()
    assert out.loc[out["ADY"] == 168, "CHG"].item() == pytest.approx(-30.0)


def test_every_specified_variable_is_documented():
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "datasets.md").read_text(encoding="utf-8")
    for spec in SPECS.values():
        section = doc.split(f"## {spec.name} ")[1].split("\n## ")[0]
        for col in spec.columns:
            assert f"| {col.name} |" in section, f"{spec.name}.{col.name} missing from docs"
