"""Competing risks: Aalen-Johansen cumulative incidence and Gray's K-sample test.

Status coding throughout: 0 censored, 1 event of interest, 2 competing event (ADTTE EVNTCD).

References
----------
Aalen OO, Johansen S (1978). An empirical transition matrix for non-homogeneous Markov chains
    based on censored observations. Scand J Stat 5:141-150.
Gray RJ (1988). A class of K-sample tests for comparing the cumulative incidence of a competing
    risk. Ann Stat 16:1141-1154. (Test statistic and its variance, section 2; the cumulative
    incidence variance is the estimator given there, as reported by R's cmprsk::cuminc.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats


def _locate(uniq: np.ndarray, time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each time in the sorted distinct event times, and whether it is one of them."""
    if uniq.size == 0:
        return np.zeros(len(time), dtype=int), np.zeros(len(time), dtype=bool)
    idx = np.searchsorted(uniq, time)
    return idx, (idx < len(uniq)) & (uniq[np.minimum(idx, len(uniq) - 1)] == time)


def _event_table(time: np.ndarray, status: np.ndarray) -> tuple[np.ndarray, ...]:
    """Distinct times with at least one event: times, at-risk, cause-1 and cause-2 counts."""
    time = np.asarray(time, dtype=float)
    status = np.asarray(status, dtype=int)
    uniq = np.unique(time[status > 0])
    srt = np.sort(time)
    n_risk = len(time) - np.searchsorted(srt, uniq, side="left")
    idx, hit = _locate(uniq, time)
    d1 = np.bincount(idx[hit & (status == 1)], minlength=len(uniq))
    d2 = np.bincount(idx[hit & (status == 2)], minlength=len(uniq))
    return uniq, n_risk.astype(float), d1.astype(float), d2.astype(float)


def cumulative_incidence(time: np.ndarray, status: np.ndarray) -> dict[str, np.ndarray]:
    """Aalen-Johansen estimate of the cumulative incidence of cause 1 and its variance.

    ``F(t) = sum_{t_j <= t} S(t_j-) d1_j / n_j`` with ``S`` the all-cause Kaplan-Meier curve.
    The variance is Gray's (1988) delta-method estimator with the tie correction
    ``1 - (d - 1)/(n - 1)``; it is updated at cause-1 event times, as in ``cmprsk::cuminc``.
    """
    t, n, d1, d2 = _event_table(time, status)
    m = len(t)
    surv_before = np.empty(m)
    cif = np.empty(m)
    var = np.empty(m)
    s, f = 1.0, 0.0
    v1 = v2 = v3 = 0.0
    last_var = 0.0
    for j in range(m):
        surv_before[j] = s
        s_after = s * (n[j] - d1[j] - d2[j]) / n[j]
        f += s * d1[j] / n[j]
        inv = 1 / s_after if s_after > 0 else 0.0
        if d2[j] > 0 and s_after > 0:
            tie = 1 - (d2[j] - 1) / (n[j] - 1) if d2[j] > 1 else 1.0
            w = s * s * tie * d2[j] / (n[j] * n[j])
            a = f * inv
            v1 += a * a * w
            v2 += inv * a * w
            v3 += inv * inv * w
        if d1[j] > 0:
            tie = 1 - (d1[j] - 1) / (n[j] - 1) if d1[j] > 1 else 1.0
            w = s * s * tie * d1[j] / (n[j] * n[j])
            a = 1 + inv * f
            v1 += a * a * w
            v2 += inv * a * w
            v3 += inv * inv * w
            last_var = v1 + f * f * v3 - 2 * f * v2
        cif[j] = f
        var[j] = last_var
        s = s_after
    return {"time": t, "cif": cif, "var": var, "n_risk": n, "d1": d1, "d2": d2}


def cif_at(
    est: dict[str, np.ndarray], times: Sequence[float], max_time: float, level: float = 0.95
) -> list[dict[str, float | None]]:
    """Cumulative incidence, standard error and interval at ``times``.

    Interval on the log(-log) scale, ``F^exp(+/- z se / (F log F))``, which stays inside (0, 1)
    (Kalbfleisch-Prentice transform applied to ``F``; see docs/statistics.md).
    """
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    out: list[dict[str, float | None]] = []
    for tp in times:
        if tp > max_time:
            out.append({"time": tp, "cif": None, "se": None, "lower": None, "upper": None})
            continue
        idx = int(np.searchsorted(est["time"], tp, side="right")) - 1
        f = float(est["cif"][idx]) if idx >= 0 else 0.0
        v = float(est["var"][idx]) if idx >= 0 else 0.0
        se = math.sqrt(max(v, 0.0))
        if 0 < f < 1 and se > 0:
            k = z * se / (f * math.log(f))
            with np.errstate(over="ignore"):
                lower, upper = f ** float(np.exp(-k)), f ** float(np.exp(k))
        else:
            lower = upper = f
        out.append({"time": tp, "cif": f, "se": se, "lower": lower, "upper": upper})
    return out


def _gray_one_stratum(
    time: np.ndarray, status: np.ndarray, group: np.ndarray, k: int, rho: float
) -> tuple[np.ndarray, np.ndarray]:
    """Score vector (first k-1 groups) and its covariance within one stratum."""
    uniq = np.unique(time[status > 0])
    srt = [np.sort(time[group == g]) for g in range(k)]
    risk = np.column_stack([len(s) - np.searchsorted(s, uniq, side="left") for s in srt])
    idx, ok = _locate(uniq, time)
    d1 = np.zeros((len(uniq), k))
    d2 = np.zeros((len(uniq), k))
    np.add.at(d1, (idx[ok & (status == 1)], group[ok & (status == 1)]), 1)
    np.add.at(d2, (idx[ok & (status == 2)], group[ok & (status == 2)]), 1)

    surv_before = np.ones(k)  # all-cause KM S_k(t-) per group
    cif_before = np.zeros(k)  # cause-1 cumulative incidence F_k(t-)
    pooled_before = 0.0  # F^0(t-), pooled under the null
    score = np.zeros(k)
    c = np.zeros((k, k))  # c_ik(t) = int a_ik dF^0 / (1 - F^0-)
    v = np.zeros((k, k))
    v2 = np.zeros((k, k))
    v3 = np.zeros(k)
    for j in range(len(uniq)):
        y = risk[j].astype(float)
        at = y > 0
        e1, e2 = d1[j], d2[j]
        D1 = e1.sum()
        surv = surv_before.copy()
        surv[at] = surv_before[at] * (y[at] - e1[at] - e2[at]) / y[at]
        cif = cif_before.copy()
        cif[at] = cif_before[at] + surv_before[at] * e1[at] / y[at]
        h = np.where(at, y / np.where(at, surv_before, 1.0), 0.0)
        H = h.sum()
        R = h * (1 - cif_before)  # subdistribution risk set R_k(t)
        Q = R.sum()
        pooled = pooled_before + D1 / H
        w = (1 - pooled_before) ** rho
        a = w * (np.diag(h) - np.outer(h, h) / H)
        if D1 > 0 and pooled_before < 1:
            c += a * D1 / (H * (1 - pooled_before))
        score += np.where(at, w * (e1 - D1 * R / Q), 0.0)
        if D1 > 0:
            for g in np.flatnonzero(at):
                psi = 1 - (1 - pooled) / surv[g] if surv[g] > 0 else 1.0
                tie = 1 - (D1 - 1) / (H * surv_before[g] - 1) if D1 > 1 else 1.0
                weight = tie * surv_before[g] * D1 / (H * y[g])
                v3[g] += psi * psi * weight
                b = a[:, g] - psi * c[:, g]
                v2[:, g] += b * psi * weight
                v += np.outer(b, b) * weight
        if e2.sum() > 0:
            for g in np.flatnonzero(at & (e2 > 0) & (surv > 0)):
                phi = (1 - pooled) / surv[g]
                tie = 1 - (e2[g] - 1) / (y[g] - 1) if e2[g] > 1 else 1.0
                weight = tie * surv_before[g] ** 2 * e2[g] / y[g] ** 2
                v3[g] += phi * phi * weight
                b = phi * c[:, g]
                v2[:, g] -= b * phi * weight
                v += np.outer(b, b) * weight
        surv_before, cif_before, pooled_before = surv, cif, pooled
    v += (c * v3) @ c.T + c @ v2.T + v2 @ c.T
    return score[: k - 1], v[: k - 1, : k - 1]


def gray_test(
    time: np.ndarray,
    status: np.ndarray,
    group: np.ndarray,
    strata: np.ndarray | None = None,
    rho: float = 0.0,
) -> dict[str, float]:
    """Gray's (1988) test that the cause-1 cumulative incidence is equal across groups.

    The score for group ``k`` is ``int W(t) [dN_1k(t) - R_k(t) dN_1.(t) / R_.(t)]`` with the
    subdistribution risk set ``R_k = Y_k (1 - F_1k(t-)) / S_k(t-)`` and weight
    ``W = (1 - F^0(t-))^rho``; the statistic ``s' V^-1 s`` is chi-square with ``K-1`` degrees of
    freedom. Stratified version: scores and variances summed over strata. Matches
    ``cmprsk::cuminc(ftime, fstatus, group, strata, rho)$Tests``.
    """
    time = np.asarray(time, dtype=float)
    status = np.asarray(status, dtype=int)
    levels, g = np.unique(np.asarray(group), return_inverse=True)
    k = len(levels)
    if k < 2:
        return {"statistic": None, "df": 0, "p_value": None}
    st = (
        np.zeros(len(time), dtype=int)
        if strata is None
        else np.unique(strata, return_inverse=True)[1]
    )
    score = np.zeros(k - 1)
    var = np.zeros((k - 1, k - 1))
    for s in np.unique(st):
        sel = st == s
        sc, vv = _gray_one_stratum(time[sel], status[sel], g[sel], k, rho)
        score += sc
        var += vv
    eig = np.linalg.eigvalsh(var)
    if not np.all(np.isfinite(eig)) or eig.min() <= 1e-12 * max(1.0, float(np.abs(eig).max())):
        return {"statistic": None, "df": k - 1, "p_value": None}  # no information to compare
    statistic = float(score @ np.linalg.solve(var, score))
    return {"statistic": statistic, "df": k - 1, "p_value": float(stats.chi2.sf(statistic, k - 1))}
