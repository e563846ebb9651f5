"""Time-to-event: Kaplan-Meier, log-rank test, Cox proportional hazards.

Conventions follow R's ``survival`` package (Therneau): Greenwood variance, confidence
intervals on the log scale (``conf.type = "log"``, R's default; lifelines uses log-log), median
as the first time the curve falls below 0.5 (midpoint rule where it equals 0.5 on an interval),
log-rank test as ``survdiff`` (rho = 0), Cox model with Efron's tie handling as ``coxph``
(fitted here by Newton-Raphson: every coefficient, the three global tests, concordance).
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


def _efron(
    beta: np.ndarray, groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
) -> tuple[float, np.ndarray, np.ndarray]:
    """Log partial likelihood, score and information at ``beta`` (Efron ties), summed over strata.

    Each group is one stratum's (time, event, x), rows sorted by decreasing time.
    """
    p = len(beta)
    loglik, score, info = 0.0, np.zeros(p), np.zeros((p, p))
    for time, event, x in groups:
        eta = x @ beta
        w = np.exp(eta)
        c0 = np.cumsum(w)
        c1 = np.cumsum(w[:, None] * x, axis=0)
        c2 = np.cumsum(w[:, None, None] * x[:, :, None] * x[:, None, :], axis=0)
        ev_times, which = np.unique(time[event], return_inverse=True)
        if ev_times.size == 0:
            continue
        last = np.searchsorted(-time, -ev_times, side="right") - 1
        r0, r1, r2 = c0[last], c1[last], c2[last]
        we, xe = w[event], x[event]
        d = np.bincount(which, minlength=ev_times.size).astype(float)
        d0 = np.bincount(which, weights=we, minlength=ev_times.size)
        d1 = np.zeros((ev_times.size, p))
        d2 = np.zeros((ev_times.size, p, p))
        np.add.at(d1, which, we[:, None] * xe)
        np.add.at(d2, which, we[:, None, None] * xe[:, :, None] * xe[:, None, :])
        loglik += float(eta[event].sum())
        score += xe.sum(axis=0)
        for k in range(int(d.max())):
            m = d > k
            f = k / d[m]
            s0 = r0[m] - f * d0[m]
            s1 = r1[m] - f[:, None] * d1[m]
            s2 = r2[m] - f[:, None, None] * d2[m]
            a = s1 / s0[:, None]
            loglik -= float(np.log(s0).sum())
            score -= a.sum(axis=0)
            info += (s2 / s0[:, None, None]).sum(axis=0) - a.T @ a
    return loglik, score, info


def _concordance(
    time: np.ndarray, event: np.ndarray, risk: np.ndarray, strata: np.ndarray
) -> dict[str, float]:
    """Harrell's C of the linear predictor as ``coxph`` reports it (higher risk, shorter time).

    A pair is comparable when, in one stratum, the shorter time ends in an event; an event and a
    censoring at the same time count (the censored one lived longer), two events at the same
    time do not (``tied.y``). Ties in the risk score count one half.
    """
    out = {"concordant": 0.0, "discordant": 0.0, "tied_risk": 0.0, "tied_time": 0.0}
    for s in np.unique(strata):
        sel = strata == s
        t, e, r = time[sel], event[sel], risk[sel]
        for i in np.flatnonzero(e):
            later = (t > t[i]) | ((t == t[i]) & ~e)
            tied = np.isclose(r, r[i], rtol=1e-10, atol=1e-12)
            out["concordant"] += float(np.sum(later & ~tied & (r < r[i])))
            out["discordant"] += float(np.sum(later & ~tied & (r > r[i])))
            out["tied_risk"] += float(np.sum(later & tied))
            out["tied_time"] += (float(np.sum((t == t[i]) & e)) - 1) / 2
    comparable = out["concordant"] + out["discordant"] + out["tied_risk"]
    out["concordance"] = (
        (out["concordant"] + out["tied_risk"] / 2) / comparable if comparable else math.nan
    )
    return out


def _test(statistic: float, df: int) -> dict[str, float | int | None]:
    ok = math.isfinite(statistic)
    return {
        "statistic": statistic if ok else None,
        "df": df,
        "p_value": float(stats.chi2.sf(statistic, df)) if ok else None,
    }


def cox_fit(
    time: np.ndarray,
    event: np.ndarray,
    covariates: pd.DataFrame,
    strata: np.ndarray | None = None,
    level: float = 0.95,
    max_iter: int = 30,
) -> dict:
    """Cox proportional-hazards model, Efron ties, Newton-Raphson: the whole fit as ``coxph``.

    ``covariates`` holds numeric columns (the design matrix, named); ``strata`` gives each row's
    stratum for a stratified model (separate baseline hazards). Returns every coefficient with
    its hazard ratio, standard error, z, p and Wald interval; the likelihood-ratio, score
    (log-rank for a single binary covariate) and Wald tests with their degrees of freedom; the
    log partial likelihood at zero and at the estimate; and Harrell's concordance.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    x = covariates.to_numpy(float)
    names = [str(c) for c in covariates.columns]
    st = np.zeros(len(time), dtype=int) if strata is None else np.asarray(strata)
    x = x - x.mean(axis=0) if len(x) else x  # centring, as coxph: same coefficients, stabler
    groups = []
    for s in np.unique(st):
        sel = np.flatnonzero(st == s)
        order = sel[np.argsort(-time[sel], kind="stable")]
        groups.append((time[order], event[order], x[order]))
    p = x.shape[1]
    beta = np.zeros(p)
    loglik0, score0, info0 = _efron(beta, groups)
    loglik, score, info = loglik0, score0, info0
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            break
        new = beta + step
        new_loglik, new_score, new_info = _efron(new, groups)
        halvings = 0
        while not new_loglik >= loglik - 1e-12 and halvings < 20:
            step /= 2
            new = beta + step
            new_loglik, new_score, new_info = _efron(new, groups)
            halvings += 1
        done = abs(new_loglik - loglik) <= 1e-10 * max(1.0, abs(loglik))
        beta, loglik, score, info = new, new_loglik, new_score, new_info
        if done:
            converged = True
            break
    try:
        var = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        var = np.full((p, p), np.nan)
    try:
        score_stat = float(score0 @ np.linalg.solve(info0, score0))
    except np.linalg.LinAlgError:
        score_stat = math.nan
    se = np.sqrt(np.diag(var))
    z = _z(level)
    coefficients = []
    for j, name in enumerate(names):
        b, s = float(beta[j]), float(se[j])
        finite = math.isfinite(b) and math.isfinite(s) and s > 0 and abs(b) + z * s <= 50
        coefficients.append({
            "name": name,
            "coef": b if finite else None,
            "hazard_ratio": math.exp(b) if finite else None,
            "se": s if finite else None,
            "z": b / s if finite else None,
            "p_value": float(2 * stats.norm.sf(abs(b / s))) if finite else None,
            "ci_lower": math.exp(b - z * s) if finite else None,
            "ci_upper": math.exp(b + z * s) if finite else None,
        })  # fmt: skip
    risk = x @ beta
    return {
        "n": int(len(time)),
        "events": int(event.sum()),
        "ties": "efron",
        "stratified": strata is not None,
        "strata": int(len(groups)),
        "coefficients": coefficients,
        "loglik_null": loglik0,
        "loglik": loglik,
        "likelihood_ratio_test": _test(2 * (loglik - loglik0), p),
        "score_test": _test(score_stat, p),
        "wald_test": _test(float(beta @ info @ beta), p),
        "concordance": _concordance(time, event, risk, st),
        "iterations": iterations,
        "converged": converged,
    }


def cox_hazard_ratio(
    time: np.ndarray,
    event: np.ndarray,
    treated: np.ndarray,
    covariates: pd.DataFrame | None = None,
    level: float = 0.95,
    strata: np.ndarray | None = None,
) -> dict:
    """Hazard ratio of ``treated`` from :func:`cox_fit` (Efron ties, as R's ``coxph``).

    The first keys describe the treatment coefficient (Wald interval and p-value as
    ``summary(coxph(...))``); ``fit`` holds the whole model.
    """
    unavailable = {"hazard_ratio": None, "ci_lower": None, "ci_upper": None, "p_value": None}
    treated = np.asarray(treated, dtype=float)
    event = np.asarray(event, dtype=bool)
    design = pd.DataFrame({"treated": treated})
    if covariates is not None and covariates.shape[1]:
        design = pd.concat([design, covariates.reset_index(drop=True).astype(float)], axis=1)
    if event.sum() == 0 or len(np.unique(treated)) < 2:
        return {**unavailable, "note": "no events" if event.sum() == 0 else "one arm only"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = cox_fit(time, event, design, strata, level)
    arm = fit["coefficients"][0]
    if arm["coef"] is None:
        return {**unavailable, "note": "no finite estimate (no events in one arm)", "fit": fit}
    return {
        "log_hazard_ratio": arm["coef"],
        "se": arm["se"],
        "hazard_ratio": arm["hazard_ratio"],
        "ci_lower": arm["ci_lower"],
        "ci_upper": arm["ci_upper"],
        "p_value": arm["p_value"],
        "events": fit["events"],
        "adjusted_for": list(design.columns[1:]),
        "stratified": fit["stratified"],
        "fit": fit,
    }
