"""Continuous endpoints: ANCOVA of change from baseline, and a linear mixed model sensitivity.

ANCOVA (analysis of covariance) of the change from baseline with baseline as covariate is the
standard analysis for a randomized comparison of a continuous outcome (EMA guideline on
adjustment for baseline covariates, EMA/CHMP/295050/2013; Vickers & Altman, BMJ 2001).
For parameters analysed on the log scale the model is ``log(AVAL/BASE) ~ arm + log(BASE) +
stratum`` and the arm effect back-transforms to a ratio of geometric means.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats


def _exp(value: float) -> float:
    """``exp`` that overflows to infinity (reported as null) instead of raising."""
    with np.errstate(over="ignore"):
        return float(np.exp(value))


def dummies(values: pd.Series, levels: list[str] | None = None) -> np.ndarray:
    """Treatment-coded indicator columns (first level is the reference, as R's factor)."""
    levels = sorted(values.dropna().unique()) if levels is None else levels
    return (
        np.column_stack([(values == lev).to_numpy(float) for lev in levels[1:]])
        if len(levels) > 1
        else np.empty((len(values), 0))
    )


def ancova(
    aval: np.ndarray,
    base: np.ndarray,
    treated: np.ndarray,
    strata: np.ndarray | None = None,
    log_scale: bool = False,
    level: float = 0.95,
) -> dict[str, float]:
    """Treatment effect (treated minus reference) from an ANCOVA fitted by least squares.

    Linear scale: ``CHG = b0 + b1 treated + b2 BASE + strata``; log scale:
    ``log(AVAL) - log(BASE) = b0 + b1 treated + b2 log(BASE) + strata`` with effect
    ``exp(b1)`` (ratio of geometric means). t-based interval with residual degrees of freedom
    ``n - p``, identical to R's ``confint(lm(...))``.
    """
    if log_scale:
        y = np.log(aval) - np.log(base)
        covariate = np.log(base)
    else:
        y = aval - base
        covariate = base
    cols = [np.ones_like(y), treated.astype(float), covariate]
    if strata is not None and strata.size:
        cols.extend(np.atleast_2d(strata.T))
    x = np.column_stack(cols)
    n, p = x.shape
    if n <= p or treated.min() == treated.max():
        return {"n": n, "estimate": None, "ci_lower": None, "ci_upper": None, "p_value": None}
    fit = sm.OLS(y, x).fit()
    est, se = float(fit.params[1]), float(fit.bse[1])
    if not se > 0:
        return {"n": n, "estimate": None, "ci_lower": None, "ci_upper": None, "p_value": None}
    df = n - int(np.linalg.matrix_rank(x))
    crit = float(stats.t.ppf(1 - (1 - level) / 2, df))
    out = {
        "n": n,
        "df": df,
        "coef": est,
        "se": se,
        "p_value": float(2 * stats.t.sf(abs(est / se), df)),
        "estimate": est,
        "ci_lower": est - crit * se,
        "ci_upper": est + crit * se,
        "scale": "log" if log_scale else "linear",
    }
    if log_scale:
        out.update(
            estimate=_exp(est),
            ci_lower=_exp(est - crit * se),
            ci_upper=_exp(est + crit * se),
        )
    return out


def random_intercept_reml(
    y: np.ndarray, x: np.ndarray, groups: np.ndarray
) -> dict[str, np.ndarray | float | bool]:
    """REML fit of ``y = X b + u_group + e`` with ``u ~ N(0, tau2)``, ``e ~ N(0, sigma2)``.

    With ``lam = tau2 / sigma2`` each group's covariance is ``sigma2 (I + lam J)`` whose inverse
    is ``(I - c J) / sigma2``, ``c = lam / (1 + n_i lam)``, so every quantity of the restricted
    likelihood (Harville 1977; Pinheiro & Bates 2000, section 2.2) reduces to per-group sums.
    ``sigma2`` and ``b`` are profiled out and ``log lam`` is found by bounded scalar
    minimization of ``(N - p) log sigma2 + sum log(1 + n_i lam) + log det(X' H^-1 X)``.
    Standard errors: ``sigma2 (X' H^-1 X)^-1``, as ``nlme::lme(method = "REML")``.
    """
    from scipy.optimize import minimize_scalar

    _, g = np.unique(groups, return_inverse=True)
    n_obs, p = x.shape
    sizes = np.bincount(g).astype(float)
    sx = np.zeros((len(sizes), p))
    np.add.at(sx, g, x)
    sy = np.bincount(g, weights=y)
    xtx, xty, yty = x.T @ x, x.T @ y, float(y @ y)

    def pieces(log_lam: float) -> tuple[float, np.ndarray, np.ndarray, float]:
        lam = math.exp(log_lam)
        c = lam / (1 + sizes * lam)
        a = xtx - (sx * c[:, None]).T @ sx
        b = xty - (sx * c[:, None]).T @ sy
        beta = np.linalg.solve(a, b)
        rss = yty - float(np.sum(c * sy * sy)) - float(b @ beta)
        sigma2 = rss / (n_obs - p)
        sign, logdet = np.linalg.slogdet(a)
        crit = (n_obs - p) * math.log(sigma2) + float(np.sum(np.log1p(sizes * lam))) + logdet
        return crit, beta, a, sigma2

    opt = minimize_scalar(lambda t: pieces(t)[0], bounds=(-30.0, 15.0), method="bounded",
                          options={"xatol": 1e-10})  # fmt: skip
    _, beta, a, sigma2 = pieces(float(opt.x))
    return {
        "beta": beta,
        "cov": sigma2 * np.linalg.inv(a),
        "sigma2": sigma2,
        "tau2": sigma2 * math.exp(float(opt.x)),
        "converged": bool(opt.success),
    }


def containment_df(x: np.ndarray, groups: np.ndarray) -> int:
    """Denominator degrees of freedom of a within-participant fixed effect, as ``nlme``.

    Pinheiro & Bates (2000, section 2.4.2): a term that varies within groups gets
    ``N - G - p_within``, where ``p_within`` is the number of fixed-effect columns not
    explained by an intercept and the between-group (constant within group) columns:
    ``rank(X) - rank([1, X_between])``.
    """
    _, g = np.unique(groups, return_inverse=True)
    n_groups = int(g.max()) + 1
    between = []
    for j in range(x.shape[1]):
        col = x[:, j]
        lo = np.full(n_groups, np.inf)
        hi = np.full(n_groups, -np.inf)
        np.minimum.at(lo, g, col)
        np.maximum.at(hi, g, col)
        if np.all(lo == hi):
            between.append(col)
    outer = np.column_stack([np.ones(len(x)), *between])
    p_within = int(np.linalg.matrix_rank(x)) - int(np.linalg.matrix_rank(outer))
    return len(x) - n_groups - p_within


def mixed_model(
    long: pd.DataFrame,
    timepoint: float,
    log_scale: bool = False,
    level: float = 0.95,
) -> dict[str, float | int | None]:
    """Linear mixed model over all post-baseline visits; treatment contrast at ``timepoint``.

    ``long`` has columns ``id``, ``visit`` (numeric), ``treated`` (0/1), ``aval``, ``base`` and
    optional stratum indicator columns named ``s_*``. Model (REML, random intercept per
    participant): ``y ~ visit + visit:treated + covariate + strata``, with ``y`` the change from
    baseline (or log ratio) and the covariate the baseline (or its log), so the coefficient of
    ``visit[timepoint]:treated`` is the treatment contrast at that visit. Fitted by
    :func:`random_intercept_reml`; t interval and p-value on the containment degrees of freedom
    of :func:`containment_df`, as ``summary(nlme::lme(...))`` and ``intervals``.
    """
    data = long.dropna(subset=["aval", "base"]).copy()
    if log_scale:
        data["y"] = np.log(data["aval"]) - np.log(data["base"])
        data["cov"] = np.log(data["base"])
    else:
        data["y"] = data["aval"] - data["base"]
        data["cov"] = data["base"]
    visits = sorted(data["visit"].unique())
    if timepoint not in visits or data["id"].nunique() < 3:
        return {"estimate": None, "ci_lower": None, "ci_upper": None, "p_value": None}
    cols = {}
    for v in visits:
        ind = (data["visit"] == v).to_numpy(float)
        cols[f"visit_{v:g}"] = ind
        cols[f"treated_visit_{v:g}"] = ind * data["treated"].to_numpy(float)
    cols["baseline"] = data["cov"].to_numpy(float)
    for c in [c for c in data.columns if c.startswith("s_")]:
        cols[c] = data[c].to_numpy(float)
    x = pd.DataFrame(cols)
    x = x.loc[:, x.abs().sum() > 0]
    names = list(x.columns)
    if (
        f"treated_visit_{timepoint:g}" not in names
        or len(data) <= x.shape[1] + 1
        or np.linalg.matrix_rank(x.to_numpy(float)) < x.shape[1]
    ):
        return {"estimate": None, "ci_lower": None, "ci_upper": None, "p_value": None}
    try:
        fit = random_intercept_reml(
            data["y"].to_numpy(float), x.to_numpy(float), data["id"].to_numpy()
        )
    except np.linalg.LinAlgError:
        return {"estimate": None, "ci_lower": None, "ci_upper": None, "p_value": None}
    j = names.index(f"treated_visit_{timepoint:g}")
    est = float(fit["beta"][j])
    se = math.sqrt(max(float(fit["cov"][j, j]), 0.0))
    if not se > 0:
        return {"estimate": None, "ci_lower": None, "ci_upper": None, "p_value": None}
    df = containment_df(x.to_numpy(float), data["id"].to_numpy())
    z = float(stats.t.ppf(1 - (1 - level) / 2, df))
    out: dict[str, float | int | None] = {
        "n_participants": int(data["id"].nunique()),
        "n_observations": len(data),
        "coef": est,
        "se": se,
        "df": df,
        "p_value": float(2 * stats.t.sf(abs(est / se), df)),
        "estimate": est,
        "ci_lower": est - z * se,
        "ci_upper": est + z * se,
        "scale": "log" if log_scale else "linear",
        "converged": bool(fit["converged"]),
        "sd_intercept": math.sqrt(float(fit["tau2"])),
        "sd_residual": math.sqrt(float(fit["sigma2"])),
    }
    if log_scale:
        out.update(estimate=_exp(est), ci_lower=_exp(est - z * se), ci_upper=_exp(est + z * se))
    return out
