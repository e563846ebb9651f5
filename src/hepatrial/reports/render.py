"""Render analysis results as an HTML/PDF report. No Django; plain-Python HTML building."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hepatrial import __version__

ESC = html.escape
SECTIONS = ("primary", "change_from_baseline", "survival", "competing_risks", "safety")


def _arms(adsl: pd.DataFrame) -> dict[str, str]:
    arms = adsl[["ARMCD", "ARM"]].dropna().drop_duplicates("ARMCD")
    return dict(zip(arms["ARMCD"], arms["ARM"]))


def blind_map(codes: list[str], seed: int | None = None) -> dict[str, str]:
    """Code -> X/Y by a random shuffle with a per-report seed that is never printed."""
    rng = secrets.SystemRandom() if seed is None else __import__("random").Random(seed)
    letters = ["X", "Y", "Z", "W"][: len(codes)]
    rng.shuffle(letters)
    return dict(zip(sorted(codes), letters))


def _scrub(value: Any, repl: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {_scrub(k, repl): _scrub(v, repl) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, repl) for v in value]
    if isinstance(value, str):
        for old, new in sorted(repl.items(), key=lambda kv: -len(kv[0])):
            value = value.replace(old, new)
        return value
    return value


def consort_svg(
    adsl: pd.DataFrame, arm_name: dict[str, str], screening: pd.DataFrame | None
) -> str:
    """CONSORT 2010 flow diagram as inline SVG, boxes computed from counts."""
    boxes: list[tuple[float, float, float, list[str]]] = []
    y = 10.0
    w = 640
    if screening is not None:
        st = screening["SCRSTAT"].str.lower()
        excl = int((st != "randomized").sum())
        boxes.append((w / 2 - 130, y, 260, [f"Assessed for eligibility (n={len(screening)})"]))
        y += 60
        boxes.append(
            (
                w / 2 + 20,
                y,
                290,
                [
                    f"Excluded (n={excl})",
                    f"Not meeting inclusion criteria (n={int((st == 'screen_failed').sum())})",
                    f"Declined to participate (n={int((st == 'declined').sum())})",
                    f"Other reasons (n={int((st == 'other').sum())})",
                ],
            )
        )
        y += 90
    else:
        boxes.append(
            (
                10,
                y,
                620,
                [
                    "Screening data not supplied (no screening.csv):",
                    "diagram starts at randomization",
                ],
            )
        )
        y += 50
    boxes.append((w / 2 - 130, y, 260, [f"Randomized (n={len(adsl)})"]))
    y += 60
    for i, code in enumerate(sorted(arm_name, key=lambda c: arm_name[c])):
        a = adsl[adsl["ARMCD"] == code]
        recv = int((a["SAFFL"] == "Y").sum())  # blinded exports leave ACTARMCD empty
        disc = a[a["EOSSTT"] == "DISCONTINUED"]
        lost = int((disc["DCSREAS"].astype(str).str.upper() == "LOST TO FOLLOW-UP").sum())
        x = 10 + i * 320
        boxes.append(
            (
                x,
                y,
                300,
                [
                    f"Allocated to {arm_name[code]} (n={len(a)})",
                    f"Received allocated intervention (n={recv})",
                ],
            )
        )
        boxes.append(
            (
                x,
                y + 70,
                300,
                [f"Lost to follow-up (n={lost})", f"Discontinued (n={len(disc) - lost})"],
            )
        )
        boxes.append((x, y + 140, 300, [f"Analysed (n={int((a['ITTFL'] == 'Y').sum())})"]))
    parts = []
    for bx, by, bw, lines in boxes:
        bh = 8 + 16 * len(lines)
        parts.append(
            f'<rect x="{bx}" y="{by}" width="{bw}" height="{bh}" fill="white" stroke="black"/>'
        )
        for k, line in enumerate(lines):
            parts.append(
                f'<text x="{bx + 6}" y="{by + 18 + 16 * k}" font-size="11">{ESC(line)}</text>'
            )
    h = y + 200
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" font-family="sans-serif">' + "".join(parts) + "</svg>"
    )


def table1(adsl: pd.DataFrame, arm_name: dict[str, str]) -> str:
    codes = sorted(arm_name, key=lambda c: arm_name[c])
    head = "".join(f"<th>{ESC(arm_name[c])} (N={(adsl['ARMCD'] == c).sum()})</th>" for c in codes)
    rows = []
    for col, lab in (("AGE", "Age, years"), ("CPSCRBL", "Child-Pugh score"), ("MELDBL", "MELD")):
        cells = []
        for c in codes:
            v = adsl.loc[adsl["ARMCD"] == c, col].astype(float)
            cells.append(
                f"<td>{v.mean():.1f} ({v.std():.1f}); {v.median():.1f} "
                f"[{v.quantile(0.25):.1f}, {v.quantile(0.75):.1f}]</td>"
            )
        rows.append(f"<tr><td>{lab}, mean (SD); median [IQR]</td>{''.join(cells)}</tr>")
    for col, lab in (("SEX", "Sex"), ("ETIOLOGY", "Etiology"), ("CPCLSBL", "Child-Pugh class")):
        for level in sorted(adsl[col].dropna().astype(str).unique()):
            cells = []
            for c in codes:
                a = adsl[adsl["ARMCD"] == c]
                k = int((a[col].astype(str) == level).sum())
                cells.append(f"<td>{k} ({100 * k / max(len(a), 1):.1f}%)</td>")
            rows.append(f"<tr><td>{lab}: {ESC(level)}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>Characteristic</th>{head}</tr>{''.join(rows)}</table>"


def _kv(obj: Any) -> str:
    if isinstance(obj, dict):
        return (
            "<ul>"
            + "".join(f"<li><b>{ESC(str(k))}</b>: {_kv(v)}</li>" for k, v in obj.items())
            + "</ul>"
        )
    if isinstance(obj, list):
        return "<ul>" + "".join(f"<li>{_kv(v)}</li>" for v in obj[:50]) + "</ul>"
    if isinstance(obj, float):
        return f"{obj:.4g}"
    return ESC(str(obj))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Report:
    html: str

    def write(self, folder: str | Path) -> Path:
        from weasyprint import HTML

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.html").write_text(self.html, encoding="utf-8")
        HTML(string=self.html).write_pdf(out / "report.pdf")
        return out


CSS = """body{font-family:'Noto Sans CJK SC','Noto Sans',sans-serif;font-size:10pt}
table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 5px}
.banner{background:#fde68a;padding:6px;font-weight:bold}section{page-break-before:always}
@page{size:A4;margin:15mm}"""


def render_report(
    results: dict,
    datasets,
    *,
    protocol=None,
    blinded: bool = True,
    screening: pd.DataFrame | None = None,
    data_files: list[Path] | None = None,
    seed: int | None = None,
) -> Report:
    adsl = datasets.adsl.copy()
    names = _arms(adsl)
    if blinded:
        mapping = blind_map(list(names), seed)
        repl = {names[c]: f"Arm {mapping[c]}" for c in names} | {c: mapping[c] for c in names}
        adsl["ARMCD"] = adsl["ARMCD"].map(mapping)
        adsl["ACTARMCD"] = adsl["ACTARMCD"].map(mapping).fillna("")
        names = {mapping[c]: f"Arm {mapping[c]}" for c in names}
        results = _scrub(results, repl)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Statistical report"
        f"</title><style>{CSS}</style></head><body>"
    ]
    if blinded:
        parts.append("<div class='banner'>Blinded report: arms are coded</div>")
    parts.append("<h1>Statistical report</h1><h2>CONSORT 2010 flow diagram</h2>")
    parts.append(consort_svg(adsl, names, screening))
    parts.append("<section><h2>Table 1. Baseline characteristics</h2>" + table1(adsl, names))
    parts.append("</section>")
    for key in SECTIONS:
        parts.append(
            f"<section id='{key}'><h2>{ESC(key.replace('_', ' ').title())}</h2>"
            f"{_kv(results.get(key, 'not available'))}</section>"
        )
    stamp = {
        "software": f"hepatrial {__version__}",
        "generated_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if protocol is not None:
        stamp["protocol_hash"] = getattr(protocol, "content_hash", "")
    for p in data_files or []:
        stamp[f"sha256 {Path(p).name}"] = sha256(Path(p))
    parts.append("<section id='stamp'><h2>Reproducibility</h2>" + _kv(stamp) + "</section>")
    parts.append("</body></html>")
    return Report("".join(parts))


def load_results(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
