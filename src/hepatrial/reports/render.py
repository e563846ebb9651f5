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
from hepatrial.analysis.datasets import AdamDatasets
from hepatrial.analysis.plan import AnalysisPlan
from hepatrial.analysis.run import jsonable, run_analysis
from hepatrial.protocol.loader import LoadedProtocol
from hepatrial.reports import blinding, figures, i18n, prs, registry, tables
from hepatrial.reports.consort import consort_svg
from hepatrial.reports.consort2025 import consort_2025_checklist
from hepatrial.reports.i18n import current, tr
from hepatrial.reports.labels import Vocabulary
from hepatrial.reports.methods import methods_html
from hepatrial.reports.numbers import DASH, ESC, num, table
from hepatrial.reports.provenance import Provenance
from hepatrial.reports.signatures import signatures_html

SECTIONS = (
    "methods", "consort", "baseline", "primary", "change_from_baseline", "decompensation",
    "survival", "safety", "stamp",
)  # fmt: skip
CSS = """body{font-family:'Noto Sans','Noto Sans CJK SC',sans-serif;font-size:9.5pt;color:#111}
html[lang|=zh] body{font-family:'Noto Sans CJK SC',sans-serif}
table{border-collapse:collapse;margin:6px 0 10px}caption{text-align:left;font-weight:bold}
td,th{border:1px solid #999;padding:2px 5px;vertical-align:top}th{background:#eee}
.banner{background:#fde68a;padding:6px;font-weight:bold}.note{font-size:8.5pt;color:#333}
section{page-break-before:always}figure{margin:6px 0;page-break-inside:avoid}
figcaption{font-size:8.5pt}svg{max-width:100%;height:auto}
.approval{border:1.5px solid #166534;padding:2px 8px;margin-top:12px}
.approval td:last-child{word-break:break-all}
.cover h1{font-size:17pt;margin:0 0 4px}.cover .zh{font-size:14pt;margin:0 0 14px}
.cover td:first-child{font-weight:bold;width:32%}.cover table{width:100%}
.toc a{color:#111;text-decoration:none}
.toc a::after{content:leader('.') target-counter(attr(href), page)}
.toc li{list-style:none;margin:3px 0}
@page{size:A4;margin:16mm 14mm 14mm;
@top-left{content:var(--registry);font:8pt 'Noto Sans CJK SC',sans-serif;color:#444}
@top-right{content:var(--page-of);font:8pt 'Noto Sans CJK SC',sans-serif;color:#444}}"""
PAGE_OF = {
    "en": '"Page " counter(page) " of " counter(pages)',
    "zh-hans": '"第 " counter(page) " 页，共 " counter(pages) " 页"',
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _svg_style_notes(record: logging.LogRecord) -> bool:
    """Drop WeasyPrint's notes on SVG presentation properties (``fill``, ``stroke`` ...) in
    inline figures: its CSS parser does not know them, its SVG renderer then applies them."""
    return not str(record.msg).startswith("Ignored `")


REPORT_FILES = (
    "report.html", "report.pdf", "registry-results.json", "registry-results.xml",
    "consort-checklist.csv",
)  # fmt: skip


@dataclass
class Report:
    html: str
    results: dict[str, Any] = field(default_factory=dict)
    blinded: bool = True
    inputs: dict[str, Any] = field(default_factory=dict)
    """What the report was computed from, by hash: written to ``stamp.json`` beside it."""
    registry: dict[str, Any] = field(default_factory=dict)
    """ClinicalTrials.gov results modules (API v2 shape) and our checks of them."""
    checklist: str = ""
    """The CONSORT checklist as CSV, each item with its place in the report."""
    registry_xml: str = ""
    """The same results modules as PRS-style XML (:mod:`hepatrial.reports.prs`)."""

    def write(self, folder: str | Path) -> Path:
        """``report.html``, ``report.pdf`` and ``stamp.json`` in ``folder``; returns the folder.

        ``stamp.json`` binds the report files' SHA-256 to its inputs' (datasets, plan,
        protocol), so ``hepatrial report verify`` can say whether it still matches its data.
        """
        from weasyprint import HTML

        logging.getLogger("weasyprint").addFilter(_svg_style_notes)
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.html").write_text(self.html, encoding="utf-8")
        HTML(string=self.html).write_pdf(out / "report.pdf")
        (out / "registry-results.json").write_text(
            json.dumps(self.registry, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (out / "registry-results.xml").write_text(self.registry_xml, encoding="utf-8")
        (out / "consort-checklist.csv").write_text(self.checklist, encoding="utf-8")
        stamp = {
            **self.inputs,
            "report": {name: sha256(out / name) for name in REPORT_FILES},
        }
        (out / "stamp.json").write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        return out


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{ESC(caption)}</figcaption></figure>"


CONTINUOUS = ("AGE", "CPSCRBL", "MELDBL")
CATEGORICAL = ("SEX", "ETIOLOGY", "STRATAR", "CPCLSBL")


def baseline_table(adsl: pd.DataFrame, arms: tables.Arms) -> str:
    """Table 1: continuous as mean (SD) and median [IQR]; categories as n (%), with the
    protocol's labels (the codes only where nothing labels them)."""
    words = arms.vocabulary
    head = [
        tr("Characteristic"),
        *(f"{arms.labels[c]} (N={int((adsl['ARMCD'] == c).sum())})" for c in arms.codes),
        tr("All (N={n})", n=len(adsl)),
    ]
    groups = [adsl[adsl["ARMCD"] == c] for c in arms.codes] + [adsl]
    rows = []
    for col in CONTINUOUS:
        if col not in adsl:
            continue
        cells = []
        for g in groups:
            v = g[col].astype(float).dropna()
            cells.append(
                f"{num(v.mean(), 1)} ({num(v.std(), 1)})<br>{num(v.median(), 1)} "
                f"[{num(v.quantile(0.25), 1)}, {num(v.quantile(0.75), 1)}]"
                if len(v)
                else DASH
            )
        name = tr(COLUMNS_CONTINUOUS.get(col, col))
        rows.append([ESC(tr("{name}: mean (SD), median [IQR]", name=name)), *cells])
    for col in CATEGORICAL:
        if col not in adsl:
            continue
        levels = sorted(adsl[col].dropna().astype(str).unique())
        for level in _ordered(col, levels, words):
            cells = []
            for g in groups:
                k = int((g[col].astype(str) == level).sum())
                cells.append(f"{k} ({num(100 * k / max(len(g), 1), 1)}%)")
            label = f"{words.column(col, levels)}: {words.category(col, level, levels)}"
            rows.append([ESC(label), *cells])
    return table(head, rows)


COLUMNS_CONTINUOUS = {"AGE": "Age, years", "CPSCRBL": "Child-Pugh score", "MELDBL": "MELD score"}


def _ordered(column: str, levels: list[str], words) -> list[str]:
    """Categories in the protocol's order of choices when it has them, else sorted."""
    item = words._item_for(column, set(levels))
    if item is None:
        return levels
    order = [c.code for c in item.choices]
    return sorted(levels, key=order.index)


POPULATION_NAMES = {
    "ITTFL": "intention-to-treat population", "PPROTFL": "per-protocol population",
    "SAFFL": "safety population",
}  # fmt: skip


def _endpoint(results: dict[str, Any], words: Vocabulary) -> str:
    """The primary endpoint as the protocol labels it, else as the plan defines it."""
    plan = results["meta"]["plan"]
    protocol = words.protocol
    if protocol is not None:
        for endpoint in protocol.analysis.endpoints:
            if (
                endpoint.kind == "proportion"
                and endpoint.responder_value == plan["responder_value"]
            ):
                return endpoint.label.text(words.lang)
    return tr("Proportion with Child-Pugh class {value} at {timepoint}",
              value=plan["responder_value"],
              timepoint=tr("day {day}", day=f"{plan['timepoint_visit']:g}"))  # fmt: skip


CURVE_AXES = {"surv": "Probability", "cif": "Cumulative incidence"}


def _curves(sections: dict, value: str, arms: tables.Arms, caption: str) -> str:
    """One step figure per time-to-event parameter; ``{name}`` in ``caption`` takes its name."""
    words = arms.vocabulary
    return "".join(
        _figure(
            figures.step_figure(
                section,
                list(arms.labels),
                arms.labels,
                value=value,
                ylabel=tr(CURVE_AXES[value]),
                title=words.outcome(code),
            ),
            tr(caption, name=words.outcome(code)),
        )  # fmt: skip
        for code, section in sections.items()
    )


def _sections(
    results: dict[str, Any], data: AdamDatasets, screening: pd.DataFrame | None,
    words: Vocabulary,
) -> dict[str, str]:  # fmt: skip
    arms = tables.Arms(results, words)
    labels, codes = arms.labels, arms.codes
    out = {"methods": methods_html(results, words)}
    out["consort"] = _figure(
        consort_svg(data.adsl, labels, screening), tr("Figure 1. CONSORT 2010 flow diagram.")
    )
    out["baseline"] = baseline_table(data.adsl, arms)
    primary = results["primary"]
    out["primary"] = (
        "<p>" + ESC(tr("{endpoint}, {population}.", endpoint=_endpoint(results, words),
                       population=tr(POPULATION_NAMES.get(primary["population"],
                                                          primary["population"]))))
        + "</p>"
        + tables.primary_table(primary, arms)
        + _figure(
            figures.forest_figure(
                tables.risk_differences(primary),
                xlabel=tr("Risk difference, {contrast}", contrast=arms.contrast),
                title=tr("Proportion in Child-Pugh class A: difference between arms"),
                percent=True,
            ),
            tr("Risk difference with 95% CI, primary analysis and each sensitivity analysis."),
        )  # fmt: skip
        + "<h3>" + ESC(tr("Child-Pugh class at baseline and at the timepoint")) + "</h3>"
        + tables.shift_table(results["descriptive"]["child_pugh_shift"], arms)
    )  # fmt: skip
    change = results["change_from_baseline"]
    trajectories = results["descriptive"]["trajectories"]
    out["change_from_baseline"] = tables.change_table(change, arms) + "".join(
        _figure(
            figures.trajectory_figure(
                trajectories[p],
                codes,
                labels,
                title=words.param(p),
                visit_names={
                    v["day"]: words.visit(v["day"], v["name"]) for v in trajectories[p]["visits"]
                },
            ),
            tr(
                "Figure {i}. {name}: mean and 95% CI at each visit.",
                i=i,
                name=words.param_with_unit(p),
            ),
        )  # fmt: skip
        for i, p in enumerate((p for p in change if p in trajectories), start=2)
    )
    competing = results["competing_risks"]
    decomp = {k: v for k, v in competing.items() if k != "LTX"}
    transplant = {k: v for k, v in competing.items() if k == "LTX"}
    survival = results["survival"]
    out["decompensation"] = tables.incidence_table(decomp, arms) + _curves(
        decomp, "cif", arms, "{name}: cumulative incidence (Aalen-Johansen) with numbers at risk."
    )
    out["survival"] = (
        tables.survival_table(survival, arms)
        + tables.incidence_table(transplant, arms)
        + _curves(survival, "surv", arms,
                  "{name}: Kaplan-Meier estimate with 95% CI and numbers at risk.")
        + _curves(transplant, "cif", arms,
                  "Liver transplantation: cumulative incidence with death as competing risk.")
    )  # fmt: skip
    out["safety"] = tables.safety_tables(results["safety"], arms)
    if blinding.is_coded(data.adsl) and not (data.adae["INFRFL"] == "Y").any():
        out["safety"] = (
            "<p class='note'>" + ESC(tr(
                "These datasets come from a blinded export, which leaves infusion reactions out "
                "(a reaction at the second infusion would tell the arm); the unblinded report "
                "shows them.")) + "</p>" + out["safety"]
        )  # fmt: skip
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
    "signatures": "Investigator signatures",
    "stamp": "Reproducibility",
}


def plan_hash(results: dict[str, Any]) -> str:
    """SHA-256 of the analysis plan as the results hold it (sorted-key JSON)."""
    return hashlib.sha256(json.dumps(results["meta"]["plan"], sort_keys=True).encode()).hexdigest()


def reproducibility_stamp(
    results: dict[str, Any], protocol_hash: str | None, data_files: list[Path], blinded: bool
) -> dict[str, str]:
    stamp = {
        tr("software"): f"hepatrial {__version__}",
        tr("generated (UTC)"): dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        tr("mode"): tr("blinded: arms coded") if blinded else tr("unblinded"),
        tr("analysis plan SHA-256"): plan_hash(results),
    }
    if protocol_hash:
        stamp[tr("protocol content hash")] = protocol_hash
    for path in data_files:
        stamp[f"{Path(path).name} SHA-256"] = sha256(Path(path))
    return stamp


def _lock_text(provenance: Provenance) -> str:
    lock = provenance.lock
    if not provenance.state:
        return tr("not known (datasets without provenance.json)")
    if not lock.get("locked"):
        return tr("not locked: data may still change")
    return tr("locked by {user} at {when} UTC; reason: {reason}", user=lock["locked_by"],
              when=lock["locked_at"].replace("T", " ")[:16], reason=lock["reason"])  # fmt: skip


def cover_html(
    results: dict[str, Any], provenance: Provenance, *, blinded: bool, report_version: str,
    generated: dt.datetime,
) -> str:  # fmt: skip
    """The cover: trial, registry, sponsor and sites, protocol, plan, data state, blinding."""
    loaded = provenance.protocol
    rows: list[tuple[str, str]] = []
    heading = ""
    if loaded is not None:
        study = loaded.protocol.study
        lang = current()
        first, second = (study.title.en, study.title.zh)
        heading = f"<h1>{ESC(first)}</h1><p class='zh' lang='zh-Hans'>{ESC(second)}</p>"
        rows += [
            (tr("Registry"), study.registry_id),
            (tr("Sponsor"), study.sponsor),
            (tr("Sites"), "; ".join(site.name.text(lang) for site in study.sites)),
            (tr("Protocol"), tr("version {version}, content hash {hash}",
                                version=study.protocol_version, hash=loaded.content_hash)),
        ]  # fmt: skip
        if provenance.state.get("other_protocol"):
            rows.append((tr("Note"), tr("reported under another protocol than the export's")))
    plan = tr("from the protocol's analysis section")
    if loaded is not None:
        plan = tr("protocol {version} analysis section",
                  version=loaded.protocol.study.protocol_version)  # fmt: skip
    rows += [
        (tr("Analysis plan"), f"{plan}; SHA-256 {plan_hash(results)}"),
        (tr("Data cut-off"), provenance.state.get("data_cut_off", tr("not known"))),
        (tr("Database lock"), _lock_text(provenance)),
        (tr("Blinding"), tr("blinded: arms are coded") if blinded else tr("unblinded")),
        (tr("Report"), tr("version {version}, {date}", version=report_version,
                          date=generated.date().isoformat())),
    ]  # fmt: skip
    cells = [[ESC(k), ESC(v)] for k, v in rows]
    return (
        f"<div class='cover'><p>{ESC(tr('Statistical report'))}</p>{heading}"
        + table([tr("Item"), tr("Value")], cells) + "</div>"
    )  # fmt: skip


def contents_html(keys: tuple[str, ...] = SECTIONS) -> str:
    items = "".join(f"<li><a href='#{key}'>{ESC(tr(TITLES[key]))}</a></li>" for key in keys)
    return f"<nav class='toc'><h2>{ESC(tr('Contents'))}</h2><ul>{items}</ul></nav>"


def _css(registry: str) -> str:
    quoted = '"' + registry.replace("\\", "").replace('"', "") + '"'
    return CSS.replace("var(--registry)", quoted).replace("var(--page-of)", PAGE_OF[current()])


def render_html(
    results: dict[str, Any],
    data: AdamDatasets,
    *,
    blinded: bool,
    screening: pd.DataFrame | None = None,
    protocol: LoadedProtocol | None = None,
    data_files: list[Path] | None = None,
    provenance: Provenance | None = None,
    report_version: str = "1",
    signatures: pd.DataFrame | None = None,
) -> str:
    """The page for results already computed from ``data``; blinding is the caller's job.

    The language is the one set with :func:`hepatrial.reports.i18n.language`. ``signatures``
    (the export's ``signatures.csv``) adds the investigators' casebook signatures per site.
    """
    if provenance is None or (protocol is not None and provenance.protocol is None):
        provenance = Provenance(protocol, None, provenance.state if provenance else {})
    loaded = provenance.protocol
    words = Vocabulary(loaded.protocol if loaded is not None else None)
    study = loaded.protocol.study if loaded is not None else None
    registry = study.registry_id if study else ""
    title = tr("Statistical report") + (f": {registry}" if registry else "")
    lang = "zh-Hans" if current() == "zh-hans" else "en"
    parts = [
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>"
        f"<title>{ESC(title)}</title><style>{_css(registry)}</style></head><body>"
    ]
    if blinded:
        parts.append(f"<div class='banner'>{ESC(tr('Blinded report: arms are coded'))}</div>")
    generated = dt.datetime.now(dt.UTC)
    parts.append(cover_html(results, provenance, blinded=blinded,
                            report_version=report_version, generated=generated))  # fmt: skip
    keys = SECTIONS if signatures is None else (*SECTIONS[:-1], "signatures", SECTIONS[-1])
    parts.append(contents_html(keys))
    bodies = _sections(results, data, screening, words)
    if signatures is not None:
        bodies["signatures"] = signatures_html(signatures, data.adsl)
    stamp = reproducibility_stamp(
        results, getattr(loaded, "content_hash", None), list(data_files or []), blinded
    )
    bodies["stamp"] = table([tr("Item"), tr("Value")],
                            [[ESC(k), ESC(v)] for k, v in stamp.items()])  # fmt: skip
    for key in keys:
        parts.append(f"<section id='{key}'><h2>{ESC(tr(TITLES[key]))}</h2>{bodies[key]}</section>")
    parts.append("</body></html>")
    return "".join(parts)


def input_hashes(
    results: dict[str, Any], data_files: list[Path], provenance: Provenance,
    plan_file: Path | None,
) -> dict[str, Any]:  # fmt: skip
    """The inputs of ``stamp.json``: every file by absolute path and SHA-256."""
    loaded = provenance.protocol
    return {
        "datasets": {str(Path(p).resolve()): sha256(Path(p)) for p in data_files},
        "plan": {"sha256": plan_hash(results),
                 "file": str(plan_file.resolve()) if plan_file else None,
                 "file_sha256": sha256(plan_file) if plan_file else None},
        "protocol": None if loaded is None else {
            "content_hash": loaded.content_hash,
            "file": str(provenance.protocol_file.resolve()) if provenance.protocol_file else None,
        },
        "language": current(),
    }  # fmt: skip


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
    provenance: Provenance | None = None,
    language: str = "en",
    plan_file: Path | None = None,
    report_version: str = "1",
    signatures: pd.DataFrame | None = None,
) -> Report:
    """Analyse and lay out. Blinded (the default) computes everything from recoded arms.

    ``seed`` fixes the X/Y shuffle for tests only; by default it comes from the OS and is never
    printed, so the coding cannot be recovered from the report. ``results`` that the caller
    computed from these ``data`` are reused when the report analyses the same arms with the same
    plan (unblinded, or datasets already coded); otherwise the analysis runs again.
    ``language`` is ``en`` or ``zh-hans``; the numbers are the same in both. ``signatures``
    (``signatures.csv`` of the export) adds the section of investigator signatures.
    """
    if plan is None:
        source = protocol or (provenance.protocol if provenance else None)
        if source is None:
            raise ValueError("the report needs the analysis plan, or the protocol it comes from")
        plan = AnalysisPlan.from_protocol(source.protocol)
    secret: dict[str, str] = {}
    if blinded:
        data, plan, secret = blinding.blinded_inputs(data, plan, seed)
    if results is None or results["meta"]["plan"] != jsonable(plan.to_dict()):
        results = run_analysis(data, plan)
    if provenance is None:
        provenance = Provenance(protocol, None, {})
    elif protocol is not None and provenance.protocol is None:
        provenance = Provenance(protocol, None, provenance.state)
    with i18n.language(language):
        page = render_html(
            results, data, blinded=blinded, screening=screening, data_files=data_files,
            provenance=provenance, report_version=report_version, signatures=signatures,
        )  # fmt: skip
        inputs = input_hashes(results, list(data_files or []), provenance, plan_file)
        inputs["report_version"] = report_version
        inputs["blinded"] = blinded
    with i18n.language("en"):
        words = Vocabulary(provenance.protocol.protocol if provenance.protocol else None)
        section = registry.results_section(results, data.adsl, words, _endpoint(results, words))
        study = provenance.protocol.protocol.study if provenance.protocol else None
        checklist = consort_2025_checklist(TITLES, trial_title=study.title.en if study else None)
    registry_id = provenance.protocol.protocol.study.registry_id if provenance.protocol else ""
    xml = prs.prs_xml(section, registry_id)
    checks = registry.check_results_section(section) + [
        f"xml: {problem}" for problem in prs.check_prs(xml)
    ]
    filed = {"resultsSection": section, "checks": checks}
    if blinded:
        blinding.check_no_leak(page, secret)
        blinding.check_no_leak(json.dumps(filed), secret)
        blinding.check_no_leak(xml, secret)
    return Report(page, results, blinded, inputs, filed, checklist, xml)
