"""Design parameters are validated with messages that say what is wrong."""

from __future__ import annotations

from fractions import Fraction

import pytest

from hepatrial.randomization import (
    Arm,
    BlockDesign,
    DesignError,
    Factor,
    MinimizationDesign,
    all_strata,
    design_from_dict,
    stratum_code,
)

ARMS = (Arm("SINGLE"), Arm("DOUBLE"))
CPCLASS = Factor("CPCLASS", ("B", "C"))


def test_block_size_not_a_multiple_of_the_ratio_sum_is_refused():
    with pytest.raises(DesignError, match="block size 4 is not a multiple of 3.*2:1"):
        BlockDesign(arms=(Arm("A", 2), Arm("B", 1)), block_sizes=(3, 4), per_stratum=10)


@pytest.mark.parametrize(
    ("arms", "message"),
    [
        ((Arm("A"),), "at least two arms"),
        ((Arm("A"), Arm("A")), "duplicate arm codes: A"),
    ],
)
def test_arm_sets_must_have_two_distinct_arms(arms, message):
    with pytest.raises(DesignError, match=message):
        BlockDesign(arms=arms, block_sizes=(2,), per_stratum=1)


@pytest.mark.parametrize("ratio", [0, -1, 1.5])
def test_ratios_must_be_positive_integers(ratio):
    with pytest.raises(DesignError, match="ratio must be a positive integer"):
        Arm("A", ratio)


def test_codes_cannot_hold_separators():
    with pytest.raises(DesignError, match="arm code"):
        Arm("A,B")
    with pytest.raises(DesignError, match="level code"):
        Factor("SITE", ("S1", "S=2"))


def test_factors_need_distinct_levels_and_codes():
    with pytest.raises(DesignError, match="duplicate levels B"):
        Factor("CPCLASS", ("B", "B"))
    with pytest.raises(DesignError, match="duplicate factor codes: CPCLASS"):
        BlockDesign(arms=ARMS, block_sizes=(2,), factors=(CPCLASS, CPCLASS))


def test_empty_block_sizes_and_non_positive_length_are_refused():
    with pytest.raises(DesignError, match="at least one block size"):
        BlockDesign(arms=ARMS, block_sizes=())
    with pytest.raises(DesignError, match="per_stratum"):
        BlockDesign(arms=ARMS, block_sizes=(2,), per_stratum=0)


def test_strata_are_the_combinations_of_factor_levels():
    site = Factor("SITE", ("S1", "S2", "S3"))
    strata = all_strata((CPCLASS, site))
    assert len(strata) == 6
    assert strata[0] == "CPCLASS=B;SITE=S1" and strata[-1] == "CPCLASS=C;SITE=S3"
    assert all_strata(()) == ["ALL"]


def test_stratum_code_refuses_unknown_levels():
    assert stratum_code((CPCLASS,), ("C",)) == "CPCLASS=C"
    with pytest.raises(DesignError, match="unknown level 'A'"):
        stratum_code((CPCLASS,), ("A",))


def test_minimization_probability_must_favour_the_preferred_arm():
    with pytest.raises(DesignError, match=r"\[0.5, 1\]"):
        MinimizationDesign(arms=ARMS, factors=(CPCLASS,), preferred_probability=0.4)
    design = MinimizationDesign(arms=ARMS, factors=(CPCLASS,), preferred_probability=0.8)
    assert design.preferred_probability == Fraction(4, 5)


def test_minimization_needs_a_factor_and_a_known_imbalance_measure():
    with pytest.raises(DesignError, match="at least one factor"):
        MinimizationDesign(arms=ARMS, factors=())
    with pytest.raises(DesignError, match="'range' or 'variance'"):
        MinimizationDesign(arms=ARMS, factors=(CPCLASS,), imbalance="sd")


def test_designs_round_trip_through_dicts():
    blocks = BlockDesign(arms=ARMS, block_sizes=(4, 2), factors=(CPCLASS,), per_stratum=46)
    minimization = MinimizationDesign(
        arms=(Arm("A", 2), Arm("B")),
        factors=(Factor("AGE", ("LT65", "GE65"), weight=2.0), CPCLASS),
        preferred_probability=0.9,
        imbalance="variance",
    )
    assert design_from_dict(blocks.to_dict()) == blocks
    assert design_from_dict(minimization.to_dict()) == minimization


def test_incomplete_design_dicts_are_refused():
    with pytest.raises(DesignError, match="incomplete"):
        design_from_dict({"method": "permuted_blocks", "arms": []})
