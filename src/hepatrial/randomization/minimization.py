"""Pocock–Simon minimization with a random element.

Method (Pocock SJ, Simon R. Sequential treatment assignment with balancing for prognostic
factors in the controlled clinical trial. *Biometrics* 1975;31:103–115):

1. For the new participant with level ``l_f`` of each factor ``f`` and for each candidate arm
   ``k``, take the counts of earlier participants *with the same level* in every arm, as they
   would be if the participant went to ``k``.
2. Divide each arm's count by its ratio (the weighted extension for unequal allocation,
   discussed by Han, Enas & McEntegart, *Stat Med* 2009;28:3329–3346), so a 2:1 design is in
   balance when the scaled counts are equal.
3. The imbalance of factor ``f`` is the **range** (max − min) of the scaled counts, or their
   population **variance** when the design says so; the total imbalance ``G_k`` is the sum over
   factors weighted by each factor's weight.
4. The *preferred* arms are those with the smallest ``G_k``. With probability ``p`` (the random
   element, ``preferred_probability``) the participant goes to a preferred arm, otherwise to one
   of the others; within either group an arm is drawn with probability proportional to its
   ratio, which also breaks ties at random. When every arm ties, the arm is drawn by ratio alone.

Unequal ratios make minimization drift away from the target ratio (Kuznetsova & Tymofyeyev,
*Stat Med* 2012;31:701–723; Proschan, Brittain & Kammerman, *Biometrics* 2011;67:1135–1141);
check the design by simulation before using it with unequal ratios.

Randomness for participant ``n`` (1-based, in order of randomization) comes only from the stream
``minimization/<n>``, so every assignment is reproducible from the seed and the sequence of
participants' factor levels.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from hepatrial.randomization.design import MinimizationDesign, stratum_code
from hepatrial.randomization.drbg import RandomStream, check_seed


@dataclass(frozen=True)
class MinimizationDecision:
    """What the minimization did for one participant, with the numbers that led there."""

    participant: int
    levels: tuple[str, ...]
    stratum: str
    imbalance_by_arm: dict[str, Fraction]
    preferred_arms: tuple[str, ...]
    arm: str
    followed_preference: bool | None
    """True when a preferred arm was given, False when another, None when all arms tied."""


def participant_stream_domain(participant: int) -> str:
    return f"minimization/{participant}"


class Minimizer:
    """Assigns participants one by one; holds the running counts per factor level and arm."""

    def __init__(self, design: MinimizationDesign, seed: bytes) -> None:
        self.design = design
        self._seed = seed
        check_seed(seed)
        self._counts: dict[tuple[int, str, str], int] = defaultdict(int)
        self._weights = [Fraction(str(f.weight)) for f in design.factors]
        self.assigned = 0

    def imbalance_scores(self, levels: tuple[str, ...]) -> dict[str, Fraction]:
        """Total weighted imbalance ``G_k`` for each candidate arm ``k``."""
        arms = self.design.arms
        scores: dict[str, Fraction] = {}
        for candidate in arms:
            total = Fraction(0)
            for index, level in enumerate(levels):
                scaled = [
                    Fraction(
                        self._counts[(index, level, arm.code)] + (arm.code == candidate.code),
                        arm.ratio,
                    )
                    for arm in arms
                ]
                total += self._weights[index] * _spread(scaled, self.design.imbalance)
            scores[candidate.code] = total
        return scores

    def assign(self, levels: Iterable[str]) -> MinimizationDecision:
        """Assign the next participant, who has ``levels`` (one per factor, in factor order)."""
        levels = tuple(levels)
        stratum = stratum_code(self.design.factors, levels)
        participant = self.assigned + 1
        stream = RandomStream(self._seed, participant_stream_domain(participant))
        scores = self.imbalance_scores(levels)
        best = min(scores.values())
        preferred = [arm for arm in self.design.arms if scores[arm.code] == best]
        others = [arm for arm in self.design.arms if scores[arm.code] != best]
        if not others:
            followed: bool | None = None
            pool = preferred
        else:
            followed = stream.bernoulli(self.design.preferred_probability)
            pool = preferred if followed else others
        chosen = pool[stream.weighted_index([arm.ratio for arm in pool])].code
        for index, level in enumerate(levels):
            self._counts[(index, level, chosen)] += 1
        self.assigned = participant
        return MinimizationDecision(
            participant=participant,
            levels=levels,
            stratum=stratum,
            imbalance_by_arm=scores,
            preferred_arms=tuple(arm.code for arm in preferred),
            arm=chosen,
            followed_preference=followed,
        )

    def count(self, factor: str, level: str, arm: str) -> int:
        """Participants so far with ``level`` of ``factor`` who were given ``arm``."""
        index = [f.code for f in self.design.factors].index(factor)
        return self._counts[(index, level, arm)]


def _spread(values: list[Fraction], measure: str) -> Fraction:
    if measure == "range":
        return max(values) - min(values)
    mean = sum(values, Fraction(0)) / len(values)
    return sum(((v - mean) ** 2 for v in values), Fraction(0)) / len(values)


def minimize_sequence(
    design: MinimizationDesign, seed: bytes, participants: Iterable[Iterable[str]]
) -> list[MinimizationDecision]:
    """Assign every participant in order; each item is that participant's factor levels."""
    minimizer = Minimizer(design, seed)
    return [minimizer.assign(levels) for levels in participants]
