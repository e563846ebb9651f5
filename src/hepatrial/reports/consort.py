"""The CONSORT 2010 flow diagram, drawn as SVG from ADSL and the optional screening list.

Counts come from the data: assessed and excluded from ``screening.csv`` (one row per screened
person; SCRSTAT randomized / screen_failed / declined / pending / other; FAILCRIT the failed
criteria's codes separated by ";", FAILLBL their labels in the same order), the rest from ADSL.
A person who failed several criteria is counted under each, as CONSORT asks for reasons, so
the reasons may add up to more than the excluded total; the diagram says so.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hepatrial.reports.i18n import tr
from hepatrial.reports.numbers import ESC

LINE = 15
INDENT = "   "
"""A line starting with this is a sub-item of the line above and is drawn indented."""
BOLD = ' font-weight="bold"'
WIDTH = 300
GAP = 34


@dataclass
class Box:
    x: float
    y: float
    lines: list[str]
    width: float = WIDTH

    @property
    def height(self) -> float:
        return 10 + LINE * len(self.lines)

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def centre(self) -> float:
        return self.x + self.width / 2

    def svg(self) -> str:
        text = "".join(
            f'<text x="{self.x + (19 if line.startswith(INDENT) else 7)}" '
            f'y="{self.y + 2 + LINE * (k + 1)}" font-size="11"'
            f"{BOLD if k == 0 else ''}>{ESC(line.strip())}</text>"
            for k, line in enumerate(self.lines)
        )
        return (
            f'<rect x="{self.x}" y="{self.y}" width="{self.width}" height="{self.height}" '
            f'fill="white" stroke="black"/>{text}'
        )


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    return (
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="black" marker-end="url(#arrow)"/>'
    )


SCREENING_STATUSES = ("randomized", "screen_failed", "declined", "pending", "other")


def read_screening(path: str | Path) -> pd.DataFrame:
    """``screening.csv`` as text, or :class:`ValueError` naming the rows and column at fault."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "SCRSTAT" not in table:
        raise ValueError(f"{path}: column SCRSTAT is missing")
    status = table["SCRSTAT"].str.strip().str.lower()
    wrong = [i + 1 for i in range(len(table)) if status.iloc[i] not in SCREENING_STATUSES]
    if wrong:
        rows = ", ".join(map(str, wrong[:10])) + (" ..." if len(wrong) > 10 else "")
        raise ValueError(
            f"{path}: SCRSTAT must be one of {', '.join(SCREENING_STATUSES)}; "
            f"{len(wrong)} row(s) are not (data rows {rows})"
        )
    return table.assign(SCRSTAT=status)


def exclusion_reasons(screening: pd.DataFrame) -> list[str]:
    """The lines of the "Excluded" box: failed criteria first, then the other reasons."""
    status = screening["SCRSTAT"].fillna("other").str.lower()
    counts = Counter(status)
    failed = screening[status == "screen_failed"]
    by_criterion: Counter[tuple[str, str]] = Counter()
    for codes, labels in zip(
        failed.get("FAILCRIT", pd.Series(dtype=str)).fillna(""),
        failed.get("FAILLBL", pd.Series("", index=failed.index)).fillna(""),
        strict=False,
    ):
        names = [n.strip() for n in labels.split(";")] if labels else []
        for i, code in enumerate(c.strip() for c in codes.split(";") if c.strip()):
            by_criterion[(code, names[i] if i < len(names) and names[i] else code)] += 1
    excluded = len(screening) - counts["randomized"]
    lines = [tr("Excluded (n={n})", n=excluded)]
    lines.append(tr("Not meeting eligibility criteria (n={n})", n=counts["screen_failed"]))
    for (code, label), n in sorted(by_criterion.items(), key=lambda kv: (-kv[1], kv[0][0])):
        short = label if len(label) <= 34 else label[:33] + "…"
        lines.append(f"   {code} {short} (n={n})" if short != code else f"   {code} (n={n})")
    if sum(by_criterion.values()) > counts["screen_failed"]:
        lines.append("   " + tr("(a person may fail more than one criterion)"))
    lines.append(tr("Declined to participate (n={n})", n=counts["declined"]))
    if counts["pending"]:
        lines.append(tr("Eligible, not yet randomized (n={n})", n=counts["pending"]))
    lines.append(tr("Other reasons (n={n})", n=counts["other"]))
    return lines


def consort_svg(
    adsl: pd.DataFrame, arm_labels: dict[str, str], screening: pd.DataFrame | None
) -> str:
    """The diagram with its four CONSORT stages; one column per arm in ``arm_labels`` order."""
    arms = list(arm_labels)
    width = 40 + (WIDTH + 20) * max(len(arms), 2)
    middle = width / 2
    parts: list[str] = []
    stages: list[tuple[str, float]] = [(tr("Enrollment"), 10)]
    if screening is not None:
        assessed = Box(
            middle - WIDTH / 2 - 80, 10, [tr("Assessed for eligibility (n={n})", n=len(screening))]
        )
        excluded = Box(middle - 60, assessed.bottom + GAP, exclusion_reasons(screening), WIDTH + 60)
        randomized = Box(assessed.x, excluded.bottom + GAP, [tr("Randomized (n={n})", n=len(adsl))])
        parts += [assessed.svg(), excluded.svg(), randomized.svg()]
        parts.append(_arrow(assessed.centre, assessed.bottom, assessed.centre, randomized.y))
        parts.append(_arrow(assessed.centre, excluded.y + 12, excluded.x, excluded.y + 12))
    else:
        note = Box(middle - WIDTH / 2, 10, [tr("No screening list (screening.csv) supplied:"),
                                            tr("the diagram starts at randomization")])  # fmt: skip
        randomized = Box(
            middle - WIDTH / 2, note.bottom + GAP, [tr("Randomized (n={n})", n=len(adsl))]
        )
        parts += [note.svg(), randomized.svg()]
    top = randomized.bottom + GAP
    stage_rows = [(tr("Allocation"), top)]
    bottoms = []
    for i, arm in enumerate(arms):
        mine = adsl[adsl["ARMCD"] == arm]
        x = 30 + i * (WIDTH + 20)
        received = int((mine["SAFFL"] == "Y").sum())
        allocation = Box(x, top, [
            tr("Allocated to {arm} (n={n})", arm=arm_labels[arm], n=len(mine)),
            tr("Received allocated intervention (n={n})", n=received),
            tr("Did not receive it (n={n})", n=len(mine) - received),
        ])  # fmt: skip
        stopped = mine[mine["EOSSTT"] == "DISCONTINUED"]
        reasons = stopped["DCSREAS"].fillna("not given").astype(str).str.lower().value_counts()
        lost = int(reasons.get("lost to follow-up", 0))
        follow = [
            tr("Lost to follow-up (n={n})", n=lost),
            tr("Discontinued (n={n})", n=len(stopped) - lost),
        ]
        follow += ["   " + tr("{reason} (n={n})", reason=tr(reason), n=n)
                   for reason, n in reasons.items()
                   if reason != "lost to follow-up"]  # fmt: skip
        follow_up = Box(x, allocation.bottom + GAP, follow)
        analysed = int((mine["ITTFL"] == "Y").sum())
        analysis = Box(x, 0, [
            tr("Analysed (n={n})", n=analysed),
            tr("Excluded from analysis (n={n})", n=len(mine) - analysed),
        ])  # fmt: skip
        bottoms.append((allocation, follow_up, analysis))
        parts.append(_arrow(randomized.centre, randomized.bottom, allocation.centre, top))
    follow_y = max(f.y for _, f, _ in bottoms)
    analysis_y = max(f.bottom for _, f, _ in bottoms) + GAP
    stage_rows += [(tr("Follow-up"), follow_y), (tr("Analysis"), analysis_y)]
    for allocation, follow_up, analysis in bottoms:
        analysis.y = analysis_y
        parts += [allocation.svg(), follow_up.svg(), analysis.svg()]
        parts.append(_arrow(allocation.centre, allocation.bottom, follow_up.centre, follow_up.y))
        parts.append(_arrow(follow_up.centre, follow_up.bottom, analysis.centre, analysis.y))
    for name, y in stages + stage_rows:
        parts.append(
            f'<text x="16" y="{y + 30}" font-size="10" fill="#555" text-anchor="middle" '
            f'transform="rotate(-90 16 {y + 30})">{ESC(name)}</text>'
        )
    height = analysis_y + bottoms[0][2].height + 10 if bottoms else top + 20
    marker = (
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Noto Sans, Noto Sans CJK SC, sans-serif" '
        'class="consort">'
        f"{marker}{''.join(parts)}</svg>"
    )
