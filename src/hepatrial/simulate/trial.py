"""Simulate one NCT06242405 trial from the protocol and a seed.

Two layers:

* vectorized generators over arrays of patients (:func:`draw_screened`, :func:`lab_values`,
  :func:`severity_at`, :func:`event_times`) that the statistical tests check on large n;
* :func:`simulate_trial`, which screens patients until the target is randomized and writes each
  one out as a :class:`~hepatrial.simulate.records.ParticipantRecord` shaped like data entry.

Model in one paragraph (details and sources in docs/simulation.md): each screened patient has a
latent severity factor S ~ N(0, 1). Every laboratory value is mean + loading·S + a persistent
participant residual + visit noise (log scale for the skewed labs), so labs are correlated the way
a single-factor model implies (:func:`implied_lab_correlation`); ascites and encephalopathy grades
are S plus noise cut at thresholds. Child-Pugh class A at screening fails "end-stage liver disease"
(IE.INC02). After randomization S drifts, improves after each infusion (the DOUBLE arm gets an
extra ``arm_effect_24w`` from the second infusion on), and death, transplant, decompensation,
withdrawal and loss to follow-up are competing times with hazards calibrated to published rates.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hepatrial import scores
from hepatrial.protocol.model import Protocol
from hepatrial.simulate.parameters import (
    DEFAULT_PARAMETERS,
    LAB_ITEM,
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

FOLLOW_UP_DAYS = 168
DECOMP_TYPES = ("gi_bleeding", "ascites", "hepatic_encephalopathy")
ASCITES_CODES = ("none", "mild", "moderate_severe")
CHOLESTATIC = ("PBC", "PSC")
MELD_BANDS = ((-math.inf, 10, "<10"), (10, 20, "10-19"), (20, 30, "20-29"))
MELD_BANDS += ((30, 40, "30-39"), (40, math.inf, ">=40"))


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
    """Laboratory values in canonical units for severities ``severity`` (any shape).

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


def clinical_grades(
    rng: np.random.Generator,
    severity: np.ndarray,
    params: SimulationParameters = DEFAULT_PARAMETERS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ascites grade (0 none, 1 mild, 2 moderate-severe), West Haven grade 0-4, dialysis flag."""
    shape = severity.shape
    asc = np.digitize(
        severity + rng.normal(0, params.clinical_noise_sd, shape), params.ascites_thresholds
    )
    he = np.digitize(
        severity + rng.normal(0, params.clinical_noise_sd, shape), params.he_thresholds
    )
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
    labs: dict[str, np.ndarray]
    ascites: np.ndarray
    he: np.ndarray
    dialysis: np.ndarray
    cp_points: np.ndarray
    cp_class: np.ndarray
    meld: np.ndarray
    other_failure: np.ndarray
    """Criterion OID failed for a data-independent reason, or "" when none."""

    @property
    def n(self) -> int:
        return len(self.age)

    def take(self, idx: np.ndarray) -> ScreenedCohort:
        fields = {k: v[idx] for k, v in self.__dict__.items() if k != "labs"}
        return ScreenedCohort(**fields, labs={k: v[idx] for k, v in self.labs.items()})

    def failed_criteria(self) -> list[list[str]]:
        """Criteria each patient fails: age (INC01), Child-Pugh A (INC02), then the others."""
        out = []
        for a, cls, other in zip(self.age, self.cp_class, self.other_failure):
            failed = []
            if not 18 <= a <= 80:
                failed.append("IE.INC01")
            if cls == "A":
                failed.append("IE.INC02")
            if other:
                failed.append(str(other))
            out.append(failed)
        return out

    @property
    def eligible(self) -> np.ndarray:
        return (
            (self.age >= 18)
            & (self.age <= 80)
            & (self.cp_class != "A")
            & (self.other_failure == "")
        )


def draw_screened(
    rng: np.random.Generator, n: int, params: SimulationParameters = DEFAULT_PARAMETERS
) -> ScreenedCohort:
    """Baseline characteristics and screening-visit values of ``n`` screened patients."""
    lo, hi = params.age_screen_range
    age = np.clip(np.round(rng.normal(params.age_mean, params.age_sd, n)), lo, hi)
    sex = np.where(rng.random(n) < params.male_fraction, "M", "F")
    codes = list(params.etiology)
    probs = np.array([params.etiology[c] for c in codes], dtype=float)
    etiology = rng.choice(np.array(codes), n, p=probs / probs.sum())
    wmean = np.where(sex == "M", params.weight_mean["M"], params.weight_mean["F"])
    hmean = np.where(sex == "M", params.height_mean["M"], params.height_mean["F"])
    weight = np.clip(rng.normal(wmean, params.weight_sd), 38, 140)
    height = np.clip(rng.normal(hmean, params.height_sd), 142, 198)
    severity = rng.normal(0.0, params.severity_sd, n)
    resid_sd = np.array([params.lab_residual_sd[k] for k in LAB_ORDER])
    residual = rng.normal(0.0, 1.0, (n, len(LAB_ORDER))) * resid_sd
    labs = lab_values(rng, severity, residual, params)
    ascites, he, dialysis = clinical_grades(rng, severity, params)
    # as the protocol derives D.CPCLASS: no cholestatic bilirubin bands
    cp_points, cp_class = child_pugh(labs, ascites, he, np.zeros(n, dtype=bool))
    meld = meld_score(labs, dialysis)
    crit = list(params.failure_weights)
    w = np.array([params.failure_weights[c] for c in crit], dtype=float)
    other = np.where(
        rng.random(n) < params.screen_failure_other,
        rng.choice(np.array(crit), n, p=w / w.sum()),
        "",
    )
    # pregnancy only for women; a man drawn for it fails "other circumstances" instead
    other = np.where((other == "IE.EXC09") & (sex == "M"), "IE.EXC11", other)
    return ScreenedCohort(
        age, sex, etiology, weight, height, severity, residual, labs, ascites, he, dialysis,
        cp_points, cp_class, meld, other,
    )  # fmt: skip


def improvement_at(
    days: np.ndarray, double: np.ndarray, inf2_day: np.ndarray, params: SimulationParameters
) -> np.ndarray:
    """Treatment-related decrease of severity at study ``days`` (broadcast over participants)."""
    tau = params.effect_time_constant_days
    t = np.maximum(days, 0.0)
    base = params.improvement_single_24w * (1 - np.exp(-t / tau))
    since2 = np.maximum(days - inf2_day, 0.0)
    extra = np.where(
        double & np.isfinite(inf2_day), params.arm_effect_24w * (1 - np.exp(-since2 / tau)), 0.0
    )
    return base + extra


def severity_at(
    days: np.ndarray,
    severity0: np.ndarray,
    slope: np.ndarray,
    double: np.ndarray,
    inf2_day: np.ndarray,
    params: SimulationParameters = DEFAULT_PARAMETERS,
) -> np.ndarray:
    """Latent severity at study ``days``: baseline + (drift + individual slope)·t/168 - effect."""
    frac = np.asarray(days, dtype=float) / FOLLOW_UP_DAYS
    drift = (params.natural_drift_per_24w + slope) * frac
    return severity0 + drift - improvement_at(days, double, inf2_day, params)


def meld_band(meld: np.ndarray) -> np.ndarray:
    out = np.empty(np.shape(meld), dtype=object)
    for lo, hi, name in MELD_BANDS:
        out[(meld >= lo) & (meld < hi)] = name
    return out


def event_times(
    rng: np.random.Generator,
    meld: np.ndarray,
    cp_class: np.ndarray,
    double: np.ndarray,
    params: SimulationParameters = DEFAULT_PARAMETERS,
) -> dict[str, np.ndarray]:
    """Continuous times (days, ``inf`` = beyond any horizon) of the competing events.

    Keys: the three decompensation types, ``death`` (hazard from the baseline MELD band, raised
    by ``decomp_death_hr`` after the first decompensation), ``transplant``, ``withdrawal``,
    ``lost`` and ``post_transplant_death`` (time after transplant).
    """
    n = len(meld)
    out: dict[str, np.ndarray] = {}
    class_hr = np.where(cp_class == "C", params.decomp_hr_class_c, 1.0)
    arm_hr = np.where(double, params.decomp_hr_double, 1.0)
    for kind in DECOMP_TYPES:
        h = _hazard(params.decomp_24w_class_b[kind], FOLLOW_UP_DAYS) * class_hr * arm_hr
        out[kind] = rng.exponential(1.0, n) / h
    first = np.minimum.reduce([out[k] for k in DECOMP_TYPES])
    band = meld_band(meld)
    h_death = np.array([_hazard(params.meld_band_mortality_90d[b], 90.0) for b in band])
    h_death = h_death * params.mortality_multiplier * np.where(double, params.death_hr_double, 1.0)
    e = rng.exponential(1.0, n)
    before = e / h_death
    after = first + (e - h_death * first) / (h_death * params.decomp_death_hr)
    out["death"] = np.where(before <= first, before, after)
    h_ltx = _hazard(params.transplant_6m_probability, FOLLOW_UP_DAYS) * np.exp(0.1 * (meld - 15))
    out["transplant"] = rng.exponential(1.0, n) / h_ltx
    out["withdrawal"] = rng.exponential(1.0, n) / _hazard(params.withdrawal_24w, FOLLOW_UP_DAYS)
    out["lost"] = rng.exponential(1.0, n) / _hazard(params.lost_24w, FOLLOW_UP_DAYS)
    h_post = _hazard(params.post_transplant_death_6m, FOLLOW_UP_DAYS)
    out["post_transplant_death"] = rng.exponential(1.0, n) / h_post
    return out


# --------------------------------------------------------------------------- records


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


LAB_FORMAT: dict[str, tuple[int, str]] = {
    "I.ALT": (0, "U/L"),
    "I.AST": (0, "U/L"),
    "I.ALP": (0, "U/L"),
    "I.TBIL": (1, "µmol/L"),
    "I.ALB": (1, "g/L"),
    "I.PT": (1, "s"),
    "I.INR": (2, "1"),
    "I.CREAT": (0, "µmol/L"),
    "I.SODIUM": (0, "mmol/L"),
}
"""Decimals and unit a coordinator enters for each lab in the canonical unit."""

ALT_UNITS: dict[str, tuple[str, float, int]] = {
    "I.TBIL": ("mg/dL", scores.units.BILIRUBIN_MG_DL_TO_UMOL_L, 2),
    "I.ALB": ("g/dL", 10.0, 2),
    "I.CREAT": ("mg/dL", scores.units.CREATININE_MG_DL_TO_UMOL_L, 2),
}
"""Alternative unit, canonical-per-alternative factor and decimals."""


class _Writer:
    """Turns one participant's simulated arrays into entered values."""

    def __init__(self, rng: np.random.Generator, params: SimulationParameters):
        self.rng = rng
        self.params = params

    def visit(
        self,
        event: str,
        date: dt.date,
        day: int,
        labs: Mapping[str, float],
        asc: int,
        he: int,
        dialysis: bool,
        out_of_window: bool = False,
        allow_missing: bool = True,
    ) -> VisitRecord:
        p = self.params
        items: dict[str, tuple[str, str | None]] = {}
        missing: dict[str, str] = {}
        values = {LAB_ITEM[k]: float(v) for k, v in labs.items() if k in LAB_ITEM}
        values["I.PT"] = float(labs["PT"])
        for oid, (decimals, unit) in LAB_FORMAT.items():
            if allow_missing and self.rng.random() < p.missing_item_probability:
                missing[oid] = str(self.rng.choice(p.missing_reasons))
                continue
            value = values[oid]
            if oid in ALT_UNITS and self.rng.random() < p.alt_unit_probability.get(oid, 0.0):
                alt_unit, factor, alt_dec = ALT_UNITS[oid]
                items[oid] = (_fmt(value / factor, alt_dec), alt_unit)
            else:
                items[oid] = (_fmt(value, decimals), unit)
        items["I.ASCITES"] = (ASCITES_CODES[int(asc)], None)
        items["I.HEGRADE"] = (str(int(he)), None)
        items["I.DIALYSIS"] = ("yes" if dialysis else "no", None)
        return VisitRecord(event, _iso(date), int(day), items, missing, out_of_window)


def _visit_days(
    rng: np.random.Generator, protocol: Protocol, params: SimulationParameters
) -> list[tuple[str, int, bool]]:
    """(event OID, study day, out of window) for the scheduled events after baseline."""
    out = []
    for ev in protocol.scheduled_events():
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


def _randomize(rng: np.random.Generator, strata: list[str], arms: list[str], sizes: list[int]):
    """Stratified permuted blocks with random block size (the protocol's method)."""
    queues: dict[str, list[str]] = {}
    out = []
    for s in strata:
        queue = queues.setdefault(s, [])
        if not queue:
            size = int(rng.choice(sizes)) if sizes else 2 * len(arms)
            block = np.resize(np.array(arms), size)
            queue.extend(rng.permutation(block).tolist())
        out.append(queue.pop(0))
    return out


AE_TERMS = (
    ("Pyrexia", "General disorders and administration site conditions"),
    ("Fatigue", "General disorders and administration site conditions"),
    ("Nausea", "Gastrointestinal disorders"),
    ("Diarrhoea", "Gastrointestinal disorders"),
    ("Abdominal distension", "Gastrointestinal disorders"),
    ("Pruritus", "Skin and subcutaneous tissue disorders"),
    ("Rash", "Skin and subcutaneous tissue disorders"),
    ("Headache", "Nervous system disorders"),
    ("Upper respiratory tract infection", "Infections and infestations"),
    ("Spontaneous bacterial peritonitis", "Infections and infestations"),
    ("Hyponatraemia", "Metabolism and nutrition disorders"),
    ("Acute kidney injury", "Renal and urinary disorders"),
)
AE_GRADE_P = (0.45, 0.33, 0.15, 0.07)


def _infusion_vitals(rng: np.random.Generator) -> dict[str, tuple[str, str]]:
    """Vital signs before (0) and after (1) an infusion: a setting, typical adult values."""
    vitals = {}
    sbp, dbp = rng.normal(112, 12), rng.normal(70, 8)
    hr, temp = rng.normal(78, 10), rng.normal(36.6, 0.25)
    for when in ("0", "1"):
        vitals[f"I.INFSBP{when}"] = (str(round(sbp + rng.normal(0, 4))), "mmHg")
        vitals[f"I.INFDBP{when}"] = (str(round(dbp + rng.normal(0, 3))), "mmHg")
        vitals[f"I.INFHR{when}"] = (str(round(hr + rng.normal(0, 4))), "/min")
        vitals[f"I.INFTEMP{when}"] = (_fmt(temp + rng.normal(0, 0.15), 1), "°C")
    return vitals


def simulate_trial(
    protocol: Protocol,
    n_participants: int | None = None,
    seed: int = 1,
    params: SimulationParameters = DEFAULT_PARAMETERS,
) -> TrialRecords:
    """Screen patients until ``n_participants`` (default: the protocol target) are randomized.

    Same ``protocol``, ``n_participants``, ``seed`` and ``params`` give the same trial.
    """
    n_target = n_participants or protocol.study.target_enrolment
    rng = np.random.default_rng(seed)
    batches = []
    eligible_count = 0
    while eligible_count < n_target:
        batch = draw_screened(rng, max(64, int(1.8 * (n_target - eligible_count))), params)
        batches.append(batch)
        eligible_count += int(batch.eligible.sum())
    cohort = ScreenedCohort(
        **{
            k: np.concatenate([getattr(b, k) for b in batches])
            for k in batches[0].__dict__
            if k != "labs"
        },
        labs={k: np.concatenate([b.labs[k] for b in batches]) for k in batches[0].labs},
    )
    last = int(np.flatnonzero(cohort.eligible)[n_target - 1])
    cohort = cohort.take(np.arange(last + 1))
    n_screened = cohort.n

    period = protocol.study.enrolment_period
    start = period.start
    span = max(1, int(period.months * 30.44) - params.screening_to_randomization_days[1])
    screen_days = np.sort(rng.integers(0, span, n_screened))
    lo, hi = params.screening_to_randomization_days
    delay = rng.integers(lo, hi + 1, n_screened)
    site = protocol.study.sites[0].code
    criteria = {c.oid: c for c in protocol.eligibility}
    failed_all = cohort.failed_criteria()
    eligible = cohort.eligible

    # randomization in order of randomization date
    elig_idx = np.flatnonzero(eligible)
    rand_day = screen_days + delay
    order = elig_idx[np.argsort(rand_day[elig_idx], kind="stable")]
    arms = [a.code for arm in protocol.arms for a in [arm] for _ in range(arm.ratio)]
    allocation = _randomize(
        rng, [str(cohort.cp_class[i]) for i in order], arms, protocol.randomization.block_sizes
    )
    arm_of = dict(zip(order.tolist(), allocation))
    double_code = protocol.arms[-1].code

    writer = _Writer(rng, params)
    people: list[ParticipantRecord] = []
    for i in range(n_screened):
        screening_date = start + dt.timedelta(days=int(screen_days[i]))
        failed = failed_all[i]
        answers = {}
        for oid, crit in criteria.items():
            good = crit.qualifying_answer
            bad = "no" if good == "yes" else "yes"
            answers[oid] = bad if oid in failed else good
        consent = None
        if answers.get("IE.INC03", "yes") == "yes":
            hour = int(rng.integers(*params.consent_hour_range))
            consent = f"{_iso(screening_date)}T{hour:02d}:{int(rng.integers(0, 60)):02d}"
        demo = {
            "I.AGE": (str(int(cohort.age[i])), "years"),
            "I.SEX": (str(cohort.sex[i]), None),
            "I.ETIOL": (str(cohort.etiology[i]), None),
            "I.WEIGHT": (_fmt(cohort.weight[i], 1), "kg"),
            "I.HEIGHT": (_fmt(cohort.height[i], 0), "cm"),
        }
        scr_labs = {k: float(v[i]) for k, v in cohort.labs.items()}
        scr_visit = writer.visit(
            "SCR", screening_date, -int(delay[i]), scr_labs, cohort.ascites[i], cohort.he[i],
            bool(cohort.dialysis[i]), allow_missing=False,
        )  # fmt: skip
        person = ParticipantRecord(
            screening_number=f"{site}-{i + 1:04d}",
            site_code=site,
            screening_date=_iso(screening_date),
            eligibility=answers,
            failed_criteria=failed,
            consent_datetime=consent,
            demographics=demo,
            screening_visit=scr_visit,
        )
        if eligible[i]:
            _follow_up(rng, writer, protocol, params, cohort, i, person, screening_date,
                       int(delay[i]), arm_of[i], arm_of[i] == double_code)  # fmt: skip
        people.append(person)
    return TrialRecords(protocol.study.registry_id, seed, params.to_dict(), people)


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
    double: bool,
) -> None:
    """Randomize participant ``i`` and simulate follow-up into ``person``."""
    randdt = screening_date + dt.timedelta(days=delay)
    person.randomization_date = _iso(randdt)
    person.arm = arm
    person.stratum = str(cohort.cp_class[i])

    def date(day: float) -> dt.date:
        return randdt + dt.timedelta(days=int(math.floor(day)))

    # ---- infusions
    infused_at: list[tuple[str, int, bool]] = []  # (code, day, out of window)
    no_infusion = rng.random() < params.no_infusion_probability
    visit_plan = _visit_days(rng, protocol, params)
    end_visit_day = visit_plan[-1][1]
    times = event_times(
        rng, cohort.meld[i : i + 1], cohort.cp_class[i : i + 1], np.array([double]), params
    )
    t = {k: float(v[0]) for k, v in times.items()}
    if no_infusion:
        t["withdrawal"] = 0.0
    first_decomp = min(t[k] for k in DECOMP_TYPES)
    stop = min(t["death"], t["transplant"], t["withdrawal"], t["lost"], float(end_visit_day) + 0.99)
    for iv in protocol.arm(arm).interventions:
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
        infused_at.append((iv.code, day, oow))
        if oow:
            person.deviations.append(
                Deviation(
                    "INFUSION_OUT_OF_WINDOW",
                    _iso(date(day)),
                    f"{iv.code} given on day {day}, outside its window",
                    True,
                )  # fmt: skip
            )
    inf2_day = np.array([float(d) for c, d, _ in infused_at if c != "INF1"][:1] or [np.inf])
    weight = float(cohort.weight[i])
    for code, day, _ in infused_at:
        hour = int(rng.integers(9, 15))
        viab = rng.uniform(88, 98)
        dose = protocol.arm(arm).interventions[0].dose.amount
        person.infusions.append(
            FormRecord(
                "F.INF",
                {
                    "I.INFDTC": (
                        f"{_iso(date(day))}T{hour:02d}:{int(rng.integers(0, 60)):02d}",
                        None,
                    ),
                    "I.INFWT": (_fmt(weight + rng.normal(0, 0.6), 1), "kg"),
                    "I.INFDOSE": (_fmt(dose * rng.uniform(0.95, 1.05), 2), "10^6/kg"),
                    "I.INFLOT": (f"UCMSC-{date(day):%y%m}-{int(rng.integers(1, 99)):02d}", None),
                    "I.INFVIAB": (_fmt(viab, 1), "%"),
                    "I.INFVOL": (_fmt(100 + rng.normal(0, 5), 0), "mL"),
                    "I.INFDUR": (_fmt(rng.uniform(35, 70), 0), "min"),
                    **_infusion_vitals(rng),
                    "I.INFREACT": ("no", None),
                },
                intervention=code,
            )
        )
        if rng.random() < params.infusion_reaction_probability:
            person.infusions[-1].items["I.INFREACT"] = ("yes", None)
            person.adverse_events.append(
                _ae(rng, "Infusion related reaction", date(day), date(day + 1), 1, "probable")
            )

    # ---- visits: baseline, then scheduled visits before the follow-up stops
    sev0 = float(cohort.severity[i])
    resid = cohort.residual[i]
    slope = rng.normal(0.0, params.slope_sd_24w)
    dbl = np.array(double)

    def state_at(day: float) -> tuple[dict[str, float], int, int, bool]:
        sev = severity_at(np.array(day, dtype=float), sev0, slope, dbl, inf2_day[0], params)
        sev = np.atleast_1d(sev)
        labs = lab_values(rng, sev, resid[None, :], params)
        asc, he, dial = clinical_grades(rng, sev, params)
        return {k: float(v[0]) for k, v in labs.items()}, int(asc[0]), int(he[0]), bool(dial[0])

    events_first = min(t["death"], t["transplant"], t["withdrawal"], t["lost"])
    lab_stop = min(math.floor(events_first), end_visit_day + 1)  # no visit on an event day
    if not no_infusion and lab_stop > 0:
        labs, asc, he, dial = state_at(0.0)
        person.visits.append(writer.visit("BL", randdt, 0, labs, asc, he, dial))
    for oid, day, oow in visit_plan:
        if day >= lab_stop or rng.random() < params.missed_visit_probability:
            continue
        labs, asc, he, dial = state_at(float(day))
        if first_decomp <= day:  # after a decompensation the ascites/HE grade reflects it
            asc = max(asc, 1 if t["ascites"] <= day else asc)
            he = max(he, 1 if t["hepatic_encephalopathy"] <= day else he)
        person.visits.append(writer.visit(oid, date(day), day, labs, asc, he, dial, oow))
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
    for kind in DECOMP_TYPES:
        if t[kind] <= min(end_day, death_day):
            sev = rng.choice(["mild", "moderate", "severe"], p=[0.3, 0.45, 0.25])
            person.decompensations.append(
                FormRecord(
                    "F.DECOMP",
                    {
                        "I.DCTYPE": (kind, None),
                        "I.DCSTDT": (_iso(date(t[kind])), None),
                        "I.DCSEV": (str(sev), None),
                        "I.DCHOSP": ("yes" if sev != "mild" or rng.random() < 0.5 else "no", None),
                    },
                )
            )
    person.decompensations.sort(key=lambda f: f.items["I.DCSTDT"][0])
    follow_days = max(min(end_day, death_day), 1.0)
    n_ae = rng.poisson(params.ae_rate_24w * follow_days / FOLLOW_UP_DAYS)
    for _ in range(int(n_ae)):
        term_i = int(rng.integers(len(AE_TERMS)))
        start_day = float(rng.uniform(0, follow_days))
        grade = int(rng.choice([1, 2, 3, 4], p=AE_GRADE_P))
        end = date(start_day + rng.integers(1, 21)) if rng.random() < 0.85 else None
        rel = str(rng.choice(["unrelated", "unlikely", "possible"], p=[0.6, 0.3, 0.1]))
        person.adverse_events.append(
            _ae(rng, AE_TERMS[term_i][0], date(start_day), end, grade, rel)
        )
    if math.isfinite(death_day):
        cause = "Liver failure" if not ltx else "Post-transplant complications"
        if not ltx and first_decomp <= death_day and t["gi_bleeding"] <= death_day:
            cause = "Variceal haemorrhage"
        person.death = FormRecord(
            "F.DEATH", {"I.DTHDT": (_iso(date(death_day)), None), "I.DTHCAUS": (cause, None)}
        )
        person.adverse_events.append(
            _ae(rng, cause, date(death_day), date(death_day), 5, "unrelated")
        )
    if ltx:
        person.transplant = FormRecord("F.LTX", {"I.LTXDT": (_iso(date(t["transplant"])), None)})
    person.adverse_events.sort(key=lambda f: f.items["I.AESTDT"][0])

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
    items = {"I.EOSDT": (_iso(date(eos_day)), None), "I.EOSSTAT": (status, None)}
    if reason:
        items["I.EOSREAS"] = (reason, None)
    person.end_of_study = FormRecord("F.EOS", items)
    if rng.random() < params.unblinding_probability:
        person.deviations.append(
            Deviation(
                "EMERGENCY_UNBLINDING",
                _iso(date(min(eos_day, 60))),
                "Participant unblinded for clinical management",
                True,
            )  # fmt: skip
        )


def _ae(
    rng: np.random.Generator,
    term: str,
    start: dt.date,
    end: dt.date | None,
    grade: int,
    relation: str,
) -> FormRecord:
    items: dict[str, tuple[str, str | None]] = {
        "I.AETERM": (term, None),
        "I.AESTDT": (_iso(start), None),
        "I.AEGRADE": (str(grade), None),
        "I.AESER": ("yes" if grade >= 3 else "no", None),
        "I.AEREL": (relation, None),
    }
    if end is not None:
        items["I.AEENDT"] = (_iso(max(end, start)), None)
    return FormRecord("F.AE", items)


def ae_body_system(term: str) -> str:
    for name, soc in AE_TERMS:
        if name == term:
            return soc
    if term == "Infusion related reaction":
        return "Injury, poisoning and procedural complications"
    if term in ("Liver failure", "Variceal haemorrhage"):
        return (
            "Hepatobiliary disorders" if term == "Liver failure" else "Gastrointestinal disorders"
        )
    return "General disorders and administration site conditions"


def summary(records: TrialRecords) -> dict[str, Any]:
    """Counts a CONSORT diagram needs, from the records."""
    screened = records.participants
    failed: dict[str, int] = {}
    for p in screened:
        for c in p.failed_criteria:
            failed[c] = failed.get(c, 0) + 1
    rand = records.randomized
    by_arm: dict[str, int] = {}
    status: dict[str, int] = {}
    for p in rand:
        by_arm[p.arm or ""] = by_arm.get(p.arm or "", 0) + 1
        s = p.end_of_study.items["I.EOSSTAT"][0] if p.end_of_study else "ongoing"
        status[s] = status.get(s, 0) + 1
    return {
        "screened": len(screened),
        "screen_failures": len(screened) - len(rand),
        "failed_by_criterion": dict(sorted(failed.items())),
        "randomized": len(rand),
        "by_arm": by_arm,
        "by_stratum": {s: sum(p.stratum == s for p in rand) for s in ("B", "C")},
        "end_of_study": status,
    }
