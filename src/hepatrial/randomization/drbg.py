"""The deterministic cryptographic generator behind every randomization list.

Construction (documented so that anyone can re-implement it and check a list):

* A **stream key** is derived from the secret seed and a domain label::

      stream_key = HMAC-SHA256(seed, b"hepatrial.randomization.v1" || 0x00 || domain)

  Each stratum (and each minimization participant) gets its own domain, so streams are
  independent of one another and a list can be extended without changing what it already holds.
* The stream is HMAC-SHA256 in counter mode::

      block_i = HMAC-SHA256(stream_key, i as 8-byte big-endian), i = 0, 1, 2, ...

  as in the counter-mode key-derivation function of NIST SP 800-108 Rev. 1 (2022), with HMAC
  as the pseudorandom function approved in NIST SP 800-90A Rev. 1 (HMAC_DRBG). Only the keyed
  HMAC is used, so the output is unpredictable without the seed.
* Integers are drawn by **rejection sampling** on 64-bit words (never ``x % n``, which would
  favour small values): a word ``x`` is accepted for the range ``[0, n)`` only when
  ``x < n * floor(2**64 / n)``.

Python's :mod:`random` and NumPy's generators are never used for allocation.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from fractions import Fraction

CONTEXT = b"hepatrial.randomization.v1"
MINIMUM_SEED_BYTES = 16
WORD_BYTES = 8
WORD_RANGE = 1 << (8 * WORD_BYTES)


class SeedError(ValueError):
    """The secret seed is missing, malformed or too short."""


def check_seed(seed: bytes) -> bytes:
    """Return ``seed`` when it is usable: bytes with at least 16 (recommended 32) bytes."""
    if not isinstance(seed, bytes | bytearray):
        raise SeedError(f"the seed must be bytes, got {type(seed).__name__}")
    if len(seed) < MINIMUM_SEED_BYTES:
        raise SeedError(
            f"the seed has {len(seed)} bytes; at least {MINIMUM_SEED_BYTES} are required "
            "(32 recommended, e.g. from `hepatrial randomization new-seed`)"
        )
    return bytes(seed)


def seed_fingerprint(seed: bytes) -> str:
    """A public fingerprint that identifies the seed without revealing it.

    SHA-256 over a fixed label and the seed, hex encoded. It lets a reviewer confirm that a list
    and a seed belong together; it cannot be inverted to recover a seed of 16 bytes or more.
    """
    check_seed(seed)
    return hashlib.sha256(CONTEXT + b"\x00fingerprint\x00" + seed).hexdigest()


class RandomStream:
    """One independent stream of unbiased random draws, keyed by seed and domain."""

    def __init__(self, seed: bytes, domain: str) -> None:
        check_seed(seed)
        self.domain = domain
        self._key = hmac.digest(seed, CONTEXT + b"\x00" + domain.encode("utf-8"), "sha256")
        self._counter = 0
        self._buffer = b""
        self._offset = 0

    def random_bytes(self, count: int) -> bytes:
        """The next ``count`` bytes of the stream."""
        chunks = []
        needed = count
        while needed > 0:
            if self._offset >= len(self._buffer):
                self._refill()
            take = min(needed, len(self._buffer) - self._offset)
            chunks.append(self._buffer[self._offset : self._offset + take])
            self._offset += take
            needed -= take
        return b"".join(chunks)

    def _refill(self) -> None:
        blocks = []
        for _ in range(8):
            blocks.append(hmac.digest(self._key, self._counter.to_bytes(8, "big"), "sha256"))
            self._counter += 1
        self._buffer = b"".join(blocks)
        self._offset = 0

    def _word(self) -> int:
        if self._offset + WORD_BYTES > len(self._buffer):
            return int.from_bytes(self.random_bytes(WORD_BYTES), "big")
        start = self._offset
        self._offset += WORD_BYTES
        return int.from_bytes(self._buffer[start : start + WORD_BYTES], "big")

    def below(self, bound: int) -> int:
        """A uniform integer in ``[0, bound)``, by rejection sampling (no modulo bias)."""
        if bound <= 0:
            raise ValueError(f"bound must be positive, got {bound}")
        if bound == 1:
            return 0
        limit = WORD_RANGE - WORD_RANGE % bound
        while True:
            word = self._word()
            if word < limit:
                return word % bound

    def choice(self, options: Sequence[object]) -> object:
        """One element of ``options``, each equally likely."""
        return options[self.below(len(options))]

    def weighted_index(self, weights: Sequence[int]) -> int:
        """An index drawn with probability proportional to the positive integer ``weights``."""
        total = sum(weights)
        point = self.below(total)
        for index, weight in enumerate(weights):
            if point < weight:
                return index
            point -= weight
        raise AssertionError("unreachable: point is below the total weight")

    def bernoulli(self, probability: Fraction) -> bool:
        """True with exactly ``probability`` (a fraction in [0, 1])."""
        if not 0 <= probability <= 1:
            raise ValueError(f"probability must lie in [0, 1], got {probability}")
        return self.below(probability.denominator) < probability.numerator

    def shuffle(self, items: list) -> None:
        """Shuffle ``items`` in place: Fisher–Yates (Knuth, TAOCP vol. 2, Algorithm P)."""
        for last in range(len(items) - 1, 0, -1):
            other = self.below(last + 1)
            items[last], items[other] = items[other], items[last]
