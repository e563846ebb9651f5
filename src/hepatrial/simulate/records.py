"""The participant-level record structure: one synthetic trial shaped like data entry.

Everything here is a plain dataclass of strings, numbers, lists and dicts, so
``json.dumps(trial.to_dict())`` works and :meth:`TrialRecords.from_dict` reads it back. Values are
text *as a coordinator would type them* (``"2.61"`` with unit ``"mg/dL"``), never canonical
floats: feeding them through the data-capture services exercises unit conversion and range checks.

Dates are ISO ``YYYY-MM-DD``; datetimes ISO ``YYYY-MM-DDTHH:MM``. An item value is a pair
``[value text, unit text or None]``; an item left empty is absent from ``items`` and present in
``missing`` with the reason the coordinator gave.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

ItemValues = dict[str, tuple[str, str | None]]
"""Item OID → (value text as entered, unit as entered; None for unit-less items)."""


def _items(raw: dict[str, Any]) -> ItemValues:
    return {k: (str(v[0]), None if v[1] is None else str(v[1])) for k, v in raw.items()}


@dataclass
class VisitRecord:
    """One study event as entered: F.LAB and F.CLIN item values taken on ``visit_date``."""

    event_oid: str
    visit_date: str
    study_day: int
    items: ItemValues = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    """Item OID → reason the value was not entered (data-capture status ``not_done``)."""
    out_of_window: bool = False
    """True for a visit deliberately simulated outside the protocol window (a deviation)."""


@dataclass
class FormRecord:
    """One instance of a form outside the visit grid (infusion, AE, decompensation, death, ...)."""

    form_oid: str
    items: ItemValues = field(default_factory=dict)
    intervention: str | None = None
    """For F.INF: the arm intervention code (INF1, INF2)."""


@dataclass
class Deviation:
    code: str
    """OUT_OF_WINDOW_VISIT, INFUSION_OUT_OF_WINDOW, INFUSION_MISSED or EMERGENCY_UNBLINDING."""
    date: str
    description: str
    major: bool = False


@dataclass
class ParticipantRecord:
    screening_number: str
    site_code: str
    screening_date: str
    eligibility: dict[str, str]
    """Criterion OID → "yes"/"no" as answered at screening."""
    failed_criteria: list[str]
    """Criteria whose answer is not the qualifying answer; empty for eligible participants."""
    consent_datetime: str | None
    demographics: ItemValues
    screening_visit: VisitRecord
    randomization_date: str | None = None
    arm: str | None = None
    """The true arm (the simulator knows it); None for screen failures."""
    stratum: str | None = None
    """Child-Pugh class at screening used for stratified randomization (B or C)."""
    visits: list[VisitRecord] = field(default_factory=list)
    """Scheduled post-screening events (BL, W1, ... W24) that took place, in date order."""
    infusions: list[FormRecord] = field(default_factory=list)
    adverse_events: list[FormRecord] = field(default_factory=list)
    decompensations: list[FormRecord] = field(default_factory=list)
    death: FormRecord | None = None
    transplant: FormRecord | None = None
    end_of_study: FormRecord | None = None
    deviations: list[Deviation] = field(default_factory=list)

    @property
    def randomized(self) -> bool:
        return self.randomization_date is not None


@dataclass
class TrialRecords:
    """One simulated trial: every screened patient, in screening order."""

    registry_id: str
    seed: int
    parameters: dict[str, Any]
    participants: list[ParticipantRecord]

    @property
    def randomized(self) -> list[ParticipantRecord]:
        return [p for p in self.participants if p.randomized]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialRecords:
        def visit(v: dict[str, Any]) -> VisitRecord:
            return VisitRecord(**{**v, "items": _items(v["items"])})

        def form(f: dict[str, Any] | None) -> FormRecord | None:
            return None if f is None else FormRecord(**{**f, "items": _items(f["items"])})

        people = []
        for p in data["participants"]:
            people.append(
                ParticipantRecord(
                    **{
                        **p,
                        "demographics": _items(p["demographics"]),
                        "screening_visit": visit(p["screening_visit"]),
                        "visits": [visit(v) for v in p["visits"]],
                        "infusions": [form(f) for f in p["infusions"]],
                        "adverse_events": [form(f) for f in p["adverse_events"]],
                        "decompensations": [form(f) for f in p["decompensations"]],
                        "death": form(p["death"]),
                        "transplant": form(p["transplant"]),
                        "end_of_study": form(p["end_of_study"]),
                        "deviations": [Deviation(**d) for d in p["deviations"]],
                    }
                )
            )
        return cls(data["registry_id"], data["seed"], data["parameters"], people)

    @classmethod
    def from_json(cls, text: str) -> TrialRecords:
        return cls.from_dict(json.loads(text))
