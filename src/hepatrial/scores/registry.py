"""Machine-readable description of every score, for callers that work by score name."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hepatrial.scores.albi import ALBI_VERSION, albi, albi_grade
from hepatrial.scores.child_pugh import CHILD_PUGH_VERSION, child_pugh_class, child_pugh_points
from hepatrial.scores.meld import MELD3_VERSION, MELD_NA_VERSION, MELD_VERSION, meld, meld3, meld_na


@dataclass(frozen=True)
class ScoreDefinition:
    name: str
    function: Callable[..., Any]
    inputs: tuple[str, ...]
    """Every keyword argument the function accepts."""
    required: tuple[str, ...]
    """Arguments without a default."""
    one_of: tuple[tuple[str, ...], ...]
    """Groups of optional arguments of which at least one must be given (Child-Pugh: INR or PT)."""
    FORMULA_VERSION: str
    source: str
    result: str
    """``integer``, ``number`` or ``label``."""

    @property
    def formula_version(self) -> str:
        return self.FORMULA_VERSION

    def __call__(self, **inputs: Any) -> Any:
        return self.function(**inputs)


def _definition(
    name: str,
    function: Callable[..., Any],
    version: str,
    source: str,
    result: str,
    one_of: tuple[tuple[str, ...], ...] = (),
) -> ScoreDefinition:
    parameters = inspect.signature(function).parameters.values()
    return ScoreDefinition(
        name=name,
        function=function,
        inputs=tuple(p.name for p in parameters),
        required=tuple(p.name for p in parameters if p.default is inspect.Parameter.empty),
        one_of=one_of,
        FORMULA_VERSION=version,
        source=source,
        result=result,
    )


_CHILD_PUGH_SOURCE = "Pugh et al., Br J Surg 1973;60:646-649"
_INR_OR_PT = (("inr", "pt_prolongation_s"),)
_ALBI_SOURCE = "Johnson et al., J Clin Oncol 2015;33:550-558"

SCORES: dict[str, ScoreDefinition] = {
    d.name: d
    for d in [
        _definition(
            "meld",
            meld,
            MELD_VERSION,
            "OPTN Policy 9.1.D (pre-2016 MELD); Kamath et al., Hepatology 2001;33:464-470",
            "integer",
        ),
        _definition(
            "meld_na",
            meld_na,
            MELD_NA_VERSION,
            "OPTN Policy 9.1.D (2016); Kim et al., N Engl J Med 2008;359:1018-1026",
            "integer",
        ),
        _definition(
            "meld3",
            meld3,
            MELD3_VERSION,
            "OPTN Policy 9.1.D (2023); Kim et al., Gastroenterology 2021;161:1887-1895",
            "integer",
        ),
        _definition(
            "child_pugh_points",
            child_pugh_points,
            CHILD_PUGH_VERSION,
            _CHILD_PUGH_SOURCE,
            "integer",
            _INR_OR_PT,
        ),
        _definition(
            "child_pugh_class",
            child_pugh_class,
            CHILD_PUGH_VERSION,
            _CHILD_PUGH_SOURCE,
            "label",
            _INR_OR_PT,
        ),
        _definition("albi", albi, ALBI_VERSION, _ALBI_SOURCE, "number"),
        _definition("albi_grade", albi_grade, ALBI_VERSION, _ALBI_SOURCE, "integer"),
    ]
}
