"""Stratified permuted-block lists: balance, independence of strata, reproducibility."""

from __future__ import annotations

import itertools
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from hepatrial.randomization import (
    Arm,
    BlockDesign,
    Factor,
    RandomizationList,
    generate_block_list,
    generate_stratum,
    import_list_csv,
    list_from_csv,
    list_to_csv,
)

SEED = b"NCT06242405 test seed, not secret"
TRIAL = BlockDesign(
    arms=(Arm("SINGLE"), Arm("DOUBLE")),
    block_sizes=(2, 4),
    factors=(Factor("CPCLASS", ("B", "C")),),
    per_stratum=46,
)


def blocks_of(randomization_list: RandomizationList) -> dict[tuple[str, int], list]:
    blocks: dict[tuple[str, int], list] = {}
    for entry in randomization_list.entries:
        blocks.setdefault((entry.stratum, entry.block), []).append(entry)
    return blocks


def assert_well_formed(design: BlockDesign, randomization_list: RandomizationList) -> None:
    for (_, _), entries in blocks_of(randomization_list).items():
        size = entries[0].block_size
        assert size in design.block_sizes
        assert len(entries) == size
        assert Counter(e.arm for e in entries) == Counter(design.arm_counts_in_block(size))
    for stratum in design.strata():
        entries = randomization_list.stratum_entries(stratum)
        assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))
        assert design.per_stratum <= len(entries) < design.per_stratum + max(design.block_sizes)
        assert [e.block for e in entries] == sorted(e.block for e in entries)


def test_the_trial_list_is_balanced_in_every_block_of_both_strata():
    randomization_list = generate_block_list(TRIAL, SEED)
    assert_well_formed(TRIAL, randomization_list)
    assert {e.stratum for e in randomization_list.entries} == {"CPCLASS=B", "CPCLASS=C"}


def test_a_two_to_one_ratio_puts_two_thirds_of_each_block_in_the_first_arm():
    design = BlockDesign(
        arms=(Arm("ACTIVE", 2), Arm("CONTROL", 1)), block_sizes=(3, 6), per_stratum=300
    )
    randomization_list = generate_block_list(design, SEED)
    assert_well_formed(design, randomization_list)
    counts = Counter(e.arm for e in randomization_list.entries)
    assert counts["ACTIVE"] == 2 * counts["CONTROL"]


def test_the_same_seed_regenerates_the_same_list():
    assert generate_block_list(TRIAL, SEED) == generate_block_list(TRIAL, SEED)
    assert generate_block_list(TRIAL, SEED).list_hash == generate_block_list(TRIAL, SEED).list_hash


def test_different_seeds_give_different_lists():
    lists = {generate_block_list(TRIAL, bytes([n]) * 32).list_hash for n in range(20)}
    assert len(lists) == 20


def test_block_sizes_vary_and_are_chosen_about_equally_often():
    design = BlockDesign(arms=TRIAL.arms, block_sizes=(2, 4), per_stratum=3000)
    entries = generate_block_list(design, SEED).entries
    sizes = Counter(e.block_size for e in {(e.stratum, e.block): e for e in entries}.values())
    blocks = sizes[2] + sizes[4]
    assert sizes[2] > 0 and sizes[4] > 0
    assert abs(sizes[2] - blocks / 2) < 4 * (blocks / 4) ** 0.5


def test_every_arrangement_of_a_block_is_about_equally_likely():
    design = BlockDesign(arms=TRIAL.arms, block_sizes=(4,), per_stratum=4 * 3000)
    entries = generate_block_list(design, SEED).entries
    arrangements = Counter(
        tuple(e.arm for e in entries[i : i + 4]) for i in range(0, len(entries), 4)
    )
    assert len(arrangements) == 6
    chi_square = sum((n - 500) ** 2 / 500 for n in arrangements.values())
    assert chi_square < 20.5  # chi2(5) 0.999 quantile


def test_strata_are_kept_apart_and_do_not_depend_on_each_other():
    randomization_list = generate_block_list(TRIAL, SEED)
    for stratum in TRIAL.strata():
        assert list(randomization_list.stratum_entries(stratum)) == generate_stratum(
            TRIAL, SEED, stratum
        )
    wider = BlockDesign(
        arms=TRIAL.arms,
        block_sizes=TRIAL.block_sizes,
        factors=(Factor("CPCLASS", ("B", "C", "D")),),
        per_stratum=TRIAL.per_stratum,
    )
    wider_list = generate_block_list(wider, SEED)
    for stratum in ("CPCLASS=B", "CPCLASS=C"):
        assert wider_list.stratum_entries(stratum) == randomization_list.stratum_entries(stratum)
    arms_b = [e.arm for e in randomization_list.stratum_entries("CPCLASS=B")]
    arms_c = [e.arm for e in randomization_list.stratum_entries("CPCLASS=C")]
    assert arms_b != arms_c


def test_a_longer_list_from_the_same_seed_extends_the_shorter_one():
    short = generate_block_list(TRIAL, SEED)
    longer_design = BlockDesign(
        arms=TRIAL.arms, block_sizes=TRIAL.block_sizes, factors=TRIAL.factors, per_stratum=200
    )
    longer = generate_block_list(longer_design, SEED)
    for stratum in TRIAL.strata():
        head = short.stratum_entries(stratum)
        assert longer.stratum_entries(stratum)[: len(head)] == head


def test_the_list_carries_its_metadata_but_never_the_seed():
    randomization_list = generate_block_list(TRIAL, SEED)
    as_dict = randomization_list.to_dict()
    assert as_dict["method"] == "permuted_blocks"
    assert as_dict["parameters"]["per_stratum"] == 46
    assert len(as_dict["seed_fingerprint"]) == 64 and len(as_dict["list_hash"]) == 64
    text = list_to_csv(randomization_list) + repr(as_dict)
    assert SEED.hex() not in text and SEED.decode() not in text
    assert RandomizationList.from_dict(as_dict) == randomization_list


arm_sets = st.lists(st.integers(1, 3), min_size=2, max_size=4).map(
    lambda ratios: tuple(Arm(f"ARM{i}", r) for i, r in enumerate(ratios))
)


@st.composite
def designs(draw) -> BlockDesign:
    arms = draw(arm_sets)
    cycle = sum(a.ratio for a in arms)
    multiples = draw(st.sets(st.integers(1, 3), min_size=1, max_size=3))
    factor_count = draw(st.integers(0, 2))
    factors = tuple(
        Factor(f"F{i}", tuple(f"L{j}" for j in range(draw(st.integers(1, 3)))))
        for i in range(factor_count)
    )
    return BlockDesign(
        arms=arms,
        block_sizes=tuple(cycle * m for m in multiples),
        factors=factors,
        per_stratum=draw(st.integers(1, 40)),
    )


@settings(max_examples=60, deadline=None)
@given(design=designs(), seed=st.binary(min_size=16, max_size=40))
def test_any_design_gives_balanced_blocks_and_complete_sequences(design, seed):
    randomization_list = generate_block_list(design, seed)
    assert_well_formed(design, randomization_list)
    assert randomization_list == generate_block_list(design, seed)


@settings(max_examples=40, deadline=None)
@given(design=designs(), seed=st.binary(min_size=16, max_size=40))
def test_any_list_survives_csv_and_passes_import_validation(design, seed):
    randomization_list = generate_block_list(design, seed)
    text = list_to_csv(randomization_list)
    assert list_from_csv(text) == randomization_list
    imported = import_list_csv(text, design.arms, design.strata(), design.block_sizes)
    assert imported.entries == randomization_list.entries
    without_blocks = "stratum,sequence,arm\n" + "".join(
        f"{e.stratum},{e.sequence},{e.arm}\n" for e in randomization_list.entries
    )
    inferred = import_list_csv(without_blocks, design.arms, design.strata(), design.block_sizes)
    assert [(e.stratum, e.sequence, e.arm) for e in inferred.entries] == [
        (e.stratum, e.sequence, e.arm) for e in randomization_list.entries
    ]


def test_permutations_of_levels_do_not_change_which_stratum_is_which():
    factors = (Factor("A", ("1", "2")), Factor("B", ("x", "y")))
    design = BlockDesign(arms=TRIAL.arms, block_sizes=(2,), factors=factors, per_stratum=4)
    strata = [e.stratum for e in generate_block_list(design, SEED).entries]
    expected = [f"A={a};B={b}" for a, b in itertools.product("12", "xy")]
    assert list(dict.fromkeys(strata)) == expected
