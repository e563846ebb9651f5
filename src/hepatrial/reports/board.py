"""Open and closed reports for the data-safety board (DSMB). No Django.

The **open** report pools the arms: enrolment, data completeness and aggregate safety for all
participants together. It is built from datasets whose arm columns (and every column that could
tell an arm: the number and dates of infusions, infusion reactions) are dropped before anything
is counted (:func:`pooled`), so nothing downstream can show an arm. The **closed** report shows
the same tables by arm, with the true arm names; it is for the board alone, and refuses coded
(blinded) datasets. Each is labelled on its cover and in every page header.

Who may receive which is decided by the caller (``hepatrial export report --board``): the
closed report never goes to a blinded role.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from hepatrial.analysis.datasets import AdamDatasets
from hepatrial.reports import blinding, i18n
from hepatrial.reports.i18n import current, tr
from hepatrial.reports.labels import Vocabulary
from hepatrial.reports.numbers import ESC, num, table
from hepatrial.reports.provenance import Provenance

ARM_COLUMNS = ("ARMCD", "ARM", "ACTARMCD", "TRT01P", "TRT01A", "NINF", "TRTEDT")
"""ADSL columns that name or betray an arm; the open report drops them."""
ALL = "ALL"

KINDS = {
    "open": ("Open report: arms pooled", "Data-safety board: open report"),
    "closed": ("CLOSED report: by arm, for the data-safety board only",
               "Data-safety board: closed report"),
}  # fmt: skip
CSS = """body{font-family:'Noto Sans','Noto Sans CJK SC',sans-serif;font-size:9.5pt;color:#111}
html[lang|=zh] body{font-family:'Noto Sans CJK SC',sans-serif}
table{border-collapse:collapse;margin:6px 0 10px}td,th{border:1px solid #999;padding:2px 5px}
th{background:#eee}.kind{font-weight:bold;padding:6px;border:2px solid #111}
.closed .kind{background:#fecaca}.note{font-size:8.5pt;color:#333}
@page{size:A4;margin:16mm 14mm 14mm;
@top-left{content:var(--kind);font:bold 8pt 'Noto Sans CJK SC',sans-serif}
@top-right{content:var(--page-of);font:8pt 'Noto Sans CJK SC',sans-serif;color:#444}}"""
PAGE_OF = {
    "en": '"Page " counter(page) " of " counter(pages)',
    "zh-hans": '"第 " counter(page) " 页，共 " counter(pages) " 页"',
}


class ClosedReportRefused(ValueError):
    """A closed report asked of coded (blinded) datasets: it would not show the arms."""


@dataclass
class BoardReport:
    html: str
    kind: str

    def write(self, folder) -> list:
        """``board-<kind>.html`` and ``.pdf`` in ``folder``; returns their paths."""
        import logging
        from pathlib import Path

        from weasyprint import HTML

        from hepatrial.reports.render import _svg_style_notes

        logging.getLogger("weasyprint").addFilter(_svg_style_notes)
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        page, pdf = out / f"board-{self.kind}.html", out / f"board-{self.kind}.pdf"
        page.write_text(self.html, encoding="utf-8")
        HTML(string=self.html).write_pdf(pdf)
        return [page, pdf]


def pooled(data: AdamDatasets) -> AdamDatasets:
    """The datasets with every arm-telling column dropped and all participants in one group."""
    adsl = data.adsl.drop(columns=[c for c in ARM_COLUMNS if c in data.adsl]).assign(GROUP=ALL)
    adae = data.adae
    if "INFRFL" in adae:
        adae = adae[adae["INFRFL"] != "Y"].drop(columns=["INFRFL"])
    return AdamDatasets(adsl, data.adlb, data.adtte, adae)


def _groups(adsl: pd.DataFrame, closed: bool) -> list[tuple[str, str, pd.DataFrame]]:
    """(code, label, participants) per column: each arm and the total, or the total only."""
    everyone = (ALL, tr("All participants"), adsl)
    if not closed:
        return [everyone]
    arms = adsl[["ARMCD", "ARM"]].drop_duplicates().sort_values("ARMCD")
    return [(c, label, adsl[adsl["ARMCD"] == c]) for c, label in arms.itertuples(index=False)] + [
        everyone
    ]


def _n_pct(k: int, n: int) -> str:
    return f"{k} ({num(100 * k / n, 1)}%)" if n else str(k)


def enrolment(adsl: pd.DataFrame, groups, screening: pd.DataFrame | None) -> str:
    head = [tr("Enrolment"), *(f"{label} (N={len(g)})" for _, label, g in groups)]
    rows = []
    if screening is not None:
        rows.append([ESC(tr("Screened")), *([""] * (len(groups) - 1)), str(len(screening))])
    for site in sorted(adsl["SITEID"].astype(str).unique()):
        rows.append(
            [
                ESC(tr("Randomized at site {site}", site=site)),
                *(str(int((g["SITEID"].astype(str) == site).sum())) for _, _, g in groups),
            ]
        )
    months = pd.to_datetime(adsl["RANDDT"], errors="coerce").dt.strftime("%Y-%m")
    for month in sorted(months.dropna().unique()):
        rows.append(
            [
                ESC(tr("Randomized in {month}", month=month)),
                *(str(int((months[g.index] == month).sum())) for _, _, g in groups),
            ]
        )
    for status, text in (("ONGOING", "On study"), ("COMPLETED", "Completed"),
                         ("DISCONTINUED", "Discontinued")):  # fmt: skip
        if "EOSSTT" in adsl:
            rows.append([ESC(tr(text)), *(_n_pct(int((g["EOSSTT"] == status).sum()), len(g))
                                         for _, _, g in groups)])  # fmt: skip
    return table(head, rows)


def completeness(adsl: pd.DataFrame, adlb: pd.DataFrame, groups, visit_names) -> str:
    """Per scheduled visit: participants with a laboratory value analysed at that visit."""
    head = [tr("Visit (day)"), *(f"{label} (N={len(g)})" for _, label, g in groups)]
    analysed = adlb[adlb["ANL01FL"] == "Y"] if "ANL01FL" in adlb else adlb
    rows = []
    for day in sorted(analysed["AVISITN"].dropna().unique()):
        seen = set(analysed.loc[analysed["AVISITN"] == day, "USUBJID"])
        name = visit_names.get(float(day)) or tr("day {day}", day=f"{day:g}")
        rows.append([ESC(f"{name} ({day:g})"), *(
            _n_pct(int(g["USUBJID"].isin(seen).sum()), len(g)) for _, _, g in groups
        )])  # fmt: skip
    return table(head, rows)


def safety(adsl: pd.DataFrame, adae: pd.DataFrame, groups, top: int = 10) -> str:
    """Participants with any, serious, grade ≥ 3, related and fatal events; deaths; top terms."""
    head = [tr("Adverse events"), *(f"{label} (N={len(g)})" for _, label, g in groups)]
    ae = adae[adae["TRTEMFL"] == "Y"] if "TRTEMFL" in adae else adae

    def who(rows: pd.DataFrame, g: pd.DataFrame) -> str:
        return _n_pct(int(g["USUBJID"].isin(set(rows["USUBJID"])).sum()), len(g))

    grade = pd.to_numeric(ae.get("AETOXGR"), errors="coerce")
    kinds = [("Any adverse event", ae), ("Serious", ae[ae["AESER"] == "Y"]),
             ("Grade 3 or more", ae[grade >= 3])]  # fmt: skip
    if "AEREL" in ae:
        kinds.append(("Related", ae[ae["AEREL"].isin(["Y", "RELATED", "POSSIBLE", "PROBABLE"])]))
    kinds.append(("Fatal", ae[grade == 5]))
    rows = [[ESC(tr(text)), *(who(frame, g) for _, _, g in groups)] for text, frame in kinds]
    if "DTHFL" in adsl:
        rows.append(
            [
                ESC(tr("Deaths (any cause)")),
                *(_n_pct(int((g["DTHFL"] == "Y").sum()), len(g)) for _, _, g in groups),
            ]
        )
    terms = ae["AEDECOD"].fillna(ae["AETERM"]).astype(str)
    for term in terms.value_counts().index[:top]:
        rows.append([ESC(term), *(who(ae[terms == term], g) for _, _, g in groups)])
    return table(head, rows)


def board_report(
    data: AdamDatasets,
    *,
    closed: bool,
    screening: pd.DataFrame | None = None,
    provenance: Provenance | None = None,
    language: str = "en",
    forbidden: Iterable[str] = (),
    generated: dt.datetime | None = None,
) -> BoardReport:
    """The open (arms pooled) or closed (by arm) report for the data-safety board.

    ``forbidden`` are the true arm codes and labels: the open report refuses to come out with
    one of them in it (:class:`hepatrial.reports.blinding.UnblindingLeak`).
    """
    if closed and blinding.is_coded(data.adsl):
        raise ClosedReportRefused(
            "a closed report needs unblinded datasets; these carry coded arms"
        )
    if not closed:
        data = pooled(data)
    kind = "closed" if closed else "open"
    provenance = provenance or Provenance(None, None, {})
    loaded = provenance.protocol
    with i18n.language(language):
        words = Vocabulary(loaded.protocol if loaded is not None else None)
        days = data.adlb["AVISITN"].dropna().unique() if len(data.adlb) else []
        visit_names = {float(d): words.visit(float(d), "") for d in days}
        if closed:
            data = AdamDatasets(data.adsl.assign(ARM=data.adsl["ARM"].map(words.arm)),
                                data.adlb, data.adtte, data.adae)  # fmt: skip
        html = _page(data, kind, screening, provenance, visit_names,
                     generated or dt.datetime.now(dt.UTC))  # fmt: skip
    if not closed:
        blinding.check_no_leak(html, forbidden)
    return BoardReport(html, kind)


def _page(data, kind, screening, provenance, visit_names, generated) -> str:
    label, title = (tr(text) for text in KINDS[kind])
    study = provenance.protocol.protocol.study if provenance.protocol else None
    groups = _groups(data.adsl, kind == "closed")
    quoted = '"' + label.replace('"', "") + '"'
    css = CSS.replace("var(--kind)", quoted).replace("var(--page-of)", PAGE_OF[current()])
    lang = "zh-Hans" if current() == "zh-hans" else "en"
    cover = [(tr("Report"), title), (tr("Data cut-off"),
              provenance.state.get("data_cut_off", tr("not known"))),
             (tr("Generated (UTC)"), generated.isoformat(timespec="seconds"))]  # fmt: skip
    if study is not None:
        cover[:0] = [
            (tr("Registry"), study.registry_id),
            (tr("Protocol"), tr("version {version}", version=study.protocol_version)),
        ]
    heading = ""
    if study is not None:
        heading = f"<h1>{ESC(study.title.en)}</h1><p lang='zh-Hans'>{ESC(study.title.zh)}</p>"
    note = tr(
        "Arms are pooled: this report shows no result by arm and leaves infusion reactions out "
        "(a reaction at the second infusion would tell the arm); the closed report has them."
        if kind == "open"
        else "Confidential to the data-safety board: results by arm. Do not pass to the trial "
        "team or any blinded person."
    )
    sections = [
        ("Enrolment", enrolment(data.adsl, groups, screening)),
        ("Data completeness", "<p class='note'>" + ESC(tr(
            "Participants with a laboratory value analysed at each scheduled visit.")) + "</p>"
         + completeness(data.adsl, data.adlb, groups, visit_names)),
        ("Aggregate safety" if kind == "open" else "Safety by arm",
         safety(data.adsl, data.adae, groups)),
    ]  # fmt: skip
    body = "".join(f"<section><h2>{ESC(tr(h))}</h2>{content}</section>" for h, content in sections)
    return (
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>"
        f"{ESC(title)}</title><style>{css}</style></head><body class='{kind}'>"
        f"<div class='kind'>{ESC(label)}</div>{heading}"
        + table([tr("Item"), tr("Value")], [[ESC(k), ESC(v)] for k, v in cover])
        + f"<p class='note'>{ESC(note)}</p>{body}</body></html>"
    )
