"""The statistical report as one HTML page and its PDF (WeasyPrint). No Django.

:func:`build_report` is the entry point: it blinds the inputs when asked (see
:mod:`hepatrial.reports.blinding`), runs the analysis, and lays out every registered outcome
with its table and figure, the CONSORT diagram, the methods and a reproducibility stamp.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hepatrial import __version__
from hepatrial.analysis.datasets import TTE_PARAMS, AdamDatasets
from hepatrial.analysis.plan import AnalysisPlan
from hepatrial.analysis.run import jsonable, run_analysis
from hepatrial.protocol.loader import LoadedProtocol
from hepatrial.reports import blinding, figures, tables
from hepatrial.reports.consort import consort_svg
from hepatrial.reports.methods import methods_html
from hepatrial.reports.numbers import ESC, table

SECTIONS = (
    "methods", "consort", "baseline", "primary", "change_from_baseline", "decompensation",
    "survival", "safety", "stamp",
)  # fmt: skip
CSS = """body{font-family:'Noto Sans CJK SC','Noto Sans',sans-serif;font-size:9.5pt;color:#111}
table{border-collapse:collapse;margin:6px 0 10px}caption{text-align:left;font-weight:bold}
td,th{border:1px solid #999;padding:2px 5px;vertical-align:top}th{background:#eee}
.banner{background:#fde68a;padding:6px;font-weight:bold}.note{font-size:8.5pt;color:#333}
section{page-break-before:always}figure{margin:6px 0;page-break-inside:avoid}
figcaption{font-size:8.5pt}svg{max-width:100%;height:auto}
@page{size:A4;margin:14mm;
@bottom-right{content:counter(page) " / " counter(pages);font-size:8pt}}"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _svg_style_notes(record: logging.LogRecord) -> bool:
    """Drop WeasyPrint's notes on SVG presentation properties (``fill``, ``stroke`` ...) in
    inline figures: its CSS parser does not know them, its SVG renderer then applies them."""
    return not str(record.msg).startswith("Ignored `")


@dataclass
class Report:
    html: str
    results: dict[str, Any] = field(default_factory=dict)
    blinded: bool = True

    def write(self, folder: str | Path) -> Path:
        """``report.html`` and ``report.pdf`` in ``folder``; returns the folder."""
        from weasyprint import HTML

        logging.getLogger("weasyprint").addFilter(_svg_style_notes)
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.html").write_text(self.html, encoding="utf-8")
        HTML(string=self.html).write_pdf(out / "report.pdf")
        return out


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{ESC(caption)}</figcaption></figure>"


def baseline_table(adsl: pd.DataFrame, arms: tables.Arms) -> str:
    """Table 1: continuous as mean (SD) and median [IQR]; categories as n (%)."""
    head = [
        "Characteristic",
        *(f"{arms.labels[c]} (N={int((adsl['ARMCD'] == c).sum())})" for c in arms.codes),
        f"All (N={len(adsl)})",
    ]
    groups = [adsl[adsl["ARMCD"] == c] for c in arms.codes] + [adsl]
    rows = []
    for col, label in (("AGE", "Age, years"), ("CPSCRBL", "Child-Pugh score"),
                       ("MELDBL", "MELD score")):  # fmt: skip
        if col not in adsl:
            continue
        cells = []
        for g in groups:
            v = g[col].astype(float).dropna()
            cells.append(
                f"{v.mean():.1f} ({v.std():.1f})<br>{v.median():.1f} "
                f"[{v.quantile(0.25):.1f}, {v.quantile(0.75):.1f}]"
                if len(v)
                else "–"
            )
        rows.append([f"{label}: mean (SD), median [IQR]", *cells])
    for col, label in (("SEX", "Sex"), ("ETIOLOGY", "Etiology"),
                       ("STRATAR", "Stratum (as randomized)"),
                       ("CPCLSBL", "Child-Pugh class")):  # fmt: skip
        if col not in adsl:
            continue
        for level in sorted(adsl[col].dropna().astype(str).unique()):
            cells = []
            for g in groups:
                k = int((g[col].astype(str) == level).sum())
                cells.append(f"{k} ({100 * k / max(len(g), 1):.1f}%)")
            rows.append([f"{label}: {ESC(level)}", *cells])
    return table(head, rows)


def _outcome_name(code: str) -> str:
    return TTE_PARAMS.get(code, code).split(" (")[0]


CURVE_AXES = {"surv": "Probability", "cif": "Cumulative incidence"}


def _curves(sections: dict, value: str, labels: dict[str, str], caption: str) -> str:
    """One step figure per time-to-event parameter; a ``{}`` in ``caption`` takes its name."""
    return "".join(
        _figure(
            figures.step_figure(
                section,
                list(labels),
                labels,
                value=value,
                ylabel=CURVE_AXES[value],
                title=_outcome_name(code),
            ),
            caption.format(_outcome_name(code)),
        )  # fmt: skip
        for code, section in sections.items()
    )


def _sections(
    results: dict[str, Any], data: AdamDatasets, screening: pd.DataFrame | None
) -> dict[str, str]:
    arms = tables.Arms(results)
    labels, codes = arms.labels, arms.codes
    out = {"methods": methods_html(results)}
    out["consort"] = _figure(
        consort_svg(data.adsl, labels, screening), "Figure 1. CONSORT 2010 flow diagram."
    )
    out["baseline"] = baseline_table(data.adsl, arms)
    primary = results["primary"]
    out["primary"] = (
        f"<p>{ESC(primary['endpoint'])}, {ESC(primary['population'])} population.</p>"
        + tables.primary_table(primary, arms)
        + _figure(
            figures.forest_figure(
                tables.risk_differences(primary),
                xlabel=f"Risk difference, {arms.contrast}",
                title="Proportion in Child-Pugh class A: difference between arms",
                percent=True,
            ),
            "Risk difference with 95% CI, primary analysis and each sensitivity analysis.",
        )  # fmt: skip
        + "<h3>Child-Pugh class at baseline and at the timepoint</h3>"
        + tables.shift_table(results["descriptive"]["child_pugh_shift"], arms)
    )
    change = results["change_from_baseline"]
    trajectories = results["descriptive"]["trajectories"]
    out["change_from_baseline"] = tables.change_table(change, arms) + "".join(
        _figure(
            figures.trajectory_figure(trajectories[p], codes, labels, title=tables.param_name(p)),
            f"Figure {i}. {tables.param_name(p)}: mean and 95% CI at each visit.",
        )
        for i, p in enumerate((p for p in change if p in trajectories), start=2)
    )
    competing = results["competing_risks"]
    decomp = {k: v for k, v in competing.items() if k != "LTX"}
    transplant = {k: v for k, v in competing.items() if k == "LTX"}
    survival = results["survival"]
    out["decompensation"] = tables.incidence_table(decomp, arms) + _curves(
        decomp, "cif", labels, "{}: cumulative incidence (Aalen-Johansen) with numbers at risk."
    )
    out["survival"] = (
        tables.survival_table(survival, arms)
        + tables.incidence_table(transplant, arms)
        + _curves(survival, "surv", labels,
                  "{}: Kaplan-Meier estimate with 95% CI and numbers at risk.")
        + _curves(transplant, "cif", labels,
                  "Liver transplantation: cumulative incidence with death as competing risk.")
    )  # fmt: skip
    out["safety"] = tables.safety_tables(results["safety"], arms)
    if blinding.is_coded(data.adsl) and not (data.adae["INFRFL"] == "Y").any():
        out["safety"] = (
            "<p class='note'>These datasets come from a blinded export, which leaves infusion "
            "reactions out (a reaction at the second infusion would tell the arm); the "
            "unblinded report shows them.</p>" + out["safety"]
        )
    return out


TITLES = {
    "methods": "Statistical methods",
    "consort": "Participant flow",
    "baseline": "Table 1. Baseline characteristics",
    "primary": "Primary outcome: Child-Pugh class A at the timepoint",
    "change_from_baseline": "Change from baseline in liver function and scores",
    "decompensation": "Hepatic decompensation",
    "survival": "Survival and liver transplantation",
    "safety": "Adverse events",
    "stamp": "Reproducibility",
}


def reproducibility_stamp(
    results: dict[str, Any], protocol_hash: str | None, data_files: list[Path], blinded: bool
) -> dict[str, str]:
    plan_text = json.dumps(results["meta"]["plan"], sort_keys=True)
    stamp = {
        "software": f"hepatrial {__version__}",
        "generated (UTC)": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": "blinded: arms coded" if blinded else "unblinded",
        "analysis plan SHA-256": hashlib.sha256(plan_text.encode()).hexdigest(),
    }
    if protocol_hash:
        stamp["protocol content hash"] = protocol_hash
    for path in data_files:
        stamp[f"{Path(path).name} SHA-256"] = sha256(Path(path))
    return stamp


def render_html(
    results: dict[str, Any],
    data: AdamDatasets,
    *,
    blinded: bool,
    screening: pd.DataFrame | None = None,
    protocol: LoadedProtocol | None = None,
    data_files: list[Path] | None = None,
) -> str:
    """The page for results already computed from ``data``; blinding is the caller's job."""
    study = protocol.protocol.study if protocol is not None else None
    title = "Statistical report" + (f": {study.registry_id}" if study else "")
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{ESC(title)}</title>"
        f"<style>{CSS}</style></head><body>"
    ]
    if blinded:
        parts.append("<div class='banner'>Blinded report: arms are coded</div>")
    parts.append(f"<h1>{ESC(title)}</h1>")
    if study:
        parts.append(
            f"<p>{ESC(study.title.en)} (protocol version {ESC(study.protocol_version)})</p>"
        )
    bodies = _sections(results, data, screening)
    stamp = reproducibility_stamp(
        results, getattr(protocol, "content_hash", None), list(data_files or []), blinded
    )
    bodies["stamp"] = table(["Item", "Value"], [[ESC(k), ESC(v)] for k, v in stamp.items()])
    for key in SECTIONS:
        parts.append(f"<section id='{key}'><h2>{ESC(TITLES[key])}</h2>{bodies[key]}</section>")
    parts.append("</body></html>")
    return "".join(parts)


def build_report(
    data: AdamDatasets,
    plan: AnalysisPlan | None = None,
    *,
    blinded: bool = True,
    screening: pd.DataFrame | None = None,
    protocol: LoadedProtocol | None = None,
    data_files: list[Path] | None = None,
    seed: int | None = None,
    results: dict[str, Any] | None = None,
) -> Report:
    """Analyse and lay out. Blinded (the default) computes everything from recoded arms.

    ``seed`` fixes the X/Y shuffle for tests only; by default it comes from the OS and is never
    printed, so the coding cannot be recovered from the report. ``results`` that the caller
    computed from these ``data`` are reused when the report analyses the same arms with the same
    plan (unblinded, or datasets already coded); otherwise the analysis runs again.
    """
    plan = plan or AnalysisPlan()
    secret: dict[str, str] = {}
    if blinded:
        data, plan, secret = blinding.blinded_inputs(data, plan, seed)
    if results is None or results["meta"]["plan"] != jsonable(plan.to_dict()):
        results = run_analysis(data, plan)
    page = render_html(
        results, data, blinded=blinded, screening=screening, protocol=protocol,
        data_files=data_files,
    )  # fmt: skip
    if blinded:
        blinding.check_no_leak(page, secret)
    return Report(page, results, blinded)
