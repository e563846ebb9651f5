"""How numbers are printed in the report: one rule, so every table reads the same way.

- decimals: 2 by default; per laboratory parameter from :data:`DECIMALS` (a value printed with
  the precision it is measured with); percentages with 1;
- negative numbers with a true minus sign (U+2212), so they cannot be mistaken for a dash;
- confidence intervals as ``lower–upper`` with an en dash, spaced (``−0.12 – 0.30``) when
  either bound is negative so the dash cannot read as a minus;
- P values with three decimals, ``< 0.001`` below that;
- a missing number is an en dash alone.

The same rule holds in every language: the Chinese report prints exactly the same numbers.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

ESC = html.escape
DASH = "–"
MINUS = "−"
DECIMALS: dict[str, int] = {
    "ALT": 0, "AST": 0, "ALP": 0, "BILI": 1, "ALB": 1, "PT": 1, "INR": 2, "CREAT": 0,
    "SODIUM": 0, "MELD": 1, "MELDNA": 1, "MELD3": 1, "CPSCORE": 1, "CPCLASS": 1, "ALBI": 2,
}  # fmt: skip
"""Decimals of a parameter's means and differences; ratios of geometric means keep 2."""


def decimals_for(param: str | None, default: int = 2) -> int:
    return DECIMALS.get(param or "", default)


def num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return DASH
    text = f"{value:.{digits}f}"
    if text.startswith("-"):
        text = text[1:] if float(text[1:]) == 0 else MINUS + text[1:]
    return text


def pct(value: float | None, digits: int = 1) -> str:
    """A proportion (0-1) as a percentage."""
    return DASH if value is None else f"{num(100 * value, digits)}%"


def ci(lower: float | None, upper: float | None, digits: int = 2, percent: bool = False) -> str:
    """A confidence interval, ``1.20–3.40`` (``−0.12 – 0.30`` when a bound is negative)."""
    if lower is None or upper is None:
        return DASH
    low, high = (pct(lower), pct(upper)) if percent else (num(lower, digits), num(upper, digits))
    joint = " – " if MINUS in low + high else "–"
    return f"{low}{joint}{high}"


def pvalue(value: float | None) -> str:
    """P values as in most journals: three decimals, "< 0.001" below that."""
    if value is None:
        return DASH
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def count_pct(k: int | None, n: int | None) -> str:
    if k is None or not n:
        return DASH
    return f"{k}/{n} ({num(100 * k / n, 1)}%)"


def table(head: Iterable[str], rows: Iterable[Iterable[str]], caption: str = "") -> str:
    """An HTML table; cells are already escaped HTML, headers are escaped here."""
    cap = f"<caption>{ESC(caption)}</caption>" if caption else ""
    th = "".join(f"<th>{ESC(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{c.replace('< ', '&lt; ')}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table>{cap}<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"
