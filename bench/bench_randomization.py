"""Randomization list throughput: slots per second for a 100,000-slot stratified list.

Baseline, measured in the same run: the same permuted-block list drawn with Python's
Mersenne Twister (``random.Random``), which is *not* acceptable for allocation but shows what
the cryptographic generator costs. Also timed: minimization, participants per second.

Run: .venv/bin/python bench/bench_randomization.py
"""

from __future__ import annotations

import random
import statistics
import time

from hepatrial.randomization import (
    Arm,
    BlockDesign,
    Factor,
    ListEntry,
    MinimizationDesign,
    generate_block_list,
    list_to_csv,
    minimize_sequence,
    verify_list,
)

SEED = bytes(range(32))
SLOTS = 100_000
REPEATS = 5
DESIGN = BlockDesign(
    arms=(Arm("SINGLE"), Arm("DOUBLE")),
    block_sizes=(2, 4),
    factors=(Factor("CPCLASS", ("B", "C")),),
    per_stratum=SLOTS // 2,
)


def baseline_list(design: BlockDesign, seed: int) -> list[ListEntry]:
    """The same algorithm on Python's non-cryptographic generator, for comparison only."""
    generator = random.Random(seed)
    rows = []
    for stratum in design.strata():
        sequence = block_number = 0
        while sequence < design.per_stratum:
            block_number += 1
            size = generator.choice(design.block_sizes)
            block = [c for c, n in design.arm_counts_in_block(size).items() for _ in range(n)]
            generator.shuffle(block)
            for arm in block:
                sequence += 1
                rows.append(ListEntry(stratum, sequence, block_number, size, arm))
    return rows


def best_seconds(action, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    slots = len(generate_block_list(DESIGN, SEED).entries)
    crypto = best_seconds(lambda: generate_block_list(DESIGN, SEED))
    baseline = best_seconds(lambda: baseline_list(DESIGN, 1))
    randomization_list = generate_block_list(DESIGN, SEED)
    verify = best_seconds(lambda: verify_list(randomization_list, SEED), repeats=3)
    to_csv = best_seconds(lambda: list_to_csv(randomization_list), repeats=3)

    print(f"permuted blocks, 2 strata, block sizes 2/4, {slots:,} slots (best of {REPEATS})")
    print(f"  HMAC-SHA256 generator   {crypto:7.3f} s  {slots / crypto:12,.0f} slots/s")
    print(f"  baseline random.Random  {baseline:7.3f} s  {slots / baseline:12,.0f} slots/s")
    print(f"  ratio crypto/baseline   {crypto / baseline:7.2f} x time")
    print(f"  verify_list             {verify:7.3f} s  ({verify / crypto:.2f} x generation)")
    print(f"  list_to_csv             {to_csv:7.3f} s  ({to_csv / crypto:.2f} x generation)")

    design = MinimizationDesign(
        arms=(Arm("SINGLE"), Arm("DOUBLE")),
        factors=(
            Factor("CPCLASS", ("B", "C")),
            Factor("AGE", ("LT50", "50TO64", "GE65")),
            Factor("SITE", tuple(f"S{n:02d}" for n in range(10))),
        ),
    )
    generator = random.Random(7)
    participants = [tuple(generator.choice(f.levels) for f in design.factors) for _ in range(5000)]
    runs = [
        best_seconds(lambda: minimize_sequence(design, SEED, participants), repeats=1)
        for _ in range(3)
    ]
    seconds = statistics.median(runs)
    print(f"minimization, 3 factors, {len(participants):,} participants (median of 3)")
    print(f"  {seconds:7.3f} s  {len(participants) / seconds:12,.0f} participants/s")
    relative = seconds / len(participants) / (crypto / slots)
    print(f"  per participant vs per list slot: {relative:.1f} x")


if __name__ == "__main__":
    main()
