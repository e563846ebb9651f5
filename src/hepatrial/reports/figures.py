"""Figures of the report as SVG text: Kaplan-Meier, cumulative incidence, mean trajectories.

Drawn with matplotlib from the results object only (never from raw data), so a figure and its
table cannot disagree. Text stays text in the SVG (``svg.fonttype = none``): the PDF renderer
sets it with the report's fonts, Chinese labels included, and it can be searched.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from hepatrial.reports.i18n import tr  # noqa: E402
from hepatrial.reports.labels import UNITS  # noqa: E402

STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "hepatrial",
    "font.family": "sans-serif",
    "font.sans-serif": ["Noto Sans CJK SC", "Noto Sans", "DejaVu Sans"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
LINES = ("-", "--", "-.", ":")


def _svg(fig) -> str:
    """The figure as inline SVG whose ids are its own.

    matplotlib numbers ids the same way in every figure (``text_1``, clip paths); several
    figures inline in one page would share them, and a figure could clip to another's box.
    """
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    prefix = "f" + hashlib.sha256(text.encode()).hexdigest()[:10] + "-"
    text = re.sub(r'\bid="', f'id="{prefix}', text)
    return re.sub(r"(url\(#|href=\"#)", rf"\g<1>{prefix}", text)


def _risk_rows(ax, arms: Sequence[str], labels: Mapping[str, str], tables: Mapping) -> None:
    """Numbers at risk under the time axis, one row per arm, aligned with the ticks."""
    ax.set_xticks(tables[arms[0]]["time"])
    ax.text(0, -0.2, tr("Number at risk"), transform=ax.transAxes, fontweight="bold", ha="left")
    for row, arm in enumerate(arms):
        y = -0.28 - 0.07 * row
        ax.text(-0.06, y, labels[arm], transform=ax.transAxes, ha="right", color=COLOURS[row])
        for t, n in zip(tables[arm]["time"], tables[arm]["n"], strict=True):
            ax.text(t, y, str(n), transform=ax.get_xaxis_transform(), ha="center")


def step_figure(
    section: Mapping,
    arms: Sequence[str],
    labels: Mapping[str, str],
    *,
    value: str,
    ylabel: str,
    title: str,
) -> str:
    """Step curves per arm (``value`` is ``surv`` or ``cif``) with numbers at risk beneath.

    Kaplan-Meier curves start at 1 and carry their pointwise 95% band; cumulative incidence
    curves start at 0.
    """
    arms = [a for a in arms if a in section["by_arm"]]
    start = 1.0 if value == "surv" else 0.0
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.2, 3.4 + 0.25 * len(arms)))
        for i, arm in enumerate(arms):
            curve = section["by_arm"][arm]["curve"]
            last = section["by_arm"][arm]["risk_table"]["time"][-1]
            times = [0.0, *curve["time"], last]
            ys = [start, *curve[value], curve[value][-1] if curve[value] else start]
            ax.step(times, ys, where="post", color=COLOURS[i], ls=LINES[i], label=labels[arm])
            if value == "surv" and curve["time"]:
                lower = [1.0, *curve["lower"], curve["lower"][-1]]
                upper = [1.0, *curve["upper"], curve["upper"][-1]]
                ax.fill_between(times, lower, upper, step="post", color=COLOURS[i], alpha=0.12)
        ax.set_ylim(0, 1.02)
        ax.set_xlim(left=0)
        ax.set_xlabel(tr("Days since randomization"))
        ax.set_ylabel(ylabel)
        ax.set_title(title, loc="left")
        ax.legend(frameon=False, loc="lower left" if value == "surv" else "upper left")
        _risk_rows(ax, arms, labels, {a: section["by_arm"][a]["risk_table"] for a in arms})
        return _svg(fig)


def trajectory_figure(
    summary: Mapping,
    arms: Sequence[str],
    labels: Mapping[str, str],
    *,
    title: str,
    visit_names: Mapping[float, str] | None = None,
) -> str:
    """Mean with 95% CI at each analysis visit, per arm, slightly dodged so bars do not overlap.

    Visits are equally spaced (the schedule is dense early and sparse late, so a day axis would
    crowd the first visits together).
    """
    position = {v["day"]: i for i, v in enumerate(summary["visits"])}
    visit_names = visit_names or {}
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.2, 3.0))
        for i, arm in enumerate(arms):
            points = [p for p in summary["by_arm"].get(arm, []) if p["mean"] is not None]
            shift = (i - (len(arms) - 1) / 2) * 0.08
            x = [position[p["visit"]] + shift for p in points]
            y = [p["mean"] for p in points]
            below = [p["mean"] - (p["ci_lower"] if p["ci_lower"] is not None else p["mean"])
                     for p in points]  # fmt: skip
            above = [(p["ci_upper"] if p["ci_upper"] is not None else p["mean"]) - p["mean"]
                     for p in points]  # fmt: skip
            ax.errorbar(x, y, yerr=[below, above], color=COLOURS[i], ls=LINES[i], marker="o",
                        ms=3, capsize=2, label=labels[arm])  # fmt: skip
        ax.set_xticks(range(len(position)), [visit_names.get(v["day"], v["name"])
                                             for v in summary["visits"]])  # fmt: skip
        unit = UNITS.get(summary["unit"], summary["unit"])
        ax.set_ylabel(tr("Mean ({unit})", unit=unit) if unit else tr("Mean"))
        ax.set_title(title, loc="left")
        ax.legend(frameon=False)
        return _svg(fig)


def forest_figure(rows: Sequence[tuple[str, float | None, float | None, float | None]], *,
                  xlabel: str, title: str, null: float = 0.0,
                  percent: bool = False) -> str:  # fmt: skip
    """One estimate with its interval per row (top row first); a dashed line at no effect."""
    rows = [r for r in rows if None not in r[1:]]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.2, 0.5 + 0.42 * max(len(rows), 1)))
        for i, (_, estimate, lower, upper) in enumerate(rows):
            y = len(rows) - 1 - i
            ax.plot([lower, upper], [y, y], color=COLOURS[0])
            ax.plot([estimate], [y], "s", color=COLOURS[0], ms=5)
        ax.axvline(null, color="#777", ls="--", lw=0.8)
        ax.set_yticks(range(len(rows)), [r[0] for r in reversed(rows)])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlabel(xlabel)
        if percent:
            ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_title(title, loc="left")
        return _svg(fig)
