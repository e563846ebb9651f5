"""Properties that hold for any data, and robustness on tiny trials.

Hypothesis runs derandomized (a fixed sequence of examples), so every run is reproducible.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hepatrial.analysis import binary, competing_risks, survival
from hepatrial.analysis.run import run_analysis
from hepatrial.analysis.synthetic import synthetic_adam
from tests.analysis.nct import nct_plan, nct_schedule


@given(st.integers(1, 200), st.integers(1, 200), st.data())
@settings(max_examples=200, deadline=None, derandomize=True)
def test_newcombe_interval_contains_the_difference_and_stays_in_range(n1, n2, data):
    x1 = data.draw(st.integers(0, n1))
    x2 = data.draw(st.integers(0, n2))
    res = binary.newcombe_difference(x1, n1, x2, n2)
    assert -1 <= res["ci_lower"] <= res["estimate"] <= res["ci_upper"] <= 1


@given(st.lists(st.tuples(st.integers(1, 30), st.integers(0, 2), st.booleans()), min_size=4,
                max_size=60))  # fmt: skip
@settings(max_examples=100, deadline=None, derandomize=True)
def test_gray_statistic_does_not_depend_on_group_labels(rows):
    time = np.array([r[0] for r in rows], dtype=float)
    status = np.array([r[1] for r in rows])
    group = np.array([int(r[2]) for r in rows])
    if (status == 1).sum() == 0 or len(np.unique(group)) < 2:
        return
    a = competing_risks.gray_test(time, status, group)
    b = competing_risks.gray_test(time, status, 1 - group)
    if a["statistic"] is None:
        assert b["statistic"] is None
    else:
        assert a["statistic"] == pytest.approx(b["statistic"], rel=1e-9, abs=1e-12)


@given(st.lists(st.integers(1, 50), min_size=1, max_size=40))
@settings(max_examples=100, deadline=None, derandomize=True)
def test_kaplan_meier_without_censoring_is_the_empirical_survival(times):
    t = np.array(times, dtype=float)
    table = survival.kaplan_meier(t, np.ones(len(t), dtype=bool))
    for time, surv in zip(table["time"], table["surv"]):
        assert surv == pytest.approx(np.mean(t > time))


@given(st.lists(st.tuples(st.integers(1, 30), st.integers(0, 2)), min_size=1, max_size=40))
@settings(max_examples=100, deadline=None, derandomize=True)
def test_cumulative_incidences_of_both_causes_add_up_to_one_minus_survival(rows):
    time = np.array([r[0] for r in rows], dtype=float)
    status = np.array([r[1] for r in rows])
    f1 = competing_risks.cumulative_incidence(time, status)
    swapped = np.where(status == 0, 0, 3 - status)
    f2 = competing_risks.cumulative_incidence(time, swapped)
    km = survival.kaplan_meier(time, status > 0)
    for t, s in zip(km["time"], km["surv"]):
        a = competing_risks.cif_at(f1, [t], time.max())[0]["cif"]
        b = competing_risks.cif_at(f2, [t], time.max())[0]["cif"]
        assert a + b == pytest.approx(1 - s)


@pytest.mark.parametrize("n", [2, 4, 10])
@pytest.mark.parametrize("seed", [0, 7])
def test_tiny_trials_give_results_with_nulls_not_errors(n, seed):
    res = run_analysis(synthetic_adam(n, seed=seed), nct_plan())
    json.dumps(res, allow_nan=False)
    assert (
        res["populations"]["randomized"]["SINGLE"] + res["populations"]["randomized"]["DOUBLE"] == n
    )


@given(
    st.lists(
        st.tuples(st.sampled_from(["S1", "S2"]), st.integers(-20, 190),
                  st.one_of(st.none(), st.floats(1, 100))),
        min_size=1, max_size=40,
    )
)  # fmt: skip
@settings(max_examples=150, deadline=None, derandomize=True)
def test_derived_flags_follow_the_record_level_window_rules(rows):
    import pandas as pd

    from hepatrial.analysis.datasets import (
        assign_visit,
        baseline_record,
        derive_analysis_flags,
    )

    rec = pd.DataFrame(
        {"USUBJID": [r[0] for r in rows], "PARAMCD": "ALT", "ADY": [r[1] for r in rows],
         "AVAL": [np.nan if r[2] is None else r[2] for r in rows]}
    )  # fmt: skip
    out = derive_analysis_flags(rec, nct_schedule())
    for _, sub in out.groupby("USUBJID"):
        b = baseline_record(sub["ADY"].tolist(), sub["AVAL"].tolist())
        flagged = sub.index[sub["ABLFL"] == "Y"].tolist()
        assert flagged == ([] if b is None else [sub.index[b]])
        for _, row in sub[sub["ABLFL"] != "Y"].iterrows():
            w = assign_visit(row["ADY"], nct_schedule().windows) if row["ADY"] > 0 else None
            assert (row["AVISIT"] if isinstance(row["AVISIT"], str) else None) == (
                w.name if w else None
            )
        analysed = sub[(sub["ANL01FL"] == "Y") & (sub["ABLFL"] != "Y")]
        assert analysed["AVISITN"].is_unique
        for _, row in analysed.iterrows():
            same = sub[(sub["AVISITN"] == row["AVISITN"]) & sub["AVAL"].notna()]
            best = (same["ADY"] - row["AVISITN"]).abs().min()
            assert abs(row["ADY"] - row["AVISITN"]) == best
            assert row["ADY"] == same.loc[(same["ADY"] - row["AVISITN"]).abs() == best, "ADY"].min()
