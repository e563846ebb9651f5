"""The statistical methods section, written from the analysis plan the results were computed with.

Every sentence is filled from ``results["meta"]["plan"]``, so the methods cannot describe a
different analysis from the one reported. Software versions are those of this run.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from hepatrial.reports.i18n import tr
from hepatrial.reports.labels import Vocabulary
from hepatrial.reports.numbers import ESC

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
    if weeks == int(weeks):
        return tr("day {day} (week {week})", day=f"{value:g}", week=f"{weeks:g}")
    return tr("day {day}", day=f"{value:g}")


def _list(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return tr(", ").join(items[:-1]) + tr(" and ") + items[-1]


def software_versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def methods_html(results: Mapping[str, Any], vocabulary: Vocabulary | None = None) -> str:
    """Paragraphs describing the populations, estimands, models and conventions of the plan."""
    vocabulary = vocabulary or Vocabulary(None)
    plan = results["meta"]["plan"]
    arms = {code: vocabulary.arm(label) for code, label in results["meta"]["arms"].items()}
    codes = list(arms)
    level = f"{100 * plan['confidence_level']:g}%"
    timepoint = _days(plan["timepoint_visit"])
    stratum = plan.get("strata_column")
    adjusted = tr("the randomization stratum ({column})", column=stratum) if stratum else tr(
        "no covariate")  # fmt: skip
    events = [tr(INTERCURRENT.get(c, c)) for c in plan["composite_events"]]
    composite = _list(events) if events else ""
    per_protocol = plan.get("per_protocol_population")
    others = [tr(MISSING[k]) for k in MISSING if k != plan["missing_data"]]
    logs = [vocabulary.param(p) for p in plan["log_scale_params"]]
    linear = [vocabulary.param(p) for p in plan["change_params"]
              if p not in plan["log_scale_params"]]  # fmt: skip
    population = plan["population"]
    safety = plan["safety_population"]
    primary = tr(
        "<b>Primary endpoint.</b> The proportion of participants with Child-Pugh class {value} "
        "({param}) at {timepoint}. ",
        value=ESC(plan["responder_value"]), param=ESC(plan["responder_param"]),
        timepoint=timepoint,
    )  # fmt: skip
    if composite:
        primary += tr(
            "Participants who had {events} on or before {day} are counted as not responding "
            "(composite strategy, ICH E9(R1)). ",
            events=composite, day=_days(plan["timepoint_day"]),
        )  # fmt: skip
    primary += tr(
        "Participants alive and without transplant but with no value are {missing}. The "
        "difference in proportions is estimated with Newcombe's hybrid score interval (method "
        "10, from Wilson intervals), tested with Fisher's exact test, and an odds ratio adjusted "
        "for {adjusted} is estimated by logistic regression. Sensitivity analyses: missing "
        "values {others}",
        missing=tr(MISSING[plan["missing_data"]]), adjusted=adjusted, others=_list(others),
    )  # fmt: skip
    if per_protocol:
        primary += tr(", and the primary analysis in the {population}",
                      population=tr(POPULATIONS.get(per_protocol, per_protocol)))  # fmt: skip
    primary += tr(
        ". Multiple imputation uses {m} imputations from a logistic model (arm, stratum, "
        "baseline Child-Pugh score) with seed {seed}, combined by Rubin's rules.",
        m=plan["imputations"], seed=plan["seed"],
    )  # fmt: skip
    change = tr(
        "<b>Change from baseline.</b> For {params}, the value at {timepoint} is analysed by "
        "ANCOVA with arm, baseline value and {adjusted} as covariates",
        params=ESC(_list(linear + logs)), timepoint=timepoint, adjusted=adjusted,
    )  # fmt: skip
    if logs:
        change += tr("; {params} are analysed on the log scale and reported as ratios of "
                     "geometric means", params=ESC(_list(logs)))  # fmt: skip
    change += tr(
        ". A linear mixed model over all post-baseline visits (random intercept per "
        "participant, REML, visit as a factor, arm-by-visit interaction; containment degrees "
        "of freedom) is the sensitivity analysis, estimating the same contrast at the timepoint."
    )
    if plan["exclude_after_transplant"]:
        change += tr(" Values after a liver transplant are excluded (while-on-treatment strategy).")
    paragraphs = [
        tr(
            "Two arms are compared: {b} versus {a} (the reference); every effect is expressed "
            "in that direction with a {level} confidence interval and a two-sided P value. "
            "Efficacy analyses use the {population}; safety analyses use the {safety}.",
            b=ESC(arms[codes[1]]),
            a=ESC(arms[codes[0]]),
            level=level,
            population=ESC(tr(POPULATIONS.get(population, population))),
            safety=ESC(tr(POPULATIONS.get(safety, safety))),
        ),
        primary,
        change,
        tr(
            "<b>Time to event.</b> Survival ({survival}) is estimated by Kaplan-Meier with "
            "Greenwood variance and log-transformed confidence intervals (R survival's "
            "default), compared with the log-rank test, and summarized by a Cox hazard ratio "
            "(Efron ties). Decompensation events and transplantation ({competing}) are analysed "
            "with death (and transplantation, for decompensation) as competing risks: "
            "cumulative incidence by Aalen-Johansen, compared with Gray's test, and the "
            "proportion of participants with an event by the timepoint with an exact "
            "(Clopper-Pearson) interval. Estimates are reported at days {days}.",
            survival=ESC(_list([vocabulary.outcome(p) for p in plan["survival_params"]])),
            competing=ESC(_list([vocabulary.outcome(p) for p in plan["competing_params"]])),
            days=ESC(_list([f"{t:g}" for t in plan["km_timepoints"]])),
        ),
        tr(
            "<b>Safety.</b> Treatment-emergent adverse events are counted as participants with "
            "at least one event and as events, by preferred term, worst CTCAE grade and "
            "seriousness; infusion reactions are reported separately."
        ),
        tr(
            "<b>Descriptive summaries.</b> Mean trajectories show the arithmetic mean of each "
            "parameter at each analysis visit with a t-based confidence interval, without "
            "imputation. The Child-Pugh shift table cross-classifies baseline class with the "
            "class at the timepoint, death or transplant taking precedence as in the primary "
            "analysis."
        ),
        tr(
            "<b>Numbers.</b> Means and differences are printed with each parameter's own "
            "decimals, percentages with one, ratios with two; confidence intervals as "
            "lower–upper; P values with three decimals, below 0.001 as &lt; 0.001."
        ),
        tr(
            "<b>Software.</b> hepatrial {version} with {libraries}. The methods were checked "
            "against R (survival, cmprsk, nlme, stats) on public data; see docs/statistics.md "
            "for tolerances and conventions.",
            version=ESC(str(results["meta"].get("hepatrial_version", ""))),
            libraries=ESC(", ".join(f"{k} {v}" for k, v in software_versions().items())),
        ),
    ]
    return "".join(f"<p>{p}</p>" for p in paragraphs)
