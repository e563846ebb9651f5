"""Input handling shared by every score: one patient (scalars) or many (arrays, Series).

One patient: every bad value raises :class:`ScoreInputError` naming the argument and the value.
Many patients: a missing or unusable value makes that patient's score missing (NaN, or None for
text results); it never raises for the whole batch. Units are checked the same way in both modes,
because a unit describes the whole batch: an unknown unit always raises.

Values are "snapped" to 9 decimal places after unit conversion, so that binary floating point
does not move a value that sits exactly on a threshold (35 g/L * 0.1 is 3.5000000000000004 in
float64). No laboratory reports more than 9 decimals, so snapping never changes a real value.

One patient given as plain values (numbers, text, booleans, None, numpy scalars) is scored by a
plain-Python twin of each formula (:func:`scalar_path`): the same constants, the same operations
in the same order, the same parsers and errors, without the cost of numpy on one value. The
numpy formula stays the reference; tests/scores/test_scalar_path.py checks the two agree.
"""

from __future__ import annotations

import functools
import inspect
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from hepatrial.scores.units import Unit, UnitError, resolve_unit

SNAP_DECIMALS = 9


class ScoreInputError(ValueError):
    """An input that a score cannot use; names the argument and the offending value."""

    def __init__(self, argument: str, value: Any, problem: str) -> None:
        self.argument = argument
        self.value = value
        self.problem = problem
        super().__init__(f"{argument}={value!r}: {problem}")


class ScoreUnitError(ScoreInputError, UnitError):
    """An unknown or missing unit for a score argument."""


def _pandas() -> Any:
    """pandas if something has imported it, else None: only then can a value be a pandas object,
    so scoring one patient (every visit save, every light command) never imports it."""
    return sys.modules.get("pandas")


def is_many(value: Any) -> bool:
    """True for arrays, Series, lists and tuples; False for single values."""
    if isinstance(value, np.ndarray):
        return value.ndim > 0
    if isinstance(value, list | tuple):
        return True
    pd = _pandas()
    return pd is not None and isinstance(value, pd.Series | pd.Index | pd.Categorical)


@dataclass
class Batch:
    """What the inputs of one call look like, so the result can be given back in the same form."""

    many: bool
    index: Any = None
    """The pandas Index of a Series input, given back on the result."""
    shapes: list[tuple[int, ...]] = field(default_factory=list)

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Batch:
        batch = cls(many=any(is_many(v) for v in values.values()))
        pd = _pandas()
        for value in values.values():
            if pd is not None and isinstance(value, pd.Series) and batch.index is None:
                batch.index = value.index
        return batch

    def note(self, array: np.ndarray) -> np.ndarray:
        self.shapes.append(array.shape)
        return array

    @property
    def shape(self) -> tuple[int, ...]:
        return np.broadcast_shapes(*self.shapes) if self.shapes else ()

    def numbers(self, result: np.ndarray, name: str, *, integer: bool) -> Any:
        result = np.broadcast_to(result, self.shape)
        if not self.many:
            value = float(result)
            return int(value) if integer else value
        if self.index is not None:
            import pandas as pd

            return pd.Series(result, index=self.index, name=name)
        return np.array(result, dtype=float)

    def labels(self, result: np.ndarray, name: str) -> Any:
        result = np.broadcast_to(result, self.shape)
        if not self.many:
            return result.item()
        if self.index is not None:
            import pandas as pd

            return pd.Series(result, index=self.index, name=name, dtype=object)
        return np.array(result, dtype=object)


def snap(values: np.ndarray | float) -> np.ndarray:
    return np.round(values, SNAP_DECIMALS)


_SNAP_SCALE = 10.0**SNAP_DECIMALS
_EVERY_FLOAT_AN_INTEGER = 2.0**52
"""From here on every float64 is a whole number, so rounding to an integer changes nothing."""


def snap_one(value: float) -> float:
    """:func:`snap` of one float, bit for bit: numpy rounds ``value * 1e9`` half to even and
    divides by 1e9 again, and so does this (``round`` is half to even too)."""
    scaled = value * _SNAP_SCALE
    if -_EVERY_FLOAT_AN_INTEGER < scaled < _EVERY_FLOAT_AN_INTEGER:
        scaled = round(scaled)
    return scaled / _SNAP_SCALE


HALF_TOLERANCE = 1e-9


def round_half_up(values: np.ndarray) -> np.ndarray:
    """Round to the nearest integer, halves upwards (all MELD values are positive).

    A value within 1e-9 below a half counts as the half, so that a sum whose exact value is
    x.5 but whose float64 value is x.4999999999999 still rounds up. Works in place on arrays.
    """
    if isinstance(values, np.ndarray) and values.ndim:
        values += 0.5 + HALF_TOLERANCE
        return np.floor(values, out=values)
    return np.asarray(np.floor(np.asarray(values) + (0.5 + HALF_TOLERANCE)))


def round_half_up_one(value: float) -> float:
    """:func:`round_half_up` of one float; infinity and NaN pass through, as in numpy."""
    value += 0.5 + HALF_TOLERANCE
    if -_EVERY_FLOAT_AN_INTEGER < value < _EVERY_FLOAT_AN_INTEGER:
        return float(math.floor(value))
    return value


def at_least(value: float, low: float) -> float:
    """``np.maximum(value, low)`` of one float (NaN stays NaN)."""
    return low if value < low else value


def at_most(value: float, high: float) -> float:
    """``np.minimum(value, high)`` of one float (NaN stays NaN)."""
    return high if value > high else value


def bounded(value: float, low: float, high: float) -> float:
    """``np.clip(value, low, high)`` of one float (NaN stays NaN)."""
    return low if value < low else high if value > high else value


def integer_or_nan(value: float) -> int | float:
    """A whole-number score as an ``int``; NaN (no score) stays a float NaN, as in a batch row."""
    return int(value) if value == value else math.nan


def number_one(name: str, value: Any) -> float:
    """One non-negative number; raises :class:`ScoreInputError` naming ``name`` otherwise."""
    if (type(value) is float or type(value) is int) and 0 <= value < math.inf:
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise ScoreInputError(name, value, "is missing")
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, int | float | Decimal | np.integer | np.floating
    ):
        raise ScoreInputError(name, value, "is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ScoreInputError(name, value, "is not a finite number")
    if number < 0:
        raise ScoreInputError(name, value, "must not be negative")
    return number


def _many_numbers(value: Any) -> np.ndarray:
    import pandas as pd

    if isinstance(value, pd.Series | pd.Index):
        array = np.asarray(pd.to_numeric(value, errors="coerce"), dtype=float)
    else:
        array = np.asarray(value)
        if array.dtype.kind in "iuf":
            array = array.astype(float, copy=False)
        elif array.dtype.kind == "b":
            array = np.full(array.shape, np.nan)
        else:
            flat = pd.to_numeric(pd.Series(array.ravel(), dtype=object), errors="coerce")
            array = np.asarray(flat, dtype=float).reshape(array.shape)
    usable = array >= 0
    usable &= array < np.inf
    if usable.all():
        return array
    return np.where(usable, array, np.nan)


def number(batch: Batch, name: str, value: Any) -> np.ndarray:
    """A non-negative number; NaN where it is missing or unusable (many patients only)."""
    if not batch.many:
        return batch.note(np.asarray(number_one(name, value)))
    if not is_many(value):
        try:
            return batch.note(np.asarray(number_one(name, value)))
        except ScoreInputError:
            return batch.note(np.asarray(np.nan))
    return batch.note(_many_numbers(value))


def unit_of(argument: str, unit_text: Any, quantity_name: str) -> Unit:
    """The registry unit of ``unit_text``; raises :class:`ScoreUnitError` naming the argument."""
    if unit_text is None:
        raise ScoreUnitError(f"{argument}_unit", unit_text, f"the unit of {argument} must be given")
    try:
        return resolve_unit(quantity_name, unit_text)
    except UnitError as exc:
        raise ScoreUnitError(f"{argument}_unit", unit_text, str(exc)) from None


def unit_symbol(argument: str, unit_text: Any, quantity_name: str) -> str:
    """The registry symbol of ``unit_text``; raises :class:`ScoreUnitError` naming the argument."""
    return unit_of(argument, unit_text, quantity_name).symbol


LABORATORY_UNIT = "mg/dL"
"""The unit whose factor a protocol sets (``ScoreSettings.factors``: µmol/L per mg/dL)."""


def unit_ratio(
    argument: str,
    unit_text: Any,
    quantity_name: str,
    target: str,
    factors: Mapping[str, float] | None = None,
) -> float | None:
    """What a value in ``unit_text`` is multiplied by to give ``target``; None for no change.

    ``factors`` (µmol/L per mg/dL by quantity) replace the registry's molar-mass factor for
    mg/dL; without them the registry's exact factors apply. Raises on a bad unit.
    """
    source = unit_of(argument, unit_text, quantity_name)
    if source.symbol == target:
        return None

    def factor(unit: Unit) -> float:
        if factors and quantity_name in factors and unit.symbol == LABORATORY_UNIT:
            return factors[quantity_name]
        return unit.factor

    return factor(source) / factor(resolve_unit(quantity_name, target))


def to_unit(
    values: np.ndarray,
    argument: str,
    unit_text: Any,
    quantity_name: str,
    target: str,
    factors: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Convert ``values`` given in ``unit_text`` to ``target``, snapped (see :func:`unit_ratio`).

    The result is snapped even when nothing is converted, so that a value and its exact
    conversion read the same.
    """
    ratio = unit_ratio(argument, unit_text, quantity_name, target, factors)
    return snap(values) if ratio is None else snap(values * ratio)


def to_unit_one(
    value: float,
    argument: str,
    unit_text: Any,
    quantity_name: str,
    target: str,
    factors: Mapping[str, float] | None = None,
) -> float:
    """:func:`to_unit` of one number."""
    ratio = unit_ratio(argument, unit_text, quantity_name, target, factors)
    return snap_one(value) if ratio is None else snap_one(value * ratio)


@functools.lru_cache(maxsize=4096)
def normalize_label(text: str) -> str:
    folded = text.strip().casefold().replace("\u2013", "-").replace("\u2014", "-")
    return " ".join(folded.replace("_", " ").split())


@dataclass(frozen=True)
class Category:
    """A categorical input: accepted spellings and, optionally, an accepted range of integers."""

    argument: str
    spellings: Mapping[str, float]
    integers: tuple[int, int] | None = None
    allow_bool: bool = False
    description: str = ""

    def parse_one(self, value: Any) -> float:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise ScoreInputError(self.argument, value, "is missing")
        if isinstance(value, bool | np.bool_):
            if self.allow_bool:
                return float(value)
            raise ScoreInputError(self.argument, value, f"must be {self.description}")
        number = value
        if isinstance(value, str):
            key = normalize_label(value)
            if key in self.spellings:
                return float(self.spellings[key])
            try:
                number = float(key)
            except ValueError:
                raise ScoreInputError(self.argument, value, f"must be {self.description}") from None
        if isinstance(number, int | float | np.integer | np.floating) and self.integers:
            low, high = self.integers
            if float(number).is_integer() and low <= number <= high:
                return float(number)
            raise ScoreInputError(
                self.argument, value, f"is out of range: must be an integer {low} to {high}"
            )
        raise ScoreInputError(self.argument, value, f"must be {self.description}")

    def _parse_or_nan(self, value: Any) -> float:
        try:
            return self.parse_one(value)
        except ScoreInputError:
            return np.nan

    def parse_many(self, value: Any) -> np.ndarray:
        import pandas as pd

        if isinstance(value, pd.Series) and isinstance(value.dtype, pd.CategoricalDtype):
            value = value.array
        if isinstance(value, pd.Categorical):
            mapped = np.array([self._parse_or_nan(c) for c in value.categories] + [np.nan])
            codes = np.asarray(value.codes)
            return mapped[np.where(codes < 0, len(mapped) - 1, codes)]
        array = np.asarray(value)
        if array.dtype.kind == "b":
            return array.astype(float) if self.allow_bool else np.full(array.shape, np.nan)
        if array.dtype.kind in "iuf" and self.integers:
            low, high = self.integers
            result = array.astype(float, copy=True)
            result[~((result >= low) & (result <= high) & (result == np.floor(result)))] = np.nan
            return result
        codes, uniques = pd.factorize(pd.Series(array.ravel(), dtype=object), use_na_sentinel=True)
        mapped = np.array([self._parse_or_nan(u) for u in uniques] + [np.nan])
        return mapped[np.where(codes < 0, len(mapped) - 1, codes)].reshape(array.shape)


def category(batch: Batch, kind: Category, value: Any) -> np.ndarray:
    if not batch.many:
        return batch.note(np.asarray(kind.parse_one(value)))
    if not is_many(value):
        return batch.note(np.asarray(kind._parse_or_nan(value)))
    return batch.note(kind.parse_many(value))


def any_missing(*arrays: np.ndarray) -> np.ndarray:
    missing = np.zeros((), dtype=bool)
    for array in arrays:
        gaps = np.isnan(array)
        if gaps.any():
            missing = missing | gaps
    return missing


def with_missing(result: np.ndarray, missing: np.ndarray) -> np.ndarray:
    if not np.any(missing):
        return result
    result = np.array(np.broadcast_to(result, np.broadcast_shapes(result.shape, missing.shape)))
    result[np.broadcast_to(missing, result.shape)] = np.nan
    return result


YES_NO = {
    "yes": 1,
    "y": 1,
    "true": 1,
    "t": 1,
    "1": 1,
    "no": 0,
    "n": 0,
    "false": 0,
    "f": 0,
    "0": 0,
}


CHUNK_ROWS = 1 << 16
"""Long batches are scored in slices of this many rows, so that the temporary arrays of a
formula stay in the processor cache instead of costing a fresh allocation each."""


def _as_sliceable(value: Any) -> Any:
    import pandas as pd

    if isinstance(value, pd.Series):
        return value.array if isinstance(value.dtype, pd.CategoricalDtype) else value.to_numpy()
    if isinstance(value, list | tuple | pd.Index):
        return np.asarray(value, dtype=object if isinstance(value, list | tuple) else None)
    return value


def in_chunks(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``function`` slice by slice on long one-dimensional batches; same results."""

    @functools.wraps(function)
    def scored_in_chunks(**inputs: Any) -> Any:
        many = {k: v for k, v in inputs.items() if is_many(v)}
        lengths = {len(v) for v in many.values()}
        one_dimensional = all(np.ndim(v) == 1 for v in many.values())
        if len(lengths) != 1 or not one_dimensional or next(iter(lengths)) <= CHUNK_ROWS:
            return function(**inputs)
        import pandas as pd

        rows = lengths.pop()
        index = next((v.index for v in many.values() if isinstance(v, pd.Series)), None)
        sliceable = {k: _as_sliceable(v) for k, v in many.items()}
        parts = [
            function(
                **{**inputs, **{k: v[start : start + CHUNK_ROWS] for k, v in sliceable.items()}}
            )
            for start in range(0, rows, CHUNK_ROWS)
        ]
        result = np.concatenate(parts)
        if index is not None:
            return pd.Series(result, index=index, name=function.__name__)
        return result

    return scored_in_chunks


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


def scalar_path(
    one_patient: Callable[..., Any],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Score one patient given as plain values with ``one_patient``, anything else as before.

    ``one_patient`` takes the same keyword arguments as the decorated (numpy) score, all of
    them, without defaults: the defaults are read once from the decorated function, so they
    are written in one place. A call with a batch (array, Series, list...) anywhere, or with
    arguments the score does not accept, goes to the numpy function unchanged (which raises
    the usual ``TypeError`` for a wrong argument). The numpy function stays reachable as
    ``.vectorized``, the plain one as ``.one_patient``.
    """

    def decorate(vectorized: Callable[..., Any]) -> Callable[..., Any]:
        parameters = inspect.signature(vectorized).parameters.values()
        names = frozenset(p.name for p in parameters)
        defaults = {
            p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty
        }
        own = inspect.signature(one_patient).parameters.values()
        if {p.name for p in own} != names or any(
            p.kind is not inspect.Parameter.KEYWORD_ONLY or p.default is not p.empty for p in own
        ):
            raise TypeError(
                f"{one_patient.__name__} must take exactly the keyword arguments of "
                f"{vectorized.__name__}, without defaults"
            )

        @functools.wraps(vectorized)
        def score(**inputs: Any) -> Any:
            for value in inputs.values():
                if type(value) not in _PLAIN_TYPES and is_many(value):
                    return vectorized(**inputs)
            arguments = {**defaults, **inputs}
            if arguments.keys() != names:  # a required one missing, or one the score lacks
                return vectorized(**inputs)
            return one_patient(**arguments)

        score.vectorized = vectorized  # type: ignore[attr-defined]
        score.one_patient = one_patient  # type: ignore[attr-defined]
        return score

    return decorate
