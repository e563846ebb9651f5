"""Simulated trials analysed per second for the primary endpoint: vectorized vs per-trial loop.

Run: .venv/bin/python bench/bench_simulate.py

Both estimate the power of the primary analysis of NCT06242405 (risk difference in proportion
Child-Pugh A at week 24, Newcombe hybrid score interval, 46 per arm, p0 = 0.20, p1 = 0.50):

* loop: one trial at a time; draw the participants, call the analysis' scalar
  ``hepatrial.analysis.binary.newcombe_difference``;
* vectorized: outcomes drawn as (n_trials x n_participants) arrays and analysed at once
  (``hepatrial.simulate.power.simulate_power_primary``).

Targets: vectorized >= 20,000 trials/s and >= 100x the loop.
"""

from __future__ import annotations

import time

from hepatrial.simulate.power import simulate_power_primary, simulate_power_primary_loop

P0, P1, N_PER_ARM = 0.20, 0.50, 46


def rate(fn, n_sim: int, repeats: int = 3) -> tuple[float, float]:
    best = float("inf")
    result = None
    for r in range(repeats):
        start = time.perf_counter()
        result = fn(P0, P1, N_PER_ARM, 0.05, n_sim, 100 + r)
        best = min(best, time.perf_counter() - start)
    return n_sim / best, result.power


def main() -> int:
    simulate_power_primary(P0, P1, N_PER_ARM, 0.05, 1_000, 1)  # warm up
    loop_rate, loop_power = rate(simulate_power_primary_loop, 5_000)
    vec_rate, vec_power = rate(simulate_power_primary, 1_000_000)
    ratio = vec_rate / loop_rate
    print(f"primary endpoint, {N_PER_ARM} per arm, p0 = {P0}, p1 = {P1}, Newcombe CI")
    print(f"  per-trial loop : {loop_rate:12,.0f} trials/s   (power {loop_power:.3f})")
    print(f"  vectorized     : {vec_rate:12,.0f} trials/s   (power {vec_power:.3f})")
    print(f"  ratio          : {ratio:12,.1f} x")
    ok = vec_rate >= 20_000 and ratio >= 100
    print("  targets (>= 20,000 trials/s, >= 100x):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
