"""The HMAC-SHA256 generator: documented construction, independence, unbiased draws."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections import Counter
from fractions import Fraction

import pytest

from hepatrial.randomization import RandomStream, SeedError, seed_fingerprint
from hepatrial.randomization.drbg import CONTEXT

SEED = bytes(range(32))


def chi_square(counts: Counter, categories: list, expected: float) -> float:
    return sum((counts[c] - expected) ** 2 / expected for c in categories)


def test_stream_bytes_follow_the_documented_hmac_counter_construction():
    key = hmac.new(SEED, CONTEXT + b"\x00" + b"blocks/ALL", hashlib.sha256).digest()
    expected = b"".join(
        hmac.new(key, i.to_bytes(8, "big"), hashlib.sha256).digest() for i in range(10)
    )
    assert RandomStream(SEED, "blocks/ALL").random_bytes(320) == expected


def test_same_seed_and_domain_give_the_same_stream():
    first = RandomStream(SEED, "blocks/X=1")
    second = RandomStream(SEED, "blocks/X=1")
    assert [first.below(1000) for _ in range(200)] == [second.below(1000) for _ in range(200)]


def test_domains_and_seeds_separate_streams():
    base = RandomStream(SEED, "blocks/X=1").random_bytes(64)
    assert RandomStream(SEED, "blocks/X=2").random_bytes(64) != base
    assert RandomStream(bytes(reversed(SEED)), "blocks/X=1").random_bytes(64) != base


def test_reading_in_pieces_gives_the_same_bytes_as_reading_at_once():
    whole = RandomStream(SEED, "d").random_bytes(1000)
    pieces = RandomStream(SEED, "d")
    assert b"".join(pieces.random_bytes(n) for n in (1, 7, 256, 300, 436)) == whole


def test_below_stays_in_range_and_is_uniform():
    stream = RandomStream(SEED, "uniform")
    draws = Counter(stream.below(6) for _ in range(12_000))
    assert set(draws) == set(range(6))
    assert chi_square(draws, list(range(6)), 2000) < 20.5  # chi2(5) 0.999 quantile


def test_below_rejects_words_in_the_incomplete_last_cycle(monkeypatch):
    stream = RandomStream(SEED, "reject")
    bound = 3
    limit = 2**64 - 2**64 % bound
    words = iter([limit, 2**64 - 1, limit - 1])
    monkeypatch.setattr(stream, "_word", lambda: next(words))
    assert stream.below(bound) == (limit - 1) % bound


def test_shuffle_makes_every_permutation_equally_likely():
    stream = RandomStream(SEED, "shuffle")
    seen: Counter = Counter()
    for _ in range(6000):
        items = [1, 2, 3]
        stream.shuffle(items)
        seen[tuple(items)] += 1
    permutations = list(itertools.permutations([1, 2, 3]))
    assert set(seen) == set(permutations)
    assert chi_square(seen, permutations, 1000) < 20.5


def test_bernoulli_hits_its_probability():
    stream = RandomStream(SEED, "coin")
    hits = sum(stream.bernoulli(Fraction(4, 5)) for _ in range(10_000))
    assert abs(hits - 8000) < 4 * (10_000 * 0.8 * 0.2) ** 0.5


def test_weighted_index_follows_the_weights():
    stream = RandomStream(SEED, "weights")
    draws = Counter(stream.weighted_index([2, 1]) for _ in range(9000))
    assert abs(draws[0] - 6000) < 4 * (9000 * 2 / 9) ** 0.5


@pytest.mark.parametrize("seed", [b"", b"short", "a text seed"])
def test_short_or_non_bytes_seeds_are_refused(seed):
    with pytest.raises(SeedError):
        RandomStream(seed, "d")


def test_fingerprint_identifies_the_seed_without_containing_it():
    fingerprint = seed_fingerprint(SEED)
    assert fingerprint == seed_fingerprint(bytes(range(32)))
    assert fingerprint != seed_fingerprint(bytes(range(1, 33)))
    assert SEED.hex() not in fingerprint and len(fingerprint) == 64
