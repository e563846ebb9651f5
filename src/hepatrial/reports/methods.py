"""The statistical methods section, written from the analysis plan the results were computed with.

Every sentence is filled from ``results["meta"]["plan"]``, so the methods cannot describe a
different analysis from the one reported. Software versions are those of this run.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from hepatrial.reports.numbers import ESC
from hepatrial.reports.tables import param_name

POPULATIONS = {
    "ITTFL": "intention-to-treat population (all randomized participants, analysed as randomized)",
    "PPROTFL": "per-protocol population",
    "SAFFL": "safety population (participants who received any infusion)",
}
MISSING = {
    "non_responder": "counted as not responding",
    "complete_case": "excluded (complete-case analysis)",
    "multiple_imputation": "multiply imputed",
}
INTERCURRENT = {"DTHDT": "death", "LTXDT": "liver transplantation"}
LIBRARIES = ("numpy", "scipy", "pandas", "statsmodels", "lifelines")


def _days(value: float) -> str:
    weeks = value / 7
    return f"day {value:g} (week {weeks:g})" if weeks == int(weeks) else f"day {value:g}"


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def software_versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def methods_html(results: Mapping[str, Any]) -> str:
    """Paragraphs describing the populations, estimands, models and conventions of the plan."""
    plan = results["meta"]["plan"]
    arms = results["meta"]["arms"]
    codes = list(arms)
    level = f"{100 * plan['confidence_level']:g}%"
    timepoint = _days(plan["timepoint_visit"])
    stratum = plan.get("strata_column")
    adjusted = f"the randomization stratum ({stratum})" if stratum else "no covariate"
    events = [INTERCURRENT.get(c, c) for c in plan["composite_events"]]
    composite = _list(events) if events else ""
    per_protocol = plan.get("per_protocol_population")
    others = [MISSING[k] for k in MISSING if k != plan["missing_data"]]
    logs = [param_name(p) for p in plan["log_scale_params"]]
    linear = [param_name(p) for p in plan["change_params"] if p not in plan["log_scale_params"]]
    paragraphs = [
        f"Two arms are compared: {ESC(arms[codes[1]])} versus {ESC(arms[codes[0]])} (the "
        f"reference); every effect is expressed in that direction with a {level} confidence "
        f"interval and a two-sided P value. Efficacy analyses use the "
        f"{ESC(POPULATIONS.get(plan['population'], plan['population']))}; safety analyses use "
        f"the {ESC(POPULATIONS.get(plan['safety_population'], plan['safety_population']))}.",
        f"<b>Primary endpoint.</b> The proportion of participants with Child-Pugh class "
        f"{ESC(plan['responder_value'])} ({ESC(plan['responder_param'])}) at {timepoint}. "
        + (
            f"Participants who had {composite} on or before {_days(plan['timepoint_day'])} are "
            "counted as not responding (composite strategy, ICH E9(R1)). "
            if composite
            else ""
        )
        + f"Participants alive and without transplant but with no value are "
        f"{MISSING[plan['missing_data']]}. The difference in proportions is estimated with "
        "Newcombe's hybrid score interval (method 10, from Wilson intervals), tested with "
        f"Fisher's exact test, and an odds ratio adjusted for {adjusted} is estimated by "
        f"logistic regression. Sensitivity analyses: missing values {_list(others)}"
        + (
            f", and the primary analysis in the {POPULATIONS.get(per_protocol, per_protocol)}"
            if per_protocol
            else ""
        )
        + f". Multiple imputation uses {plan['imputations']} imputations from a logistic model "
        f"(arm, stratum, baseline Child-Pugh score) with seed {plan['seed']}, combined by "
        "Rubin's rules.",
        "<b>Change from baseline.</b> For "
        + ESC(_list(linear + logs))
        + f", the value at {timepoint} is analysed by ANCOVA with arm, baseline value and "
        f"{adjusted} as covariates"
        + (
            f"; {ESC(_list(logs))} are analysed on the log scale and reported as ratios of "
            "geometric means"
            if logs
            else ""
        )
        + ". A linear mixed model over all post-baseline visits (random intercept per "
        "participant, REML, visit as a factor, arm-by-visit interaction; containment degrees "
        "of freedom) is the sensitivity analysis, estimating the same contrast at the timepoint."
        + (
            " Values after a liver transplant are excluded (while-on-treatment strategy)."
            if plan["exclude_after_transplant"]
            else ""
        ),
        "<b>Time to event.</b> Survival ("
        + ESC(_list(plan["survival_params"]))
        + ") is estimated by Kaplan-Meier with Greenwood variance and log-transformed "
        "confidence intervals (R survival's default), compared with the log-rank test, and "
        "summarized by a Cox hazard ratio (Efron ties). Decompensation events and "
        "transplantation ("
        + ESC(_list(plan["competing_params"]))
        + ") are analysed with death (and transplantation, for decompensation) as competing "
        "risks: cumulative incidence by Aalen-Johansen, compared with Gray's test, and the "
        "proportion of participants with an event by the timepoint with an exact "
        "(Clopper-Pearson) interval. Estimates are reported at days "
        + ESC(_list([f"{t:g}" for t in plan["km_timepoints"]]))
        + ".",
        "<b>Safety.</b> Treatment-emergent adverse events are counted as participants with at "
        "least one event and as events, by preferred term, worst CTCAE grade and seriousness; "
        "infusion reactions are reported separately.",
        "<b>Descriptive summaries.</b> Mean trajectories show the arithmetic mean of each "
        "parameter at each analysis visit with a t-based confidence interval, without "
        "imputation. The Child-Pugh shift table cross-classifies baseline class with the class "
        "at the timepoint, death or transplant taking precedence as in the primary analysis.",
        "<b>Software.</b> hepatrial "
        + ESC(str(results["meta"].get("hepatrial_version", "")))
        + " with "
        + ESC(", ".join(f"{k} {v}" for k, v in software_versions().items()))
        + ". The methods were checked against R (survival, cmprsk, nlme, stats) on public data; "
        "see docs/statistics.md for tolerances and conventions.",
    ]
    return "".join(f"<p>{p}</p>" for p in paragraphs)
