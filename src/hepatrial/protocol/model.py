"""The protocol schema: one trial described as data.

Every model but :class:`Label` (whose keys are languages) forbids unknown keys, so a typo in
a protocol file is an error rather than a setting silently ignored. Cross-references between
parts of the document (items named by derived scores, strata and endpoints; events named by
forms) are checked in :mod:`hepatrial.protocol.checks`, which can say *where* each broken
reference sits.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

from hepatrial.protocol.roles import Role
from hepatrial.scores.settings import (
    DEFAULT_CHILD_PUGH_SOURCE,
    DEFAULT_CHILD_PUGH_TEXT,
    LABORATORY_FACTORS,
    Band,
    ChildPughTable,
    ScoreSettings,
    TableError,
)

Oid = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.]*$", max_length=64)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=32)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


LANGUAGE_KEY = re.compile(r"^[a-z]{2,3}([_-][a-z0-9]{2,8})*$")
"""A label's language: ``ja``, ``zh_hant``, ``pt-br`` (lower case, ``_`` or ``-`` between parts)."""

CHINESE_REGIONS = {"tw": "hant", "hk": "hant", "mo": "hant", "cn": "hans", "sg": "hans"}
"""A Chinese region stands for its script when the label has the script but not the region."""


def _prefixes(parts: list[str]) -> list[str]:
    return ["_".join(parts[:n]) for n in range(len(parts), 0, -1)]


def _language_parts(language: str) -> list[str]:
    """``zh-Hant-TW`` → ``["zh_hant_tw", "zh_hant", "zh"]``: the keys to try, best first.

    ``zh-TW`` tries ``zh_tw`` and then the script it is written in: ``zh_hant_tw``, ``zh_hant``.
    """
    parts = [p for p in language.strip().lower().replace("-", "_").split("_") if p]
    keys = _prefixes(parts)
    if len(parts) >= 2 and parts[0] == "zh" and parts[1] in CHINESE_REGIONS:
        keys = keys[:-1] + _prefixes(["zh", CHINESE_REGIONS[parts[1]], *parts[1:]])
    return list(dict.fromkeys(keys))


class Label(BaseModel):
    """A text shown to users: a mapping from language to text, with English as the fallback.

    English (``en``) and Simplified Chinese (``zh``) are required; any further language is one
    more key (``ja: 肝硬変``, ``zh_hant: 篩選期``) with no change to the schema. Read a label
    with :meth:`text`; :meth:`texts` gives every language it has.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    en: NonEmpty
    zh: NonEmpty

    @model_validator(mode="before")
    @classmethod
    def _further_languages(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        checked = {}
        for key, text in data.items():
            if key in ("en", "zh"):
                checked[key] = text
                continue
            if not isinstance(key, str) or not LANGUAGE_KEY.match(key):
                raise ValueError(f"{key!r} is not a language (e.g. ja, zh_hant, pt_br)")
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"the {key} text must be a non-empty string")
            checked[key] = text.strip()
        return checked

    def texts(self) -> dict[str, str]:
        """Language → text, English first."""
        return {"en": self.en, "zh": self.zh, **(self.__pydantic_extra__ or {})}

    def text(self, language: str) -> str:
        """The text for ``language`` (``zh-hans``, ``zh-Hant``, ``ja``...); English if none fits.

        Tried in order: the full language, then shorter and shorter prefixes (``zh-hans`` →
        ``zh``), so a script or region the label lacks falls back to the language itself.
        """
        texts = {key.replace("-", "_"): text for key, text in self.texts().items()}
        for key in _language_parts(language or ""):
            if key in texts:
                return texts[key]
        return self.en


class Site(Strict):
    code: Code
    name: Label
    city: str = ""
    country: str = ""


class Masking(Strict):
    level: Literal["none", "single", "double", "triple", "quadruple"]
    masked_roles: list[str] = Field(default_factory=list)


class EnrolmentPeriod(Strict):
    start: dt.date
    months: int = Field(gt=0)


class RegisteredOutcome(Strict):
    code: Code
    kind: Literal["primary", "secondary"]
    label: Label
    time_frame_days: int = Field(gt=0)


class Study(Strict):
    registry_id: NonEmpty
    protocol_version: NonEmpty
    title: Label
    short_title: Label
    sponsor: NonEmpty
    sites: list[Site] = Field(min_length=1)
    target_enrolment: int = Field(gt=0)
    enrolment_period: EnrolmentPeriod
    masking: Masking
    registered_outcomes: list[RegisteredOutcome] = Field(min_length=1)
    consent_version: NonEmpty | None = None
    """The version of the consent document participants sign now (``ICF v2.0``); an amendment
    that changes it asks every participant on study who signed another version to consent
    again. Left out, consent versions are not followed."""


class Window(Strict):
    """Days allowed before and after a target study day."""

    before: int = Field(ge=0)
    after: int = Field(ge=0)


class Dose(Strict):
    amount: float = Field(gt=0)
    unit: NonEmpty
    per_kg: bool = True
    tolerance_percent: float = Field(default=10, ge=0, le=100)
    """A dose further than this from ``amount`` is a protocol deviation."""


class Intervention(Strict):
    code: Code
    label: Label
    kind: Literal["active", "sham"] = "active"
    route: NonEmpty
    study_day: int
    window: Window
    dose: Dose
    form: Oid
    """The form that records each administration; it is scheduled from the arm, not a visit."""
    dose_item: Oid
    """The item of ``form`` holding the dose given, in the dose's unit."""
    weight_item: Oid | None = None
    """For a dose per kg: the item of ``form`` holding body weight, to compute the total."""


class Arm(Strict):
    code: Code
    label: Label
    ratio: int = Field(gt=0)
    interventions: list[Intervention] = Field(default_factory=list)
    """None for an arm that receives nothing scheduled (a control or observation arm, or a
    REDCap arm imported before its interventions are written)."""


class StratumLevel(Strict):
    code: Code
    label: Label
    values: list[str] = Field(min_length=1)
    """The values of the stratification item that place a participant in this level."""


class StratificationFactor(Strict):
    code: Code
    label: Label
    item: Oid
    levels: list[StratumLevel] = Field(min_length=2)


class Randomization(Strict):
    method: Literal["permuted_blocks", "minimization", "none"]
    """``none``: participants are enrolled, not randomized (a registry, or a REDCap project
    imported before its randomization is written); every form can be entered once consented."""
    block_sizes: list[int] = Field(default_factory=list)
    minimization_probability: float | None = Field(default=None, gt=0.5, le=1.0)
    strata: list[StratificationFactor] = Field(default_factory=list)

    @field_validator("block_sizes")
    @classmethod
    def _positive_block_sizes(cls, sizes: list[int]) -> list[int]:
        bad = [s for s in sizes if s <= 0]
        if bad:
            raise ValueError(f"block sizes must be positive, got {bad}")
        return sizes


class EligibilityCriterion(Strict):
    oid: Oid
    kind: Literal["inclusion", "exclusion"]
    label: Label
    qualifying_answer: Literal["yes", "no"]


class EventKind(StrEnum):
    SCREENING = "screening"
    SCHEDULED = "scheduled"
    UNSCHEDULED = "unscheduled"
    REPEATING = "repeating"


class Event(Strict):
    """A study event (visit). ``day`` is counted from day 0, the day of randomization."""

    oid: Oid
    label: Label
    kind: EventKind
    day: int | None = None
    window: Window | None = None
    arms: list[Code] = Field(default_factory=list)
    """Arms for which the event is scheduled; empty means every arm."""
    repeats: bool = False
    """An unscheduled event that can happen more than once (unscheduled visits); end of study,
    unscheduled too, happens once."""


class DataType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    FLOAT = "float"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    CHOICE = "choice"


class Range(Strict):
    """Bounds in the item's canonical unit; ``None`` leaves a side open."""

    low: float | None = None
    high: float | None = None


class Choice(Strict):
    code: NonEmpty
    label: Label
    meaning: NonEmpty | None = None
    """What the code means in its item's role vocabulary (:mod:`hepatrial.protocol.roles`),
    when the trial codes it differently; by default the code itself."""


class CodeRef(Strict):
    system: Literal["LOINC", "CDISC", "SNOMED", "UCUM", "MedDRA"]
    code: NonEmpty


class Item(Strict):
    oid: Oid
    label: Label
    data_type: DataType
    quantity: str | None = None
    """Name of the quantity in :mod:`hepatrial.scores.units`; required when units are given."""
    units: list[str] = Field(default_factory=list)
    canonical_unit: str | None = None
    hard_range: Range | None = None
    plausible_range: Range | None = None
    choices: list[Choice] = Field(default_factory=list)
    required: bool = False
    identifier: bool = False
    """The value identifies the person (REDCap's identifier flag): name, phone, date of birth."""
    codes: list[CodeRef] = Field(default_factory=list)
    role: Role | None = None
    """What the item is (``death_date``, ``ae_term``...): how code finds it, never by OID."""


class Form(Strict):
    oid: Oid
    label: Label
    events: list[Oid] = Field(default_factory=list)
    repeating: bool = False
    items: list[Item] = Field(min_length=1)


class Comparison(StrEnum):
    BEFORE = "<"
    NOT_AFTER = "<="
    AFTER = ">"
    NOT_BEFORE = ">="


class CrossItemRule(Strict):
    """``item`` must stand in ``comparison`` to ``other``: an item OID or RANDOMIZATION_DATE."""

    code: Code
    item: Oid
    comparison: Comparison
    other: Oid
    message: Label


class DerivedItem(Strict):
    oid: Oid
    label: Label
    score: Literal[
        "meld", "meld_na", "meld3", "child_pugh_points", "child_pugh_class", "albi", "albi_grade"
    ]
    inputs: dict[str, Oid]
    """Score argument → the item OID it reads; the value is taken in the unit it was entered in
    (the protocol's ``scores`` settings say how each score treats each unit)."""


def _default_bands(criterion: str):
    return lambda: DEFAULT_CHILD_PUGH_TEXT[criterion]


BandTexts = Annotated[list[NonEmpty], Field(min_length=3, max_length=3)]
"""Three printed bands, for 1, 2 and 3 points: ``["<34.2", "34.2-51.3", ">51.3"]``."""


class ChildPughLimits(Strict):
    """The Child-Pugh table the protocol names; each value is scored in the unit entered.

    Soundness (no overlap, no gap, one direction, every unit present) is checked in
    :mod:`hepatrial.protocol.checks`, which can say where a bad band sits.
    """

    source: NonEmpty = DEFAULT_CHILD_PUGH_SOURCE
    bilirubin: dict[str, BandTexts] = Field(default_factory=_default_bands("bilirubin"))
    cholestatic_bilirubin: dict[str, BandTexts] = Field(
        default_factory=_default_bands("cholestatic_bilirubin")
    )
    albumin: dict[str, BandTexts] = Field(default_factory=_default_bands("albumin"))
    inr: BandTexts = Field(default_factory=_default_bands("inr"))
    pt_prolongation_s: BandTexts = Field(default_factory=_default_bands("pt_prolongation_s"))

    @field_validator("bilirubin", "cholestatic_bilirubin", "albumin", "inr", "pt_prolongation_s")
    @classmethod
    def _readable_bands(cls, value: dict[str, list[str]] | list[str]):
        for texts in value.values() if isinstance(value, dict) else [value]:
            for text in texts:
                try:
                    Band.parse(text)
                except TableError as exc:
                    raise ValueError(str(exc)) from None
        return value

    def table(self) -> ChildPughTable:
        return ChildPughTable.parse(self.source, self.model_dump(exclude={"source"}))


class ConversionFactors(Strict):
    """µmol/L per mg/dL for the MELD family and ALBI (laboratory convention by default)."""

    bilirubin: float = Field(default=LABORATORY_FACTORS["bilirubin"], gt=0)
    creatinine: float = Field(default=LABORATORY_FACTORS["creatinine"], gt=0)


class ScoreSettingsSpec(Strict):
    """``scores:`` in a protocol file; every part may be left out to take the defaults."""

    conversion_factors: ConversionFactors = Field(default_factory=ConversionFactors)
    child_pugh: ChildPughLimits = Field(default_factory=ChildPughLimits)

    def settings(self) -> ScoreSettings:
        return ScoreSettings(
            child_pugh=self.child_pugh.table(), factors=self.conversion_factors.model_dump()
        )


class Population(Strict):
    code: Code
    label: Label
    definition: NonEmpty
    flag: Code | None = None
    """ADSL flag column of the population; by default ITTFL, PPROTFL, SAFFL, FASFL or CODEFL."""


class Timepoint(Strict):
    code: Code
    event: Oid
    day: int


class IntercurrentEvent(Strict):
    event: Literal["death", "liver_transplant", "withdrawal", "treatment_discontinuation"]
    strategy: Literal[
        "composite", "treatment_policy", "hypothetical", "while_on_treatment", "while_alive"
    ]
    detail: str = ""


class EndpointKind(StrEnum):
    PROPORTION = "proportion"
    CHANGE_FROM_BASELINE = "change_from_baseline"
    INCIDENCE = "incidence"
    TIME_TO_EVENT = "time_to_event"


class Endpoint(Strict):
    code: Code
    outcome: Code
    """The registered outcome this endpoint answers."""
    label: Label
    kind: EndpointKind
    items: list[Oid] = Field(min_length=1)
    responder_value: str | None = None
    timepoint: Code
    population: Code
    method: NonEmpty
    log_scale: bool = False
    intercurrent_events: list[IntercurrentEvent] = Field(default_factory=list)
    missing_data: NonEmpty = "complete_case"
    sensitivity: list[NonEmpty] = Field(default_factory=list)
    params: list[Code] = Field(default_factory=list)
    """Analysis parameter codes (ADLB/ADTTE PARAMCD); by default found from the items."""
    covariates: list[Code] | None = None
    """ADSL columns adjusted for; by default the analysis section's covariates."""
    strata: list[Code] = Field(default_factory=list)
    """ADSL columns to stratify by (stratified Cox model, stratified Gray test)."""
    if_no_data: Literal["error", "not_estimable"] | None = None
    """A parameter without data: an error (default), or a result marked not estimable."""
    event_code: int = 1
    """ADTTE EVNTCD of the event of interest (time-to-event and incidence endpoints)."""
    competing_codes: list[int] = Field(default_factory=lambda: [2])
    """ADTTE EVNTCD of competing events; any other code is a censoring."""


class AnalysisPlan(Strict):
    populations: list[Population] = Field(min_length=1)
    timepoints: list[Timepoint] = Field(min_length=1)
    endpoints: list[Endpoint] = Field(default_factory=list)
    """Empty while a protocol has no analysis plan yet (one imported from REDCap)."""
    alpha: float = Field(default=0.05, gt=0, lt=1)
    covariates: list[Code] | None = None
    """ADSL columns every endpoint adjusts for; by default the stratum (STRATAR) when the
    randomization is stratified."""
    safety_population: Code | None = None
    """Population of the adverse-event tables; by default the one flagged SAFFL."""
    per_protocol_population: Code | None = None
    """Population of per-protocol sensitivity analyses; by default the one flagged PPROTFL."""
    estimate_days: list[int] = Field(default_factory=list)
    """Days of the Kaplan-Meier and cumulative-incidence estimates; by default the timepoints'."""
    imputations: int = Field(default=50, ge=2)
    seed: int = 1
    """Seed of the multiple imputation."""
    if_no_data: Literal["error", "not_estimable"] = "error"


class Protocol(Strict):
    study: Study
    arms: list[Arm] = Field(min_length=2)
    randomization: Randomization
    eligibility: list[EligibilityCriterion] = Field(min_length=1)
    events: list[Event] = Field(min_length=1)
    forms: list[Form] = Field(min_length=1)
    derived_items: list[DerivedItem] = Field(default_factory=list)
    scores: ScoreSettingsSpec = Field(default_factory=ScoreSettingsSpec)
    rules: list[CrossItemRule] = Field(default_factory=list)
    analysis: AnalysisPlan

    _score_settings: ScoreSettings | None = PrivateAttr(default=None)

    @property
    def randomized(self) -> bool:
        """Whether participants are randomized (``randomization.method`` is not ``none``)."""
        return self.randomization.method != "none"

    def score_settings(self) -> ScoreSettings:
        """The Child-Pugh table and laboratory factors every score of this trial uses.

        Parsed once per protocol: capture and the derivation ask for it at every visit.
        """
        if self._score_settings is None:
            self._score_settings = self.scores.settings()
        return self._score_settings

    def items(self) -> dict[str, Item]:
        """Every captured item by OID."""
        return {item.oid: item for form in self.forms for item in form.items}

    def arm(self, code: str) -> Arm:
        return next(a for a in self.arms if a.code == code)

    def event(self, oid: str) -> Event:
        return next(e for e in self.events if e.oid == oid)

    def form(self, oid: str) -> Form:
        return next(f for f in self.forms if f.oid == oid)

    def visit_labels(self) -> dict[str, Label]:
        """Every visit's label by code: the events, and each arm's intervention visits."""
        labels = {e.oid: e.label for e in self.events}
        for arm in self.arms:
            labels |= {i.code: i.label for i in arm.interventions}
        return labels

    def scheduled_events(self, arm: str | None = None) -> list[Event]:
        """Scheduled events in study-day order, for ``arm`` when given."""
        events = [e for e in self.events if e.kind == EventKind.SCHEDULED]
        if arm is not None:
            events = [e for e in events if not e.arms or arm in e.arms]
        return sorted(events, key=lambda e: e.day or 0)
