"""How numbers are printed in the report: one place, so every table reads the same way."""

from __future__ import annotations

import html
from collections.abc import Iterable

ESC = html.escape
DASH = "–"


def num(value: float | None, digits: int = 2) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def pct(value: float | None, digits: int = 1) -> str:
    """A proportion (0-1) as a percentage."""
    return DASH if value is None else f"{100 * value:.{digits}f}%"


def ci(lower: float | None, upper: float | None, digits: int = 2, percent: bool = False) -> str:
    if lower is None or upper is None:
        return DASH
    if percent:
        return f"{pct(lower)} to {pct(upper)}"
    return f"{lower:.{digits}f} to {upper:.{digits}f}"


def pvalue(value: float | None) -> str:
    """P values as in most journals: three decimals, "<0.001" below that."""
    if value is None:
        return DASH
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def count_pct(k: int | None, n: int | None) -> str:
    if k is None or not n:
        return DASH
    return f"{k}/{n} ({100 * k / n:.1f}%)"


def table(head: Iterable[str], rows: Iterable[Iterable[str]], caption: str = "") -> str:
    """An HTML table; cells are already escaped HTML, headers are escaped here."""
    cap = f"<caption>{ESC(caption)}</caption>" if caption else ""
    th = "".join(f"<th>{ESC(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{cap}<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"
