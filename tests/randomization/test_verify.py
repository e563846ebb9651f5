"""Verification regenerates from the seed and catches any tampering with allocations."""

from __future__ import annotations

import dataclasses
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from hepatrial.randomization import (
    AllocationRecord,
    Arm,
    BlockDesign,
    Factor,
    MinimizationDesign,
    generate_block_list,
    minimize_sequence,
    verify_allocations,
    verify_list,
)

SEED = b"verification test seed 0123456789"
TRIAL = BlockDesign(
    arms=(Arm("SINGLE"), Arm("DOUBLE")),
    block_sizes=(2, 4),
    factors=(Factor("CPCLASS", ("B", "C")),),
    per_stratum=46,
)
MINIMIZATION = MinimizationDesign(
    arms=(Arm("SINGLE"), Arm("DOUBLE")),
    factors=(Factor("CPCLASS", ("B", "C")), Factor("SEX", ("F", "M"))),
)


def allocation_log(count: int = 30) -> list[AllocationRecord]:
    """Participants alternate between strata unevenly, each taking the next slot."""
    randomization_list = generate_block_list(TRIAL, SEED)
    rng = random.Random(5)
    used = {"CPCLASS=B": 0, "CPCLASS=C": 0}
    log = []
    for _ in range(count):
        stratum = rng.choice(sorted(used))
        used[stratum] += 1
        slot = randomization_list.slot(stratum, used[stratum])
        log.append(AllocationRecord(stratum, slot.sequence, slot.arm))
    return log


def other_arm(arm: str) -> str:
    return "DOUBLE" if arm == "SINGLE" else "SINGLE"


def test_honest_allocations_verify():
    result = verify_allocations(TRIAL, SEED, allocation_log())
    assert result.ok and result.checked == 30 and result.first_mismatch is None


def test_honest_allocations_verify_against_the_stored_list():
    randomization_list = generate_block_list(TRIAL, SEED)
    assert verify_list(randomization_list, SEED).ok
    assert verify_allocations(randomization_list, SEED, allocation_log()).ok


def test_a_changed_arm_is_detected():
    log = allocation_log()
    log[7] = dataclasses.replace(log[7], arm=other_arm(log[7].arm))
    result = verify_allocations(TRIAL, SEED, log)
    assert not result.ok
    assert str(result.first_mismatch).startswith("allocation 8: ")
    assert "recorded, the list gives" in result.first_mismatch.reason


def test_swapped_order_is_detected():
    log = allocation_log()
    first = next(i for i, r in enumerate(log) if r.stratum == "CPCLASS=B" and r.sequence == 3)
    second = next(i for i, r in enumerate(log) if r.stratum == "CPCLASS=B" and r.sequence == 4)
    log[first], log[second] = log[second], log[first]
    result = verify_allocations(TRIAL, SEED, log)
    assert not result.ok
    assert result.first_mismatch.position == first + 1
    assert "skipped" in result.first_mismatch.reason


def test_a_skipped_slot_is_detected():
    log = allocation_log()
    target = next(i for i, r in enumerate(log) if r.stratum == "CPCLASS=C" and r.sequence == 5)
    del log[target]
    result = verify_allocations(TRIAL, SEED, log)
    assert not result.ok
    assert "sequence 5 skipped" in result.first_mismatch.reason


def test_a_slot_used_twice_is_detected():
    log = allocation_log()
    log.append(log[0])
    result = verify_allocations(TRIAL, SEED, log)
    assert "used twice" in result.first_mismatch.reason


def test_slots_beyond_the_list_and_unknown_strata_are_reported():
    randomization_list = generate_block_list(TRIAL, SEED)
    length = len(randomization_list.stratum_entries("CPCLASS=B"))
    log = [
        AllocationRecord("CPCLASS=B", s, randomization_list.slot("CPCLASS=B", s).arm)
        for s in range(1, length + 1)
    ]
    log.append(AllocationRecord("CPCLASS=B", length + 1, "SINGLE"))
    log.append(AllocationRecord("CPCLASS=A", 1, "SINGLE"))
    reasons = [m.reason for m in verify_allocations(TRIAL, SEED, log).mismatches]
    assert reasons == [
        f"stratum CPCLASS=B: sequence {length + 1} is beyond the list",
        "unknown stratum 'CPCLASS=A'",
    ]


def test_the_wrong_seed_fails_verification():
    randomization_list = generate_block_list(TRIAL, SEED)
    result = verify_allocations(randomization_list, SEED[::-1], allocation_log())
    assert "seed does not match" in str(result.first_mismatch)
    assert not verify_allocations(TRIAL, SEED[::-1], allocation_log()).ok


def test_a_stored_list_verifies_whatever_order_its_entries_are_kept_in():
    design = BlockDesign(
        arms=TRIAL.arms,
        block_sizes=TRIAL.block_sizes,
        factors=(Factor("AGE", ("LT65", "GE65")),),
        per_stratum=10,
    )
    randomization_list = generate_block_list(design, SEED)
    by_code = sorted(randomization_list.entries, key=lambda e: (e.stratum, e.sequence))
    assert by_code != list(randomization_list.entries)
    stored = dataclasses.replace(randomization_list, entries=tuple(by_code))
    assert stored.list_hash == randomization_list.list_hash
    assert verify_list(stored, SEED).ok


def test_a_list_missing_a_slot_fails_verification():
    randomization_list = generate_block_list(TRIAL, SEED)
    shorter = dataclasses.replace(randomization_list, entries=randomization_list.entries[:-1])
    assert "the list lacks" in str(verify_list(shorter, SEED).first_mismatch)


def test_a_tampered_list_fails_verification():
    randomization_list = generate_block_list(TRIAL, SEED)
    entries = list(randomization_list.entries)
    entries[3] = dataclasses.replace(entries[3], arm=other_arm(entries[3].arm))
    tampered = dataclasses.replace(randomization_list, entries=tuple(entries))
    result = verify_list(tampered, SEED)
    assert str(result.first_mismatch).startswith("list: the list has CPCLASS=B #4 block ")


def minimization_log(count: int = 40) -> list[AllocationRecord]:
    rng = random.Random(9)
    levels = [(rng.choice("BC"), rng.choice("FM")) for _ in range(count)]
    return [
        AllocationRecord(d.stratum, d.participant, d.arm, d.levels)
        for d in minimize_sequence(MINIMIZATION, SEED, levels)
    ]


def test_honest_minimization_allocations_verify():
    assert verify_allocations(MINIMIZATION, SEED, minimization_log()).ok


def test_a_changed_minimization_arm_is_detected():
    log = minimization_log()
    log[10] = dataclasses.replace(log[10], arm=other_arm(log[10].arm))
    result = verify_allocations(MINIMIZATION, SEED, log)
    assert result.first_mismatch.position == 11
    assert "minimization with this seed gives" in result.first_mismatch.reason


def test_swapped_minimization_records_are_detected():
    log = minimization_log()
    log[4], log[5] = log[5], log[4]
    result = verify_allocations(MINIMIZATION, SEED, log)
    assert result.first_mismatch.position == 5
    assert "out of order" in result.first_mismatch.reason


def test_a_missing_minimization_participant_is_detected():
    log = minimization_log()
    del log[12]
    result = verify_allocations(MINIMIZATION, SEED, log)
    assert result.first_mismatch.position == 13


def test_changed_factor_levels_are_detected():
    log = minimization_log()
    record = log[0]
    changed = ("C" if record.levels[0] == "B" else "B", record.levels[1])
    log[0] = dataclasses.replace(record, levels=changed)
    assert not verify_allocations(MINIMIZATION, SEED, log).ok


def test_unknown_factor_levels_stop_the_replay():
    log = minimization_log()
    log[2] = dataclasses.replace(log[2], levels=("X", "F"))
    result = verify_allocations(MINIMIZATION, SEED, log)
    assert result.checked == 3
    assert "unknown level 'X'" in str(result.first_mismatch)


@settings(max_examples=40, deadline=None)
@given(
    picks=st.lists(st.sampled_from(["CPCLASS=B", "CPCLASS=C"]), min_size=1, max_size=60),
    tamper=st.integers(0, 59),
    seed=st.binary(min_size=16, max_size=32),
)
def test_any_honest_log_verifies_and_any_changed_arm_is_caught(picks, tamper, seed):
    randomization_list = generate_block_list(TRIAL, seed)
    used = dict.fromkeys(TRIAL.strata(), 0)
    log = []
    for stratum in picks:
        used[stratum] += 1
        log.append(
            AllocationRecord(
                stratum, used[stratum], randomization_list.slot(stratum, used[stratum]).arm
            )
        )
    assert verify_allocations(randomization_list, seed, log).ok
    index = tamper % len(log)
    log[index] = dataclasses.replace(log[index], arm=other_arm(log[index].arm))
    result = verify_allocations(randomization_list, seed, log)
    assert [m.position for m in result.mismatches] == [index + 1]
