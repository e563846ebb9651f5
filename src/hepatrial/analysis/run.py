"""One call from analysis datasets to the results object: :func:`run_analysis`.

The result is a plain, JSON-ready dict (floats, ints, strings, lists, dicts; NaN becomes
``None``). Its layout is documented in ``docs/statistics.md``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from hepatrial import __version__
from hepatrial.analysis import ancova as anc
from hepatrial.analysis import binary, competing_risks, descriptive, safety, survival
from hepatrial.analysis.datasets import AdamDatasets
from hepatrial.analysis.plan import MISSING_STRATEGIES, AnalysisPlan


def jsonable(value: Any) -> Any:
    """Plain Python types only; NaN and infinities become ``None``."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _population(adsl: pd.DataFrame, plan: AnalysisPlan, flag: str) -> pd.DataFrame:
    pop = adsl[(adsl[flag] == "Y") & adsl["ARMCD"].isin(plan.arms)].copy()
    pop["_TRT"] = (pop["ARMCD"] == plan.arms[1]).astype(int)
    return pop.reset_index(drop=True)


def _strata_design(pop: pd.DataFrame, plan: AnalysisPlan) -> np.ndarray:
    if not plan.strata_column or plan.strata_column not in pop:
        return np.empty((len(pop), 0))
    return anc.dummies(pop[plan.strata_column].astype(str))


def responder_outcome(data: AdamDatasets, pop: pd.DataFrame, plan: AnalysisPlan) -> pd.DataFrame:
    """Responder status per participant under the composite strategy.

    Columns: ``value`` (observed AVALC at the timepoint visit), ``intercurrent`` (a
    ``composite_events`` date on or before ``timepoint_day``), ``y`` (1 responder, 0 not,
    NaN missing). An intercurrent event makes a non-responder whatever was observed.
    """
    lb = data.adlb
    at_visit = lb[
        (lb["PARAMCD"] == plan.responder_param)
        & (lb["ANL01FL"] == "Y")
        & (lb["AVISITN"] == plan.timepoint_visit)
    ].drop_duplicates("USUBJID")
    out = pop[["USUBJID", "ARMCD", "_TRT"]].copy()
    out["value"] = out["USUBJID"].map(at_visit.set_index("USUBJID")["AVALC"])
    ice = np.zeros(len(pop), dtype=bool)
    for col in plan.composite_events:
        if col in pop:
            day = (pop[col] - pop["RANDDT"]).dt.days
            ice |= (day <= plan.timepoint_day).fillna(False).to_numpy()
    out["intercurrent"] = ice
    y = np.where(out["value"].isna(), np.nan, (out["value"] == plan.responder_value).astype(float))
    y[ice] = 0.0
    out["y"] = y
    return out


def _proportions(y: np.ndarray, trt: np.ndarray, plan: AnalysisPlan) -> dict[str, Any]:
    level = plan.confidence_level
    by_arm = {}
    counts = []
    for i, arm in enumerate(plan.arms):
        yy = y[(trt == i) & ~np.isnan(y)]
        x, n = int(yy.sum()), len(yy)
        lo, hi = binary.wilson_interval(x, n, level)
        by_arm[arm] = {
            "label": plan.label(arm),
            "n": n,
            "responders": x,
            "proportion": x / n if n else None,
            "ci_lower": lo,
            "ci_upper": hi,
        }
        counts.append((x, n))
    (x0, n0), (x1, n1) = counts
    result: dict[str, Any] = {"by_arm": by_arm}
    if n0 and n1:
        result["risk_difference"] = binary.newcombe_difference(x1, n1, x0, n0, level)
        result["risk_difference"]["method"] = "Newcombe hybrid score (method 10), Wilson limits"
        result["fisher_exact_p"] = binary.fisher_exact(x1, n1, x0, n0)
    return result


def primary_analysis(data: AdamDatasets, plan: AnalysisPlan) -> dict[str, Any]:
    """Proportion of responders at the timepoint, by arm, with every missing-data strategy."""
    pop = _population(data.adsl, plan, plan.population)
    outcome = responder_outcome(data, pop, plan)
    y = outcome["y"].to_numpy(float)
    trt = outcome["_TRT"].to_numpy()
    strata = _strata_design(pop, plan)
    missing = np.isnan(y)
    strategies: dict[str, Any] = {}

    nr = np.where(missing, 0.0, y)
    strategies["non_responder"] = _proportions(nr, trt, plan)
    strategies["complete_case"] = _proportions(y, trt, plan)
    for name, values in (("non_responder", nr), ("complete_case", y)):
        keep = ~np.isnan(values)
        if len(np.unique(values[keep])) == 2:
            strategies[name]["logistic_regression"] = binary.logistic_regression(
                values[keep], trt[keep], strata[keep], plan.confidence_level
            )
            strategies[name]["logistic_regression"]["adjusted_for"] = plan.strata_column
    if missing.any() and len(np.unique(y[~missing])) == 2:
        design = [np.ones(len(y)), trt.astype(float), *np.atleast_2d(strata.T)]
        if "CPSCRBL" in pop and pop["CPSCRBL"].notna().all():
            design.append(pop["CPSCRBL"].to_numpy(float))
        mi = binary.impute_logistic(
            y, np.column_stack(design), trt, plan.imputations, plan.seed, plan.confidence_level
        )
        mi["method"] = (
            "logistic imputation model (arm, stratum, baseline Child-Pugh score), "
            "coefficients drawn from N(beta, V), Rubin's rules"
        )
        arms = mi.pop("arms")
        strategies["multiple_imputation"] = {
            "by_arm": {
                arm: {
                    "label": plan.label(arm),
                    "n": int((trt == i).sum()),
                    "proportion": arms[i]["estimate"],
                    "ci_lower": max(0.0, arms[i]["ci_lower"]),
                    "ci_upper": min(1.0, arms[i]["ci_upper"]),
                }
                for i, arm in enumerate(plan.arms)
            },
            "risk_difference": mi,
        }
    else:
        strategies["multiple_imputation"] = strategies["complete_case"]
    result = dict(strategies[plan.missing_data])
    result.update(
        {
            "endpoint": f"{plan.responder_param} = {plan.responder_value} at visit "
            f"{plan.timepoint_visit:g}",
            "population": plan.population,
            "missing_data": plan.missing_data,
            "contrast": f"{plan.arms[1]} minus {plan.arms[0]}",
            "counts": {
                arm: {
                    "randomized": int((trt == i).sum()),
                    "intercurrent_event": int(outcome["intercurrent"][trt == i].sum()),
                    "missing": int(missing[trt == i].sum()),
                }
                for i, arm in enumerate(plan.arms)
            },
            "sensitivity": {k: v for k, v in strategies.items() if k != plan.missing_data},
        }
    )
    if plan.per_protocol_population and plan.per_protocol_population in data.adsl:
        pp = _population(data.adsl, plan, plan.per_protocol_population)
        pp_out = responder_outcome(data, pp, plan)
        pp_y = pp_out["y"].to_numpy(float)
        if plan.missing_data == "non_responder":
            pp_y = np.where(np.isnan(pp_y), 0.0, pp_y)
        result["sensitivity"]["per_protocol"] = _proportions(pp_y, pp_out["_TRT"].to_numpy(), plan)
    return result


def _lab_records(data: AdamDatasets, pop: pd.DataFrame, plan: AnalysisPlan) -> pd.DataFrame:
    lb = data.adlb
    lb = lb[(lb["ANL01FL"] == "Y") & (lb["ABLFL"] != "Y") & lb["PARAMCD"].isin(plan.change_params)]
    lb = lb.merge(pop, on="USUBJID", suffixes=("", "_SL"))
    if plan.exclude_after_transplant and "LTXDT" in lb:
        lb = lb[~(lb["ADT"] > lb["LTXDT"]).fillna(False)]
    return lb.dropna(subset=["AVAL", "BASE"])


def change_from_baseline(data: AdamDatasets, plan: AnalysisPlan) -> dict[str, Any]:
    """ANCOVA at the timepoint and mixed-model sensitivity for each change parameter."""
    pop = _population(data.adsl, plan, plan.population)
    strata_cols = []
    if plan.strata_column and plan.strata_column in pop:
        dm = anc.dummies(pop[plan.strata_column].astype(str))
        for j in range(dm.shape[1]):
            pop[f"s_{j}"] = dm[:, j]
            strata_cols.append(f"s_{j}")
    records = _lab_records(data, pop, plan)
    results: dict[str, Any] = {}
    for param in plan.change_params:
        rec = records[records["PARAMCD"] == param]
        log = param in plan.log_scale_params
        dropped = 0
        if log:
            positive = (rec["AVAL"] > 0) & (rec["BASE"] > 0)
            dropped = int((~positive).sum())
            rec = rec[positive]
        at = rec[rec["AVISITN"] == plan.timepoint_visit]
        by_arm = {}
        for i, arm in enumerate(plan.arms):
            a = at[at["_TRT"] == i]
            entry = {"label": plan.label(arm), "n": len(a)}
            if len(a):
                entry["mean_base"] = float(a["BASE"].mean())
                entry["mean_aval"] = float(a["AVAL"].mean())
                entry["mean_chg"] = float((a["AVAL"] - a["BASE"]).mean())
                entry["sd_chg"] = float((a["AVAL"] - a["BASE"]).std(ddof=1)) if len(a) > 1 else None
                if log:
                    entry["geometric_mean_ratio"] = float(
                        np.exp(np.log(a["AVAL"] / a["BASE"]).mean())
                    )
            by_arm[arm] = entry
        result: dict[str, Any] = {
            "scale": "log" if log else "linear",
            "effect": "ratio of geometric means" if log else "difference in mean change",
            "by_arm": by_arm,
            "nonpositive_dropped": dropped,
        }
        if len(at):
            result["ancova"] = anc.ancova(
                at["AVAL"].to_numpy(float),
                at["BASE"].to_numpy(float),
                at["_TRT"].to_numpy(),
                at[strata_cols].to_numpy(float) if strata_cols else None,
                log,
                plan.confidence_level,
            )
            long = rec.rename(columns={"USUBJID": "id", "AVISITN": "visit", "_TRT": "treated"})
            long = long.rename(columns={"AVAL": "aval", "BASE": "base"})
            result["mixed_model"] = anc.mixed_model(
                long[["id", "visit", "treated", "aval", "base", *strata_cols]],
                plan.timepoint_visit,
                log,
                plan.confidence_level,
            )
        results[param] = result
    return results


def _tte(data: AdamDatasets, pop: pd.DataFrame, param: str) -> pd.DataFrame:
    tte = data.adtte[data.adtte["PARAMCD"] == param]
    return pop.merge(tte[["USUBJID", "AVAL", "CNSR", "EVNTCD"]], on="USUBJID")


def survival_analyses(data: AdamDatasets, plan: AnalysisPlan) -> dict[str, Any]:
    """Kaplan-Meier per arm, log-rank test and Cox hazard ratio for each survival parameter."""
    pop = _population(data.adsl, plan, plan.population)
    strata = _strata_design(pop, plan)
    for j in range(strata.shape[1]):
        pop[f"_S{j}"] = strata[:, j]
    out: dict[str, Any] = {}
    for param in plan.survival_params:
        df = _tte(data, pop, param)
        if df.empty:
            continue
        t = df["AVAL"].to_numpy(float)
        e = (df["EVNTCD"] == 1).to_numpy()
        ticks = descriptive.risk_times(float(t.max()))
        arms = {}
        for i, arm in enumerate(plan.arms):
            sel = df["_TRT"].to_numpy() == i
            if not sel.any():
                continue
            table = survival.kaplan_meier(t[sel], e[sel], plan.confidence_level)
            arms[arm] = {
                "label": plan.label(arm),
                "n": int(sel.sum()),
                "events": int(e[sel].sum()),
                "timepoints": survival.km_at(table, plan.km_timepoints, float(t[sel].max())),
                "median": survival.km_median(table),
                "curve": {
                    "time": table["time"].tolist(),
                    "surv": table["surv"].tolist(),
                    "lower": table["lower"].tolist(),
                    "upper": table["upper"].tolist(),
                },
                "risk_table": {"time": ticks, "n": descriptive.risk_table(t[sel], ticks)},
            }
        trt = df["_TRT"].to_numpy()
        s_cols = [c for c in df.columns if c.startswith("_S")]
        out[param] = {
            "by_arm": arms,
            "ci_transform": "log",
            "logrank": survival.logrank(t, e, df["ARMCD"].to_numpy()) if e.any() else None,
            "cox": survival.cox_hazard_ratio(t, e, trt, None, plan.confidence_level),
            "cox_adjusted": survival.cox_hazard_ratio(
                t, e, trt, df[s_cols] if s_cols else None, plan.confidence_level
            ),
        }
    return out


def competing_risk_analyses(data: AdamDatasets, plan: AnalysisPlan) -> dict[str, Any]:
    """Crude incidence (Clopper-Pearson), cumulative incidence and Gray's test per parameter."""
    pop = _population(data.adsl, plan, plan.population)
    out: dict[str, Any] = {}
    for param in plan.competing_params:
        df = _tte(data, pop, param)
        if df.empty:
            continue
        t = df["AVAL"].to_numpy(float)
        status = df["EVNTCD"].to_numpy(int)
        ticks = descriptive.risk_times(float(t.max()))
        arms = {}
        for i, arm in enumerate(plan.arms):
            sel = df["_TRT"].to_numpy() == i
            if not sel.any():
                continue
            x = int(((status == 1) & (t <= plan.timepoint_day))[sel].sum())
            n = int(sel.sum())
            lo, hi = binary.clopper_pearson_interval(x, n, plan.confidence_level)
            est = competing_risks.cumulative_incidence(t[sel], status[sel])
            arms[arm] = {
                "label": plan.label(arm),
                "n": n,
                "participants_with_event": x,
                "proportion": x / n,
                "ci_lower": lo,
                "ci_upper": hi,
                "competing_events": int(((status == 2) & (t <= plan.timepoint_day))[sel].sum()),
                "cumulative_incidence": competing_risks.cif_at(
                    est, plan.km_timepoints, float(t[sel].max()), plan.confidence_level
                ),
                "curve": {"time": est["time"].tolist(), "cif": est["cif"].tolist()},
                "risk_table": {"time": ticks, "n": descriptive.risk_table(t[sel], ticks)},
            }
        group = df["ARMCD"].to_numpy()
        strata = None
        if plan.strata_column and plan.strata_column in df:
            strata = df[plan.strata_column].astype(str).to_numpy()
        has_events = bool((status == 1).any())
        out[param] = {
            "by_arm": arms,
            "gray_test": competing_risks.gray_test(t, status, group) if has_events else None,
            "gray_test_stratified": (
                competing_risks.gray_test(t, status, group, strata)
                if has_events and strata is not None
                else None
            ),
        }
    return out


def population_counts(data: AdamDatasets, plan: AnalysisPlan) -> dict[str, Any]:
    adsl = data.adsl
    out = {}
    for flag in (plan.population, plan.per_protocol_population, plan.safety_population):
        if flag and flag in adsl:
            column = "ARMCD"
            if flag == plan.safety_population:
                column = safety.actual_or_planned(adsl)
            sel = adsl[adsl[flag] == "Y"]
            out[flag] = {arm: int((sel[column] == arm).sum()) for arm in plan.arms}
    out["randomized"] = {arm: int((adsl["ARMCD"] == arm).sum()) for arm in plan.arms}
    return out


def descriptive_summaries(data: AdamDatasets, plan: AnalysisPlan) -> dict[str, Any]:
    """Mean trajectories of the change parameters and the Child-Pugh shift table."""
    pop = _population(data.adsl, plan, plan.population)
    return {
        "trajectories": descriptive.trajectories(
            data.adlb, pop, plan.change_params, plan.arms, plan.confidence_level
        ),
        "child_pugh_shift": descriptive.child_pugh_shift(
            data.adlb, pop, plan.arms, plan.timepoint_visit, plan.timepoint_day
        ),
    }


class PlanMismatch(ValueError):
    """Datasets whose arms are not the plan's: analysing them would silently count nobody."""


def run_analysis(datasets: AdamDatasets, plan: AnalysisPlan | None = None) -> dict[str, Any]:
    """Every analysis of the plan on validated datasets; a JSON-ready dict.

    Top-level keys: ``meta``, ``populations``, ``primary``, ``change_from_baseline``,
    ``survival``, ``competing_risks``, ``safety``, ``descriptive``.
    """
    plan = plan or AnalysisPlan()
    found = sorted(set(datasets.adsl["ARMCD"].dropna()))
    if found and not set(found) <= set(plan.arms):
        raise PlanMismatch(
            f"ADSL ARMCD has arms {', '.join(found)} but the analysis plan compares "
            f"{' and '.join(plan.arms)}: give the plan that goes with these datasets "
            "(an export writes it as plan.json beside them)"
        )
    if plan.missing_data not in MISSING_STRATEGIES:
        raise ValueError(plan.missing_data)
    result = {
        "meta": {
            "hepatrial_version": __version__,
            "plan": plan.to_dict(),
            "arms": {arm: plan.label(arm) for arm in plan.arms},
            "reference_arm": plan.arms[0],
            "contrast": f"{plan.arms[1]} versus {plan.arms[0]}",
        },
        "populations": population_counts(datasets, plan),
        "primary": primary_analysis(datasets, plan),
        "change_from_baseline": change_from_baseline(datasets, plan),
        "survival": survival_analyses(datasets, plan),
        "competing_risks": competing_risk_analyses(datasets, plan),
        "safety": safety.adverse_event_summary(
            datasets.adsl, datasets.adae, plan.arms, plan.safety_population
        ),
        "descriptive": descriptive_summaries(datasets, plan),
    }
    return jsonable(result)
