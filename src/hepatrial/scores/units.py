"""The one unit registry of hepatrial.

Every quantity that hepatrial stores with a unit is listed here, with its canonical unit (the one
the shipped protocol normalizes to: Chinese hospital SI units) and the exact factor that turns a
value in any accepted unit into the canonical one. Protocol files name units by these symbols,
capture normalizes with :func:`to_canonical`, and the scores convert their inputs with
:func:`convert`.

Factors for mass-to-molar conversions come from molar masses:
bilirubin C33H36N4O6, 584.66 g/mol, so 1 mg/dL = 10 000 / 584.66 µmol/L = 17.1039 µmol/L;
creatinine C4H7N3O, 113.12 g/mol, so 1 mg/dL = 10 000 / 113.12 µmol/L = 88.4017 µmol/L.
Clinical laboratories often round these to 17.1 and 88.4; the difference is below 0.03 % and
never moves a score across a threshold by more than the rounding of the laboratory value itself.
Enzyme activity: 1 µkat/L = 60 U/L (1 U = 1 µmol/min, 1 kat = 1 mol/s).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BILIRUBIN_MG_DL_TO_UMOL_L = 10_000 / 584.66
CREATININE_MG_DL_TO_UMOL_L = 10_000 / 113.12


class UnitError(ValueError):
    """A unit that the registry does not know for the quantity at hand."""


@dataclass(frozen=True)
class Unit:
    symbol: str
    ucum: str
    factor: float
    """Multiply a value in this unit by ``factor`` to get the canonical unit."""


@dataclass(frozen=True)
class Quantity:
    name: str
    canonical: str
    units: dict[str, Unit] = field(default_factory=dict)

    @property
    def symbols(self) -> list[str]:
        return list(self.units)


def _quantity(name: str, canonical: str, *units: tuple[str, str, float]) -> Quantity:
    return Quantity(name, canonical, {symbol: Unit(symbol, ucum, f) for symbol, ucum, f in units})


QUANTITIES: dict[str, Quantity] = {
    q.name: q
    for q in [
        _quantity(
            "bilirubin",
            "µmol/L",
            ("µmol/L", "umol/L", 1.0),
            ("mg/dL", "mg/dL", BILIRUBIN_MG_DL_TO_UMOL_L),
        ),
        _quantity(
            "creatinine",
            "µmol/L",
            ("µmol/L", "umol/L", 1.0),
            ("mg/dL", "mg/dL", CREATININE_MG_DL_TO_UMOL_L),
        ),
        _quantity("albumin", "g/L", ("g/L", "g/L", 1.0), ("g/dL", "g/dL", 10.0)),
        _quantity("sodium", "mmol/L", ("mmol/L", "mmol/L", 1.0), ("mEq/L", "meq/L", 1.0)),
        _quantity("enzyme_activity", "U/L", ("U/L", "U/L", 1.0), ("µkat/L", "ukat/L", 60.0)),
        _quantity("prothrombin_time", "s", ("s", "s", 1.0)),
        _quantity("ratio", "1", ("1", "1", 1.0)),
        _quantity("body_weight", "kg", ("kg", "kg", 1.0), ("g", "g", 0.001)),
        _quantity("body_height", "cm", ("cm", "cm", 1.0), ("m", "m", 100.0)),
        _quantity("temperature", "°C", ("°C", "Cel", 1.0)),
        _quantity("heart_rate", "/min", ("/min", "/min", 1.0)),
        _quantity("blood_pressure", "mmHg", ("mmHg", "mm[Hg]", 1.0)),
        _quantity("percent", "%", ("%", "%", 1.0)),
        _quantity("volume", "mL", ("mL", "mL", 1.0), ("L", "L", 1000.0)),
        _quantity("duration", "min", ("min", "min", 1.0), ("h", "h", 60.0)),
        _quantity("age", "years", ("years", "a", 1.0)),
        _quantity("cell_count", "10^6", ("10^6", "10*6", 1.0), ("10^8", "10*8", 100.0)),
        _quantity("cell_dose", "10^6/kg", ("10^6/kg", "10*6/kg", 1.0)),
    ]
}


def quantity(name: str) -> Quantity:
    try:
        return QUANTITIES[name]
    except KeyError:
        known = ", ".join(sorted(QUANTITIES))
        raise UnitError(f"unknown quantity {name!r}; known quantities: {known}") from None


def unit(quantity_name: str, symbol: str) -> Unit:
    q = quantity(quantity_name)
    try:
        return q.units[symbol]
    except KeyError:
        raise UnitError(f"{symbol!r} is not one of {', '.join(q.symbols)}") from None


_SPELLING_FOLDS = {"\u03bc": "\u00b5", "\u2013": "-", " ": ""}
"""Greek mu (U+03BC) reads as the micro sign (U+00B5); spaces and en dashes do not matter."""


def _fold(text: str) -> str:
    for variant, canonical in _SPELLING_FOLDS.items():
        text = text.replace(variant, canonical)
    return text.casefold()


def resolve_unit(quantity_name: str, text: str) -> Unit:
    """Find the unit of ``quantity_name`` written as ``text``.

    Accepts the registry symbol, the UCUM code, and spellings that differ from either only in
    letter case, spaces, or Greek mu for the micro sign (``umol/l``, ``μmol/L``, ``mg/dl``).
    Anything else raises :class:`UnitError`: a unit is never guessed from a value.
    """
    q = quantity(quantity_name)
    if not isinstance(text, str):
        raise UnitError(f"unit must be text, got {text!r}")
    if text in q.units:
        return q.units[text]
    folded = _fold(text.strip())
    for candidate in q.units.values():
        if folded in (_fold(candidate.symbol), _fold(candidate.ucum)):
            return candidate
    raise UnitError(f"{text!r} is not a unit of {quantity_name}; accepted: {', '.join(q.symbols)}")


def convert(value, from_unit: str, to_unit: str, quantity_name: str):
    """Convert ``value`` (scalar or array-like) between two units of one quantity."""
    source = unit(quantity_name, from_unit)
    target = unit(quantity_name, to_unit)
    if source.symbol == target.symbol:
        return value
    ratio = source.factor / target.factor
    try:
        return value * ratio
    except TypeError:
        return np.asarray(value, dtype=float) * ratio


def to_canonical(value, from_unit: str, quantity_name: str):
    """Convert ``value`` to the canonical unit of its quantity."""
    return convert(value, from_unit, quantity(quantity_name).canonical, quantity_name)
