"""Simulate one trial from its protocol, its simulation parameters and a seed.

Two layers:

* vectorized generators over arrays of patients (:func:`draw_screened`, :func:`lab_values`,
  :func:`severity_at`, :func:`event_times`) that the statistical tests check on large n;
* :func:`simulate_trial`, which screens patients until the target is randomized and writes each
  one out as a :class:`~hepatrial.simulate.records.ParticipantRecord` shaped like data entry.

Model in one paragraph (details and sources in docs/simulation.md): each screened patient has a
latent severity factor S ~ N(0, 1). Every laboratory value is mean + loading·S + a persistent
participant residual + visit noise (log scale for the skewed labs), so labs are correlated the way
a single-factor model implies (:func:`implied_lab_correlation`); ascites and encephalopathy grades
are S plus noise (mostly persistent) cut at thresholds. After randomization S drifts, improves
after the first infusion, and by ``arm_effect_24w`` more from an arm's last infusion on; death,
transplant, decompensation, withdrawal and loss to follow-up are competing times with hazards
calibrated to published rates.

Nothing here names a trial's item, form or visit: :class:`TrialMap` finds the laboratory items
by their CDISC code, the ascites, encephalopathy and dialysis items through the protocol's
derived scores, the other items by their role, the visits from the scheduled events, the
infusions from the arms' interventions, and the strata from the randomization section. Arms come
from a permuted-block list made by :mod:`hepatrial.randomization` (from the trial's secret seed
in the demo), in randomization order per stratum.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hepatrial import scores
from hepatrial.protocol.model import DataType, EventKind, Form, Intervention, Item, Protocol
from hepatrial.protocol.roles import Role, code_for, item_with_code, item_with_role, meaning
from hepatrial.randomization.blocks import RandomizationList, generate_block_list
from hepatrial.randomization.design import Factor, protocol_block_design, stratum_code
from hepatrial.scores import SCORES
from hepatrial.scores.units import convert
from hepatrial.simulate.parameters import (
    DEFAULT_PARAMETERS,
    LAB_CODE,
    LAB_MODEL_UNIT,
    LAB_ORDER,
    LOG_SCALE_LABS,
    SimulationParameters,
)
from hepatrial.simulate.records import (
    Deviation,
    FormRecord,
    ParticipantRecord,
    TrialRecords,
    VisitRecord,
)

REFERENCE_DAYS = 168
"""The horizon the "over 24 weeks" parameters refer to."""
FOLLOW_UP_DAYS = REFERENCE_DAYS
DECOMP_TYPES = ("gi_bleeding", "ascites", "hepatic_encephalopathy")
MELD_BANDS = ((-math.inf, 10, "<10"), (10, 20, "10-19"), (20, 30, "20-29"))
MELD_BANDS += ((30, 40, "30-39"), (40, math.inf, ">=40"))
CHILD_PUGH_SCORES = ("child_pugh_points", "child_pugh_class")
MELD_SCORES = ("meld", "meld_na", "meld3")


# --------------------------------------------------------------------------- vectorized core


def _hazard(prob: float, days: float) -> float:
    """Constant hazard per day giving cumulative probability ``prob`` by ``days``."""
    return -math.log1p(-min(prob, 0.999999)) / days


def implied_lab_correlation(params: SimulationParameters = DEFAULT_PARAMETERS) -> np.ndarray:
    """Correlation matrix of the baseline labs (model scale, order :data:`LAB_ORDER`).

    Under the one-factor model ``lab_j = mean_j + l_j·S + e_j + v_j`` the covariance is
    ``l lᵀ·var(S) + diag(var(e) + var(v))``.
    """
    load = np.array([params.lab_loading[k] for k in LAB_ORDER]) * params.severity_sd
    resid = np.array([params.lab_residual_sd[k] for k in LAB_ORDER])
    var_unique = resid**2 * (1 + params.lab_visit_sd_fraction**2)
    cov = np.outer(load, load) + np.diag(var_unique)
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def lab_values(
    rng: np.random.Generator,
    severity: np.ndarray,
    residual: np.ndarray,
    params: SimulationParameters = DEFAULT_PARAMETERS,
) -> dict[str, np.ndarray]:
    """Laboratory values in the model's units for severities ``severity`` (any shape).

    ``residual`` holds each participant's persistent deviation per lab, shape
    ``severity.shape + (len(LAB_ORDER),)``; fresh visit noise is drawn here. Returns the eight
    labs of :data:`LAB_ORDER` plus ``PT`` (seconds).
    """
    out: dict[str, np.ndarray] = {}
    for j, name in enumerate(LAB_ORDER):
        noise_sd = params.lab_residual_sd[name] * params.lab_visit_sd_fraction
        value = (
            params.lab_mean[name]
            + params.lab_loading[name] * severity
            + residual[..., j]
            + rng.normal(0.0, noise_sd, severity.shape)
        )
        out[name] = np.exp(value) if name in LOG_SCALE_LABS else value
    out["ALB"] = np.clip(out["ALB"], 12.0, 52.0)
    out["SODIUM"] = np.clip(out["SODIUM"], 115.0, 150.0)
    out["INR"] = np.maximum(out["INR"], 0.85)
    out["PT"] = params.pt_per_inr * out["INR"] + rng.normal(0, params.pt_noise_sd, severity.shape)
    return out


def clinical_residuals(
    rng: np.random.Generator, n: int, params: SimulationParameters = DEFAULT_PARAMETERS
) -> np.ndarray:
    """Each participant's persistent deviation of ascites and encephalopathy, shape (n, 2)."""
    f = params.clinical_visit_sd_fraction
    return rng.normal(0.0, params.clinical_noise_sd * math.sqrt(1 - f * f), (n, 2))


def clinical_grades(
    rng: np.random.Generator,
    severity: np.ndarray,
    params: SimulationParameters = DEFAULT_PARAMETERS,
    persistent: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ascites grade (0 none, 1 mild, 2 moderate-severe), West Haven grade 0-4, dialysis flag.

    ``persistent`` (shape ``severity.shape + (2,)``, :func:`clinical_residuals`) is the
    participant's own part of the noise; without it the whole ``clinical_noise_sd`` is drawn.
    """
    shape = severity.shape
    if persistent is None:
        visit_sd, asc_own, he_own = params.clinical_noise_sd, 0.0, 0.0
    else:
        visit_sd = params.clinical_noise_sd * params.clinical_visit_sd_fraction
        asc_own, he_own = persistent[..., 0], persistent[..., 1]
    asc = np.digitize(
        severity + asc_own + rng.normal(0, visit_sd, shape), params.ascites_thresholds
    )
    he = np.digitize(severity + he_own + rng.normal(0, visit_sd, shape), params.he_thresholds)
    p_dial = np.minimum(params.dialysis_probability_per_sd * np.exp(severity), 0.5)
    dialysis = rng.random(shape) < p_dial
    return asc, he, dialysis


def child_pugh(
    labs: Mapping[str, np.ndarray], ascites: np.ndarray, he: np.ndarray, cholestatic: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Child-Pugh points and class (hepatrial.scores, Pugh 1973) for arrays of patients."""
    kw = dict(
        bilirubin=np.ravel(labs["TBIL"]),
        bilirubin_unit="µmol/L",
        albumin=np.ravel(labs["ALB"]),
        albumin_unit="g/L",
        ascites=np.ravel(ascites).astype(int),
        encephalopathy=np.ravel(he).astype(int),
        inr=np.ravel(labs["INR"]),
        cholestatic=np.ravel(cholestatic).astype(int),
    )
    points = np.asarray(scores.child_pugh_points(**kw), dtype=float).reshape(np.shape(ascites))
    letters = np.where(points >= 10, "C", np.where(points >= 7, "B", "A"))
    return points, letters


def meld_score(labs: Mapping[str, np.ndarray], dialysis: np.ndarray) -> np.ndarray:
    value = scores.meld(
        bilirubin=np.ravel(labs["TBIL"]),
        bilirubin_unit="µmol/L",
        creatinine=np.ravel(labs["CREAT"]),
        creatinine_unit="µmol/L",
        inr=np.ravel(labs["INR"]),
        dialysis=np.ravel(dialysis).astype(bool),
    )
    return np.asarray(value, dtype=float).reshape(np.shape(dialysis))


@dataclass
class ScreenedCohort:
    """Arrays describing ``n`` screened patients at their screening visit."""

    age: np.ndarray
    sex: np.ndarray
    etiology: np.ndarray
    weight: np.ndarray
    height: np.ndarray
    severity: np.ndarray
    residual: np.ndarray
    clinical_residual: np.ndarray
    labs: dict[str, np.ndarray]
    ascites: np.ndarray
    he: np.ndarray
    dialysis: np.ndarray
    cp_points: np.ndarray
    cp_class: np.ndarray
    meld: np.ndarray
    other_failure: np.ndarray
    """Criterion OID failed for a data-independent reason, or "" when none."""
    age_ok: np.ndarray

    @property
    def n(self) -> int:
        return len(self.age)

    def take(self, idx: np.ndarray) -> ScreenedCohort:
        fields = {k: v[idx] for k, v in self.__dict__.items() if k != "labs"}
        return ScreenedCohort(**fields, labs={k: v[idx] for k, v in self.labs.items()})

    @property
    def eligible(self) -> np.ndarray:
        """Eligible by the model's own (unrounded) Child-Pugh class; :func:`simulate_trial`
        decides on the values as entered, which differ for a value near a band limit."""
        return self.age_ok & (self.cp_class != "A") & (self.other_failure == "")


def _concat(batches: list[ScreenedCohort]) -> ScreenedCohort:
    first = batches[0]
    return ScreenedCohort(
        **{k: np.concatenate([getattr(b, k) for b in batches])
           for k in first.__dict__ if k != "labs"},
        labs={k: np.concatenate([b.labs[k] for b in batches]) for k in first.labs},
    )  # fmt: skip


def draw_screened(
    rng: np.random.Generator,
    n: int,
    params: SimulationParameters = DEFAULT_PARAMETERS,
    etiologies: tuple[str, ...] = (),
    criteria: tuple[str, ...] = (),
) -> ScreenedCohort:
    """Baseline characteristics and screening-visit values of ``n`` screened patients.

    ``etiologies`` are the choice codes of the protocol's etiology item (shares from
    ``params.etiology``); ``criteria`` the criteria a patient may fail for a reason the data do
    not show (weights from ``params.failure_weights``).
    """
    lo, hi = params.age_screen_range
    age = np.clip(np.round(rng.normal(params.age_mean, params.age_sd, n)), lo, hi)
    sex = np.where(rng.random(n) < params.male_fraction, "M", "F")
    codes = list(params.etiology) or list(etiologies) or [""]
    probs = np.array([params.etiology.get(c, 1.0) for c in codes], dtype=float)
    etiology = rng.choice(np.array(codes), n, p=probs / probs.sum())
    wmean = np.where(sex == "M", params.weight_mean["M"], params.weight_mean["F"])
    hmean = np.where(sex == "M", params.height_mean["M"], params.height_mean["F"])
    weight = np.clip(rng.normal(wmean, params.weight_sd), 38, 140)
    height = np.clip(rng.normal(hmean, params.height_sd), 142, 198)
    severity = rng.normal(0.0, params.severity_sd, n)
    resid_sd = np.array([params.lab_residual_sd[k] for k in LAB_ORDER])
    residual = rng.normal(0.0, 1.0, (n, len(LAB_ORDER))) * resid_sd
    clinical = clinical_residuals(rng, n, params)
    labs = lab_values(rng, severity, residual, params)
    ascites, he, dialysis = clinical_grades(rng, severity, params, clinical)
    # as the protocol derives the Child-Pugh class: no cholestatic bilirubin bands
    cp_points, cp_class = child_pugh(labs, ascites, he, np.zeros(n, dtype=bool))
    meld = meld_score(labs, dialysis)
    crit = list(params.failure_weights) or list(criteria)
    if crit:
        w = np.array([params.failure_weights.get(c, 1.0) for c in crit], dtype=float)
        drawn = rng.choice(np.array(crit), n, p=w / w.sum())
        other = np.where(rng.random(n) < params.screen_failure_other, drawn, "")
    else:
        other = np.full(n, "")
    for women_only, instead in params.female_only_criteria.items():
        other = np.where((other == women_only) & (sex == "M"), instead, other)
    if params.age_criterion:
        age_lo, age_hi = params.eligible_age
        age_ok = (age >= age_lo) & (age <= age_hi)
    else:
        age_ok = np.ones(n, dtype=bool)
    return ScreenedCohort(
        age, sex, etiology, weight, height, severity, residual, clinical, labs, ascites, he,
        dialysis, cp_points, cp_class, meld, other, age_ok,
    )  # fmt: skip


def improvement_at(
    days: np.ndarray,
    first_day: np.ndarray | float,
    arm_effect: np.ndarray | float,
    effect_day: np.ndarray | float,
    params: SimulationParameters,
) -> np.ndarray:
    """Treatment-related decrease of severity at study ``days`` (broadcast over participants).

    ``infusion_improvement_24w`` from the first infusion (``first_day``, ``inf`` when none was
    given) and ``arm_effect`` from ``effect_day`` on, each approaching its plateau with the
    time constant ``effect_time_constant_days``.
    """
    tau = params.effect_time_constant_days
    days = np.asarray(days, dtype=float)
    since1 = np.maximum(days - first_day, 0.0)
    base = np.where(
        np.isfinite(first_day), params.infusion_improvement_24w * (1 - np.exp(-since1 / tau)), 0.0
    )
    since2 = np.maximum(days - effect_day, 0.0)
    extra = np.where(np.isfinite(effect_day), arm_effect * (1 - np.exp(-since2 / tau)), 0.0)
    return base + extra


def severity_at(
    days: np.ndarray,
    severity0: np.ndarray | float,
    slope: np.ndarray | float,
    arm_effect: np.ndarray | float,
    effect_day: np.ndarray | float,
    params: SimulationParameters = DEFAULT_PARAMETERS,
    first_day: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Latent severity at study ``days``: baseline + (drift + individual slope)·t/168 - effect."""
    frac = np.asarray(days, dtype=float) / REFERENCE_DAYS
    drift = (params.natural_drift_per_24w + slope) * frac
    return severity0 + drift - improvement_at(days, first_day, arm_effect, effect_day, params)


def meld_band(meld: np.ndarray) -> np.ndarray:
    out = np.empty(np.shape(meld), dtype=object)
    for lo, hi, name in MELD_BANDS:
        out[(meld >= lo) & (meld < hi)] = name
    return out


def event_times(
    rng: np.random.Generator,
    meld: np.ndarray,
    cp_class: np.ndarray,
    arm: np.ndarray,
    params: SimulationParameters = DEFAULT_PARAMETERS,
) -> dict[str, np.ndarray]:
    """Continuous times (days, ``inf`` = beyond any horizon) of the competing events.

    ``arm`` holds each participant's arm code (hazard ratios ``death_hr`` and ``decomp_hr``).
    Keys: the three decompensation types, ``death`` (hazard from the baseline MELD band, raised
    by ``decomp_death_hr`` after the first decompensation), ``transplant``, ``withdrawal``,
    ``lost`` and ``post_transplant_death`` (time after transplant).
    """
    n = len(meld)
    out: dict[str, np.ndarray] = {}
    class_hr = np.where(cp_class == "C", params.decomp_hr_class_c, 1.0)
    arm_hr = np.array([params.decomp_hr.get(str(a), 1.0) for a in arm], dtype=float)
    for kind in DECOMP_TYPES:
        h = _hazard(params.decomp_24w_class_b[kind], REFERENCE_DAYS) * class_hr * arm_hr
        out[kind] = rng.exponential(1.0, n) / h
    first = np.minimum.reduce([out[k] for k in DECOMP_TYPES])
    band = meld_band(meld)
    h_death = np.array([_hazard(params.meld_band_mortality_90d[b], 90.0) for b in band])
    death_hr = np.array([params.death_hr.get(str(a), 1.0) for a in arm], dtype=float)
    h_death = h_death * params.mortality_multiplier * death_hr
    e = rng.exponential(1.0, n)
    before = e / h_death
    after = first + (e - h_death * first) / (h_death * params.decomp_death_hr)
    out["death"] = np.where(before <= first, before, after)
    h_ltx = _hazard(params.transplant_6m_probability, REFERENCE_DAYS) * np.exp(0.1 * (meld - 15))
    out["transplant"] = rng.exponential(1.0, n) / h_ltx
    out["withdrawal"] = rng.exponential(1.0, n) / _hazard(params.withdrawal_24w, REFERENCE_DAYS)
    out["lost"] = rng.exponential(1.0, n) / _hazard(params.lost_24w, REFERENCE_DAYS)
    h_post = _hazard(params.post_transplant_death_6m, REFERENCE_DAYS)
    out["post_transplant_death"] = rng.exponential(1.0, n) / h_post
    return out


# --------------------------------------------------------------------------- the protocol


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


@dataclass
class TrialMap:
    """Where the protocol keeps what the model simulates, found by code, score input and role."""

    protocol: Protocol
    labs: dict[str, Item]
    """Model lab name (:data:`LAB_ORDER` and ``PT``) → the item carrying its CDISC code."""
    ascites: Item | None
    encephalopathy: Item | None
    dialysis: Item | None
    roles: dict[Role, Item]
    screening_events: list[str]
    baseline_events: list[str]
    """Scheduled events on study day 0: recorded on the day of randomization."""
    demographic_forms: list[Form]
    """Forms of the screening event that hold the demographic items (age, sex...)."""
    forms_at: dict[str, list[Form]] = field(default_factory=dict)
    """Event OID → the non-repeating forms its visit records (demographics apart)."""

    @classmethod
    def of(cls, protocol: Protocol) -> TrialMap:
        labs = {}
        for name, code in LAB_CODE.items():
            item = item_with_code(protocol, "CDISC", code)
            if item is not None:
                labs[name] = item
        items = protocol.items()
        inputs: dict[str, str] = {}
        for derived in protocol.derived_items:
            if derived.score in CHILD_PUGH_SCORES or derived.score in MELD_SCORES:
                for name, oid in derived.inputs.items():
                    inputs.setdefault(name, oid)
        roles = {role: item for role in Role if (item := item_with_role(protocol, role))}
        screening = [e.oid for e in protocol.events if e.kind == EventKind.SCREENING]
        demographic_oids = {roles[r].oid for r in DEMOGRAPHIC_ROLES if r in roles}
        demographic_forms = [
            f for f in protocol.forms if demographic_oids & {i.oid for i in f.items}
        ]
        baseline = [e.oid for e in protocol.scheduled_events() if not e.day]
        found = cls(
            protocol, labs, items.get(inputs.get("ascites", "")),
            items.get(inputs.get("encephalopathy", "")), items.get(inputs.get("dialysis", "")),
            roles, screening, baseline, demographic_forms,
        )  # fmt: skip
        skip = {f.oid for f in demographic_forms}
        for event in protocol.events:
            found.forms_at[event.oid] = [
                f for f in protocol.forms
                if event.oid in f.events and not f.repeating and f.oid not in skip
            ]  # fmt: skip
        return found

    def item(self, role: Role) -> Item | None:
        return self.roles.get(role)

    def form_with(self, role: Role) -> Form | None:
        item = self.roles.get(role)
        if item is None:
            return None
        return next(f for f in self.protocol.forms if item in f.items)


DEMOGRAPHIC_ROLES = (Role.AGE, Role.SEX, Role.ETIOLOGY, Role.BODY_WEIGHT, Role.BODY_HEIGHT)


def _grade_code(item: Item, grade: int, grades: int) -> str:
    """The choice of ``item`` for the model's ``grade`` of ``grades`` ordered grades."""
    n = len(item.choices)
    if n == grades:
        return item.choices[grade].code
    if grades == 5 and n == 3:  # none | grade 1-2 | grade 3-4
        return item.choices[(0, 1, 1, 2, 2)[grade]].code
    return item.choices[min(grade, n - 1)].code


def _yes_no(item: Item, value: bool) -> str:
    if item.data_type == DataType.BOOLEAN:
        return "yes" if value else "no"
    return code_for(item, "yes" if value else "no") or item.choices[0].code


def generic_value(
    rng: np.random.Generator,
    item: Item,
    params: SimulationParameters,
    on: dt.date,
    n: int = 1,
) -> tuple[str, str | None]:
    """A plausible value for an item the model does not know, as a coordinator would type it.

    From ``params.item_values[item.oid]`` when the simulation file describes it; otherwise a
    number in the middle of its plausible range (in its canonical unit), the first choice,
    "no", the form's date, or a short text.
    """
    spec = params.item_values.get(item.oid, {})
    unit = item.canonical_unit
    if item.data_type in (DataType.FLOAT, DataType.INTEGER):
        limits = item.plausible_range or item.hard_range
        low = limits.low if limits and limits.low is not None else 0.0
        high = limits.high if limits and limits.high is not None else low + 100.0
        if "mean" in spec:
            value = rng.normal(float(spec["mean"]), float(spec.get("sd", 0.0)))
        else:
            value = low + (high - low) * rng.uniform(0.35, 0.65)
        value = min(max(value, low), high)
        if item.data_type == DataType.INTEGER:
            return str(int(round(value))), unit
        return _fmt(value, int(spec.get("decimals", 1))), unit
    if item.data_type == DataType.CHOICE:
        weights = spec.get("choices")
        if weights:
            codes = list(weights)
            p = np.array([float(weights[c]) for c in codes])
            return str(rng.choice(codes, p=p / p.sum())), None
        return item.choices[0].code, None
    if item.data_type == DataType.BOOLEAN:
        return "no", None
    if item.data_type == DataType.DATE:
        return _iso(on), None
    if item.data_type == DataType.DATETIME:
        return f"{_iso(on)}T{int(rng.integers(9, 15)):02d}:{int(rng.integers(0, 60)):02d}", None
    template = spec.get("text")
    if template:
        return str(template).format(date=on, n=int(rng.integers(1, 99))), None
    return f"{item.label.en} {n}", None


def _fill(
    rng: np.random.Generator,
    form: Form,
    items: dict[str, tuple[str, str | None]],
    params: SimulationParameters,
    on: dt.date,
    skip: set[str] | frozenset[str] = frozenset(),
) -> None:
    """Give a generic value to every item of ``form`` that is required or described in the
    simulation file and not yet filled (``skip``: items deliberately left out)."""
    for item in form.items:
        if item.oid in items or item.oid in skip:
            continue
        if item.required or item.oid in params.item_values:
            items[item.oid] = generic_value(rng, item, params, on)


class _Writer:
    """Turns one participant's simulated values into entered values."""

    def __init__(self, rng: np.random.Generator, params: SimulationParameters, where: TrialMap):
        self.rng = rng
        self.params = params
        self.where = where

    def lab(self, name: str, value: float) -> tuple[str, str | None]:
        item = self.where.labs[name]
        canonical = item.canonical_unit
        model_unit = LAB_MODEL_UNIT[name]
        if canonical and canonical != model_unit:
            value = float(convert(value, model_unit, canonical, item.quantity))
        decimals = self.params.lab_decimals.get(name, 1)
        for unit, probability in self.params.alt_unit_probability.get(LAB_CODE[name], {}).items():
            if unit in item.units and self.rng.random() < probability:
                alt = float(convert(value, canonical, unit, item.quantity))
                return _fmt(alt, max(2, decimals)), unit
        return _fmt(value, decimals), canonical

    def visit_values(
        self,
        event: str,
        on: dt.date,
        labs: Mapping[str, float],
        asc: int,
        he: int,
        dialysis: bool,
        allow_missing: bool = True,
    ) -> tuple[dict[str, tuple[str, str | None]], dict[str, str]]:
        """Every item the event's forms record: labs and clinical signs from the model, the
        rest generic; (items, missing with reasons)."""
        p, w = self.params, self.where
        items: dict[str, tuple[str, str | None]] = {}
        missing: dict[str, str] = {}
        forms = w.forms_at.get(event, [])
        oids = {i.oid for f in forms for i in f.items}
        for name, item in w.labs.items():
            if item.oid not in oids:
                continue
            if allow_missing and self.rng.random() < p.missing_item_probability:
                missing[item.oid] = str(self.rng.choice(p.missing_reasons))
                continue
            items[item.oid] = self.lab(name, float(labs[name]))
        if w.ascites is not None and w.ascites.oid in oids:
            items[w.ascites.oid] = (_grade_code(w.ascites, int(asc), 3), None)
        if w.encephalopathy is not None and w.encephalopathy.oid in oids:
            items[w.encephalopathy.oid] = (_grade_code(w.encephalopathy, int(he), 5), None)
        if w.dialysis is not None and w.dialysis.oid in oids:
            items[w.dialysis.oid] = (_yes_no(w.dialysis, bool(dialysis)), None)
        for form in forms:
            _fill(self.rng, form, items, p, on, skip=set(missing))
        return items, missing


def _entered_value(
    protocol: Protocol, oid: str, entered: Mapping[str, tuple[str, str | None]]
) -> str | None:
    """The value of ``oid`` for these entered values: as typed, or, for a derived item,
    scored from its inputs in the units they were typed in (as data capture derives it)."""
    derived = next((d for d in protocol.derived_items if d.oid == oid), None)
    if derived is None:
        value = entered.get(oid)
        return value[0] if value else None
    definition = SCORES[derived.score]
    items = protocol.items()
    arguments: dict[str, Any] = {"settings": protocol.score_settings()}
    for name, input_oid in derived.inputs.items():
        if input_oid not in entered:
            continue
        text, unit = entered[input_oid]
        item = items[input_oid]
        if item.data_type in (DataType.FLOAT, DataType.INTEGER):
            arguments[name] = float(text)
            if f"{name}_unit" in definition.inputs:
                arguments[f"{name}_unit"] = unit or item.canonical_unit
        elif item.data_type == DataType.BOOLEAN:
            arguments[name] = text in ("yes", "true")
        else:
            arguments[name] = text
    if any(name not in arguments for name in definition.required):
        return None
    try:
        result = definition.function(**arguments)
    except (ValueError, TypeError):
        return None
    result = result.item() if hasattr(result, "item") else result
    return result if isinstance(result, str) else f"{result:g}"


def stratum_levels(
    protocol: Protocol, entered: Mapping[str, tuple[str, str | None]]
) -> tuple[str, ...] | None:
    """The level of each stratification factor these screening values give; None when a value
    falls in no level (the patient is not in the population the strata describe)."""
    levels = []
    for factor in protocol.randomization.strata:
        value = _entered_value(protocol, factor.item, entered)
        level = next((lv.code for lv in factor.levels if value in lv.values), None)
        if level is None:
            return None
        levels.append(level)
    return tuple(levels)


def simulation_seed(seed: int) -> bytes:
    """The randomization seed of a simulated trial without a secret seed of its own."""
    return hashlib.sha256(f"hepatrial simulate {seed}".encode()).digest()


def allocation_list(protocol: Protocol, per_stratum: int, seed: bytes) -> RandomizationList:
    """The permuted-block list :mod:`hepatrial.randomization` makes for ``protocol``."""
    return generate_block_list(protocol_block_design(protocol, per_stratum), seed)


# --------------------------------------------------------------------------- one trial


def simulate_trial(
    protocol: Protocol,
    n_participants: int | None = None,
    seed: int = 1,
    params: SimulationParameters = DEFAULT_PARAMETERS,
    allocation: RandomizationList | None = None,
) -> TrialRecords:
    """Screen patients until ``n_participants`` (default: the protocol target) are randomized.

    Arms are taken from ``allocation`` (the trial's own list: the demo passes the one made from
    ``var/randomization_seed``) slot by slot in each stratum, in order of randomization date;
    without it, from a list generated from :func:`simulation_seed`. Same ``protocol``,
    ``n_participants``, ``seed``, ``params`` and list give the same trial.
    """
    n_target = n_participants or protocol.study.target_enrolment
    if allocation is None:
        allocation = allocation_list(protocol, n_target, simulation_seed(seed))
    rng = np.random.default_rng(seed)
    where = TrialMap.of(protocol)
    writer = _Writer(rng, params, where)
    etiology_item = where.item(Role.ETIOLOGY)
    etiologies = tuple(c.code for c in etiology_item.choices) if etiology_item else ()
    named = {params.age_criterion, params.severity_criterion, params.consent_criterion}
    free = tuple(c.oid for c in protocol.eligibility if c.oid not in named)
    screening_event = where.screening_events[0] if where.screening_events else ""

    batches: list[ScreenedCohort] = []
    screening_values: list[tuple[dict, dict]] = []
    strata: list[tuple[str, ...] | None] = []
    eligible_count = 0
    today = protocol.study.enrolment_period.start
    while eligible_count < n_target:
        size = max(64, int(1.8 * (n_target - eligible_count)))
        batch = draw_screened(rng, size, params, etiologies, free)
        batches.append(batch)
        for i in range(batch.n):
            labs = {k: float(v[i]) for k, v in batch.labs.items()}
            entered = writer.visit_values(
                screening_event, today, labs, batch.ascites[i], batch.he[i],
                bool(batch.dialysis[i]), allow_missing=False,
            )  # fmt: skip
            screening_values.append(entered)
            levels = stratum_levels(protocol, {**_demographics(writer, batch, i), **entered[0]})
            strata.append(levels)
            if batch.age_ok[i] and not batch.other_failure[i] and levels is not None:
                eligible_count += 1
    cohort = _concat(batches)
    in_population = np.array([s is not None for s in strata])
    eligible = cohort.age_ok & (cohort.other_failure == "") & in_population
    last = int(np.flatnonzero(eligible)[n_target - 1])
    n_screened = last + 1
    cohort = cohort.take(np.arange(n_screened))
    eligible = eligible[:n_screened]

    period = protocol.study.enrolment_period
    lo, hi = params.screening_to_randomization_days
    span = max(1, int(period.months * 30.44) - hi)
    screen_days = np.sort(rng.integers(0, span, n_screened))
    delay = rng.integers(lo, hi + 1, n_screened)
    site = protocol.study.sites[0].code

    # randomization in order of randomization date, each stratum's slots in sequence
    elig_idx = np.flatnonzero(eligible)
    rand_day = screen_days + delay
    order = elig_idx[np.argsort(rand_day[elig_idx], kind="stable")]
    factors = tuple(
        Factor(f.code, tuple(lv.code for lv in f.levels)) for f in protocol.randomization.strata
    )
    next_slot: dict[str, int] = {}
    arm_of: dict[int, str] = {}
    for i in order.tolist():
        code = stratum_code(factors, strata[i])
        sequence = next_slot.get(code, 1)
        slot = allocation.slot(code, sequence)
        if slot is None:
            raise ValueError(f"the randomization list has no slot {sequence} in stratum {code}")
        next_slot[code] = sequence + 1
        arm_of[i] = slot.arm

    people: list[ParticipantRecord] = []
    for i in range(n_screened):
        screening_date = period.start + dt.timedelta(days=int(screen_days[i]))
        failed = _failed_criteria(protocol, params, cohort, i, strata[i] is not None)
        answers = {}
        for crit in protocol.eligibility:
            good = crit.qualifying_answer
            bad = "no" if good == "yes" else "yes"
            answers[crit.oid] = bad if crit.oid in failed else good
        consent = None
        if params.consent_criterion not in failed:
            hour = int(rng.integers(*params.consent_hour_range))
            consent = f"{_iso(screening_date)}T{hour:02d}:{int(rng.integers(0, 60)):02d}"
        items, missing = screening_values[i]
        items = {k: (_iso(screening_date), None) if v == (_iso(today), None) else v
                 for k, v in items.items()}  # fmt: skip
        scr_visit = VisitRecord(
            screening_event, _iso(screening_date), -int(delay[i]), items, missing
        )
        person = ParticipantRecord(
            screening_number=f"{site}-{i + 1:04d}",
            site_code=site,
            screening_date=_iso(screening_date),
            eligibility=answers,
            failed_criteria=failed,
            consent_datetime=consent,
            demographics=_demographics(writer, cohort, i, screening_date),
            screening_visit=scr_visit,
        )
        if eligible[i]:
            person.stratum = ";".join(strata[i] or ())
            _follow_up(rng, writer, protocol, params, cohort, i, person, screening_date,
                       int(delay[i]), arm_of[i])  # fmt: skip
        people.append(person)
    return TrialRecords(protocol.study.registry_id, seed, params.to_dict(), people)


def _failed_criteria(
    protocol: Protocol,
    params: SimulationParameters,
    cohort: ScreenedCohort,
    i: int,
    in_population: bool,
) -> list[str]:
    """Criteria the patient fails, in the protocol's order."""
    failed = set()
    if params.age_criterion and not cohort.age_ok[i]:
        failed.add(params.age_criterion)
    if not in_population and params.severity_criterion:
        failed.add(params.severity_criterion)
    if cohort.other_failure[i]:
        failed.add(str(cohort.other_failure[i]))
    if not in_population and not failed:
        # a patient outside the strata cannot be randomized: some criterion must say why
        failed.add(protocol.eligibility[-1].oid)
    return [c.oid for c in protocol.eligibility if c.oid in failed]


def _demographics(
    writer: _Writer, cohort: ScreenedCohort, i: int, on: dt.date | None = None
) -> dict[str, tuple[str, str | None]]:
    w, rng = writer.where, writer.rng
    values: dict[str, tuple[str, str | None]] = {}
    if (item := w.item(Role.AGE)) is not None:
        values[item.oid] = (str(int(cohort.age[i])), item.canonical_unit)
    if (item := w.item(Role.SEX)) is not None:
        sex = str(cohort.sex[i])
        values[item.oid] = (code_for(item, sex) or sex, None)
    if (item := w.item(Role.ETIOLOGY)) is not None and cohort.etiology[i]:
        values[item.oid] = (str(cohort.etiology[i]), None)
    if (item := w.item(Role.BODY_WEIGHT)) is not None:
        values[item.oid] = (_fmt(cohort.weight[i], 1), item.canonical_unit)
    if (item := w.item(Role.BODY_HEIGHT)) is not None:
        height = float(cohort.height[i])
        if item.canonical_unit and item.canonical_unit != "cm":
            height = float(convert(height, "cm", item.canonical_unit, item.quantity))
        values[item.oid] = (_fmt(height, 0 if item.canonical_unit == "cm" else 2),
                            item.canonical_unit)  # fmt: skip
    if on is not None:
        for form in w.demographic_forms:
            _fill(rng, form, values, writer.params, on)
    return values


def _visit_days(
    rng: np.random.Generator, protocol: Protocol, params: SimulationParameters, arm: str
) -> list[tuple[str, int, bool]]:
    """(event OID, study day, out of window) for the arm's scheduled events after day 0."""
    out = []
    for ev in protocol.scheduled_events(arm):
        if not ev.day:
            continue
        w = ev.window
        before, after = (w.before, w.after) if w else (0, 0)
        if rng.random() < params.out_of_window_probability:
            side = rng.choice([-1, 1])
            limit = before if side < 0 else after
            day = ev.day + side * (limit + int(rng.integers(1, 4)))
            out.append((ev.oid, int(day), True))
        else:
            # triangular around the target: most visits on or near the target day
            offset = int(np.round(rng.triangular(-before - 0.49, 0, after + 0.49)))
            out.append((ev.oid, ev.day + offset, False))
    return out


def _follow_up(
    rng: np.random.Generator,
    writer: _Writer,
    protocol: Protocol,
    params: SimulationParameters,
    cohort: ScreenedCohort,
    i: int,
    person: ParticipantRecord,
    screening_date: dt.date,
    delay: int,
    arm: str,
) -> None:
    """Randomize participant ``i`` into ``arm`` and simulate follow-up into ``person``."""
    w = writer.where
    randdt = screening_date + dt.timedelta(days=delay)
    person.randomization_date = _iso(randdt)
    person.arm = arm

    def date(day: float) -> dt.date:
        return randdt + dt.timedelta(days=int(math.floor(day)))

    # ---- infusions
    infused_at: list[tuple[int, int, bool]] = []  # (intervention index, day, out of window)
    no_infusion = rng.random() < params.no_infusion_probability
    visit_plan = _visit_days(rng, protocol, params, arm)
    end_visit_day = visit_plan[-1][1] if visit_plan else REFERENCE_DAYS
    times = event_times(
        rng, cohort.meld[i : i + 1], cohort.cp_class[i : i + 1], np.array([arm]), params
    )
    t = {k: float(v[0]) for k, v in times.items()}
    if no_infusion:
        t["withdrawal"] = 0.0
    first_decomp = min(t[k] for k in DECOMP_TYPES)
    stop = min(t["death"], t["transplant"], t["withdrawal"], t["lost"], float(end_visit_day) + 0.99)
    interventions = protocol.arm(arm).interventions
    for k, iv in enumerate(interventions):
        day = iv.study_day
        oow = False
        if iv.study_day > 0:
            if rng.random() < params.infusion2_missed_probability:
                person.deviations.append(
                    Deviation(
                        "INFUSION_MISSED",
                        _iso(date(iv.study_day)),
                        f"{iv.code} not given (product not available)",
                        True,
                    )  # fmt: skip
                )
                continue
            if rng.random() < params.infusion2_out_of_window_probability:
                day = iv.study_day + iv.window.after + int(rng.integers(1, 4))
                oow = True
            else:
                day = iv.study_day + int(rng.integers(-iv.window.before, iv.window.after + 1))
        if day >= stop or no_infusion:
            continue
        infused_at.append((k, day, oow))
        if oow:
            person.deviations.append(
                Deviation(
                    "INFUSION_OUT_OF_WINDOW",
                    _iso(date(day)),
                    f"{iv.code} given on day {day}, outside its window",
                    True,
                )  # fmt: skip
            )
    first_day = float(infused_at[0][1]) if infused_at else math.inf
    arm_effect = params.arm_effect_24w.get(arm, 0.0)
    last = len(interventions) - 1
    effect_day = next((float(d) for k, d, _ in infused_at if k == last), math.inf)
    weight = float(cohort.weight[i])
    for k, day, _ in infused_at:
        _infusion(rng, writer, person, interventions[k], date(day), weight)

    # ---- visits: baseline, then scheduled visits before the follow-up stops
    sev0 = float(cohort.severity[i])
    resid = cohort.residual[i]
    own_clinical = cohort.clinical_residual[i]
    slope = rng.normal(0.0, params.slope_sd_24w)

    def state_at(day: float) -> tuple[dict[str, float], int, int, bool]:
        sev = severity_at(np.array(day, dtype=float), sev0, slope, arm_effect, effect_day,
                          params, first_day)  # fmt: skip
        sev = np.atleast_1d(sev)
        labs = lab_values(rng, sev, resid[None, :], params)
        asc, he, dial = clinical_grades(rng, sev, params, own_clinical[None, :])
        return {k: float(v[0]) for k, v in labs.items()}, int(asc[0]), int(he[0]), bool(dial[0])

    events_first = min(t["death"], t["transplant"], t["withdrawal"], t["lost"])
    lab_stop = min(math.floor(events_first), end_visit_day + 1)  # no visit on an event day
    ascites_at: list[tuple[int, int]] = [(int(cohort.ascites[i]), person.screening_visit.study_day)]
    ascites_onsets: list[float] = []
    if t["ascites"] < math.inf:
        ascites_onsets.append(float(math.floor(t["ascites"])))  # the day it is recorded on
    if not no_infusion and lab_stop > 0:
        labs, asc, he, dial = state_at(0.0)
        asc = min(asc, int(cohort.ascites[i]))  # assessed days after screening: no worse
        for event in w.baseline_events:
            items, missing = writer.visit_values(event, randdt, labs, asc, he, dial)
            person.visits.append(VisitRecord(event, _iso(randdt), 0, items, missing))
        ascites_at.append((asc, 0))
    for oid, day, oow in visit_plan:
        if day >= lab_stop or rng.random() < params.missed_visit_probability:
            continue
        labs, asc, he, dial = state_at(float(day))
        previous, previous_day = ascites_at[-1]
        if any(previous_day < onset <= day for onset in ascites_onsets):
            asc = max(asc, min(previous + 1, 2))  # a decompensation of ascites shows
        if first_decomp <= day and t["hepatic_encephalopathy"] <= day:
            he = max(he, 1)
        if asc > previous and not any(previous_day < o <= day for o in ascites_onsets):
            # worse ascites at this visit: the coordinator records the decompensation
            ascites_onsets.append(float(rng.integers(max(previous_day, 0) + 1, day + 1)))
        ascites_at.append((asc, day))
        items, missing = writer.visit_values(oid, date(day), labs, asc, he, dial)
        person.visits.append(VisitRecord(oid, _iso(date(day)), day, items, missing, oow))
        if oow:
            person.deviations.append(
                Deviation(
                    "OUT_OF_WINDOW_VISIT",
                    _iso(date(day)),
                    f"{oid} on study day {day}, outside its window",
                )  # fmt: skip
            )

    # ---- outcomes
    end_day = min(stop, float(end_visit_day))
    died = t["death"] <= end_day
    ltx = t["transplant"] <= end_day and not died
    death_day = t["death"] if died else math.inf
    if ltx:
        post = t["transplant"] + t["post_transplant_death"]
        if post <= end_visit_day:
            death_day = post
    onsets = [(kind, t[kind]) for kind in DECOMP_TYPES if kind != "ascites"]
    onsets += [("ascites", o) for o in sorted(set(ascites_onsets))]
    for kind, onset in onsets:
        if onset <= min(end_day, death_day):
            _decompensation(rng, writer, person, kind, date(onset))
    _sort_by_role(person.decompensations, w.item(Role.DECOMPENSATION_ONSET))
    follow_days = max(min(end_day, death_day), 1.0)
    n_ae = rng.poisson(params.ae_rate_24w * follow_days / REFERENCE_DAYS)
    terms = params.ae_terms
    for _ in range(int(n_ae)):
        term_i = int(rng.integers(len(terms)))
        start_day = float(rng.uniform(0, follow_days))
        grades = params.ae_grade_probabilities
        grade = int(rng.choice(np.arange(1, len(grades) + 1), p=grades))
        end = date(start_day + rng.integers(1, 21)) if rng.random() < 0.85 else None
        rel = str(rng.choice(["unrelated", "unlikely", "possible"], p=[0.6, 0.3, 0.1]))
        _ae(rng, writer, person, terms[term_i][0], date(start_day), end, grade, rel)
    if math.isfinite(death_day):
        cause = "Liver failure" if not ltx else "Post-transplant complications"
        if not ltx and first_decomp <= death_day and t["gi_bleeding"] <= death_day:
            cause = "Variceal haemorrhage"
        person.death = _event_form(rng, writer, Role.DEATH_DATE, date(death_day),
                                   {Role.DEATH_CAUSE: cause})  # fmt: skip
        _ae(rng, writer, person, cause, date(death_day), date(death_day), 5, "unrelated")
    if ltx:
        person.transplant = _event_form(rng, writer, Role.TRANSPLANT_DATE, date(t["transplant"]))
    _sort_by_role(person.adverse_events, w.item(Role.AE_START))

    if math.isfinite(death_day):
        status, eos_day, reason = "died", death_day, "Death"
    elif ltx:
        status, eos_day, reason = "transplanted", float(end_visit_day), "Liver transplantation"
    elif t["withdrawal"] <= end_day:
        status, eos_day, reason = "withdrawn", t["withdrawal"], "Withdrew consent"
    elif t["lost"] <= end_day:
        status, eos_day, reason = "lost", t["lost"], "Lost to follow-up"
    else:
        status, eos_day, reason = "completed", float(end_visit_day), ""
    if status in ("withdrawn", "lost"):
        seen = [v.study_day for v in person.visits]
        eos_day = max(seen) if seen and status == "lost" else eos_day
    status_item = w.item(Role.END_OF_STUDY_STATUS)
    extra: dict[Role, str] = {}
    if status_item is not None:
        extra[Role.END_OF_STUDY_STATUS] = code_for(status_item, status) or status
    if reason:
        extra[Role.END_OF_STUDY_REASON] = reason
    person.end_of_study = _event_form(rng, writer, Role.END_OF_STUDY_DATE, date(eos_day), extra)
    if rng.random() < params.unblinding_probability:
        person.deviations.append(
            Deviation(
                "EMERGENCY_UNBLINDING",
                _iso(date(min(eos_day, 60))),
                "Participant unblinded for clinical management",
                True,
            )  # fmt: skip
        )


def _sort_by_role(forms: list[FormRecord], item: Item | None) -> None:
    if item is not None:
        forms.sort(key=lambda f: f.items.get(item.oid, ("",))[0])


def _event_form(
    rng: np.random.Generator,
    writer: _Writer,
    date_role: Role,
    on: dt.date,
    values: Mapping[Role, str] | None = None,
) -> FormRecord | None:
    """The form holding ``date_role``, dated ``on``, with ``values`` by role, the rest generic."""
    w = writer.where
    form = w.form_with(date_role)
    if form is None:
        return None
    items: dict[str, tuple[str, str | None]] = {w.roles[date_role].oid: (_iso(on), None)}
    for role, text in (values or {}).items():
        item = w.item(role)
        if item is not None and item in form.items:
            items[item.oid] = (text, None)
    _fill(rng, form, items, writer.params, on)
    return FormRecord(form.oid, items)


def _infusion(
    rng: np.random.Generator,
    writer: _Writer,
    person: ParticipantRecord,
    iv: Intervention,
    on: dt.date,
    weight: float,
) -> None:
    """The infusion form of one intervention given on ``on``, and a reaction now and then."""
    protocol, params, w = writer.where.protocol, writer.params, writer.where
    form = protocol.form(iv.form)
    items: dict[str, tuple[str, str | None]] = {}
    start = w.item(Role.INFUSION_START)
    if start is not None and start in form.items:
        hour = int(rng.integers(9, 15))
        items[start.oid] = (f"{_iso(on)}T{hour:02d}:{int(rng.integers(0, 60)):02d}", None)
    oids = protocol.items()
    if iv.weight_item:
        unit = oids[iv.weight_item].canonical_unit
        items[iv.weight_item] = (_fmt(weight + rng.normal(0, 0.6), 1), unit)
    dose_item = oids[iv.dose_item]
    items[iv.dose_item] = (_fmt(iv.dose.amount * rng.uniform(0.95, 1.05), 2),
                           dose_item.canonical_unit)  # fmt: skip
    reaction = w.item(Role.INFUSION_REACTION)
    reacted = rng.random() < params.infusion_reaction_probability
    if reaction is not None and reaction in form.items:
        items[reaction.oid] = (_yes_no(reaction, reacted), None)
        described = w.item(Role.INFUSION_REACTION_TEXT)
        if reacted and described is not None and described in form.items:
            items[described.oid] = ("Fever and chills during the infusion", None)
    _fill(rng, form, items, params, on)
    person.infusions.append(FormRecord(form.oid, items, intervention=iv.code))
    if reacted:
        _ae(rng, writer, person, "Infusion related reaction", on, on + dt.timedelta(days=1), 1,
            "probable")  # fmt: skip


def _decompensation(
    rng: np.random.Generator, writer: _Writer, person: ParticipantRecord, kind: str, on: dt.date
) -> None:
    w = writer.where
    kind_item, form = w.item(Role.DECOMPENSATION_TYPE), w.form_with(Role.DECOMPENSATION_TYPE)
    if kind_item is None or form is None or code_for(kind_item, kind) is None:
        return
    items: dict[str, tuple[str, str | None]] = {kind_item.oid: (code_for(kind_item, kind), None)}
    if (onset := w.item(Role.DECOMPENSATION_ONSET)) is not None:
        items[onset.oid] = (_iso(on), None)
    severe = False
    if (severity := w.item(Role.DECOMPENSATION_SEVERITY)) is not None and severity.choices:
        codes = [c.code for c in severity.choices]
        p = [0.3, 0.45, 0.25] if len(codes) == 3 else [1 / len(codes)] * len(codes)
        chosen = str(rng.choice(codes, p=p))
        items[severity.oid] = (chosen, None)
        severe = chosen != codes[0]
    if (hospital := w.item(Role.DECOMPENSATION_HOSPITALIZED)) is not None:
        items[hospital.oid] = (_yes_no(hospital, severe or rng.random() < 0.5), None)
    _fill(rng, form, items, writer.params, on)
    person.decompensations.append(FormRecord(form.oid, items))


def _ae(
    rng: np.random.Generator,
    writer: _Writer,
    person: ParticipantRecord,
    term: str,
    start: dt.date,
    end: dt.date | None,
    grade: int,
    relation: str,
) -> None:
    w = writer.where
    form = w.form_with(Role.AE_TERM)
    if form is None:
        return
    items: dict[str, tuple[str, str | None]] = {w.roles[Role.AE_TERM].oid: (term, None)}
    coded = {Role.AE_GRADE: str(grade), Role.AE_RELATIONSHIP: relation}
    for role, wanted in coded.items():
        if (item := w.item(role)) is not None:
            items[item.oid] = (code_for(item, wanted) or item.choices[-1].code, None)
    if (item := w.item(Role.AE_SERIOUS)) is not None:
        items[item.oid] = (_yes_no(item, grade >= 3), None)
    if (item := w.item(Role.AE_START)) is not None:
        items[item.oid] = (_iso(start), None)
    if end is not None and (item := w.item(Role.AE_END)) is not None:
        items[item.oid] = (_iso(max(end, start)), None)
    _fill(rng, form, items, writer.params, start)
    person.adverse_events.append(FormRecord(form.oid, items))


def ae_body_system(term: str, params: SimulationParameters = DEFAULT_PARAMETERS) -> str:
    for name, soc in params.ae_terms:
        if name == term:
            return soc
    if term == "Infusion related reaction":
        return "Injury, poisoning and procedural complications"
    if term in ("Liver failure", "Variceal haemorrhage"):
        return (
            "Hepatobiliary disorders" if term == "Liver failure" else "Gastrointestinal disorders"
        )
    return "General disorders and administration site conditions"


def summary(records: TrialRecords, protocol: Protocol) -> dict[str, Any]:
    """Counts a CONSORT diagram needs, from the records."""
    screened = records.participants
    failed: dict[str, int] = {}
    for p in screened:
        for c in p.failed_criteria:
            failed[c] = failed.get(c, 0) + 1
    rand = records.randomized
    status_item = item_with_role(protocol, Role.END_OF_STUDY_STATUS)
    by_arm: dict[str, int] = {}
    status: dict[str, int] = {}
    strata: dict[str, int] = {}
    for p in rand:
        by_arm[p.arm or ""] = by_arm.get(p.arm or "", 0) + 1
        strata[p.stratum or ""] = strata.get(p.stratum or "", 0) + 1
        s = "ongoing"
        if p.end_of_study and status_item and status_item.oid in p.end_of_study.items:
            s = meaning(status_item, p.end_of_study.items[status_item.oid][0])
        status[s] = status.get(s, 0) + 1
    return {
        "screened": len(screened),
        "screen_failures": len(screened) - len(rand),
        "failed_by_criterion": dict(sorted(failed.items())),
        "randomized": len(rand),
        "by_arm": by_arm,
        "by_stratum": dict(sorted(strata.items())),
        "end_of_study": status,
    }
