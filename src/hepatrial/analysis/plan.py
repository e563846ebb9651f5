"""The statistical analysis plan as data: what :func:`hepatrial.analysis.run.run_analysis` does.

A plan is a list of endpoints, each with its analysis parameters (ADLB or ADTTE ``PARAMCD``),
method, population, timepoint, missing-data and intercurrent-event handling, covariates, strata
and sensitivity analyses; plus the arms, the populations, the declared parameters and the
visit windows. It comes from a trial's protocol (:meth:`AnalysisPlan.from_protocol`, the
protocol's ``analysis:`` section) or from a plan file (:meth:`AnalysisPlan.from_dict`, JSON or
YAML, the format of ``docs/statistics.md``). Nothing here describes one trial: every setting a
trial's analysis depends on is in the protocol or the plan file.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hepatrial.protocol.model import Endpoint as ProtocolEndpoint
    from hepatrial.protocol.model import Protocol

KINDS = ("proportion", "change_from_baseline", "incidence", "time_to_event")

METHODS: dict[str, tuple[str, ...]] = {
    "risk_difference_newcombe": ("proportion",),
    "ancova_baseline_stratum": ("change_from_baseline",),
    "ancova_baseline": ("change_from_baseline",),
    "mixed_model_all_visits": ("change_from_baseline",),
    "kaplan_meier_logrank_cox": ("time_to_event",),
    "cumulative_incidence_aalen_johansen_gray": ("incidence", "time_to_event"),
}
"""Each analysis method and the endpoint kinds it applies to (docs/statistics.md)."""

MISSING_STRATEGIES = ("non_responder", "complete_case", "multiple_imputation")
MISSING_BY_KIND = {
    "proportion": MISSING_STRATEGIES,
    "change_from_baseline": ("complete_case",),
    "incidence": ("complete_case",),
    "time_to_event": ("complete_case",),
}
"""Missing-data strategies per kind; time-to-event data handle missing follow-up by censoring."""

SENSITIVITY_BY_KIND = {
    "proportion": (
        "non_responder", "complete_case", "multiple_imputation", "logistic_regression_stratum",
        "per_protocol",
    ),
    "change_from_baseline": ("mixed_model_all_visits", "ancova_baseline", "per_protocol"),
    "incidence": ("per_protocol",),
    "time_to_event": ("per_protocol",),
}  # fmt: skip
"""Sensitivity analyses an endpoint of each kind may ask for."""

NO_DATA = ("error", "not_estimable")
"""What a plan entry with no matching data gives: an error naming it, or a marked result."""

SCORE_PARAMS = {
    "meld": "MELD", "meld_na": "MELDNA", "meld3": "MELD3", "child_pugh_points": "CPSCORE",
    "child_pugh_class": "CPCLASS", "albi": "ALBI",
}  # fmt: skip
"""ADLB PARAMCD of each derived score (a protocol's ``derived_items[*].score``)."""

INTERCURRENT_DATES = {
    "death": "DTHDT", "liver_transplant": "LTXDT", "withdrawal": "EOSDT",
    "treatment_discontinuation": "TRTEDT",
}  # fmt: skip
"""ADSL date of each intercurrent event of the protocol vocabulary."""

COMPOSITE_EVENTS = ("death", "liver_transplant")
"""Intercurrent events whose date marks the event itself (a composite strategy can use them)."""

POPULATION_FLAGS = {"ITT": "ITTFL", "PP": "PPROTFL", "SAF": "SAFFL", "FAS": "FASFL"}
"""ADSL flag of the usual population codes; any other code ``X`` is flagged ``XFL``."""


def _tuple(value: Any) -> tuple:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@dataclass(frozen=True)
class Parameter:
    """An analysis parameter the plan declares: PARAMCD, its text and unit (ADLB AVALU)."""

    code: str
    label: str = ""
    unit: str = ""


@dataclass(frozen=True)
class Visit:
    """A scheduled analysis visit: target study day and the days allowed before and after."""

    name: str
    day: float
    before: float = 0
    after: float = 0


@dataclass(frozen=True)
class EndpointPlan:
    """One endpoint of the plan and how it is analysed.

    Attributes
    ----------
    code, label
        The endpoint's code (as in the protocol) and its text.
    kind
        ``proportion``, ``change_from_baseline``, ``incidence`` or ``time_to_event``.
    method
        One of :data:`METHODS` that applies to ``kind``.
    params
        ADLB (proportion, change) or ADTTE (incidence, time to event) parameter codes.
    population
        ADSL flag column of the analysis population (``ITTFL``).
    timepoint_visit, timepoint_day
        Analysis visit (ADLB AVISITN) of the timepoint, and the horizon in days (events on or
        before it count in a composite; incidence proportions are counted up to it).
    responder_value
        ADLB AVALC that makes a responder (proportion endpoints).
    missing_data
        Primary handling of a missing value (:data:`MISSING_BY_KIND`).
    composite_events
        ADSL date columns whose event on or before ``timepoint_day`` makes a non-responder.
    hypothetical_events
        ADSL date columns after whose event a value is treated as missing (hypothetical
        strategy): the missing-data strategy then applies.
    exclude_after
        ADSL date columns after which laboratory values are not analysed (while on treatment).
    log_scale
        Change endpoints analysed on the log scale (ratio of geometric means).
    covariates
        ADSL columns adjusted for (ANCOVA, logistic regression, imputation model, Cox); numeric
        columns enter as they are, text columns as indicators. ``None`` takes the plan's.
    strata
        ADSL columns to stratify by: stratified Cox model (a baseline hazard per stratum) and
        stratified Gray test. For incidence endpoints without strata the covariates stratify.
    sensitivity
        Sensitivity analyses (:data:`SENSITIVITY_BY_KIND`).
    if_no_data
        ``error`` or ``not_estimable`` for a parameter without data; ``None`` takes the plan's.
    event_code, competing_codes
        ADTTE ``EVNTCD`` of the event of interest and of competing events (time-to-event and
        incidence endpoints); any other code is a censoring.
    """

    code: str
    kind: str
    method: str
    params: tuple[str, ...]
    population: str
    label: str = ""
    timepoint_visit: float | None = None
    timepoint_day: float | None = None
    responder_value: str | None = None
    missing_data: str = "complete_case"
    composite_events: tuple[str, ...] = ()
    hypothetical_events: tuple[str, ...] = ()
    exclude_after: tuple[str, ...] = ()
    log_scale: bool = False
    covariates: tuple[str, ...] | None = None
    strata: tuple[str, ...] = ()
    sensitivity: tuple[str, ...] = ()
    if_no_data: str | None = None
    event_code: int = 1
    competing_codes: tuple[int, ...] = (2,)

    def __post_init__(self) -> None:
        where = f"endpoint {self.code}"
        if self.kind not in KINDS:
            raise ValueError(f"{where}: unknown kind {self.kind!r} (one of {', '.join(KINDS)})")
        if self.method not in METHODS:
            raise ValueError(
                f"{where}: unknown method {self.method!r}; known methods for {self.kind}: "
                f"{', '.join(m for m, kinds in METHODS.items() if self.kind in kinds)}"
            )
        if self.kind not in METHODS[self.method]:
            raise ValueError(
                f"{where}: method {self.method!r} does not analyse a {self.kind} endpoint"
            )
        if self.missing_data not in MISSING_BY_KIND[self.kind]:
            raise ValueError(
                f"{where}: missing_data {self.missing_data!r} is not one of "
                f"{', '.join(MISSING_BY_KIND[self.kind])} for a {self.kind} endpoint"
            )
        for name in self.sensitivity:
            if name not in SENSITIVITY_BY_KIND[self.kind]:
                raise ValueError(
                    f"{where}: unknown sensitivity analysis {name!r} for a {self.kind} endpoint "
                    f"(one of {', '.join(SENSITIVITY_BY_KIND[self.kind])})"
                )
        if not self.params:
            raise ValueError(f"{where}: no analysis parameter (params)")
        if self.kind == "proportion" and not self.responder_value:
            raise ValueError(f"{where}: a proportion endpoint needs responder_value")
        if self.kind in ("proportion", "change_from_baseline") and self.timepoint_visit is None:
            raise ValueError(f"{where}: a {self.kind} endpoint needs timepoint_visit")
        if self.event_code in self.competing_codes:
            raise ValueError(f"{where}: event_code {self.event_code} is also a competing code")
        if self.if_no_data is not None and self.if_no_data not in NO_DATA:
            raise ValueError(f"{where}: if_no_data must be one of {', '.join(NO_DATA)}")

    @property
    def section(self) -> str:
        """The part of ``results.json`` its parameters' results go to."""
        if self.kind == "proportion":
            return "primary"
        if self.kind == "change_from_baseline":
            return "change_from_baseline"
        if self.method == "kaplan_meier_logrank_cox":
            return "survival"
        return "competing_risks"

    @property
    def horizon(self) -> float | None:
        return self.timepoint_day if self.timepoint_day is not None else self.timepoint_visit

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EndpointPlan:
        names = {f.name for f in dataclasses.fields(cls)}
        code = data.get("code", "?")
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"endpoint {code}: unknown keys {sorted(unknown)}")
        missing = {"code", "kind", "method", "params", "population"} - set(data)
        if missing:
            raise ValueError(f"endpoint {code}: missing keys {sorted(missing)}")
        values = dict(data)
        for key in ("params", "composite_events", "hypothetical_events", "exclude_after",
                    "strata", "sensitivity", "competing_codes"):  # fmt: skip
            if key in values:
                values[key] = _tuple(values[key])
        if values.get("covariates") is not None:
            values["covariates"] = _tuple(values["covariates"])
        for key in ("timepoint_visit", "timepoint_day"):
            if values.get(key) is not None:
                values[key] = float(values[key])
        return cls(**values)


SUMMARY_KEYS = (
    "population", "timepoint_visit", "timepoint_day", "strata_column", "responder_param",
    "responder_value", "composite_events", "missing_data", "change_params", "log_scale_params",
    "exclude_after_transplant", "survival_params", "competing_params",
)  # fmt: skip
"""Keys of :meth:`AnalysisPlan.to_dict` derived from the endpoints, for readers of the results
(the report); a plan file may repeat them only with the value the endpoints give."""


@dataclass(frozen=True)
class AnalysisPlan:
    """Settings of one trial's analysis.

    Attributes
    ----------
    arms
        Arm codes (ADSL ARMCD) in display order; the first is the reference, so every effect is
        "second arm versus first".
    arm_labels
        Display label per arm code.
    endpoints
        The endpoints, in the protocol's order; the first proportion endpoint is the primary.
    populations
        Population code → ADSL flag column.
    safety_population, per_protocol_population
        ADSL flags of the safety population (adverse-event tables; ``None``: no safety
        analysis) and of the per-protocol population (``per_protocol`` sensitivity analyses).
    parameters
        Declared analysis parameters (PARAMCD → label and unit).
    visits
        Scheduled analysis visits (the protocol's scheduled events and their windows).
    covariates
        ADSL columns adjusted for by every endpoint that does not name its own.
    km_timepoints
        Days at which Kaplan-Meier and cumulative incidence estimates are reported (empty: each
        endpoint's timepoint day).
    if_no_data
        ``error`` (default) or ``not_estimable``: what a plan entry with no data gives.
    """

    arms: tuple[str, ...]
    arm_labels: Mapping[str, str] = field(default_factory=dict)
    endpoints: tuple[EndpointPlan, ...] = ()
    populations: Mapping[str, str] = field(default_factory=dict)
    safety_population: str | None = None
    per_protocol_population: str | None = None
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    visits: tuple[Visit, ...] = ()
    covariates: tuple[str, ...] = ()
    km_timepoints: tuple[float, ...] = ()
    confidence_level: float = 0.95
    imputations: int = 50
    seed: int = 1
    if_no_data: str = "error"

    def __post_init__(self) -> None:
        if len(self.arms) != 2:
            raise ValueError("the analysis compares exactly two arms")
        if not 0 < self.confidence_level < 1:
            raise ValueError("confidence_level must be between 0 and 1")
        if self.if_no_data not in NO_DATA:
            raise ValueError(f"if_no_data must be one of {', '.join(NO_DATA)}")
        if self.imputations < 2:
            raise ValueError("imputations must be at least 2")
        seen: dict[tuple[str, str], str] = {}
        for endpoint in self.endpoints:
            for param in endpoint.params:
                key = (endpoint.section, param)
                if key in seen and endpoint.section != "primary":
                    raise ValueError(
                        f"endpoint {endpoint.code}: parameter {param} is already analysed by "
                        f"endpoint {seen[key]} the same way"
                    )
                seen[key] = endpoint.code

    # ------------------------------------------------------------------ reading

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnalysisPlan:
        """Plan from a mapping (a plan file); unknown keys are an error.

        Keys of :data:`SUMMARY_KEYS` (which :meth:`to_dict` writes for the report) may be
        present only with the value the endpoints give.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names - set(SUMMARY_KEYS)
        if unknown:
            raise ValueError(f"unknown analysis plan keys: {sorted(unknown)}")
        if "arms" not in data:
            raise ValueError("the analysis plan needs arms (ADSL ARMCD, reference first)")
        if not data.get("endpoints"):
            flat = sorted(set(data) & set(SUMMARY_KEYS))
            hint = f" ({', '.join(flat)} are written from the endpoints, not read)" if flat else ""
            raise ValueError(f"the analysis plan has no endpoints{hint}")
        values = {k: v for k, v in data.items() if k in names}
        values["arms"] = _tuple(values["arms"])
        values["arm_labels"] = dict(values.get("arm_labels") or {})
        values["populations"] = dict(values.get("populations") or {})
        values["endpoints"] = tuple(
            e if isinstance(e, EndpointPlan) else EndpointPlan.from_dict(e)
            for e in values["endpoints"]
        )
        params = values.get("parameters") or {}
        values["parameters"] = {
            code: p if isinstance(p, Parameter) else Parameter(code, **(p or {}))
            for code, p in params.items()
        }
        values["visits"] = tuple(
            v if isinstance(v, Visit) else Visit(**v) for v in values.get("visits") or ()
        )
        for key in ("covariates",):
            if key in values:
                values[key] = _tuple(values[key])
        if "km_timepoints" in values:
            values["km_timepoints"] = tuple(float(t) for t in values["km_timepoints"])
        plan = cls(**values)
        summary = json.loads(json.dumps(plan.summary()))
        for key in set(data) & set(SUMMARY_KEYS):
            if json.loads(json.dumps(_plain(data[key]))) != summary[key]:
                raise ValueError(
                    f"analysis plan key {key} is derived from the endpoints (here "
                    f"{summary[key]!r}, not {data[key]!r}): change the endpoint instead"
                )
        return plan

    @classmethod
    def from_protocol(
        cls,
        protocol: Protocol,
        arm_names: Mapping[str, str] | None = None,
        arm_labels: Mapping[str, str] | None = None,
    ) -> AnalysisPlan:
        """The protocol's ``analysis:`` section as a plan.

        ``arm_names`` maps each protocol arm code to its ADSL ARMCD (a blinded export's
        ``X``/``Y``), ``arm_labels`` each protocol arm code to its display label; by default
        the codes and the English labels of the protocol.
        """
        return _from_protocol(cls, protocol, arm_names, arm_labels)

    # ------------------------------------------------------------------ writing

    def summary(self) -> dict[str, Any]:
        """The :data:`SUMMARY_KEYS`: the primary endpoint's settings and the parameter lists."""
        primary = self.primary
        first = primary or (self.endpoints[0] if self.endpoints else None)
        change = [e for e in self.endpoints if e.kind == "change_from_baseline"]
        covariates = self.covariates_of(first) if first else self.covariates
        return {
            "population": first.population if first else None,
            "timepoint_visit": first.timepoint_visit if first else None,
            "timepoint_day": first.horizon if first else None,
            "strata_column": covariates[0] if covariates else None,
            "responder_param": primary.params[0] if primary else None,
            "responder_value": primary.responder_value if primary else None,
            "composite_events": list(primary.composite_events) if primary else [],
            "missing_data": primary.missing_data if primary else None,
            "change_params": [p for e in change for p in e.params],
            "log_scale_params": [p for e in change if e.log_scale for p in e.params],
            "exclude_after_transplant": any(
                INTERCURRENT_DATES["liver_transplant"] in e.exclude_after for e in change
            ),
            "survival_params": [
                p for e in self.endpoints if e.section == "survival" for p in e.params
            ],  # fmt: skip
            "competing_params": [
                p for e in self.endpoints if e.section == "competing_risks" for p in e.params
            ],  # fmt: skip
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plan: every setting, then the :meth:`summary` keys."""
        out = _plain(dataclasses.asdict(self))
        out["parameters"] = {
            code: {"label": p.label, "unit": p.unit} for code, p in self.parameters.items()
        }
        return {**out, "km_timepoints": list(self.report_days), **self.summary()}

    # ------------------------------------------------------------------ reading the plan

    def label(self, arm: str) -> str:
        return self.arm_labels.get(arm, arm)

    @property
    def primary(self) -> EndpointPlan | None:
        """The first proportion endpoint (the primary analysis of ``results.json``)."""
        return next((e for e in self.endpoints if e.kind == "proportion"), None)

    @property
    def report_days(self) -> tuple[float, ...]:
        """Days of Kaplan-Meier and cumulative incidence estimates."""
        if self.km_timepoints:
            return self.km_timepoints
        days = {e.horizon for e in self.endpoints if e.horizon is not None}
        return tuple(sorted(days))

    @property
    def population(self) -> str:
        """The analysis population of the counts and the descriptive summaries."""
        first = self.primary or (self.endpoints[0] if self.endpoints else None)
        if first is not None:
            return first.population
        return next(iter(self.populations.values()), "ITTFL")

    def covariates_of(self, endpoint: EndpointPlan) -> tuple[str, ...]:
        return self.covariates if endpoint.covariates is None else endpoint.covariates

    def no_data_of(self, endpoint: EndpointPlan) -> str:
        return endpoint.if_no_data or self.if_no_data

    def parameter(self, code: str) -> Parameter:
        """The declared parameter, else the catalogue's (docs/datasets.md), else the bare code."""
        if code in self.parameters:
            return self.parameters[code]
        from hepatrial.analysis.datasets import LAB_PARAMS, TTE_PARAMS

        if code in LAB_PARAMS:
            return Parameter(code, *LAB_PARAMS[code])
        return Parameter(code, TTE_PARAMS.get(code, code))

    def schedule(self):
        """The visit windows as a :class:`hepatrial.analysis.datasets.VisitSchedule`."""
        from hepatrial.analysis.datasets import VisitSchedule, VisitWindow

        return VisitSchedule(
            tuple(
                VisitWindow(v.name, int(v.day), int(v.before), int(v.after)) for v in self.visits
            )  # fmt: skip
        )


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------- from the protocol


def population_flag(code: str, flag: str | None = None) -> str:
    """ADSL flag of a protocol population: its own ``flag``, the usual one, else ``CODEFL``."""
    return flag or POPULATION_FLAGS.get(code, f"{code}FL")


def endpoint_params(protocol: Protocol, endpoint: ProtocolEndpoint) -> tuple[str, ...]:
    """Analysis parameters of a protocol endpoint: its ``params``, else found from its items.

    A laboratory item gives its CDISC code, a derived item its score's code
    (:data:`SCORE_PARAMS`); for incidence and time-to-event endpoints the item's role names the
    ADTTE parameter: a death date ``DEATH``, a transplant date ``LTX``, a decompensation type
    ``DECOMP`` and one parameter per kind of decompensation. Raises :class:`ValueError` naming
    the endpoint and the item otherwise.
    """
    from hepatrial.protocol.roles import DECOMPENSATION_PARAMS, Role, meaning

    if endpoint.params:
        return tuple(endpoint.params)
    items = protocol.items()
    derived = {d.oid: d for d in protocol.derived_items}
    out: list[str] = []
    for oid in endpoint.items:
        if oid in derived:
            score = derived[oid].score
            if score not in SCORE_PARAMS:
                raise ValueError(
                    f"endpoint {endpoint.code}: score {score!r} of {oid} has no analysis "
                    "parameter; name it in the endpoint's params"
                )
            out.append(SCORE_PARAMS[score])
            continue
        item = items.get(oid)
        if item is None:
            raise ValueError(f"endpoint {endpoint.code}: unknown item {oid!r}")
        if endpoint.kind in ("incidence", "time_to_event"):
            if item.role == Role.DEATH_DATE:
                out.append("DEATH")
            elif item.role == Role.TRANSPLANT_DATE:
                out.append("LTX")
            elif item.role == Role.DECOMPENSATION_TYPE:
                kinds = {meaning(item, c.code) for c in item.choices}
                out += ["DECOMP", *(code for k, code in DECOMPENSATION_PARAMS.items()
                                    if k in kinds)]  # fmt: skip
            else:
                raise ValueError(
                    f"endpoint {endpoint.code}: item {oid} has no role that names a "
                    "time-to-event parameter; name it in the endpoint's params"
                )
            continue
        cdisc = next((c.code for c in item.codes if c.system == "CDISC"), None)
        if cdisc is None:
            raise ValueError(
                f"endpoint {endpoint.code}: item {oid} has no CDISC code to name its analysis "
                "parameter; give it one or name the endpoint's params"
            )
        out.append(cdisc)
    return tuple(dict.fromkeys(out))


def intercurrent_columns(endpoint: ProtocolEndpoint) -> dict[str, tuple[str, ...]]:
    """ADSL date columns of the endpoint's intercurrent events, by how they are handled."""
    out: dict[str, list[str]] = {"composite": [], "hypothetical": [], "while_on_treatment": []}
    for ice in endpoint.intercurrent_events:
        column = INTERCURRENT_DATES[ice.event]
        if ice.strategy == "composite":
            if ice.event not in COMPOSITE_EVENTS:
                raise ValueError(
                    f"endpoint {endpoint.code}: a composite strategy needs the date of the event "
                    f"itself; {ice.event} has none in ADSL (use it for death or transplant)"
                )
            if endpoint.kind != "proportion":
                raise ValueError(
                    f"endpoint {endpoint.code}: a composite strategy applies to a proportion "
                    f"endpoint, not a {endpoint.kind} one"
                )
            out["composite"].append(column)
        elif ice.strategy in out:
            out[ice.strategy].append(column)
    return {k: tuple(v) for k, v in out.items()}


def _from_protocol(cls, protocol, arm_names, arm_labels) -> AnalysisPlan:
    analysis = protocol.analysis
    names = dict(arm_names or {a.code: a.code for a in protocol.arms})
    labels = dict(arm_labels or {a.code: a.label.en for a in protocol.arms})
    populations = {p.code: population_flag(p.code, p.flag) for p in analysis.populations}

    def flag_of(code: str | None, usual: str) -> str | None:
        if code:
            return populations[code]
        return usual if usual in populations.values() else None

    timepoints = {}
    for tp in analysis.timepoints:
        event = protocol.event(tp.event)
        timepoints[tp.code] = (float(event.day if event.day is not None else tp.day), tp.day)
    covariates = analysis.covariates
    if covariates is None:
        covariates = ["STRATAR"] if protocol.randomization.strata else []
    endpoints = []
    for e in analysis.endpoints:
        visit, day = timepoints[e.timepoint]
        ice = intercurrent_columns(e)
        endpoints.append(
            EndpointPlan(
                code=e.code,
                label=e.label.en,
                kind=str(e.kind),
                method=e.method,
                params=endpoint_params(protocol, e),
                population=populations[e.population],
                timepoint_visit=visit,
                timepoint_day=float(day),
                responder_value=e.responder_value,
                missing_data=e.missing_data,
                composite_events=ice["composite"],
                hypothetical_events=ice["hypothetical"],
                exclude_after=ice["while_on_treatment"],
                log_scale=e.log_scale,
                covariates=None if e.covariates is None else tuple(e.covariates),
                strata=tuple(e.strata),
                sensitivity=tuple(e.sensitivity),
                if_no_data=e.if_no_data,
                event_code=e.event_code,
                competing_codes=tuple(e.competing_codes),
            )  # fmt: skip
        )
    return cls(
        arms=tuple(names[a.code] for a in protocol.arms),
        arm_labels={names[a.code]: labels[a.code] for a in protocol.arms},
        endpoints=tuple(endpoints),
        populations=populations,
        safety_population=flag_of(analysis.safety_population, "SAFFL"),
        per_protocol_population=flag_of(analysis.per_protocol_population, "PPROTFL"),
        parameters=_protocol_parameters(protocol, endpoints),
        visits=tuple(
            Visit(ev.label.en, float(ev.day), float(ev.window.before), float(ev.window.after))
            for ev in protocol.scheduled_events()
            if ev.day and ev.day > 0 and ev.window is not None
        ),
        covariates=tuple(covariates),
        km_timepoints=tuple(float(d) for d in analysis.estimate_days),
        confidence_level=1 - analysis.alpha,
        imputations=analysis.imputations,
        seed=analysis.seed,
        if_no_data=analysis.if_no_data,
    )


def _protocol_parameters(protocol, endpoints: Sequence[EndpointPlan]) -> dict[str, Parameter]:
    """Label and unit of each laboratory parameter and score the endpoints analyse."""
    found: dict[str, Parameter] = {}
    for item in protocol.items().values():
        for c in item.codes:
            if c.system == "CDISC":
                unit = item.canonical_unit or ""
                found.setdefault(c.code, Parameter(c.code, item.label.en, unit))
    for d in protocol.derived_items:
        if d.score in SCORE_PARAMS:
            found.setdefault(SCORE_PARAMS[d.score], Parameter(SCORE_PARAMS[d.score], d.label.en))
    wanted = {p for e in endpoints if e.section in ("primary", "change_from_baseline")
              for p in e.params}  # fmt: skip
    return {code: p for code, p in found.items() if code in wanted}


def load_plan_file(path: str) -> AnalysisPlan:
    """A plan file (JSON, or YAML by its ``.yaml``/``.yml`` suffix)."""
    from pathlib import Path

    text = Path(path).read_text(encoding="utf-8")
    if path.endswith((".yaml", ".yml")):
        import yaml

        data = yaml.safe_load(text) or {}
    else:
        data = json.loads(text)
    if not isinstance(data, Mapping):
        raise ValueError("an analysis plan file holds a mapping of settings")
    return AnalysisPlan.from_dict(data)
