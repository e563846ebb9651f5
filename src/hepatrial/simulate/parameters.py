"""Every number the trial simulator uses, named, with a default; sources in docs/simulation.md.

The defaults describe end-stage liver disease in general (laboratory distributions, mortality by
MELD band, decompensation rates); what belongs to one trial — the effect of each arm, which
criterion fails for which reason, the mix of etiologies and of entry units, the values of items
the disease model does not know — lives in the file beside that trial's protocol,
``<protocol stem>.simulation.yaml`` (:func:`parameters_for`), keyed by the protocol's own arm
codes, criterion and item OIDs, and laboratory CDISC codes.

Times are in days from randomization (study day 0). Probabilities "over 24 weeks" refer to a
168-day reference horizon, whatever the trial's follow-up. Laboratory values are in the canonical
units of the model (µmol/L bilirubin and creatinine, g/L albumin, U/L enzymes, mmol/L sodium,
seconds PT) and are converted to each item's canonical unit when entered.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

LAB_ORDER = ("TBIL", "ALB", "INR", "CREAT", "SODIUM", "ALT", "AST", "ALP")
"""Order of the laboratory variables in :attr:`SimulationParameters.lab_mean` and friends."""

LAB_CODE = {
    "TBIL": "BILI", "ALB": "ALB", "INR": "INR", "CREAT": "CREAT", "SODIUM": "SODIUM",
    "ALT": "ALT", "AST": "AST", "ALP": "ALP", "PT": "PT",
}  # fmt: skip
"""The CDISC LBTESTCD of each laboratory variable of the model: how its item is found."""

LAB_MODEL_UNIT = {
    "TBIL": "µmol/L", "ALB": "g/L", "INR": "1", "CREAT": "µmol/L", "SODIUM": "mmol/L",
    "ALT": "U/L", "AST": "U/L", "ALP": "U/L", "PT": "s",
}  # fmt: skip
"""The unit the model generates each laboratory variable in."""

LOG_SCALE_LABS = frozenset({"TBIL", "INR", "CREAT", "ALT", "AST", "ALP"})
"""Labs generated on the natural-log scale (right-skewed in cirrhosis)."""

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
"""Adverse events of people with cirrhosis (MedDRA preferred term, system organ class)."""

SIMULATION_SUFFIX = ".simulation.yaml"


def _d(value: Mapping[str, Any]) -> Any:
    return field(default_factory=lambda: dict(value))


@dataclass(frozen=True)
class SimulationParameters:
    """Parameters of one synthetic trial. See docs/simulation.md for sources."""

    # ---- screening and enrolment ------------------------------------------------------------
    screen_failure_other: float = 0.12
    """Probability a screened patient fails one of the criteria that are not driven by the
    generated data (exclusions, consent); age and severity failures come on top."""
    failure_weights: Mapping[str, float] = _d({})
    """Criterion OID → relative frequency of each data-independent failure (normalized in use;
    empty: every criterion not named below, equally)."""
    age_criterion: str | None = None
    """Criterion OID failed by an age outside ``eligible_age`` (None: age is not screened)."""
    eligible_age: tuple[float, float] = (18.0, 80.0)
    severity_criterion: str | None = None
    """Criterion OID failed by a patient whose screening stratification value falls in no
    stratum of the protocol (Child-Pugh A when the strata are B and C)."""
    consent_criterion: str | None = None
    """Criterion OID meaning "signed informed consent": no consent is recorded when it fails."""
    female_only_criteria: Mapping[str, str] = _d({})
    """Criterion that only a woman can fail (pregnancy) → the criterion a man drawn for it
    fails instead."""
    screening_to_randomization_days: tuple[int, int] = (1, 14)
    """Days from screening to randomization, uniform."""
    consent_hour_range: tuple[int, int] = (8, 17)

    # ---- demographics -----------------------------------------------------------------------
    age_mean: float = 52.0
    age_sd: float = 11.5
    age_screen_range: tuple[float, float] = (16.0, 86.0)
    """Ages of screened patients are truncated here."""
    male_fraction: float = 0.72
    etiology: Mapping[str, float] = _d({})
    """Choice code of the etiology item → share (empty: the choices equally)."""
    weight_mean: Mapping[str, float] = _d({"M": 68.0, "F": 57.0})
    weight_sd: float = 10.0
    height_mean: Mapping[str, float] = _d({"M": 170.0, "F": 159.0})
    height_sd: float = 6.0

    # ---- baseline laboratory values: latent severity factor model -------------------------
    lab_mean: Mapping[str, float] = _d(
        {
            "TBIL": 3.75,  # log µmol/L: median 42.5 µmol/L (2.5 mg/dL)
            "ALB": 30.0,  # g/L
            "INR": 0.36,  # log: median 1.43
            "CREAT": 4.25,  # log µmol/L: median 70 µmol/L
            "SODIUM": 137.0,  # mmol/L
            "ALT": 3.55,  # log U/L: median 35
            "AST": 3.95,  # log U/L: median 52
            "ALP": 4.75,  # log U/L: median 116
        }
    )
    """Population mean of each lab at severity 0 (log scale for :data:`LOG_SCALE_LABS`)."""
    lab_loading: Mapping[str, float] = _d(
        {
            "TBIL": 0.55,
            "ALB": -3.8,
            "INR": 0.13,
            "CREAT": 0.12,
            "SODIUM": -2.0,
            "ALT": 0.15,
            "AST": 0.25,
            "ALP": 0.10,
        }
    )
    """Change per 1 SD of the latent severity factor (same scale as ``lab_mean``)."""
    lab_residual_sd: Mapping[str, float] = _d(
        {
            "TBIL": 0.50,
            "ALB": 3.8,
            "INR": 0.12,
            "CREAT": 0.28,
            "SODIUM": 3.2,
            "ALT": 0.55,
            "AST": 0.50,
            "ALP": 0.40,
        }
    )
    """Between-participant SD not explained by severity (same scale as ``lab_mean``)."""
    lab_visit_sd_fraction: float = 0.45
    """Visit-to-visit noise SD as a fraction of ``lab_residual_sd``."""
    lab_decimals: Mapping[str, int] = _d(
        {"TBIL": 1, "ALB": 1, "INR": 2, "CREAT": 0, "SODIUM": 0, "ALT": 0, "AST": 0, "ALP": 0,
         "PT": 1}
    )  # fmt: skip
    """Decimals a coordinator types for each lab in its canonical unit."""
    pt_per_inr: float = 12.2
    """Prothrombin time (s) = ``pt_per_inr`` × INR^(1/ISI) with ISI 1 plus noise."""
    pt_noise_sd: float = 0.4
    ascites_thresholds: tuple[float, float] = (-0.2, 1.35)
    """Latent severity + N(0, ``clinical_noise_sd``) above the first is mild ascites, above the
    second moderate-severe."""
    he_thresholds: tuple[float, float, float, float] = (0.9, 1.9, 2.6, 3.2)
    """Severity + noise above these cut points gives West Haven grade 1, 2, 3, 4."""
    clinical_noise_sd: float = 0.7
    """SD of the clinical signs around severity: a persistent part per participant and a
    visit part (``clinical_visit_sd_fraction`` of it), so grades move with the disease rather
    than at random from one visit to the next."""
    clinical_visit_sd_fraction: float = 0.2
    dialysis_probability_per_sd: float = 0.004
    """P(dialysis ≥2×/week) = this × exp(severity); rare outside hepatorenal syndrome."""
    severity_sd: float = 1.0
    """SD of the latent severity factor in screened patients (mean 0)."""

    # ---- trajectories and treatment effect --------------------------------------------------
    natural_drift_per_24w: float = 0.05
    """Mean change of latent severity over 24 weeks without study-specific effect."""
    infusion_improvement_24w: float = 0.35
    """Improvement (decrease in severity, SD units) at plateau after the first infusion, in
    every arm."""
    arm_effect_24w: Mapping[str, float] = _d({})
    """Arm code → additional improvement (the arm-effect parameter), from that arm's last
    infusion on (a second infusion, or a higher dose given at the first); absent means 0."""
    effect_time_constant_days: float = 35.0
    """Improvement(t) = plateau × (1 - exp(-t / tau)) from the day the infusion is given."""
    slope_sd_24w: float = 0.35
    """SD of participant-specific change in severity over 24 weeks."""

    # ---- intercurrent events -----------------------------------------------------------------
    meld_band_mortality_90d: Mapping[str, float] = _d(
        {"<10": 0.019, "10-19": 0.060, "20-29": 0.196, "30-39": 0.526, ">=40": 0.713}
    )
    """3-month mortality by baseline MELD band; converted to a constant hazard per band."""
    mortality_multiplier: float = 1.0
    death_hr: Mapping[str, float] = _d({})
    """Arm code → hazard ratio of death against an arm without an entry."""
    transplant_6m_probability: float = 0.03
    """24-week probability of liver transplantation at MELD 15 (hazard ∝ exp(0.1·(MELD-15)))."""
    post_transplant_death_6m: float = 0.08
    decomp_24w_class_b: Mapping[str, float] = _d(
        {"gi_bleeding": 0.06, "ascites": 0.15, "hepatic_encephalopathy": 0.08}
    )
    """24-week probability of a first event of each decompensation type in Child-Pugh B."""
    decomp_hr_class_c: float = 1.8
    decomp_hr: Mapping[str, float] = _d({})
    """Arm code → hazard ratio of each decompensation type."""
    decomp_death_hr: float = 2.0
    """Hazard ratio of death after a decompensation event (applied from the event on)."""
    withdrawal_24w: float = 0.07
    lost_24w: float = 0.03
    no_infusion_probability: float = 0.01
    """Randomized but never infused (withdrew before the first infusion)."""

    # ---- data-capture imperfections ----------------------------------------------------------
    missed_visit_probability: float = 0.04
    missing_item_probability: float = 0.015
    missing_reasons: tuple[str, ...] = ("not done", "sample haemolysed", "sample lost")
    out_of_window_probability: float = 0.04
    """Probability that a scheduled post-baseline visit falls just outside its window."""
    alt_unit_probability: Mapping[str, Mapping[str, float]] = _d({})
    """Lab CDISC code → {alternative unit: probability a coordinator types it in that unit}."""
    infusion2_out_of_window_probability: float = 0.04
    """An infusion after day 0 (a second infusion) given outside its window."""
    infusion2_missed_probability: float = 0.03
    unblinding_probability: float = 0.01
    infusion_reaction_probability: float = 0.08
    ae_rate_24w: float = 1.2
    """Mean number of non-infusion adverse events per participant over 24 weeks."""
    ae_terms: tuple[tuple[str, str], ...] = AE_TERMS
    ae_grade_probabilities: tuple[float, ...] = (0.45, 0.33, 0.15, 0.07)

    # ---- items the disease model does not know -----------------------------------------------
    item_values: Mapping[str, Mapping[str, Any]] = _d({})
    """Item OID → how to fill it: ``{mean, sd, decimals}`` (a number in the item's canonical
    unit), ``{choices: {code: weight}}``, or ``{text: "UCMSC-{date:%y%m}-{n:02d}"}``; an item
    without an entry gets a generic value (see :func:`hepatrial.simulate.trial.generic_value`)."""

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        return {k: _jsonable(v) for k, v in out.items()}

    def replace(self, **changes: Any) -> SimulationParameters:
        return dataclasses.replace(self, **changes)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _tupled(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tupled(v) for v in value)
    return value


DEFAULT_PARAMETERS = SimulationParameters()


class SimulationFileError(ValueError):
    """A simulation parameter file that cannot be used; the message names the file and key."""


def load_parameters(path: str | Path) -> SimulationParameters:
    """Read a simulation file: a mapping of :class:`SimulationParameters` fields."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SimulationFileError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise SimulationFileError(f"{path}: the document must be a mapping")
    known = {f.name: f for f in dataclasses.fields(SimulationParameters)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise SimulationFileError(f"{path}: unknown parameter(s) {', '.join(unknown)}")
    values = {}
    for name, value in data.items():
        default = getattr(DEFAULT_PARAMETERS, name)
        values[name] = _tupled(value) if isinstance(default, tuple) else value
    return SimulationParameters(**values)


def simulation_file_for(protocol_path: str | Path) -> Path:
    """``protocols/x.yaml`` → ``protocols/x.simulation.yaml``, the file beside the protocol."""
    path = Path(protocol_path)
    return path.with_name(path.name.removesuffix(path.suffix) + SIMULATION_SUFFIX)


def parameters_for(protocol_path: str | Path | None) -> SimulationParameters:
    """The parameters in the file beside ``protocol_path``, or the defaults when there is none."""
    if protocol_path is None:
        return DEFAULT_PARAMETERS
    path = simulation_file_for(protocol_path)
    return load_parameters(path) if path.is_file() else DEFAULT_PARAMETERS
