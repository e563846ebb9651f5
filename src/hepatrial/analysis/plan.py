"""The statistical analysis plan as data: what :func:`hepatrial.analysis.run.run_analysis` does.

Defaults describe NCT06242405; :meth:`AnalysisPlan.from_dict` builds a plan for any trial from a
mapping (JSON/YAML, or the protocol module), unknown keys being an error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MISSING_STRATEGIES = ("non_responder", "complete_case", "multiple_imputation")


@dataclass(frozen=True)
class AnalysisPlan:
    """Settings of one trial's analysis.

    Attributes
    ----------
    arms
        Arm codes (ADSL ARMCD) in display order; the first is the reference, so every effect is
        "second arm versus first" (for NCT06242405: DOUBLE versus SINGLE).
    arm_labels
        Display label per arm code.
    timepoint_visit, timepoint_day
        Analysis visit (ADLB AVISITN, a study day) of the primary timepoint and the horizon in
        days for time-to-event summaries and the composite strategy.
    strata_column
        ADSL column holding the randomization stratum, used as a covariate / stratum.
    responder_param, responder_value
        ADLB PARAMCD and AVALC value that defines a responder (Child-Pugh class A).
    composite_events
        ADSL date columns whose event on or before ``timepoint_day`` makes a non-responder.
    missing_data
        Primary handling of a missing responder value (participant alive, not transplanted,
        no value): ``non_responder``, ``complete_case`` or ``multiple_imputation``. The other
        two are always reported as sensitivity analyses.
    change_params, log_scale_params
        ADLB parameters analysed by ANCOVA of change from baseline; the subset on the log scale.
    exclude_after_transplant
        Drop laboratory values after ADSL LTXDT (while-on-treatment strategy).
    km_timepoints
        Days at which Kaplan-Meier and cumulative incidence estimates are reported.
    survival_params, competing_params
        ADTTE parameters analysed by Kaplan-Meier/log-rank/Cox, and by Aalen-Johansen/Gray.
    population, safety_population
        ADSL flag columns selecting the analysis and safety populations.
    """

    arms: tuple[str, ...] = ("SINGLE", "DOUBLE")
    arm_labels: Mapping[str, str] = field(
        default_factory=lambda: {"SINGLE": "Single infusion", "DOUBLE": "Double infusion"}
    )
    timepoint_visit: float = 168.0
    timepoint_day: float = 168.0
    strata_column: str | None = "STRATAR"
    responder_param: str = "CPCLASS"
    responder_value: str = "A"
    composite_events: tuple[str, ...] = ("DTHDT", "LTXDT")
    missing_data: str = "non_responder"
    change_params: tuple[str, ...] = (
        "ALT", "AST", "ALP", "BILI", "ALB", "PT", "INR", "MELD", "CPSCORE",
    )  # fmt: skip
    log_scale_params: tuple[str, ...] = ("ALT", "AST", "ALP", "BILI")
    exclude_after_transplant: bool = True
    km_timepoints: tuple[float, ...] = (28.0, 84.0, 168.0)
    survival_params: tuple[str, ...] = ("DEATH", "TFS")
    competing_params: tuple[str, ...] = ("DECOMP", "GIBLEED", "ASCITES", "HE", "LTX")
    population: str = "ITTFL"
    per_protocol_population: str | None = "PPROTFL"
    safety_population: str = "SAFFL"
    confidence_level: float = 0.95
    imputations: int = 50
    seed: int = 20240301

    def __post_init__(self) -> None:
        if len(self.arms) != 2:
            raise ValueError("the analysis compares exactly two arms")
        if self.missing_data not in MISSING_STRATEGIES:
            raise ValueError(f"missing_data must be one of {MISSING_STRATEGIES}")
        if not 0 < self.confidence_level < 1:
            raise ValueError("confidence_level must be between 0 and 1")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnalysisPlan:
        """Plan from a mapping; lists become tuples, missing keys keep their defaults."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown analysis plan keys: {sorted(unknown)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        if "arm_labels" in values:
            values["arm_labels"] = dict(values["arm_labels"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    def label(self, arm: str) -> str:
        return self.arm_labels.get(arm, arm)
