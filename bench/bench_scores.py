"""Throughput of the liver severity scores: one patient per call (scalar loop) vs vectorized.

Prints, for each score, rows per second of a scalar loop (timed on a sample) and of one
vectorized call on the full batch (10 million rows; ``--quick``: 1 million), and their ratio.
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
    parser.add_argument("--sample", type=int, help="scalar loop sample (default 20 000)")
    args = parser.parse_args(argv)
    n = args.rows or (1_000_000 if args.quick else 10_000_000)
    sample = args.sample or (2_000 if args.quick else 20_000)
    patients = synthetic_patients(n)
    print(f"liver scores: scalar loop on {sample:,} rows, vectorized on {n:,} rows")
    print(f"{'score':<18} {'scalar rows/s':>14} {'vector rows/s':>15} {'vector s':>9} {'ratio':>8}")
    for name, definition in SCORES.items():
        inputs = _inputs_for(name, patients)
        scalar = scalar_rate(definition.function, inputs, sample)
        vector, seconds = vectorized_rate(definition.function, inputs, n)
        ratio = vector / scalar
        print(f"{name:<18} {scalar:>14,.0f} {vector:>15,.0f} {seconds:>9.3f} {ratio:>8,.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
