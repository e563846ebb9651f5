"""The outcome tables of the report, each built from one part of the results object."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hepatrial.reports.i18n import tr
from hepatrial.reports.labels import Vocabulary
from hepatrial.reports.numbers import (
    DASH,
    ESC,
    ci,
    count_pct,
    decimals_for,
    num,
    pct,
    pvalue,
    table,
)

STRATEGY_NAMES = {
    "non_responder": "Missing counted as not responding",
    "complete_case": "Complete cases",
    "multiple_imputation": "Multiple imputation",
    "per_protocol": "Per-protocol population",
}


class Arms:
    """Arm codes in display order and their labels, as the results name them."""

    def __init__(self, results: Mapping[str, Any], vocabulary: Vocabulary | None = None):
        self.vocabulary = vocabulary or Vocabulary(None)
        self.labels: dict[str, str] = {
            code: self.vocabulary.arm(label) for code, label in results["meta"]["arms"].items()
        }
        self.codes: list[str] = list(self.labels)
        self.contrast = tr("{b} vs {a}", b=self.labels[self.codes[1]], a=self.labels[self.codes[0]])

    def head(self, first: str, *rest: str) -> list[str]:
        return [first, *(self.labels[c] for c in self.codes), *rest]


def param_name(code: str, vocabulary: Vocabulary | None = None) -> str:
    return (vocabulary or Vocabulary(None)).param_with_unit(code)


def _band(entry: Mapping) -> str:
    """A proportion's 95% interval in percent."""
    return ci(entry.get("ci_lower"), entry.get("ci_upper"), percent=True)


def _proportion_row(name: str, result: Mapping, arms: Arms) -> list[str]:
    cells = [ESC(name)]
    for code in arms.codes:
        a = result["by_arm"][code]
        if "responders" in a:
            cells.append(f"{count_pct(a['responders'], a['n'])}<br>{_band(a)}")
        else:
            cells.append(f"{pct(a['proportion'])} (n={a['n']})<br>{_band(a)}")
    rd = result.get("risk_difference", {})
    cells.append(f"{pct(rd.get('estimate'))} ({_band(rd)})")
    logistic = result.get("logistic_regression")
    cells.append(
        f"{num(logistic['odds_ratio'])} ({ci(logistic['ci_lower'], logistic['ci_upper'])})"
        if logistic
        else DASH
    )
    cells.append(pvalue(result.get("fisher_exact_p", rd.get("p_value"))))
    return cells


def risk_differences(primary: Mapping) -> list[tuple[str, float | None, ...]]:
    """(analysis, estimate, lower, upper) of the primary analysis, then each sensitivity one."""
    analyses = [(tr(STRATEGY_NAMES[primary["missing_data"]]), primary)]
    analyses += [(tr(STRATEGY_NAMES.get(k, k)), v) for k, v in primary["sensitivity"].items()]
    out = []
    for name, result in analyses:
        rd = result.get("risk_difference", {})
        out.append((name, rd.get("estimate"), rd.get("ci_lower"), rd.get("ci_upper")))
    return out


def primary_table(primary: Mapping, arms: Arms) -> str:
    """Primary estimand and every sensitivity analysis, one row each."""
    name = tr(STRATEGY_NAMES[primary["missing_data"]])
    rows = [_proportion_row(tr("Primary: {name}", name=name), primary, arms)]
    for key, result in primary["sensitivity"].items():
        name = tr(STRATEGY_NAMES.get(key, key))
        rows.append(_proportion_row(tr("Sensitivity: {name}", name=name), result, arms))
    head = arms.head(
        tr("Analysis"),
        tr("Risk difference, {contrast} (95% CI)", contrast=arms.contrast),
        tr("Odds ratio adjusted for stratum (95% CI)"),
        "P",
    )
    counts = primary["counts"]
    note = tr("; ").join(
        tr("{arm}: {randomized} randomized, {events} died or transplanted, {missing} missing",
           arm=arms.labels[c], randomized=counts[c]["randomized"],
           events=counts[c]["intercurrent_event"], missing=counts[c]["missing"])
        for c in arms.codes
    )  # fmt: skip
    return table(head, rows) + "<p class='note'>" + ESC(note + tr(
        ". P: Fisher's exact test (multiple imputation: Wald test with Rubin's rules). "
        "Cells: responders/analysed (%), 95% Wilson interval."
    )) + "</p>"  # fmt: skip


def change_table(change: Mapping, arms: Arms) -> str:
    """ANCOVA at the timepoint with the mixed-model sensitivity analysis, per parameter."""
    rows = []
    for code, result in change.items():
        cells = [ESC(param_name(code, arms.vocabulary))]
        digits = decimals_for(code)
        for arm in arms.codes:
            a = result["by_arm"].get(arm, {})
            cells.append(
                f"{num(a.get('mean_base'), digits)} → {num(a.get('mean_aval'), digits)} "
                f"(n={a.get('n', 0)})"
            )
        log = result["scale"] == "log"
        effect = tr("ratio") if log else tr("difference")
        fit_digits = 2 if log else max(digits, 1)
        for key in ("ancova", "mixed_model"):
            fit = result.get(key)
            cells.append(
                f"{effect} {num(fit['estimate'], fit_digits)} "
                f"({ci(fit['ci_lower'], fit['ci_upper'], fit_digits)}); "
                f"P {pvalue(fit['p_value'])}"
                if fit
                else DASH
            )
        rows.append(cells)
    head = arms.head(
        tr("Parameter"),
        tr("ANCOVA at the timepoint, {contrast}", contrast=arms.contrast),
        tr("Mixed model, all visits"),
    )
    return table(head, rows) + "<p class='note'>" + ESC(tr(
        "Arm cells: mean at baseline → mean at the timepoint. Log-scale parameters give a ratio "
        "of geometric means (1 = no difference); the others a difference in mean change. Both "
        "models adjust for the baseline value and the stratum."
    )) + "</p>"  # fmt: skip


def shift_table(shift: Mapping, arms: Arms) -> str:
    """Child-Pugh class at baseline (rows) by class at the timepoint (columns), per arm."""
    columns = shift["columns"]
    rows = []
    for arm in arms.codes:
        for baseline, counts in shift["by_arm"].get(arm, {}).items():
            total = sum(counts.values())
            rows.append(
                [ESC(arms.labels[arm]), f"{ESC(baseline)} (n={total})"]
                + [str(counts[c]) for c in columns]
            )
    return table(
        [tr("Arm"), tr("Baseline class"), *(c if len(c) == 1 else tr(c) for c in columns)], rows
    )


def survival_table(survival: Mapping, arms: Arms) -> str:
    rows = []
    for code, result in survival.items():
        for arm in arms.codes:
            a = result["by_arm"].get(arm)
            if not a:
                continue
            at = tr("; ").join(
                tr("day {day}", day=f"{tp['time']:g}") + f": {pct(tp['surv'])} "
                f"({ci(tp['lower'], tp['upper'], percent=True)})"
                for tp in a["timepoints"]
            )
            median = a["median"]["median"]
            rows.append(
                [ESC(arms.vocabulary.outcome(code)), ESC(arms.labels[arm]),
                 f"{a['events']}/{a['n']}", at,
                 tr("not reached") if median is None else tr("{n} days", n=f"{median:g}")]
            )  # fmt: skip
        logrank, cox = result.get("logrank"), result.get("cox")
        rows.append(
            [ESC(arms.vocabulary.outcome(code)), ESC(arms.contrast), "",
             tr("Log-rank P {p}; hazard ratio {hr} ({ci})",
                p=pvalue(logrank and logrank["p_value"]),
                hr=num(cox and cox.get("hazard_ratio")),
                ci=ci(cox and cox.get("ci_lower"), cox and cox.get("ci_upper"))), ""]
        )  # fmt: skip
    head = ["Outcome", "Arm", "Events/N", "Kaplan-Meier estimate (95% CI)", "Median"]
    return table([tr(h) for h in head], rows)


def incidence_table(competing: Mapping, arms: Arms) -> str:
    rows = []
    for code, result in competing.items():
        for arm in arms.codes:
            a = result["by_arm"].get(arm)
            if not a:
                continue
            last = a["cumulative_incidence"][-1] if a["cumulative_incidence"] else None
            rows.append(
                [ESC(arms.vocabulary.outcome(code)), ESC(arms.labels[arm]),
                 f"{count_pct(a['participants_with_event'], a['n'])}<br>"
                 f"{ci(a['ci_lower'], a['ci_upper'], percent=True)}",
                 str(a["competing_events"]),
                 tr("day {day}", day=f"{last['time']:g}") + f": {pct(last['cif'])} "
                 f"({ci(last['lower'], last['upper'], percent=True)})" if last else DASH]
            )  # fmt: skip
        gray = result.get("gray_test")
        rows.append(
            [ESC(arms.vocabulary.outcome(code)), ESC(arms.contrast), "", "",
             tr("Gray's test P {p}", p=pvalue(gray and gray.get("p_value")))]
        )  # fmt: skip
    return table(
        [
            tr("Outcome"),
            tr("Arm"),
            tr("Participants with event by the timepoint (exact 95% CI)"),
            tr("Competing events"),
            tr("Cumulative incidence (95% CI)"),
        ],
        rows,
    )


def _ae_cells(counts: Mapping, arms: Arms) -> list[str]:
    return [
        f"{counts[a]['participants']} ({num(counts[a]['percent'], 1)}%) [{counts[a]['events']}]"
        if counts.get(a)
        else DASH
        for a in arms.codes
    ]


def safety_tables(safety: Mapping, arms: Arms) -> str:
    denominators = safety["denominators"]
    head = [tr("Adverse events"),
            *(f"{arms.labels[a]} (N={denominators[a]})" for a in arms.codes)]  # fmt: skip
    overview = [[ESC(tr(k.replace("_", " ").capitalize())), *_ae_cells(v, arms)]
                for k, v in safety["overview"].items()]  # fmt: skip
    by_term = [[ESC(r["term"]), *_ae_cells(r["arms"], arms)] for r in safety["by_term"]]
    grade = [
        [
            tr("Grade {grade}", grade=g),
            *(f"{v[a]['participants']} ({num(v[a]['percent'], 1)}%)" for a in arms.codes),
        ]
        for g, v in safety["by_worst_grade"].items()
    ]
    serious = [
        [
            ESC(r["term"]),
            tr("serious") if r["serious"] else tr("not serious"),
            *_ae_cells(r["arms"], arms),
        ]  # fmt: skip
        for r in safety["by_term_and_seriousness"]
    ]
    basis = tr("as randomized") if safety["arm_column"] == "ARMCD" else tr("as treated")
    return (
        "<p class='note'>" + ESC(tr(
            "Treatment-emergent events, safety population analysed {basis}. "
            "Cells: participants (%) [events].", basis=basis)) + "</p>"
        + table(head, overview, tr("Overview"))
        + table([tr("Preferred term"), *head[1:]], by_term, tr("By preferred term"))
        + table([tr("Worst CTCAE grade"), *head[1:]], grade, tr("Participants by worst grade"))
        + table([tr("Preferred term"), tr("Seriousness"), *head[1:]], serious,
                tr("By term and seriousness"))
    )  # fmt: skip
