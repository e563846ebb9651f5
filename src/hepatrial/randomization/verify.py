"""Check, after the fact, that a list and the allocations made from it are what the seed gives.

An **allocation record** is what the allocation service logged for one participant, in the
order the participants were randomized: the stratum, the sequence number of the slot used
(1-based within the stratum for permuted blocks; the participant's rank in the whole trial for
minimization), the arm given and, for minimization, the participant's factor levels in factor
order. Verification regenerates everything from the secret seed and compares record by record,
so a changed arm, two records in swapped order, a skipped or reused slot, or a list that is
not the one the seed produces are all reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hepatrial.randomization.blocks import RandomizationList, generate_block_list
from hepatrial.randomization.design import (
    BlockDesign,
    DesignError,
    MinimizationDesign,
    design_from_dict,
    stratum_code,
)
from hepatrial.randomization.drbg import seed_fingerprint
from hepatrial.randomization.minimization import Minimizer


@dataclass(frozen=True)
class AllocationRecord:
    stratum: str
    sequence: int
    arm: str
    levels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mismatch:
    """One disagreement. ``position`` is the record's 1-based place in the log (0: the list)."""

    position: int
    reason: str

    def __str__(self) -> str:
        where = "list" if self.position == 0 else f"allocation {self.position}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class VerificationResult:
    checked: int
    mismatches: tuple[Mismatch, ...]

    @property
    def ok(self) -> bool:
        return not self.mismatches

    @property
    def first_mismatch(self) -> Mismatch | None:
        return self.mismatches[0] if self.mismatches else None

    def __bool__(self) -> bool:
        return self.ok


def verify_list(randomization_list: RandomizationList, seed: bytes) -> VerificationResult:
    """Regenerate the list from its recorded parameters and the seed and compare every slot.

    Slots are matched by (stratum, sequence), so the order the entries are stored in (e.g. a
    database sorted by stratum code) does not matter.
    """
    problems = _list_problems(randomization_list, seed)
    return VerificationResult(len(randomization_list.entries), tuple(problems))


def _list_problems(randomization_list: RandomizationList, seed: bytes) -> list[Mismatch]:
    fingerprint = seed_fingerprint(seed)
    if randomization_list.seed_fingerprint and randomization_list.seed_fingerprint != fingerprint:
        return [Mismatch(0, "the seed does not match the list's seed fingerprint")]
    try:
        design = design_from_dict(randomization_list.parameters)
    except DesignError as exc:
        return [Mismatch(0, f"the list's parameters cannot be used: {exc}")]
    if not isinstance(design, BlockDesign):
        return [Mismatch(0, f"a {design.method} design has no list to verify")]
    expected = generate_block_list(design, seed).entries
    actual = {(entry.stratum, entry.sequence): entry for entry in randomization_list.entries}
    for want in expected:
        got = actual.get((want.stratum, want.sequence))
        if got is None:
            return [Mismatch(0, f"the list lacks {_entry_text(want)}, which the seed gives")]
        if got != want:
            return [Mismatch(0, f"the list has {_entry_text(got)}; seed gives {_entry_text(want)}")]
    if len(actual) != len(expected) or len(actual) != len(randomization_list.entries):
        return [
            Mismatch(
                0,
                f"the list has {len(randomization_list.entries)} entries; "
                f"the seed gives {len(expected)}",
            )
        ]
    return []


def _entry_text(entry: Any) -> str:
    return f"{entry.stratum} #{entry.sequence} block {entry.block} ({entry.block_size}) {entry.arm}"


def verify_allocations(
    design: BlockDesign | MinimizationDesign | RandomizationList,
    seed: bytes,
    allocations: list[AllocationRecord],
) -> VerificationResult:
    """Check every allocation record against what ``seed`` gives under ``design``.

    ``design`` may be a :class:`RandomizationList`; the list itself is then verified first.
    """
    if isinstance(design, MinimizationDesign):
        return _verify_minimization(design, seed, allocations)
    if isinstance(design, RandomizationList):
        problems = _list_problems(design, seed)
        if problems:
            return VerificationResult(0, tuple(problems))
        reference = design
    else:
        reference = generate_block_list(design, seed)
    return _verify_block_allocations(reference, allocations)


def _verify_block_allocations(
    reference: RandomizationList, allocations: list[AllocationRecord]
) -> VerificationResult:
    strata = {entry.stratum for entry in reference.entries}
    next_sequence = dict.fromkeys(strata, 1)
    problems: list[Mismatch] = []
    for position, record in enumerate(allocations, start=1):
        if record.stratum not in strata:
            problems.append(Mismatch(position, f"unknown stratum {record.stratum!r}"))
            continue
        expected = next_sequence[record.stratum]
        if record.sequence > expected:
            skipped = _span(expected, record.sequence - 1)
            problems.append(
                Mismatch(
                    position,
                    f"stratum {record.stratum}: sequence {record.sequence} used but "
                    f"{skipped} skipped (next slot was {expected})",
                )
            )
        elif record.sequence < expected:
            problems.append(
                Mismatch(
                    position,
                    f"stratum {record.stratum}: sequence {record.sequence} out of order or "
                    f"used twice (next slot was {expected})",
                )
            )
        next_sequence[record.stratum] = max(expected, record.sequence + 1)
        slot = reference.slot(record.stratum, record.sequence)
        if slot is None:
            problems.append(
                Mismatch(
                    position,
                    f"stratum {record.stratum}: sequence {record.sequence} is beyond the list",
                )
            )
        elif slot.arm != record.arm:
            problems.append(
                Mismatch(
                    position,
                    f"stratum {record.stratum} sequence {record.sequence}: arm {record.arm} "
                    f"recorded, the list gives {slot.arm}",
                )
            )
    return VerificationResult(len(allocations), tuple(problems))


def _span(first: int, last: int) -> str:
    return f"sequence {first}" if first == last else f"sequences {first}-{last}"


def _verify_minimization(
    design: MinimizationDesign, seed: bytes, allocations: list[AllocationRecord]
) -> VerificationResult:
    minimizer = Minimizer(design, seed)
    problems: list[Mismatch] = []
    for position, record in enumerate(allocations, start=1):
        if record.sequence != position:
            problems.append(
                Mismatch(
                    position,
                    f"sequence {record.sequence} recorded at place {position}: "
                    "records are out of order, or a participant is missing or repeated",
                )
            )
        try:
            expected_stratum = stratum_code(design.factors, record.levels)
        except DesignError as exc:
            problems.append(Mismatch(position, f"factor levels {record.levels}: {exc}"))
            problems.append(Mismatch(position, "replay stopped: later records cannot be checked"))
            return VerificationResult(position, tuple(problems))
        if record.stratum != expected_stratum:
            problems.append(
                Mismatch(
                    position,
                    f"stratum {record.stratum} recorded; the levels give {expected_stratum}",
                )
            )
        decision = minimizer.assign(record.levels)
        if decision.arm != record.arm:
            problems.append(
                Mismatch(
                    position,
                    f"participant {position} ({expected_stratum}): arm {record.arm} recorded, "
                    f"minimization with this seed gives {decision.arm}",
                )
            )
    return VerificationResult(len(allocations), tuple(problems))
