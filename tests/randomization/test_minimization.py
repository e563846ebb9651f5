"""Pocock–Simon minimization: small imbalance, a respected random element, determinism."""

from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hepatrial.randomization import (
    Arm,
    DesignError,
    Factor,
    MinimizationDesign,
    Minimizer,
    minimize_sequence,
)

SEED = b"minimization test seed 0123456789"
FACTORS = (
    Factor("CPCLASS", ("B", "C")),
    Factor("AGE", ("LT50", "50TO64", "GE65")),
    Factor("SEX", ("F", "M")),
)
DESIGN = MinimizationDesign(
    arms=(Arm("SINGLE"), Arm("DOUBLE")), factors=FACTORS, preferred_probability=0.8
)


def participants(count: int, seed: int) -> list[tuple[str, ...]]:
    """Test data only: factor levels of a made-up enrolment sequence."""
    rng = random.Random(seed)
    return [tuple(rng.choice(f.levels) for f in FACTORS) for _ in range(count)]


def worst_level_imbalance(minimizer: Minimizer, design: MinimizationDesign) -> int:
    a, b = (arm.code for arm in design.arms)
    return max(
        abs(minimizer.count(f.code, level, a) - minimizer.count(f.code, level, b))
        for f in design.factors
        for level in f.levels
    )


@pytest.mark.parametrize("run", range(8))
def test_marginal_imbalance_stays_small(run):
    minimizer = Minimizer(DESIGN, bytes([run]) * 32)
    for levels in participants(200, run):
        minimizer.assign(levels)
    assert worst_level_imbalance(minimizer, DESIGN) <= 6
    total_single = sum(minimizer.count("SEX", level, "SINGLE") for level in ("F", "M"))
    assert abs(2 * total_single - 200) <= 6


def test_minimization_balances_better_than_it_would_by_chance_alone():
    fair_coin = MinimizationDesign(arms=DESIGN.arms, factors=FACTORS, preferred_probability=0.5)
    worst = {0.5: [], 0.8: []}
    for run in range(10):
        for probability, design in ((0.5, fair_coin), (0.8, DESIGN)):
            minimizer = Minimizer(design, bytes([run]) * 32)
            for levels in participants(150, run):
                minimizer.assign(levels)
            worst[probability].append(worst_level_imbalance(minimizer, design))
    assert sum(worst[0.8]) * 2 < sum(worst[0.5])


def test_the_preferred_arm_is_given_with_the_random_element_probability():
    decisions = minimize_sequence(DESIGN, SEED, participants(3000, 1))
    with_preference = [d for d in decisions if d.followed_preference is not None]
    followed = sum(d.arm in d.preferred_arms for d in with_preference)
    n = len(with_preference)
    assert n > 1000
    assert abs(followed - 0.8 * n) < 4 * (n * 0.8 * 0.2) ** 0.5
    assert all((d.arm in d.preferred_arms) == d.followed_preference for d in with_preference)


def test_with_probability_one_the_preferred_arm_is_always_given():
    design = MinimizationDesign(arms=DESIGN.arms, factors=FACTORS, preferred_probability=1)
    decisions = minimize_sequence(design, SEED, participants(300, 2))
    assert all(d.arm in d.preferred_arms for d in decisions)


def test_ties_are_broken_at_random():
    decisions = minimize_sequence(DESIGN, SEED, participants(2000, 3))
    all_tied = [d for d in decisions if d.followed_preference is None]
    assert len(all_tied) > 200
    counts = Counter(d.arm for d in all_tied)
    assert abs(counts["SINGLE"] - len(all_tied) / 2) < 4 * (len(all_tied) / 4) ** 0.5


def test_the_first_participant_sees_all_arms_tied():
    decision = Minimizer(DESIGN, SEED).assign(("B", "GE65", "F"))
    assert decision.followed_preference is None
    assert set(decision.preferred_arms) == {"SINGLE", "DOUBLE"}
    assert decision.stratum == "CPCLASS=B;AGE=GE65;SEX=F"


def test_imbalance_is_the_weighted_sum_of_ranges():
    design = MinimizationDesign(
        arms=DESIGN.arms,
        factors=(Factor("CPCLASS", ("B", "C"), weight=2.0), Factor("SEX", ("F", "M"))),
    )
    minimizer = Minimizer(design, SEED)
    first = minimizer.assign(("B", "F")).arm
    other = "DOUBLE" if first == "SINGLE" else "SINGLE"
    scores = minimizer.imbalance_scores(("B", "M"))
    assert scores[first] == 2 * 2 + 1 * 1
    assert scores[other] == 2 * 0 + 1 * 1


def test_variance_measure_scores_the_spread_of_counts():
    design = MinimizationDesign(
        arms=(Arm("A"), Arm("B"), Arm("C")), factors=(Factor("X", ("1",)),), imbalance="variance"
    )
    minimizer = Minimizer(design, SEED)
    first = minimizer.assign(("1",)).arm
    scores = minimizer.imbalance_scores(("1",))
    assert scores[first] == Fraction(8, 9)
    assert all(scores[a.code] == Fraction(2, 9) for a in design.arms if a.code != first)


def test_unequal_ratios_use_ratio_scaled_counts():
    design = MinimizationDesign(
        arms=(Arm("ACTIVE", 2), Arm("CONTROL", 1)),
        factors=(Factor("X", ("1",)),),
        preferred_probability=1,
    )
    decisions = minimize_sequence(design, SEED, [("1",)] * 300)
    counts = Counter(d.arm for d in decisions)
    assert counts["ACTIVE"] == 200 and counts["CONTROL"] == 100


def test_assignments_are_determined_by_seed_and_participant_sequence():
    sequence = participants(120, 4)
    first = [d.arm for d in minimize_sequence(DESIGN, SEED, sequence)]
    again = [d.arm for d in minimize_sequence(DESIGN, SEED, sequence)]
    other_seed = [d.arm for d in minimize_sequence(DESIGN, SEED[::-1], sequence)]
    assert first == again
    assert first != other_seed


def test_unknown_levels_are_refused_without_counting_the_participant():
    minimizer = Minimizer(DESIGN, SEED)
    with pytest.raises(DesignError, match="unknown level 'A'"):
        minimizer.assign(("A", "GE65", "F"))
    assert minimizer.assigned == 0


@settings(max_examples=30, deadline=None)
@given(
    ratios=st.lists(st.integers(1, 3), min_size=2, max_size=4),
    levels=st.lists(st.tuples(st.sampled_from("12"), st.sampled_from("xyz")), max_size=60),
    seed=st.binary(min_size=16, max_size=32),
)
def test_any_design_assigns_known_arms_and_replays_identically(ratios, levels, seed):
    design = MinimizationDesign(
        arms=tuple(Arm(f"ARM{i}", r) for i, r in enumerate(ratios)),
        factors=(Factor("P", ("1", "2")), Factor("Q", ("x", "y", "z"))),
    )
    decisions = minimize_sequence(design, seed, levels)
    codes = {a.code for a in design.arms}
    assert all(d.arm in codes for d in decisions)
    assert [d.participant for d in decisions] == list(range(1, len(levels) + 1))
    assert decisions == minimize_sequence(design, seed, levels)
