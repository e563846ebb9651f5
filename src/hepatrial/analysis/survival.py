"""Time-to-event: Kaplan-Meier, log-rank test, Cox proportional hazards.

Conventions follow R's ``survival`` package (Therneau): Greenwood variance, confidence
intervals on the log scale (``conf.type = "log"``, R's default; lifelines uses log-log), median
as the first time the curve falls below 0.5 (midpoint rule where it equals 0.5 on an interval),
log-rank test as ``survdiff`` (rho = 0), Cox model with Efron's tie handling as ``coxph``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

EPS = 1e-12


def _z(level: float) -> float:
    return float(stats.norm.ppf(1 - (1 - level) / 2))


def kaplan_meier(time: np.ndarray, event: np.ndarray, level: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier table at each distinct event time.

    Columns: ``time``, ``n_risk``, ``n_event``, ``surv``, ``se_log`` (standard error of
    ``log S``, Greenwood), ``lower``, ``upper`` (log-scale interval ``S exp(-/+ z se_log)``,
    upper bound truncated at 1, as R's ``survfit(conf.type = "log")``).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    uniq = np.unique(time[event])
    order = np.sort(time)
    n_risk = len(time) - np.searchsorted(order, uniq, side="left")
    n_event = pd.Series(time[event]).value_counts().reindex(uniq).to_numpy()
    surv = np.cumprod(1 - n_event / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        green = np.cumsum(n_event / (n_risk * (n_risk - n_event)))
        se_log = np.sqrt(green)
        z = _z(level)
        lower = np.where(surv > 0, surv * np.exp(-z * se_log), np.nan)
        upper = np.where(surv > 0, np.minimum(1.0, surv * np.exp(z * se_log)), np.nan)
    return pd.DataFrame(
        {
            "time": uniq,
            "n_risk": n_risk,
            "n_event": n_event,
            "surv": surv,
            "se_log": se_log,
            "lower": lower,
            "upper": upper,
        }
    )


def km_at(table: pd.DataFrame, times: Sequence[float], max_time: float) -> list[dict]:
    """Survival and interval at each of ``times`` (step function, right-continuous).

    A time beyond the last follow-up time gives ``None`` values (R's ``summary(fit, times)``
    drops such times unless ``extend = TRUE``).
    """
    out = []
    for t in times:
        if t > max_time:
            out.append({"time": t, "surv": None, "se": None, "lower": None, "upper": None})
            continue
        idx = int(np.searchsorted(table["time"].to_numpy(), t, side="right")) - 1
        if idx < 0:
            out.append({"time": t, "surv": 1.0, "se": 0.0, "lower": 1.0, "upper": 1.0})
            continue
        row = table.iloc[idx]
        out.append(
            {
                "time": t,
                "surv": float(row["surv"]),
                "se": float(row["surv"] * row["se_log"]),
                "lower": float(row["lower"]),
                "upper": float(row["upper"]),
            }
        )
    return out


def _first_below(times: np.ndarray, values: np.ndarray) -> float | None:
    """First time a step curve reaches <= 0.5, with R's midpoint rule for a flat 0.5.

    A missing confidence limit (the curve has dropped to 0) counts as reached.
    """
    for i, v in enumerate(values):
        if np.isnan(v):
            return float(times[i])
        if abs(v - 0.5) < EPS:
            return float((times[i] + times[i + 1]) / 2) if i + 1 < len(times) else float(times[i])
        if v < 0.5:
            return float(times[i])
    return None


def km_median(table: pd.DataFrame) -> dict[str, float | None]:
    """Median survival and its interval (R ``survfit`` print: the times the curve and its
    confidence limits first fall to 0.5 or below); ``None`` where not reached."""
    t = table["time"].to_numpy()
    return {
        "median": _first_below(t, table["surv"].to_numpy()),
        "lower": _first_below(t, table["lower"].to_numpy()),
        "upper": _first_below(t, table["upper"].to_numpy()),
    }


def logrank(time: np.ndarray, event: np.ndarray, group: np.ndarray) -> dict[str, float]:
    """K-sample log-rank test, identical to R's ``survdiff(Surv(time, event) ~ group)``.

    At each distinct event time the observed minus expected events per group and the
    hypergeometric covariance are summed; the statistic is ``(O-E)' V^- (O-E)`` with ``K-1``
    degrees of freedom.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    levels, g = np.unique(np.asarray(group), return_inverse=True)
    k = len(levels)
    uniq = np.unique(time[event])
    sorted_t = [np.sort(time[g == j]) for j in range(k)]
    at_risk = np.column_stack([len(s) - np.searchsorted(s, uniq, side="left") for s in sorted_t])
    deaths = np.column_stack(
        [
            pd.Series(time[event & (g == j)]).value_counts().reindex(uniq, fill_value=0).to_numpy()
            for j in range(k)
        ]
    )
    n = at_risk.sum(1)
    d = deaths.sum(1)
    expected = (at_risk * (d / n)[:, None]).sum(0)
    observed = deaths.sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n > 1, d * (n - d) / (n * n * (n - 1)), 0.0)
    var = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            var[i, j] = np.sum(factor * at_risk[:, i] * ((i == j) * n - at_risk[:, j]))
    diff = observed - expected
    try:
        chisq = float(diff[:-1] @ np.linalg.solve(var[:-1, :-1], diff[:-1])) if k > 1 else 0.0
    except np.linalg.LinAlgError:
        chisq = math.nan
    return {
        "chisq": chisq,
        "df": k - 1,
        "p_value": float(stats.chi2.sf(chisq, k - 1)) if k > 1 else math.nan,
        "observed": dict(zip(map(str, levels), observed.tolist())),
        "expected": dict(zip(map(str, levels), expected.tolist())),
    }


def cox_hazard_ratio(
    time: np.ndarray,
    event: np.ndarray,
    treated: np.ndarray,
    covariates: pd.DataFrame | None = None,
    level: float = 0.95,
) -> dict[str, float | None]:
    """Hazard ratio of ``treated`` from a Cox model, Efron ties (R ``coxph`` default).

    Fitted with lifelines ``CoxPHFitter`` (Efron's approximation, Newton-Raphson), Wald
    interval and p-value as ``summary(coxph(...))``.
    """
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    df = pd.DataFrame({"T": time, "E": event.astype(int), "treated": treated.astype(float)})
    if covariates is not None:
        df = pd.concat([df, covariates.reset_index(drop=True).astype(float)], axis=1)
    if df["E"].sum() == 0 or df["treated"].nunique() < 2:
        return {"hazard_ratio": None, "ci_lower": None, "ci_upper": None, "p_value": None}
    unavailable = {"hazard_ratio": None, "ci_lower": None, "ci_upper": None, "p_value": None}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = CoxPHFitter().fit(df, duration_col="T", event_col="E")
    except (ConvergenceError, np.linalg.LinAlgError, ValueError):
        return {**unavailable, "note": "model could not be fitted"}
    beta = float(fit.params_["treated"])
    se = float(fit.standard_errors_["treated"])
    z = _z(level)
    if not (math.isfinite(beta) and math.isfinite(se)) or se <= 0 or abs(beta) + z * se > 50:
        return {**unavailable, "note": "no finite estimate (no events in one arm)"}
    return {
        "log_hazard_ratio": beta,
        "se": se,
        "hazard_ratio": math.exp(beta),
        "ci_lower": math.exp(beta - z * se),
        "ci_upper": math.exp(beta + z * se),
        "p_value": float(2 * stats.norm.sf(abs(beta / se))),
        "events": int(df["E"].sum()),
    }
