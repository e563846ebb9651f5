"""Every number the trial simulator uses, named, with a default; sources in docs/simulation.md.

Times are in days from randomization (study day 0). Probabilities over "24 weeks" refer to the
168-day follow-up of NCT06242405. Laboratory values are in the protocol's canonical units
(µmol/L bilirubin and creatinine, g/L albumin, U/L enzymes, mmol/L sodium, seconds PT).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LAB_ORDER = ("TBIL", "ALB", "INR", "CREAT", "SODIUM", "ALT", "AST", "ALP")
"""Order of the laboratory variables in :attr:`SimulationParameters.lab_mean` and friends."""

LAB_ITEM = {
    "TBIL": "I.TBIL",
    "ALB": "I.ALB",
    "INR": "I.INR",
    "CREAT": "I.CREAT",
    "SODIUM": "I.SODIUM",
    "ALT": "I.ALT",
    "AST": "I.AST",
    "ALP": "I.ALP",
}

LOG_SCALE_LABS = frozenset({"TBIL", "INR", "CREAT", "ALT", "AST", "ALP"})
"""Labs generated on the natural-log scale (right-skewed in cirrhosis)."""


def _d(value: Mapping[str, Any]) -> Any:
    return field(default_factory=lambda: dict(value))


@dataclass(frozen=True)
class SimulationParameters:
    """Parameters of one synthetic NCT06242405 trial. See docs/simulation.md for sources."""

    # ---- screening and enrolment ------------------------------------------------------------
    screen_failure_other: float = 0.12
    """Probability a screened patient fails one of the criteria that are not driven by the
    generated data (exclusions, consent); age and Child-Pugh class A failures come on top."""
    failure_weights: Mapping[str, float] = _d(
        {
            "IE.INC03": 0.10,
            "IE.EXC01": 0.30,
            "IE.EXC02": 0.02,
            "IE.EXC03": 0.12,
            "IE.EXC04": 0.10,
            "IE.EXC05": 0.02,
            "IE.EXC06": 0.08,
            "IE.EXC07": 0.03,
            "IE.EXC08": 0.04,
            "IE.EXC09": 0.02,
            "IE.EXC10": 0.05,
            "IE.EXC11": 0.12,
        }
    )
    """Relative frequency of each data-independent failed criterion (normalized in use)."""
    screening_to_randomization_days: tuple[int, int] = (1, 14)
    """Days from screening to randomization, uniform; the SCR window is day -14..0."""
    consent_hour_range: tuple[int, int] = (8, 17)

    # ---- demographics -----------------------------------------------------------------------
    age_mean: float = 52.0
    age_sd: float = 11.5
    age_screen_range: tuple[float, float] = (16.0, 86.0)
    """Ages of screened patients are truncated here; outside 18-80 fails IE.INC01."""
    male_fraction: float = 0.72
    etiology: Mapping[str, float] = _d(
        {
            "HBV": 0.62,
            "HCV": 0.06,
            "ALCOHOL": 0.12,
            "MASLD": 0.05,
            "AIH": 0.07,
            "PBC": 0.04,
            "PSC": 0.01,
            "OTHER": 0.03,
        }
    )
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
    pt_per_inr: float = 12.2
    """Prothrombin time (s) = ``pt_per_inr`` × INR^(1/ISI) with ISI 1 plus noise."""
    pt_noise_sd: float = 0.4
    ascites_thresholds: tuple[float, float] = (-0.2, 1.35)
    """Latent severity + N(0, ``clinical_noise_sd``) above the first is mild ascites, above the
    second moderate-severe."""
    he_thresholds: tuple[float, float, float, float] = (0.9, 1.9, 2.6, 3.2)
    """Severity + noise above these cut points gives West Haven grade 1, 2, 3, 4."""
    clinical_noise_sd: float = 0.7
    dialysis_probability_per_sd: float = 0.004
    """P(dialysis ≥2×/week) = this × exp(severity); rare outside hepatorenal syndrome."""
    severity_sd: float = 1.0
    """SD of the latent severity factor in screened patients (mean 0)."""

    # ---- trajectories and treatment effect --------------------------------------------------
    natural_drift_per_24w: float = 0.05
    """Mean change of latent severity over 24 weeks without study-specific effect."""
    improvement_single_24w: float = 0.35
    """Improvement (decrease in severity, SD units) at plateau after one infusion."""
    arm_effect_24w: float = 0.35
    """Additional improvement in the DOUBLE arm (the arm-effect parameter); 0 means no effect."""
    effect_time_constant_days: float = 35.0
    """Improvement(t) = plateau × (1 - exp(-t / tau)); for DOUBLE the extra part starts at the
    second infusion (day 28)."""
    slope_sd_24w: float = 0.35
    """SD of participant-specific change in severity over 24 weeks."""

    # ---- intercurrent events -----------------------------------------------------------------
    meld_band_mortality_90d: Mapping[str, float] = _d(
        {"<10": 0.019, "10-19": 0.060, "20-29": 0.196, "30-39": 0.526, ">=40": 0.713}
    )
    """3-month mortality by baseline MELD band; converted to a constant hazard per band."""
    mortality_multiplier: float = 1.0
    death_hr_double: float = 1.0
    """Hazard ratio of death, DOUBLE vs SINGLE."""
    transplant_6m_probability: float = 0.03
    """24-week probability of liver transplantation at MELD 15 (hazard ∝ exp(0.1·(MELD-15)))."""
    post_transplant_death_6m: float = 0.08
    decomp_24w_class_b: Mapping[str, float] = _d(
        {"gi_bleeding": 0.06, "ascites": 0.15, "hepatic_encephalopathy": 0.08}
    )
    """24-week probability of a first event of each decompensation type in Child-Pugh B."""
    decomp_hr_class_c: float = 1.8
    decomp_hr_double: float = 1.0
    """Hazard ratio of each decompensation type, DOUBLE vs SINGLE."""
    decomp_death_hr: float = 2.0
    """Hazard ratio of death after a decompensation event (applied from the event on)."""
    withdrawal_24w: float = 0.07
    lost_24w: float = 0.03
    no_infusion_probability: float = 0.01
    """Randomized but never infused (withdrew before day 0 infusion)."""

    # ---- data-capture imperfections ----------------------------------------------------------
    missed_visit_probability: float = 0.04
    missing_item_probability: float = 0.015
    missing_reasons: tuple[str, ...] = ("not done", "sample haemolysed", "sample lost")
    out_of_window_probability: float = 0.04
    """Probability that a scheduled post-baseline visit falls just outside its window."""
    alt_unit_probability: Mapping[str, float] = _d({"I.TBIL": 0.08, "I.ALB": 0.06, "I.CREAT": 0.03})
    """Probability a coordinator types the value in the alternative unit (mg/dL, g/dL)."""
    infusion2_out_of_window_probability: float = 0.04
    infusion2_missed_probability: float = 0.03
    unblinding_probability: float = 0.01
    infusion_reaction_probability: float = 0.08
    ae_rate_24w: float = 1.2
    """Mean number of non-infusion adverse events per participant over 24 weeks."""

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in out.items()}

    def replace(self, **changes: Any) -> SimulationParameters:
        return dataclasses.replace(self, **changes)


DEFAULT_PARAMETERS = SimulationParameters()
