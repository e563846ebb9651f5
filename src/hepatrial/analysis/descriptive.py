"""Descriptive summaries the report draws: trajectories, the Child-Pugh shift table, risk tables.

These are not tests of a hypothesis; they show the data behind the estimates. Means are
arithmetic with a t-based confidence interval (R's ``t.test(x)$conf.int``), on the parameter's
canonical unit, also for parameters analysed on the log scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

SHIFT_OUTCOMES = ("A", "B", "C", "Died", "Transplanted", "Missing")
"""Columns of the shift table: class at the timepoint, or why there is none."""


def mean_interval(values: np.ndarray, level: float = 0.95) -> dict[str, float | None]:
    """Mean with its t-based interval; ``None`` bounds for fewer than two values."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return {"n": 0, "mean": None, "ci_lower": None, "ci_upper": None}
    mean = float(values.mean())
    if n < 2:
        return {"n": 1, "mean": mean, "ci_lower": None, "ci_upper": None}
    half = stats.t.ppf(1 - (1 - level) / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return {"n": n, "mean": mean, "ci_lower": mean - half, "ci_upper": mean + half}


def trajectories(
    adlb: pd.DataFrame,
    pop: pd.DataFrame,
    params: Sequence[str],
    arms: Sequence[str],
    level: float = 0.95,
) -> dict[str, Any]:
    """Per parameter, arm and analysis visit: n, mean and CI of AVAL (baseline is visit 0).

    ``pop`` holds USUBJID and ARMCD of the analysis population. Records analysed at their visit
    (ANL01FL = "Y") and baseline records count; nothing is imputed.
    """
    lb = adlb[adlb["PARAMCD"].isin(params) & (adlb["ANL01FL"] == "Y")]
    lb = lb.merge(pop[["USUBJID", "ARMCD"]], on="USUBJID", suffixes=("", "_SL"))
    lb = lb.dropna(subset=["AVAL", "AVISITN"])
    out: dict[str, Any] = {}
    for param in params:
        rows = lb[lb["PARAMCD"] == param]
        if rows.empty:
            continue
        visits = sorted(rows["AVISITN"].unique())
        names = rows.drop_duplicates("AVISITN").set_index("AVISITN")["AVISIT"]
        per_arm = {}
        for arm in arms:
            mine = rows[rows["ARMCD"] == arm]
            per_arm[arm] = [
                {"visit": float(v), **mean_interval(mine.loc[mine["AVISITN"] == v, "AVAL"], level)}
                for v in visits
            ]
        units = rows["AVALU"].dropna() if "AVALU" in rows else pd.Series(dtype=str)
        out[param] = {
            "unit": str(units.iloc[0]) if len(units) else "",
            "visits": [{"day": float(v), "name": str(names.get(v, v))} for v in visits],
            "by_arm": per_arm,
        }
    return out


def child_pugh_shift(
    adlb: pd.DataFrame,
    pop: pd.DataFrame,
    arms: Sequence[str],
    timepoint_visit: float,
    timepoint_day: float,
) -> dict[str, Any]:
    """Baseline Child-Pugh class (rows) against class at the timepoint (columns), per arm.

    A participant who died or was transplanted on or before the timepoint day is counted in
    that column whatever was measured (the composite strategy's reading); otherwise the class of
    the record analysed at the timepoint visit, else "Missing".
    """
    cp = adlb[(adlb["PARAMCD"] == "CPCLASS") & (adlb["ANL01FL"] == "Y")]
    at = cp[cp["AVISITN"] == timepoint_visit].drop_duplicates("USUBJID")
    later = pop["USUBJID"].map(at.set_index("USUBJID")["AVALC"])
    outcome = later.fillna("Missing").astype(str)
    for column, label in (("LTXDT", "Transplanted"), ("DTHDT", "Died")):
        if column in pop:
            day = (pop[column] - pop["RANDDT"]).dt.days
            outcome = outcome.where(~(day <= timepoint_day).fillna(False), label)
    baseline = pop["CPCLSBL"].astype(str)
    out: dict[str, Any] = {"columns": list(SHIFT_OUTCOMES), "by_arm": {}}
    for arm in arms:
        mine = pop["ARMCD"] == arm
        table = {}
        for row in sorted(baseline[mine].unique()):
            sel = mine & (baseline == row)
            table[row] = {col: int((outcome[sel] == col).sum()) for col in SHIFT_OUTCOMES}
        out["by_arm"][arm] = table
    return out


def risk_table(time: np.ndarray, at: Sequence[float]) -> list[int]:
    """Number at risk just before each time in ``at``: follow-up times ``>= t`` (R's n.risk)."""
    time = np.sort(np.asarray(time, dtype=float))
    return [int(len(time) - np.searchsorted(time, t, side="left")) for t in at]


def risk_times(max_day: float, step: float = 28.0) -> list[float]:
    """Ticks of a time axis in days: 0, step, 2 step ... up to the last follow-up."""
    return [float(t) for t in np.arange(0.0, max(max_day, 0.0) + 1e-9, step)]
