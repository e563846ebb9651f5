"""The outcome tables of the report, each built from one part of the results object."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hepatrial.analysis.datasets import LAB_PARAMS, TTE_PARAMS
from hepatrial.reports.numbers import DASH, ESC, ci, count_pct, num, pct, pvalue, table

STRATEGY_NAMES = {
    "non_responder": "Missing counted as not responding",
    "complete_case": "Complete cases",
    "multiple_imputation": "Multiple imputation",
    "per_protocol": "Per-protocol population",
}


class Arms:
    """Arm codes in display order and their labels, as the results name them."""

    def __init__(self, results: Mapping[str, Any]):
        self.labels: dict[str, str] = dict(results["meta"]["arms"])
        self.codes: list[str] = list(self.labels)
        self.contrast = f"{self.labels[self.codes[1]]} vs {self.labels[self.codes[0]]}"

    def head(self, first: str, *rest: str) -> list[str]:
        return [first, *(self.labels[c] for c in self.codes), *rest]


def param_name(code: str) -> str:
    return LAB_PARAMS.get(code, (code, ""))[0]


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
    analyses = [(STRATEGY_NAMES[primary["missing_data"]], primary)]
    analyses += [(STRATEGY_NAMES.get(k, k), v) for k, v in primary["sensitivity"].items()]
    out = []
    for name, result in analyses:
        rd = result.get("risk_difference", {})
        out.append((name, rd.get("estimate"), rd.get("ci_lower"), rd.get("ci_upper")))
    return out


def primary_table(primary: Mapping, arms: Arms) -> str:
    """Primary estimand and every sensitivity analysis, one row each."""
    rows = [_proportion_row(f"Primary: {STRATEGY_NAMES[primary['missing_data']]}", primary, arms)]
    for key, result in primary["sensitivity"].items():
        rows.append(_proportion_row(f"Sensitivity: {STRATEGY_NAMES.get(key, key)}", result, arms))
    head = arms.head(
        "Analysis",
        f"Risk difference, {arms.contrast} (95% CI)",
        "Odds ratio adjusted for stratum (95% CI)",
        "P",
    )
    counts = primary["counts"]
    note = "; ".join(
        f"{arms.labels[c]}: {counts[c]['randomized']} randomized, "
        f"{counts[c]['intercurrent_event']} died or transplanted, {counts[c]['missing']} missing"
        for c in arms.codes
    )
    return (
        table(head, rows)
        + f"<p class='note'>{ESC(note)}. P: Fisher's exact test (multiple imputation: Wald test "
        "with Rubin's rules). Cells: responders/analysed (%), 95% Wilson interval.</p>"
    )


def change_table(change: Mapping, arms: Arms) -> str:
    """ANCOVA at the timepoint with the mixed-model sensitivity analysis, per parameter."""
    rows = []
    for code, result in change.items():
        cells = [ESC(param_name(code))]
        for arm in arms.codes:
            a = result["by_arm"].get(arm, {})
            cells.append(
                f"{num(a.get('mean_base'))} → {num(a.get('mean_aval'))} (n={a.get('n', 0)})"
            )
        effect = "ratio" if result["scale"] == "log" else "difference"
        for key in ("ancova", "mixed_model"):
            fit = result.get(key)
            cells.append(
                f"{effect} {num(fit['estimate'])} ({ci(fit['ci_lower'], fit['ci_upper'])}); "
                f"P {pvalue(fit['p_value'])}"
                if fit
                else DASH
            )
        rows.append(cells)
    head = arms.head(
        "Parameter",
        f"ANCOVA at the timepoint, {arms.contrast}",
        "Mixed model, all visits",
    )
    return (
        table(head, rows)
        + "<p class='note'>Arm cells: mean at baseline → mean at the timepoint. Log-scale "
        "parameters give a ratio of geometric means (1 = no difference); the others a difference "
        "in mean change. Both models adjust for the baseline value and the stratum.</p>"
    )


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
    return table(["Arm", "Baseline class", *columns], rows)


def survival_table(survival: Mapping, arms: Arms) -> str:
    rows = []
    for code, result in survival.items():
        for arm in arms.codes:
            a = result["by_arm"].get(arm)
            if not a:
                continue
            at = "; ".join(
                f"day {tp['time']:g}: {pct(tp['surv'])} "
                f"({ci(tp['lower'], tp['upper'], percent=True)})"
                for tp in a["timepoints"]
            )
            median = a["median"]["median"]
            rows.append(
                [ESC(TTE_PARAMS.get(code, code).split(" (")[0]), ESC(arms.labels[arm]),
                 f"{a['events']}/{a['n']}", at,
                 "not reached" if median is None else f"{median:g} days"]
            )  # fmt: skip
        logrank, cox = result.get("logrank"), result.get("cox")
        rows.append(
            [ESC(TTE_PARAMS.get(code, code).split(" (")[0]), ESC(arms.contrast), "",
             f"Log-rank P {pvalue(logrank and logrank['p_value'])}; hazard ratio "
             f"{num(cox and cox.get('hazard_ratio'))} "
             f"({ci(cox and cox.get('ci_lower'), cox and cox.get('ci_upper'))})", ""]
        )  # fmt: skip
    return table(["Outcome", "Arm", "Events/N", "Kaplan-Meier estimate (95% CI)", "Median"], rows)


def incidence_table(competing: Mapping, arms: Arms) -> str:
    rows = []
    for code, result in competing.items():
        for arm in arms.codes:
            a = result["by_arm"].get(arm)
            if not a:
                continue
            last = a["cumulative_incidence"][-1] if a["cumulative_incidence"] else None
            rows.append(
                [ESC(TTE_PARAMS.get(code, code).split(" (")[0]), ESC(arms.labels[arm]),
                 f"{count_pct(a['participants_with_event'], a['n'])}<br>"
                 f"{ci(a['ci_lower'], a['ci_upper'], percent=True)}",
                 str(a["competing_events"]),
                 f"day {last['time']:g}: {pct(last['cif'])} "
                 f"({ci(last['lower'], last['upper'], percent=True)})" if last else DASH]
            )  # fmt: skip
        gray = result.get("gray_test")
        rows.append(
            [ESC(TTE_PARAMS.get(code, code).split(" (")[0]), ESC(arms.contrast), "", "",
             f"Gray's test P {pvalue(gray and gray.get('p_value'))}"]
        )  # fmt: skip
    return table(
        [
            "Outcome",
            "Arm",
            "Participants with event by the timepoint (exact 95% CI)",
            "Competing events",
            "Cumulative incidence (95% CI)",
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
    head = ["Adverse events", *(f"{arms.labels[a]} (N={denominators[a]})" for a in arms.codes)]
    overview = [[ESC(k.replace("_", " ").capitalize()), *_ae_cells(v, arms)]
                for k, v in safety["overview"].items()]  # fmt: skip
    by_term = [[ESC(r["term"]), *_ae_cells(r["arms"], arms)] for r in safety["by_term"]]
    grade = [
        [
            f"Grade {g}",
            *(f"{v[a]['participants']} ({num(v[a]['percent'], 1)}%)" for a in arms.codes),
        ]
        for g, v in safety["by_worst_grade"].items()
    ]
    serious = [
        [ESC(r["term"]), "serious" if r["serious"] else "not serious", *_ae_cells(r["arms"], arms)]
        for r in safety["by_term_and_seriousness"]
    ]
    basis = "as randomized" if safety["arm_column"] == "ARMCD" else "as treated"
    return (
        f"<p class='note'>Treatment-emergent events, safety population analysed {basis}. "
        "Cells: participants (%) [events].</p>"
        + table(head, overview, "Overview")
        + table(["Preferred term", *head[1:]], by_term, "By preferred term")
        + table(["Worst CTCAE grade", *head[1:]], grade, "Participants by worst grade")
        + table(["Preferred term", "Seriousness", *head[1:]], serious, "By term and seriousness")
    )
