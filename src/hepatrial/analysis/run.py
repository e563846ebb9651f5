"""One call from analysis datasets to the results object: :func:`run_analysis`.

Every endpoint of the plan is analysed by its method, on its population, with its missing-data
and intercurrent-event handling, covariates, strata and sensitivity analyses. The result is a
plain, JSON-ready dict (floats, ints, strings, lists, dicts; NaN becomes ``None``). Its layout
is documented in ``docs/statistics.md``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd

from hepatrial import __version__
from hepatrial.analysis import ancova as anc
from hepatrial.analysis import binary, competing_risks, descriptive, safety, survival
from hepatrial.analysis.datasets import AdamDatasets
from hepatrial.analysis.plan import AnalysisPlan, EndpointPlan


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


class PlanMismatch(ValueError):
    """Datasets that do not fit the plan: analysing them would silently count nobody."""


class NoData(ValueError):
    """A plan entry (endpoint and parameter) with no data to analyse."""


def _population(adsl: pd.DataFrame, plan: AnalysisPlan, flag: str) -> pd.DataFrame:
    if flag not in adsl:
        raise NoData(f"ADSL has no population flag column {flag}")
    pop = adsl[(adsl[flag] == "Y") & adsl["ARMCD"].isin(plan.arms)].copy()
    if pop.empty:
        raise NoData(f"no participant of {' or '.join(plan.arms)} has {flag} = Y")
    pop["_TRT"] = (pop["ARMCD"] == plan.arms[1]).astype(int)
    return pop.reset_index(drop=True)


def covariate_design(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """ADSL covariates as model columns: numbers as they are, text as treatment-coded indicators
    (first level in sorted order is the reference, as R's factor), named ``COLUMN=level``."""
    parts = {}
    for col in columns:
        values = frame[col]
        if pd.api.types.is_numeric_dtype(values):
            parts[col] = values.astype(float).to_numpy()
            continue
        text = values.astype(object).where(values.notna(), None)
        levels = sorted(str(v) for v in text.dropna().unique())
        for level in levels[1:]:
            parts[f"{col}={level}"] = (text == level).to_numpy(float)
    return pd.DataFrame(parts, index=frame.index)


def _stratum_labels(frame: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray | None:
    """One label per row combining the text-valued ``columns`` (strata of a stratified test)."""
    cols = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if not cols:
        return None
    return frame[cols].astype(str).agg("|".join, axis=1).to_numpy()


# ---------------------------------------------------------------------------- proportion


def responder_outcome(
    data: AdamDatasets, pop: pd.DataFrame, endpoint: EndpointPlan
) -> pd.DataFrame:
    """Responder status per participant with the endpoint's intercurrent-event strategies.

    Columns: ``value`` (observed AVALC at the timepoint visit), ``intercurrent`` (a composite
    event date on or before the horizon), ``y`` (1 responder, 0 not, NaN missing). A composite
    event makes a non-responder whatever was observed; a hypothetical one makes the value
    missing (the missing-data strategy then applies).
    """
    param = endpoint.params[0]
    lb = data.adlb
    rows = lb[lb["PARAMCD"] == param]
    if rows.empty:
        raise NoData(f"no ADLB records of {param}{_found(lb, 'PARAMCD')}")
    at_visit = rows[(rows["ANL01FL"] == "Y") & (rows["AVISITN"] == endpoint.timepoint_visit)]
    if at_visit.empty:
        raise NoData(
            f"no analysed ADLB record of {param} at visit {endpoint.timepoint_visit:g}"
            f"{_found(rows[rows['ANL01FL'] == 'Y'], 'AVISITN')}"
        )
    at_visit = at_visit.drop_duplicates("USUBJID")
    out = pop[["USUBJID", "ARMCD", "_TRT"]].copy()
    out["value"] = out["USUBJID"].map(at_visit.set_index("USUBJID")["AVALC"])

    def by_horizon(columns: tuple[str, ...]) -> np.ndarray:
        hit = np.zeros(len(pop), dtype=bool)
        for col in columns:
            day = (pop[col] - pop["RANDDT"]).dt.days
            hit |= (day <= endpoint.horizon).fillna(False).to_numpy()
        return hit

    ice = by_horizon(endpoint.composite_events)
    hypothetical = by_horizon(endpoint.hypothetical_events) & ~ice
    out["intercurrent"] = ice
    y = np.where(
        out["value"].isna(), np.nan, (out["value"] == endpoint.responder_value).astype(float)
    )
    y[hypothetical] = np.nan
    y[ice] = 0.0
    out["y"] = y
    return out


def _found(frame: pd.DataFrame, column: str) -> str:
    values = sorted(frame[column].dropna().unique().tolist()) if column in frame else []
    shown = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values[:12])
    return f" (found: {shown}{', ...' if len(values) > 12 else ''})" if values else " (none)"


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


def proportion_endpoint(
    data: AdamDatasets, plan: AnalysisPlan, endpoint: EndpointPlan, flag: str | None = None
) -> dict[str, Any]:
    """Proportion of responders at the timepoint, by arm: the primary strategy and each
    sensitivity analysis the endpoint asks for."""
    pop = _population(data.adsl, plan, flag or endpoint.population)
    outcome = responder_outcome(data, pop, endpoint)
    y = outcome["y"].to_numpy(float)
    trt = outcome["_TRT"].to_numpy()
    covariates = plan.covariates_of(endpoint)
    design = covariate_design(pop, covariates)
    x_cov = design.to_numpy(float)
    missing = np.isnan(y)
    wanted = [endpoint.missing_data] + [
        s for s in endpoint.sensitivity if s in ("non_responder", "complete_case",
                                                 "multiple_imputation")
    ]  # fmt: skip
    strategies: dict[str, Any] = {}
    values = {"non_responder": np.where(missing, 0.0, y), "complete_case": y}
    for name in ("non_responder", "complete_case"):
        if name not in wanted:
            continue
        strategies[name] = _proportions(values[name], trt, plan)
        if "logistic_regression_stratum" in endpoint.sensitivity:
            v = values[name]
            keep = ~np.isnan(v) & np.isfinite(x_cov).all(axis=1)
            if len(np.unique(v[keep])) == 2:
                fit = binary.logistic_regression(
                    v[keep], trt[keep], x_cov[keep], plan.confidence_level
                )
                fit["adjusted_for"] = ", ".join(covariates) or None
                strategies[name]["logistic_regression"] = fit
    if "multiple_imputation" in wanted:
        complete = np.isfinite(x_cov).all(axis=1)
        if missing.any() and complete.all() and len(np.unique(y[~missing])) == 2:
            columns = [np.ones(len(y)), trt.astype(float), *np.atleast_2d(x_cov.T)]
            mi = binary.impute_logistic(
                y, np.column_stack(columns), trt, plan.imputations, plan.seed,
                plan.confidence_level,
            )  # fmt: skip
            named = ", ".join(["arm", *covariates])
            mi["method"] = (
                f"logistic imputation model ({named}), coefficients drawn from N(beta, V), "
                "Rubin's rules"
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
            strategies["multiple_imputation"] = strategies.get("complete_case") or _proportions(
                y, trt, plan
            )
    result = dict(strategies[endpoint.missing_data])
    result.update(
        {
            "endpoint": f"{endpoint.params[0]} = {endpoint.responder_value} at visit "
            f"{endpoint.timepoint_visit:g}",
            "endpoint_code": endpoint.code,
            "method": endpoint.method,
            "population": flag or endpoint.population,
            "missing_data": endpoint.missing_data,
            "covariates": list(covariates),
            "contrast": f"{plan.arms[1]} minus {plan.arms[0]}",
            "counts": {
                arm: {
                    "randomized": int((trt == i).sum()),
                    "intercurrent_event": int(outcome["intercurrent"][trt == i].sum()),
                    "missing": int(missing[trt == i].sum()),
                }
                for i, arm in enumerate(plan.arms)
            },
            "sensitivity": {k: v for k, v in strategies.items() if k != endpoint.missing_data},
        }
    )
    if flag is None and "per_protocol" in endpoint.sensitivity and plan.per_protocol_population:
        pp = proportion_endpoint(data, plan, endpoint, plan.per_protocol_population)
        keep = ("by_arm", "risk_difference", "fisher_exact_p")
        result["sensitivity"]["per_protocol"] = {k: pp[k] for k in keep if k in pp}
    return result


# ---------------------------------------------------------------------- change from baseline


def _lab_records(
    data: AdamDatasets, pop: pd.DataFrame, endpoint: EndpointPlan, param: str
) -> pd.DataFrame:
    lb = data.adlb
    rows = lb[lb["PARAMCD"] == param]
    if rows.empty:
        raise NoData(f"no ADLB records of {param}{_found(lb, 'PARAMCD')}")
    rows = rows[(rows["ANL01FL"] == "Y") & (rows["ABLFL"] != "Y")]
    rows = rows.merge(pop, on="USUBJID", suffixes=("", "_SL"))
    for col in endpoint.exclude_after:
        rows = rows[~(rows["ADT"] > rows[col]).fillna(False)]
    return rows.dropna(subset=["AVAL", "BASE"])


def change_endpoint(data: AdamDatasets, plan: AnalysisPlan, endpoint: EndpointPlan) -> dict:
    """Per parameter: ANCOVA of the value at the timepoint (baseline and covariates, or baseline
    only for ``ancova_baseline``) and the linear mixed model over all visits where asked for."""
    pop = _population(data.adsl, plan, endpoint.population)
    covariates = () if endpoint.method == "ancova_baseline" else plan.covariates_of(endpoint)
    design = covariate_design(pop, covariates)
    cov_cols = [f"s_{j}" for j in range(design.shape[1])]  # anc.mixed_model reads s_*
    pop[cov_cols] = design.to_numpy(float)
    unadjusted = "ancova_baseline" in endpoint.sensitivity
    mixed = (
        endpoint.method == "mixed_model_all_visits"
        or "mixed_model_all_visits" in endpoint.sensitivity
    )
    results: dict[str, Any] = {}
    for param in endpoint.params:
        rec = _lab_records(data, pop, endpoint, param)
        rec = rec.dropna(subset=cov_cols)
        log = endpoint.log_scale
        dropped = 0
        if log:
            positive = (rec["AVAL"] > 0) & (rec["BASE"] > 0)
            dropped = int((~positive).sum())
            rec = rec[positive]
        at = rec[rec["AVISITN"] == endpoint.timepoint_visit]
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
            "endpoint_code": endpoint.code,
            "method": endpoint.method,
            "estimate_from": "mixed_model" if endpoint.method == "mixed_model_all_visits"
            else "ancova",
            "covariates": list(covariates),
            "scale": "log" if log else "linear",
            "effect": "ratio of geometric means" if log else "difference in mean change",
            "by_arm": by_arm,
            "nonpositive_dropped": dropped,
        }  # fmt: skip
        if at.empty:
            raise NoData(
                f"no analysed ADLB record of {param} at visit {endpoint.timepoint_visit:g}"
                f"{_found(rec, 'AVISITN')}"
            )

        def fit(columns: list[str], at: pd.DataFrame = at, log: bool = log) -> dict:
            x = at[columns].to_numpy(float) if columns else None
            return anc.ancova(
                at["AVAL"].to_numpy(float), at["BASE"].to_numpy(float), at["_TRT"].to_numpy(),
                x, log, plan.confidence_level,
            )  # fmt: skip

        result["ancova"] = fit(cov_cols)
        if unadjusted:
            result["ancova_unadjusted"] = fit([])
        if mixed:
            long = rec.rename(columns={"USUBJID": "id", "AVISITN": "visit", "_TRT": "treated"})
            long = long.rename(columns={"AVAL": "aval", "BASE": "base"})
            result["mixed_model"] = anc.mixed_model(
                long[["id", "visit", "treated", "aval", "base", *cov_cols]],
                endpoint.timepoint_visit,
                log,
                plan.confidence_level,
            )
        results[param] = result
    return results


# ---------------------------------------------------------------------------- time to event


def _tte(data: AdamDatasets, pop: pd.DataFrame, param: str) -> pd.DataFrame:
    tte = data.adtte[data.adtte["PARAMCD"] == param]
    if tte.empty:
        raise NoData(f"no ADTTE records of {param}{_found(data.adtte, 'PARAMCD')}")
    df = pop.merge(tte[["USUBJID", "AVAL", "EVNTCD"]], on="USUBJID")
    if df.empty:
        raise NoData(f"no ADTTE record of {param} for the analysis population")
    return df


def _days(plan: AnalysisPlan, endpoint: EndpointPlan) -> tuple[float, ...]:
    return plan.km_timepoints or ((endpoint.horizon,) if endpoint.horizon is not None else ())


def survival_endpoint(data: AdamDatasets, plan: AnalysisPlan, endpoint: EndpointPlan) -> dict:
    """Kaplan-Meier per arm, log-rank test, and Cox models (arm alone; arm with the covariates,
    stratified by the strata) for each parameter."""
    pop = _population(data.adsl, plan, endpoint.population)
    covariates = plan.covariates_of(endpoint)
    days = _days(plan, endpoint)
    out: dict[str, Any] = {}
    for param in endpoint.params:
        df = _tte(data, pop, param)
        t = df["AVAL"].to_numpy(float)
        e = (df["EVNTCD"] == endpoint.event_code).fillna(False).to_numpy(bool)
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
                "timepoints": survival.km_at(table, days, float(t[sel].max())),
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
        design = covariate_design(df, covariates)
        strata = (
            df[list(endpoint.strata)].astype(str).agg("|".join, axis=1).to_numpy()
            if endpoint.strata
            else None
        )
        complete = np.isfinite(design.to_numpy(float)).all(axis=1)
        adjusted = survival.cox_hazard_ratio(
            t[complete], e[complete], trt[complete],
            design[complete] if design.shape[1] else None, plan.confidence_level,
            strata[complete] if strata is not None else None,
        )  # fmt: skip
        adjusted["stratified_by"] = list(endpoint.strata)
        out[param] = {
            "endpoint_code": endpoint.code,
            "method": endpoint.method,
            "by_arm": arms,
            "ci_transform": "log",
            "logrank": survival.logrank(t, e, df["ARMCD"].to_numpy()) if e.any() else None,
            "cox": survival.cox_hazard_ratio(t, e, trt, None, plan.confidence_level),
            "cox_adjusted": adjusted,
        }
    return out


def competing_endpoint(data: AdamDatasets, plan: AnalysisPlan, endpoint: EndpointPlan) -> dict:
    """Crude incidence (Clopper-Pearson), cumulative incidence and Gray's test per parameter;
    the stratified Gray test by the strata (else the text-valued covariates)."""
    pop = _population(data.adsl, plan, endpoint.population)
    days = _days(plan, endpoint)
    horizon = endpoint.horizon if endpoint.horizon is not None else math.inf
    out: dict[str, Any] = {}
    for param in endpoint.params:
        df = _tte(data, pop, param)
        t = df["AVAL"].to_numpy(float)
        code = df["EVNTCD"]
        status = np.where(
            code == endpoint.event_code, 1, np.where(code.isin(endpoint.competing_codes), 2, 0)
        )
        ticks = descriptive.risk_times(float(t.max()))
        arms = {}
        for i, arm in enumerate(plan.arms):
            sel = df["_TRT"].to_numpy() == i
            if not sel.any():
                continue
            x = int(((status == 1) & (t <= horizon))[sel].sum())
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
                "competing_events": int(((status == 2) & (t <= horizon))[sel].sum()),
                "cumulative_incidence": competing_risks.cif_at(
                    est, days, float(t[sel].max()), plan.confidence_level
                ),
                "curve": {"time": est["time"].tolist(), "cif": est["cif"].tolist()},
                "risk_table": {"time": ticks, "n": descriptive.risk_table(t[sel], ticks)},
            }
        group = df["ARMCD"].to_numpy()
        strata = _stratum_labels(df, endpoint.strata or plan.covariates_of(endpoint))
        has_events = bool((status == 1).any())
        out[param] = {
            "endpoint_code": endpoint.code,
            "method": endpoint.method,
            "by_arm": arms,
            "gray_test": competing_risks.gray_test(t, status, group) if has_events else None,
            "gray_test_stratified": (
                competing_risks.gray_test(t, status, group, strata)
                if has_events and strata is not None
                else None
            ),
        }
    return out


# ---------------------------------------------------------------------------- the rest


def population_counts(data: AdamDatasets, plan: AnalysisPlan) -> dict[str, Any]:
    adsl = data.adsl
    out = {}
    flags = dict.fromkeys(
        [plan.population, *plan.populations.values(), plan.per_protocol_population,
         plan.safety_population]
    )  # fmt: skip
    for flag in flags:
        if flag and flag in adsl:
            column = "ARMCD"
            if flag == plan.safety_population:
                column = safety.actual_or_planned(adsl)
            sel = adsl[adsl[flag] == "Y"]
            out[flag] = {arm: int((sel[column] == arm).sum()) for arm in plan.arms}
    out["randomized"] = {arm: int((adsl["ARMCD"] == arm).sum()) for arm in plan.arms}
    return out


ICE_NAMES = {"DTHDT": "Died", "LTXDT": "Transplanted"}


def category_shift(data: AdamDatasets, pop: pd.DataFrame, plan: AnalysisPlan,
                   endpoint: EndpointPlan) -> dict[str, Any]:  # fmt: skip
    """Baseline category (rows) against category at the timepoint (columns), per arm, of the
    primary endpoint's parameter (ADLB AVALC of the baseline and the timepoint records).

    A participant with a composite event on or before the horizon is counted in that event's
    column whatever was measured (the composite strategy's reading); otherwise the category of
    the record analysed at the timepoint visit, else "Missing".
    """
    param = endpoint.params[0]
    lb = data.adlb[(data.adlb["PARAMCD"] == param) & (data.adlb["ANL01FL"] == "Y")]
    at = lb[lb["AVISITN"] == endpoint.timepoint_visit].drop_duplicates("USUBJID")
    base = lb[lb["ABLFL"] == "Y"].drop_duplicates("USUBJID")
    outcome = pop["USUBJID"].map(at.set_index("USUBJID")["AVALC"]).fillna("Missing").astype(str)
    events = []
    for column in reversed(endpoint.composite_events):
        label = ICE_NAMES.get(column, column)
        events.insert(0, label)
        day = (pop[column] - pop["RANDDT"]).dt.days
        outcome = outcome.where(~(day <= endpoint.horizon).fillna(False), label)
    baseline = pop["USUBJID"].map(base.set_index("USUBJID")["AVALC"]).fillna("Missing")
    baseline = baseline.astype(str)
    categories = sorted(set(lb["AVALC"].dropna().astype(str)))
    columns = [*categories, *events, "Missing"]
    out: dict[str, Any] = {"param": param, "columns": columns, "by_arm": {}}
    for arm in plan.arms:
        mine = pop["ARMCD"] == arm
        table = {}
        for row in sorted(baseline[mine].unique()):
            sel = mine & (baseline == row)
            table[row] = {col: int((outcome[sel] == col).sum()) for col in columns}
        out["by_arm"][arm] = table
    return out


def descriptive_summaries(data: AdamDatasets, plan: AnalysisPlan) -> dict[str, Any]:
    """Mean trajectories of the change parameters and the primary endpoint's shift table."""
    out: dict[str, Any] = {"trajectories": {}, "child_pugh_shift": None}
    try:
        pop = _population(data.adsl, plan, plan.population)
    except NoData:
        return out
    change = [p for e in plan.endpoints if e.kind == "change_from_baseline" for p in e.params]
    if change:
        out["trajectories"] = descriptive.trajectories(
            data.adlb, pop, change, plan.arms, plan.confidence_level
        )
    primary = plan.primary
    if primary is not None and (data.adlb["PARAMCD"] == primary.params[0]).any():
        out["child_pugh_shift"] = category_shift(data, pop, plan, primary)
    return out


ANALYSES = {
    "primary": proportion_endpoint,
    "change_from_baseline": change_endpoint,
    "survival": survival_endpoint,
    "competing_risks": competing_endpoint,
}


def _by_param(function, data, plan, endpoint) -> tuple[dict[str, Any], dict[str, str]]:
    """Results per parameter, and the reason of each parameter without data."""
    if endpoint.section == "primary":
        return {endpoint.params[0]: function(data, plan, endpoint)}, {}
    results, missing = {}, {}
    for param in endpoint.params:
        one = dataclasses.replace(endpoint, params=(param,))
        try:
            results.update(function(data, plan, one))
        except NoData as exc:
            missing[param] = str(exc)
    return results, missing


def default_plan() -> AnalysisPlan:
    """The plan of the installation's protocol (``$HEPATRIAL_PROTOCOL``, else the shipped one)."""
    from hepatrial.protocol.loader import default_protocol_path, load_protocol

    return AnalysisPlan.from_protocol(load_protocol(default_protocol_path()).protocol)


def run_analysis(datasets: AdamDatasets, plan: AnalysisPlan | None = None) -> dict[str, Any]:
    """Every analysis of the plan on validated datasets; a JSON-ready dict.

    Without ``plan``, the analysis section of the installation's protocol (:func:`default_plan`).

    Top-level keys: ``meta``, ``populations``, ``endpoints`` (each endpoint: where its results
    are, and the parameters not estimable with the reason), ``primary`` (the first proportion
    endpoint), ``change_from_baseline``, ``survival``, ``competing_risks`` (by parameter),
    ``safety``, ``descriptive``.

    Raises
    ------
    PlanMismatch
        when the datasets' arms are not the plan's, or a plan entry has no data and the plan
        does not allow it (``if_no_data: not_estimable``); the message names every such entry.
    """
    plan = plan or default_plan()
    found = sorted(set(datasets.adsl["ARMCD"].dropna()))
    if found and not set(found) <= set(plan.arms):
        raise PlanMismatch(
            f"ADSL ARMCD has arms {', '.join(found)} but the analysis plan compares "
            f"{' and '.join(plan.arms)}: give the plan that goes with these datasets "
            "(an export writes it as plan.json beside them)"
        )
    sections: dict[str, Any] = {"primary": None, "change_from_baseline": {}, "survival": {},
                                "competing_risks": {}}  # fmt: skip
    index: dict[str, Any] = {}
    errors: list[str] = []
    for endpoint in plan.endpoints:
        function = ANALYSES[endpoint.section]
        try:
            results, missing = _by_param(function, datasets, plan, endpoint)
        except NoData as exc:
            results, missing = {}, {p: str(exc) for p in endpoint.params}
        if missing and plan.no_data_of(endpoint) == "error":
            errors += [f"endpoint {endpoint.code}, parameter {p}: {why}"
                       for p, why in missing.items()]  # fmt: skip
        if endpoint.section == "primary":
            if results and sections["primary"] is None:
                sections["primary"] = next(iter(results.values()))
            elif results:
                sections.setdefault("proportions", {})[endpoint.code] = next(iter(results.values()))
        else:
            sections[endpoint.section].update(results)
        index[endpoint.code] = {
            "label": endpoint.label or endpoint.code,
            "kind": endpoint.kind,
            "method": endpoint.method,
            "section": endpoint.section,
            "population": endpoint.population,
            "params": list(endpoint.params),
            "estimated": [p for p in endpoint.params if p not in missing],
            "not_estimable": {p: {"estimable": False, "reason": why} for p, why in missing.items()},
        }
    if errors:
        raise PlanMismatch(
            "plan entries without data (a plan may set if_no_data: not_estimable to report "
            "them as not estimable instead):\n  " + "\n  ".join(errors)
        )
    safety_result = None
    if plan.safety_population:
        safety_result = safety.adverse_event_summary(
            datasets.adsl, datasets.adae, plan.arms, plan.safety_population
        )
    result = {
        "meta": {
            "hepatrial_version": __version__,
            "plan": plan.to_dict(),
            "arms": {arm: plan.label(arm) for arm in plan.arms},
            "reference_arm": plan.arms[0],
            "contrast": f"{plan.arms[1]} versus {plan.arms[0]}",
        },
        "populations": population_counts(datasets, plan),
        "endpoints": index,
        **sections,
        "safety": safety_result,
        "descriptive": descriptive_summaries(datasets, plan),
    }
    return jsonable(result)
