"""Binary endpoints: proportions, risk difference, exact test, adjusted logistic regression, MI.

References
----------
Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
    JASA 22:209-212.
Newcombe RG (1998). Interval estimation for the difference between independent proportions:
    comparison of eleven methods. Stat Med 17:873-890 (method 10, hybrid score).
Rubin DB (1987). Multiple Imputation for Nonresponse in Surveys. Wiley.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import statsmodels.api as sm
from scipy import special, stats
from statsmodels.tools.sm_exceptions import PerfectSeparationError


def _z(level: float) -> float:
    return float(stats.norm.ppf(1 - (1 - level) / 2))


def wilson_interval(x: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``x`` successes out of ``n``, without continuity correction.

    Equals R's ``prop.test(x, n, correct = FALSE)$conf.int``.
    """
    if n == 0:
        return (math.nan, math.nan)
    z = _z(level)
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def clopper_pearson_interval(x: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval, as R's ``binom.test(x, n)$conf.int``."""
    if n == 0:
        return (math.nan, math.nan)
    alpha = 1 - level
    lower = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
    upper = 1.0 if x == n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
    return (lower, upper)


def newcombe_difference(
    x1: int, n1: int, x2: int, n2: int, level: float = 0.95
) -> dict[str, float]:
    """Risk difference ``p1 - p2`` with Newcombe's hybrid score interval (method 10).

    With Wilson limits ``(l1, u1)`` and ``(l2, u2)``:
    ``L = d - sqrt((p1 - l1)^2 + (u2 - p2)^2)`` and ``U = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)``
    (clipped to [-1, 1] against floating-point rounding).
    """
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, level)
    l2, u2 = wilson_interval(x2, n2, level)
    d = p1 - p2
    return {
        "estimate": d,
        "ci_lower": max(-1.0, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)),
        "ci_upper": min(1.0, d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)),
    }


def fisher_exact(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided Fisher exact p-value of the 2x2 table (R ``fisher.test``)."""
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


def logistic_regression(
    y: np.ndarray, treated: np.ndarray, covariates: np.ndarray | None = None, level: float = 0.95
) -> dict[str, float]:
    """Odds ratio for ``treated`` from a binomial GLM (logit link) with optional covariates.

    Wald z interval and p-value, as R's ``summary(glm(..., family = binomial))`` and
    ``confint.default``. ``covariates`` is a 2-D array already dummy-coded.
    """
    columns = [np.ones_like(treated, dtype=float), treated.astype(float)]
    if covariates is not None and covariates.size:
        columns.extend(np.atleast_2d(covariates.T))
    design = np.column_stack(columns)
    unavailable = {"log_odds_ratio": None, "se": None, "odds_ratio": None, "ci_lower": None,
                   "ci_upper": None, "p_value": None}  # fmt: skip
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.GLM(y.astype(float), design, family=sm.families.Binomial()).fit()
    except (np.linalg.LinAlgError, ValueError, PerfectSeparationError):
        return {**unavailable, "note": "model could not be fitted"}
    beta, se = float(fit.params[1]), float(fit.bse[1])
    z = _z(level)
    if not (math.isfinite(beta) and math.isfinite(se)) or se <= 0 or abs(beta) + z * se > 50:
        return {**unavailable, "note": "no finite estimate (complete or quasi-complete separation)"}
    return {
        "log_odds_ratio": beta,
        "se": se,
        "odds_ratio": math.exp(beta),
        "ci_lower": math.exp(beta - z * se),
        "ci_upper": math.exp(beta + z * se),
        "p_value": float(2 * stats.norm.sf(abs(beta / se))),
    }


def rubin_combine(
    estimates: Sequence[float], variances: Sequence[float], level: float = 0.95
) -> dict[str, float]:
    """Combine per-imputation estimates with Rubin's rules (Rubin 1987, t reference).

    ``T = W + (1 + 1/m) B`` with ``W`` the mean within-imputation variance and ``B`` the
    between-imputation variance; degrees of freedom ``(m - 1) (1 + W / ((1 + 1/m) B))^2``.
    """
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = q.size
    qbar = float(q.mean())
    w = float(u.mean())
    b = float(q.var(ddof=1)) if m > 1 else 0.0
    t = w + (1 + 1 / m) * b
    df = math.inf if b == 0 else (m - 1) * (1 + w / ((1 + 1 / m) * b)) ** 2
    crit = _z(level) if math.isinf(df) else float(stats.t.ppf(1 - (1 - level) / 2, df))
    se = math.sqrt(t)
    p = 2 * (stats.norm.sf(abs(qbar / se)) if math.isinf(df) else stats.t.sf(abs(qbar / se), df))
    return {
        "estimate": qbar,
        "se": se,
        "ci_lower": qbar - crit * se,
        "ci_upper": qbar + crit * se,
        "p_value": float(p),
        "df": df,
        "within_variance": w,
        "between_variance": b,
        "imputations": m,
    }


def impute_logistic(
    y: np.ndarray,
    design: np.ndarray,
    arm_index: np.ndarray,
    imputations: int = 50,
    seed: int = 20240301,
    level: float = 0.95,
) -> dict[str, float]:
    """Multiple imputation of missing binary outcomes, risk difference combined by Rubin's rules.

    Imputation model: logistic regression of ``y`` on ``design`` (intercept included by the
    caller) fitted to the observed outcomes. For each imputation the coefficients are drawn from
    their estimated normal sampling distribution ``N(beta_hat, V_hat)`` (approximately proper
    imputation; van Buuren 2018, Flexible Imputation of Missing Data, chapter 3), missing
    outcomes are drawn as Bernoulli variables, and the risk difference (arm 1 minus arm 0) with
    its Wald variance
    ``p1 (1 - p1) / n1 + p0 (1 - p0) / n0`` is combined across imputations. ``arms`` holds the
    per-arm proportions combined the same way (Wald variance ``p (1 - p) / n``).
    """
    rng = np.random.default_rng(seed)
    missing = np.isnan(y)
    obs = ~missing
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(y[obs], design[obs], family=sm.families.Binomial()).fit()
    cov = np.asarray(fit.cov_params())
    ests, variances = [], []
    arm_est: dict[int, list[float]] = {0: [], 1: []}
    arm_var: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(imputations):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            beta = rng.multivariate_normal(np.asarray(fit.params), cov)
        prob = special.expit(design[missing] @ beta)
        filled = y.copy()
        filled[missing] = (rng.random(missing.sum()) < prob).astype(float)
        p1 = filled[arm_index == 1].mean()
        p0 = filled[arm_index == 0].mean()
        n1, n0 = (arm_index == 1).sum(), (arm_index == 0).sum()
        ests.append(p1 - p0)
        variances.append(max(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0, 1e-12))
        for arm, p, n in ((0, p0, n0), (1, p1, n1)):
            arm_est[arm].append(p)
            arm_var[arm].append(max(p * (1 - p) / n, 1e-12))
    out = rubin_combine(ests, variances, level)
    out["seed"] = seed
    out["n_missing"] = int(missing.sum())
    out["arms"] = {arm: rubin_combine(arm_est[arm], arm_var[arm], level) for arm in (0, 1)}
    return out
