"""Stratified permuted-block randomization lists with randomly chosen block sizes.

Method (Rosenberger & Lachin, *Randomization in Clinical Trials*, 2nd ed., Wiley 2016, §3.5
random permuted blocks, and §3.8 on varying the block size to limit selection bias):
for each stratum independently, repeat until the stratum holds ``per_stratum`` slots —
choose a block size uniformly from the protocol's set, fill the block with each arm's share
(``ratio * size / sum(ratios)`` slots), and shuffle it with Fisher–Yates.

All draws for a stratum come from the stream ``blocks/<stratum code>`` of
:class:`~hepatrial.randomization.drbg.RandomStream`: strata never share random numbers, and a
longer list made from the same seed begins with exactly the shorter one.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from hepatrial.randomization.design import BlockDesign
from hepatrial.randomization.drbg import RandomStream, seed_fingerprint

LIST_FORMAT_VERSION = 1


@dataclass(frozen=True)
class ListEntry:
    """One slot of a randomization list. ``sequence`` counts from 1 within the stratum."""

    stratum: str
    sequence: int
    block: int
    block_size: int
    arm: str


@dataclass(frozen=True)
class RandomizationList:
    """A generated (or imported) list and what is needed to check it.

    ``seed_fingerprint`` identifies the secret seed without revealing it; ``list_hash`` is the
    SHA-256 of the entries in canonical form and changes whenever any slot changes.
    ``parameters`` is the design as a dict (empty for an imported list without a design).
    """

    entries: tuple[ListEntry, ...]
    method: str = "permuted_blocks"
    seed_fingerprint: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    format_version: int = LIST_FORMAT_VERSION

    @property
    def list_hash(self) -> str:
        return entries_hash(self.entries)

    def stratum_entries(self, stratum: str) -> list[ListEntry]:
        return [entry for entry in self.entries if entry.stratum == stratum]

    def slot(self, stratum: str, sequence: int) -> ListEntry | None:
        """The entry at ``sequence`` in ``stratum``, or None when the list has no such slot."""
        return self._index().get((stratum, sequence))

    def _index(self) -> dict[tuple[str, int], ListEntry]:
        cached = self.__dict__.get("_slot_index")
        if cached is None:
            cached = {(e.stratum, e.sequence): e for e in self.entries}
            object.__setattr__(self, "_slot_index", cached)
        return cached

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "method": self.method,
            "seed_fingerprint": self.seed_fingerprint,
            "list_hash": self.list_hash,
            "parameters": self.parameters,
            "entries": [asdict(entry) for entry in self.entries],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RandomizationList:
        return cls(
            entries=tuple(ListEntry(**entry) for entry in data["entries"]),
            method=data.get("method", "permuted_blocks"),
            seed_fingerprint=data.get("seed_fingerprint", ""),
            parameters=dict(data.get("parameters", {})),
            format_version=int(data.get("format_version", LIST_FORMAT_VERSION)),
        )


def entries_hash(entries: tuple[ListEntry, ...] | list[ListEntry]) -> str:
    """SHA-256 over ``stratum,sequence,block,block_size,arm`` lines, one per entry.

    Entries are taken sorted by stratum code (as text) and then by sequence, so the hash does not
    depend on the order in which the entries are stored.
    """
    digest = hashlib.sha256()
    for e in sorted(entries, key=lambda entry: (entry.stratum, entry.sequence)):
        digest.update(f"{e.stratum},{e.sequence},{e.block},{e.block_size},{e.arm}\n".encode())
    return digest.hexdigest()


def stratum_stream_domain(stratum: str) -> str:
    return f"blocks/{stratum}"


def generate_stratum(design: BlockDesign, seed: bytes, stratum: str) -> list[ListEntry]:
    """The slots of one stratum, drawn from that stratum's own stream."""
    stream = RandomStream(seed, stratum_stream_domain(stratum))
    template = {size: _block_template(design, size) for size in design.block_sizes}
    entries: list[ListEntry] = []
    block_number = 0
    while len(entries) < design.per_stratum:
        block_number += 1
        size = design.block_sizes[stream.below(len(design.block_sizes))]
        arms = list(template[size])
        stream.shuffle(arms)
        start = len(entries)
        entries.extend(
            ListEntry(stratum, start + offset + 1, block_number, size, arm)
            for offset, arm in enumerate(arms)
        )
    return entries


def _block_template(design: BlockDesign, size: int) -> list[str]:
    return [code for code, count in design.arm_counts_in_block(size).items() for _ in range(count)]


def generate_block_list(design: BlockDesign, seed: bytes) -> RandomizationList:
    """Generate the full list: every stratum of ``design`` in :meth:`BlockDesign.strata` order."""
    entries: list[ListEntry] = []
    for stratum in design.strata():
        entries.extend(generate_stratum(design, seed, stratum))
    return RandomizationList(
        entries=tuple(entries),
        method=design.method,
        seed_fingerprint=seed_fingerprint(seed),
        parameters=design.to_dict(),
    )
