"""Sample size and power for the primary endpoint and the MELD ANCOVA of NCT06242405.

Analytic formulas
-----------------
Two independent proportions, 1:1, two-sided level ``alpha`` (Fleiss, Levin & Paik, *Statistical
Methods for Rates and Proportions*, 3rd ed. 2003, §4.2; Fleiss, Tytun & Ury, Biometrics
1980;36:343-346)::

    n' = [z_{α/2} √(2 p̄ q̄) + z_β √(p0 q0 + p1 q1)]² / Δ²          per arm, p̄ = (p0 + p1)/2
    n  = n'/4 · [1 + √(1 + 4 / (n' |Δ|))]²                          with continuity correction

``variance="unpooled"`` uses √(p0 q0 + p1 q1) under both hypotheses, n = (z_{α/2}+z_β)²
(p0 q0 + p1 q1)/Δ² (Chow, Shao & Wang, *Sample Size Calculations in Clinical Research*, 2nd ed.
2008, §4.2). Dropout inflates the evaluable n to n / (1 - dropout).

ANCOVA of change from baseline with baseline-outcome correlation ρ: the residual SD is
σ√(1 - ρ²) (Borm, Fransen & Lemmens, J Clin Epidemiol 2007;60:1234-1238), and power is taken from
the noncentral t with 2n - 3 degrees of freedom.

Simulation
----------
Outcomes are drawn directly as boolean / float arrays of shape ``(n_trials, n_per_arm)`` per
arm and analysed all at once: the primary analysis (risk difference with Newcombe's hybrid score
interval, as :func:`hepatrial.analysis.binary.newcombe_difference`) and the ANCOVA (batched least
squares, change ~ 1 + arm + baseline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from hepatrial.analysis import binary

DROPOUT_HANDLING = ("non_responder", "exclude")


def _z(p: float) -> float:
    return float(stats.norm.ppf(p))


@dataclass(frozen=True)
class SampleSize:
    p0: float
    p1: float
    alpha: float
    power: float
    continuity: bool
    variance: str
    dropout: float
    n_per_arm_exact: float
    """Evaluable participants per arm before rounding."""
    n_per_arm: int
    """Evaluable participants per arm, rounded up."""
    n_per_arm_enrolled: int
    """Per arm after inflation for dropout: ceil(n_per_arm / (1 - dropout))."""

    @property
    def total(self) -> int:
        return 2 * self.n_per_arm_enrolled


def _check_p(p0: float, p1: float) -> None:
    if not (0 < p0 < 1 and 0 < p1 < 1) or p0 == p1:
        raise ValueError("p0 and p1 must lie strictly between 0 and 1 and differ")


def sample_size_two_proportions(
    p0: float,
    p1: float,
    alpha: float = 0.05,
    power: float = 0.80,
    *,
    continuity: bool = False,
    variance: str = "pooled",
    dropout: float = 0.0,
) -> SampleSize:
    """Per-arm sample size for a two-sided test of p0 = p1 with equal allocation."""
    _check_p(p0, p1)
    if not 0 <= dropout < 1:
        raise ValueError("dropout must be in [0, 1)")
    delta = abs(p1 - p0)
    za, zb = _z(1 - alpha / 2), _z(power)
    spread = math.sqrt(p0 * (1 - p0) + p1 * (1 - p1))
    if variance == "pooled":
        pbar = (p0 + p1) / 2
        n = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * spread) ** 2 / delta**2
    elif variance == "unpooled":
        n = (za + zb) ** 2 * spread**2 / delta**2
    else:
        raise ValueError("variance must be 'pooled' or 'unpooled'")
    if continuity:
        n = n / 4 * (1 + math.sqrt(1 + 4 / (n * delta))) ** 2
    n_eval = math.ceil(n - 1e-9)
    enrolled = math.ceil(n_eval / (1 - dropout) - 1e-9)
    return SampleSize(p0, p1, alpha, power, continuity, variance, dropout, n, n_eval, enrolled)


def power_two_proportions(
    p0: float,
    p1: float,
    n_per_arm: float,
    alpha: float = 0.05,
    *,
    continuity: bool = False,
    variance: str = "pooled",
) -> float:
    """Power of the two-sided test with ``n_per_arm`` evaluable participants per arm.

    The inverse of :func:`sample_size_two_proportions` (same normal approximation); with the
    continuity correction the effective n is ``(n - 1/|Δ|)² / n`` (Fleiss, Tytun & Ury 1980).
    """
    _check_p(p0, p1)
    delta = abs(p1 - p0)
    n = float(n_per_arm)
    if continuity:
        n = max(n - 1 / delta, 0.0) ** 2 / n
    za = _z(1 - alpha / 2)
    spread = math.sqrt(p0 * (1 - p0) + p1 * (1 - p1))
    null_sd = math.sqrt(2 * ((p0 + p1) / 2) * (1 - (p0 + p1) / 2))
    if variance == "unpooled":
        null_sd = spread
    return float(stats.norm.cdf((delta * math.sqrt(n) - za * null_sd) / spread))


def detectable_p1(
    p0: float,
    n_per_arm: float,
    alpha: float = 0.05,
    power: float = 0.80,
    *,
    continuity: bool = False,
) -> float:
    """The p1 > p0 that gives ``power`` with ``n_per_arm`` evaluable per arm."""

    def gap(p1: float) -> float:
        return power_two_proportions(p0, p1, n_per_arm, alpha, continuity=continuity) - power

    hi = 1 - 1e-9
    if gap(hi) < 0:
        return math.nan
    return float(optimize.brentq(gap, p0 + 1e-6, hi, xtol=1e-7))


# --------------------------------------------------------------------------- simulation


def _wilson(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return np.maximum(0.0, centre - half), np.minimum(1.0, centre + half)


def newcombe_reject(
    x1: np.ndarray, n1: np.ndarray, x0: np.ndarray, n0: np.ndarray, alpha: float = 0.05
) -> np.ndarray:
    """Vectorized: does Newcombe's hybrid score interval for p1 - p0 exclude 0?"""
    z = _z(1 - alpha / 2)
    x1, n1, x0, n0 = (np.asarray(a, dtype=float) for a in (x1, n1, x0, n0))
    l1, u1 = _wilson(x1, n1, z)
    l0, u0 = _wilson(x0, n0, z)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p0 = x1 / n1, x0 / n0
    d = p1 - p0
    lower = d - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    upper = d + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return (lower > 0) | (upper < 0)


def ztest_reject(
    x1: np.ndarray, n1: np.ndarray, x0: np.ndarray, n0: np.ndarray, alpha: float = 0.05
) -> np.ndarray:
    """Vectorized pooled two-proportion z test (no continuity correction)."""
    x1, n1, x0, n0 = (np.asarray(a, dtype=float) for a in (x1, n1, x0, n0))
    with np.errstate(invalid="ignore", divide="ignore"):
        pbar = (x1 + x0) / (n1 + n0)
        se = np.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n0))
        zstat = (x1 / n1 - x0 / n0) / se
    return np.abs(np.nan_to_num(zstat)) > _z(1 - alpha / 2)


TESTS = {"newcombe": newcombe_reject, "ztest": ztest_reject}


@dataclass(frozen=True)
class SimulatedPower:
    power: float
    mc_se: float
    n_sim: int

    def ci(self) -> tuple[float, float]:
        return (self.power - 1.96 * self.mc_se, self.power + 1.96 * self.mc_se)


def _result(reject: np.ndarray) -> SimulatedPower:
    p = float(np.mean(reject))
    return SimulatedPower(p, math.sqrt(max(p * (1 - p), 1e-12) / reject.size), int(reject.size))


def simulate_primary_outcomes(
    rng: np.random.Generator,
    p0: float,
    p1: float,
    n_per_arm: int,
    n_sim: int,
    dropout: float = 0.0,
    dropout_handling: str = "non_responder",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Responder counts and analysed n per arm for ``n_sim`` trials: ``(x1, n1, x0, n0)``.

    Each participant is a responder under the composite strategy (class A at week 24, alive and
    not transplanted) with probability p1 (DOUBLE) or p0 (SINGLE); a dropout is, by
    ``dropout_handling``, a non-responder (the protocol's primary handling) or excluded.
    """
    if dropout_handling not in DROPOUT_HANDLING:
        raise ValueError(f"dropout_handling must be one of {DROPOUT_HANDLING}")
    u = rng.random((2, n_sim, n_per_arm), dtype=np.float32)
    resp = u < np.array([p1, p0], dtype=np.float32)[:, None, None]
    if dropout > 0:
        drop = rng.random((2, n_sim, n_per_arm), dtype=np.float32) < dropout
        resp &= ~drop
        n = n_per_arm - drop.sum(axis=2) if dropout_handling == "exclude" else None
    else:
        n = None
    x = resp.sum(axis=2)
    if n is None:
        n = np.full_like(x, n_per_arm)
    return x[0], n[0], x[1], n[1]


def simulate_power_primary(
    p0: float,
    p1: float,
    n_per_arm: int,
    alpha: float = 0.05,
    n_sim: int = 20_000,
    seed: int = 1,
    *,
    dropout: float = 0.0,
    dropout_handling: str = "non_responder",
    test: str = "newcombe",
    chunk: int = 50_000,
) -> SimulatedPower:
    """Monte-Carlo power of the primary analysis, vectorized over trials (in chunks)."""
    rng = np.random.default_rng(seed)
    reject_fn = TESTS[test]
    parts = []
    for start in range(0, n_sim, chunk):
        m = min(chunk, n_sim - start)
        x1, n1, x0, n0 = simulate_primary_outcomes(
            rng, p0, p1, n_per_arm, m, dropout, dropout_handling
        )
        parts.append(reject_fn(x1, n1, x0, n0, alpha))
    return _result(np.concatenate(parts))


def simulate_power_primary_loop(
    p0: float,
    p1: float,
    n_per_arm: int,
    alpha: float = 0.05,
    n_sim: int = 1_000,
    seed: int = 1,
) -> SimulatedPower:
    """The same primary-analysis power as a plain per-trial loop (reference for the benchmark):
    each trial draws its participants and calls the analysis' scalar Newcombe interval."""
    rng = np.random.default_rng(seed)
    level = 1 - alpha
    reject = np.empty(n_sim, dtype=bool)
    for i in range(n_sim):
        x1 = int((rng.random(n_per_arm) < p1).sum())
        x0 = int((rng.random(n_per_arm) < p0).sum())
        ci = binary.newcombe_difference(x1, n_per_arm, x0, n_per_arm, level)
        reject[i] = ci["ci_lower"] > 0 or ci["ci_upper"] < 0
    return _result(reject)


# --------------------------------------------------------------------------- ANCOVA


def power_ancova(
    delta: float, sd: float, rho: float, n_per_arm: float, alpha: float = 0.05
) -> float:
    """Power of the ANCOVA treatment test (change ~ arm + baseline), noncentral t."""
    resid = sd * math.sqrt(1 - rho**2)
    df = 2 * n_per_arm - 3
    nc = abs(delta) / (resid * math.sqrt(2 / n_per_arm))
    t = stats.t.ppf(1 - alpha / 2, df)
    return float(stats.nct.sf(t, df, nc) + stats.nct.cdf(-t, df, nc))


def sample_size_ancova(
    delta: float, sd: float, rho: float, alpha: float = 0.05, power: float = 0.80
) -> int:
    n = 4
    while power_ancova(delta, sd, rho, n, alpha) < power:
        n += 1
    return n


def simulate_power_ancova(
    delta: float,
    sd: float,
    rho: float,
    n_per_arm: int,
    alpha: float = 0.05,
    n_sim: int = 20_000,
    seed: int = 1,
    *,
    baseline_mean: float = 16.0,
    missing: float = 0.0,
    chunk: int = 20_000,
) -> SimulatedPower:
    """Monte-Carlo power of the ANCOVA of change in MELD, vectorized over trials.

    Baseline X ~ N(m, sd²); week-24 value Y = m + ρ(X - m) + δ·arm + N(0, sd²(1 - ρ²)), so
    corr(X, Y) = ρ in each arm. Change Y - X is regressed on 1, arm and X by batched least
    squares; ``missing`` is the probability a participant has no week-24 value (complete case).
    """
    rng = np.random.default_rng(seed)
    n = 2 * n_per_arm
    arm = np.r_[np.zeros(n_per_arm), np.ones(n_per_arm)]
    tcrit_cache: dict[int, float] = {}
    parts = []
    for start in range(0, n_sim, chunk):
        m = min(chunk, n_sim - start)
        x = rng.normal(baseline_mean, sd, (m, n))
        y = (
            baseline_mean
            + rho * (x - baseline_mean)
            + delta * arm
            + rng.normal(0, sd * math.sqrt(1 - rho**2), (m, n))
        )
        w = (rng.random((m, n)) >= missing).astype(float) if missing > 0 else np.ones((m, n))
        xc = x - baseline_mean
        design = np.stack([np.ones((m, n)), np.broadcast_to(arm, (m, n)), xc], axis=2)
        dw = design * w[:, :, None]
        xtx = np.einsum("tni,tnj->tij", dw, design)
        xty = np.einsum("tni,tn->ti", dw, y - x)
        beta = np.linalg.solve(xtx, xty[:, :, None])[:, :, 0]
        resid = (y - x) - np.einsum("tni,ti->tn", design, beta)
        df = w.sum(axis=1) - 3
        s2 = (w * resid**2).sum(axis=1) / df
        inv11 = np.linalg.inv(xtx)[:, 1, 1]
        tstat = beta[:, 1] / np.sqrt(s2 * inv11)
        dfi = df.astype(int)
        for d in np.unique(dfi):
            tcrit_cache.setdefault(int(d), float(stats.t.ppf(1 - alpha / 2, d)))
        crit = (
            np.array([tcrit_cache[int(d)] for d in dfi])
            if missing > 0
            else tcrit_cache[int(dfi[0])]
        )
        parts.append(np.abs(tstat) > crit)
    return _result(np.concatenate(parts))
