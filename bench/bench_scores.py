"""Throughput of the liver severity scores: one patient per call vs vectorized.

Prints, for each score, in the same run:

- calls per second of one patient per call with plain values (what capture and the analysis
  derivation do), scored by the plain-Python path;
- calls per second of the same calls scored by the numpy function (the cost of each call before
  the plain-Python path), and of the numpy function given one-element arrays (one-row batch);
  the speed-up is plain / numpy;
- rows per second of one vectorized call on the full batch (10 million rows; ``--quick``:
  1 million), and its ratio to the plain loop.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from hepatrial.scores import SCORES


def synthetic_patients(n: int, seed: int = 20240301) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {
        "sex": pd.Categorical(rng.choice(["F", "M"], size=n)),
        "bilirubin": np.round(rng.lognormal(np.log(1.5), 0.8, n), 1),
        "bilirubin_unit": "mg/dL",
        "creatinine": np.round(rng.lognormal(np.log(1.0), 0.5, n), 2),
        "creatinine_unit": "mg/dL",
        "inr": np.round(rng.lognormal(np.log(1.3), 0.25, n), 2),
        "sodium": np.round(rng.normal(136, 4, n)),
        "albumin": np.round(rng.normal(34, 6, n)).clip(10, 55),
        "albumin_unit": "g/L",
        "dialysis": rng.random(n) < 0.03,
        "ascites": rng.integers(0, 4, n),
        "encephalopathy": rng.integers(0, 5, n),
    }


def _inputs_for(name: str, patients: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in patients.items() if k in SCORES[name].inputs}


def _row(inputs: dict[str, Any], i: int) -> dict[str, Any]:
    row = {}
    for key, value in inputs.items():
        if isinstance(value, str):
            row[key] = value
        else:
            item = value[i]
            row[key] = item.item() if hasattr(item, "item") else item
    return row


def scalar_rate(function: Callable[..., Any], inputs: dict[str, Any], sample: int) -> float:
    rows = [_row(inputs, i) for i in range(sample)]
    start = time.perf_counter()
    for row in rows:
        function(**row)
    return sample / (time.perf_counter() - start)


def one_row_rate(function: Callable[..., Any], inputs: dict[str, Any], sample: int) -> float:
    rows = [
        {k: v if isinstance(v, str) else np.asarray(v[i : i + 1]) for k, v in inputs.items()}
        for i in range(sample)
    ]
    start = time.perf_counter()
    for row in rows:
        function(**row)
    return sample / (time.perf_counter() - start)


def vectorized_rate(
    function: Callable[..., Any], inputs: dict[str, Any], n: int
) -> tuple[float, float]:
    start = time.perf_counter()
    function(**inputs)
    seconds = time.perf_counter() - start
    return n / seconds, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1 million rows, 2 000 scalar rows")
    parser.add_argument("--rows", type=int, help="vectorized batch size (default 10 000 000)")
    parser.add_argument("--sample", type=int, help="plain-Python loop sample (default 20 000)")
    args = parser.parse_args(argv)
    n = args.rows or (1_000_000 if args.quick else 10_000_000)
    sample = args.sample or (2_000 if args.quick else 20_000)
    numpy_sample = max(sample // 10, 100)
    patients = synthetic_patients(n)
    print(
        f"liver scores: one patient per call on {sample:,} rows (numpy per call: "
        f"{numpy_sample:,}), vectorized on {n:,} rows"
    )
    print(
        f"{'score':<18} {'plain calls/s':>14} {'numpy calls/s':>14} {'speed-up':>9} "
        f"{'1-row calls/s':>14} {'vector rows/s':>15} {'vector s':>9} {'vector/plain':>13}"
    )
    speed_ups = []
    for name, definition in SCORES.items():
        inputs = _inputs_for(name, patients)
        plain = scalar_rate(definition.function, inputs, sample)
        numpy_per_call = scalar_rate(definition.function.vectorized, inputs, numpy_sample)
        one_row = one_row_rate(definition.function.vectorized, inputs, numpy_sample)
        vector, seconds = vectorized_rate(definition.function, inputs, n)
        speed_ups.append(plain / numpy_per_call)
        print(
            f"{name:<18} {plain:>14,.0f} {numpy_per_call:>14,.0f} {plain / numpy_per_call:>8,.1f}x "
            f"{one_row:>14,.0f} {vector:>15,.0f} {seconds:>9.3f} {vector / plain:>12,.1f}x"
        )
    geometric = float(np.exp(np.mean(np.log(speed_ups))))
    print(f"one patient per call, plain Python vs numpy: {geometric:,.1f}x (geometric mean)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
