"""The parameters of a randomization scheme, as plain validated dataclasses.

Strata are the combinations of the levels of the stratification factors. A stratum is named by
its **stratum code**: ``FACTOR=LEVEL`` pairs in factor order joined by ``;``, for example
``CPCLASS=B`` or ``CPCLASS=C;SITE=S02``. Without factors there is one stratum, ``ALL``.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hepatrial.protocol.model import Protocol

UNSTRATIFIED = "ALL"
PAIR_SEPARATOR = ";"
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]+$")


class DesignError(ValueError):
    """The randomization parameters are inconsistent; the message says which and why."""


def _check_code(kind: str, code: str) -> None:
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        raise DesignError(
            f"{kind} code {code!r} must be letters, digits, '_', '.' or '-' and not empty"
        )


@dataclass(frozen=True)
class Arm:
    """A treatment arm and its integer share of the allocation ratio (2 in a 2:1 design)."""

    code: str
    ratio: int = 1

    def __post_init__(self) -> None:
        _check_code("arm", self.code)
        if not isinstance(self.ratio, int) or isinstance(self.ratio, bool) or self.ratio < 1:
            raise DesignError(
                f"arm {self.code}: ratio must be a positive integer, got {self.ratio!r}"
            )


@dataclass(frozen=True)
class Factor:
    """A stratification (or minimization) factor with its level codes, in order."""

    code: str
    levels: tuple[str, ...]
    weight: float = 1.0
    """Weight of the factor in the minimization imbalance; ignored by permuted blocks."""

    def __post_init__(self) -> None:
        _check_code("factor", self.code)
        object.__setattr__(self, "levels", tuple(self.levels))
        if not self.levels:
            raise DesignError(f"factor {self.code}: needs at least one level")
        for level in self.levels:
            _check_code(f"factor {self.code}: level", level)
        duplicates = sorted({lv for lv in self.levels if self.levels.count(lv) > 1})
        if duplicates:
            raise DesignError(f"factor {self.code}: duplicate levels {', '.join(duplicates)}")
        if not math.isfinite(self.weight) or self.weight <= 0:
            raise DesignError(f"factor {self.code}: weight must be positive, got {self.weight}")


def _check_arms(arms: tuple[Arm, ...]) -> None:
    if len(arms) < 2:
        raise DesignError(f"at least two arms are required, got {len(arms)}")
    codes = [arm.code for arm in arms]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise DesignError(f"duplicate arm codes: {', '.join(duplicates)}")


def _check_factors(factors: tuple[Factor, ...]) -> None:
    codes = [factor.code for factor in factors]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise DesignError(f"duplicate factor codes: {', '.join(duplicates)}")


def stratum_code(factors: tuple[Factor, ...], levels: tuple[str, ...]) -> str:
    """The code of the stratum with the given level of each factor (in factor order)."""
    if len(levels) != len(factors):
        raise DesignError(f"expected {len(factors)} factor levels, got {len(levels)}")
    if not factors:
        return UNSTRATIFIED
    for factor, level in zip(factors, levels, strict=True):
        if level not in factor.levels:
            raise DesignError(
                f"factor {factor.code}: unknown level {level!r} (known: {', '.join(factor.levels)})"
            )
    return PAIR_SEPARATOR.join(f"{f.code}={lv}" for f, lv in zip(factors, levels, strict=True))


def all_strata(factors: tuple[Factor, ...]) -> list[str]:
    """Every stratum code, the first factor varying slowest."""
    if not factors:
        return [UNSTRATIFIED]
    return [
        stratum_code(factors, combination)
        for combination in itertools.product(*(factor.levels for factor in factors))
    ]


@dataclass(frozen=True)
class BlockDesign:
    """Stratified permuted blocks of randomly chosen size.

    Every block size must be a multiple of the sum of the arm ratios, so that each block holds
    exactly ``ratio * size / sum(ratios)`` slots of every arm (Rosenberger & Lachin,
    *Randomization in Clinical Trials*, 2nd ed., Wiley 2016, ch. 3, random permuted blocks).
    Each stratum receives whole blocks until it holds at least ``per_stratum`` slots, so a
    stratum may end up to ``max(block_sizes) - 1`` slots longer than asked.
    """

    arms: tuple[Arm, ...]
    block_sizes: tuple[int, ...]
    factors: tuple[Factor, ...] = ()
    per_stratum: int = 1
    method: str = field(default="permuted_blocks", init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "arms", tuple(self.arms))
        object.__setattr__(self, "factors", tuple(self.factors))
        object.__setattr__(self, "block_sizes", tuple(sorted(set(self.block_sizes))))
        _check_arms(self.arms)
        _check_factors(self.factors)
        if not self.block_sizes:
            raise DesignError("at least one block size is required")
        cycle = self.ratio_total
        ratio_text = ":".join(str(arm.ratio) for arm in self.arms)
        for size in self.block_sizes:
            if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
                raise DesignError(f"block size must be a positive integer, got {size!r}")
            if size % cycle:
                raise DesignError(
                    f"block size {size} is not a multiple of {cycle}, the sum of the arm "
                    f"ratios {ratio_text}; a block of {size} cannot be balanced"
                )
        if not isinstance(self.per_stratum, int) or self.per_stratum < 1:
            raise DesignError(f"per_stratum must be a positive integer, got {self.per_stratum!r}")

    @property
    def ratio_total(self) -> int:
        return sum(arm.ratio for arm in self.arms)

    def arm_counts_in_block(self, size: int) -> dict[str, int]:
        """How many slots of each arm a balanced block of ``size`` holds."""
        multiple = size // self.ratio_total
        return {arm.code: arm.ratio * multiple for arm in self.arms}

    def strata(self) -> list[str]:
        return all_strata(self.factors)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "arms": [{"code": a.code, "ratio": a.ratio} for a in self.arms],
            "block_sizes": list(self.block_sizes),
            "factors": [{"code": f.code, "levels": list(f.levels)} for f in self.factors],
            "per_stratum": self.per_stratum,
        }


@dataclass(frozen=True)
class MinimizationDesign:
    """Pocock–Simon minimization with a random element.

    ``preferred_probability`` is the probability of giving the arm that minimizes the imbalance
    (Pocock & Simon, *Biometrics* 1975;31:103–115; 0.8 is a common choice). ``imbalance`` is
    ``"range"`` (max − min of the ratio-scaled counts) or ``"variance"`` (their population
    variance). See :mod:`hepatrial.randomization.minimization`.
    """

    arms: tuple[Arm, ...]
    factors: tuple[Factor, ...]
    preferred_probability: Fraction | float = Fraction(4, 5)
    imbalance: str = "range"
    method: str = field(default="minimization", init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "arms", tuple(self.arms))
        object.__setattr__(self, "factors", tuple(self.factors))
        _check_arms(self.arms)
        _check_factors(self.factors)
        if not self.factors:
            raise DesignError("minimization needs at least one factor")
        probability = self.preferred_probability
        if isinstance(probability, float):
            probability = Fraction(str(probability))
        probability = Fraction(probability)
        if not Fraction(1, 2) <= probability <= 1:
            raise DesignError(
                f"preferred_probability must lie in [0.5, 1], got {float(probability)}"
            )
        object.__setattr__(self, "preferred_probability", probability)
        if self.imbalance not in ("range", "variance"):
            raise DesignError(f"imbalance must be 'range' or 'variance', got {self.imbalance!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "arms": [{"code": a.code, "ratio": a.ratio} for a in self.arms],
            "factors": [
                {"code": f.code, "levels": list(f.levels), "weight": f.weight} for f in self.factors
            ],
            "preferred_probability": str(self.preferred_probability),
            "imbalance": self.imbalance,
        }


def design_from_dict(data: dict[str, Any]) -> BlockDesign | MinimizationDesign:
    """Rebuild a design from :meth:`BlockDesign.to_dict` or :meth:`MinimizationDesign.to_dict`."""
    try:
        arms = tuple(Arm(a["code"], int(a["ratio"])) for a in data["arms"])
        factors = tuple(
            Factor(f["code"], tuple(f["levels"]), float(f.get("weight", 1.0)))
            for f in data.get("factors", [])
        )
        method = data["method"]
        if method == "permuted_blocks":
            return BlockDesign(
                arms=arms,
                block_sizes=tuple(int(s) for s in data["block_sizes"]),
                factors=factors,
                per_stratum=int(data["per_stratum"]),
            )
        if method == "minimization":
            return MinimizationDesign(
                arms=arms,
                factors=factors,
                preferred_probability=Fraction(data["preferred_probability"]),
                imbalance=data.get("imbalance", "range"),
            )
    except (KeyError, TypeError) as exc:
        raise DesignError(f"incomplete design description: missing or wrong {exc}") from exc
    raise DesignError(f"unknown randomization method {method!r}")


def protocol_block_design(protocol: Protocol, per_stratum: int) -> BlockDesign:
    """The permuted-block design of ``protocol.randomization``, ``per_stratum`` slots each."""
    r = protocol.randomization
    return BlockDesign(
        arms=tuple(Arm(a.code, a.ratio) for a in protocol.arms),
        block_sizes=tuple(r.block_sizes),
        factors=tuple(Factor(f.code, tuple(lv.code for lv in f.levels)) for f in r.strata),
        per_stratum=per_stratum,
    )
