"""Check one entered value against its item definition and normalize it to the canonical unit.

What the user typed is never lost: the result keeps the text as entered and the unit as entered
beside the normalized value. Text is read after Unicode NFKC normalization, so full-width digits
and punctuation typed with a Chinese input method ("３４．２") read as "34.2".
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from hepatrial.protocol.model import DataType, Item
from hepatrial.scores.units import UnitError, to_canonical, unit


class ValueStatus(StrEnum):
    VALUE = "value"
    NOT_DONE = "not_done"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"


MISSING_STATUSES = {ValueStatus.NOT_DONE, ValueStatus.NOT_APPLICABLE, ValueStatus.UNKNOWN}

TRUE_WORDS = {"yes", "y", "true", "1", "是", "有"}
FALSE_WORDS = {"no", "n", "false", "0", "否", "无"}


class InvalidValue(ValueError):
    """An entered value that cannot be stored; the message says what is wrong."""


@dataclass(frozen=True)
class EnteredValue:
    """What a user submits for one item."""

    text: str = ""
    unit: str | None = None
    status: ValueStatus = ValueStatus.VALUE


@dataclass(frozen=True)
class CheckedValue:
    item_oid: str
    status: ValueStatus
    text: str
    unit_entered: str | None
    number: float | None = None
    """Numeric value in the canonical unit (integer and float items)."""
    normalized_text: str | None = None
    """Canonical text for non-numeric items: choice code, ISO date, ``true``/``false``."""
    canonical_unit: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def is_missing(self) -> bool:
        return self.status != ValueStatus.VALUE

    def comparable(self) -> object:
        """The value as rules compare it: a number, a date, or the normalized text."""
        if self.number is not None:
            return self.number
        if self.normalized_text and len(self.normalized_text) >= 10:
            try:
                return dt.date.fromisoformat(self.normalized_text[:10])
            except ValueError:
                pass
        return self.normalized_text


def _read_number(text: str, item: Item) -> float:
    cleaned = text.replace(" ", "")
    try:
        number = float(cleaned)
    except ValueError:
        kind = "a whole number" if item.data_type == DataType.INTEGER else "a number"
        raise InvalidValue(f"{text!r} is not {kind}") from None
    if not math.isfinite(number):
        raise InvalidValue(f"{text!r} is not a finite number")
    if item.data_type == DataType.INTEGER and number != int(number):
        raise InvalidValue(f"{text!r} is not a whole number")
    return number


def _fmt(number: float) -> str:
    return f"{number:g}"


def _check_numeric(text: str, entered_unit: str | None, item: Item) -> CheckedValue:
    number = _read_number(text, item)
    canonical = item.canonical_unit
    unit_used = entered_unit
    if item.units:
        if not unit_used:
            if len(item.units) > 1:
                raise InvalidValue(f"unit missing: choose one of {', '.join(item.units)}")
            unit_used = item.units[0]
        if unit_used not in item.units:
            raise InvalidValue(f"{unit_used!r} is not one of {', '.join(item.units)}")
        try:
            unit(item.quantity or "", unit_used)
            normalized = float(to_canonical(number, unit_used, item.quantity or ""))
        except UnitError as exc:
            raise InvalidValue(str(exc)) from None
    else:
        normalized = number
    suffix = f" {canonical}" if canonical else ""
    warnings = []
    hard = item.hard_range
    if hard:
        if hard.low is not None and normalized < hard.low:
            raise InvalidValue(
                f"{_fmt(normalized)}{suffix} is below the lowest possible value {_fmt(hard.low)}"
                f"{suffix}"
            )
        if hard.high is not None and normalized > hard.high:
            raise InvalidValue(
                f"{_fmt(normalized)}{suffix} is above the highest possible value "
                f"{_fmt(hard.high)}{suffix}"
            )
    plausible = item.plausible_range
    if plausible:
        low, high = plausible.low, plausible.high
        if (low is not None and normalized < low) or (high is not None and normalized > high):
            low_text = _fmt(low) if low is not None else ""
            high_text = _fmt(high) if high is not None else ""
            shown = f"{low_text}–{high_text}"
            warnings.append(
                f"{_fmt(normalized)}{suffix} is outside the usual range {shown}{suffix}: "
                "confirm it is correct"
            )
    return CheckedValue(
        item.oid,
        ValueStatus.VALUE,
        text,
        unit_used,
        number=normalized,
        canonical_unit=canonical,
        warnings=warnings,
    )


def _check_other(text: str, item: Item) -> str:
    kind = item.data_type
    if kind == DataType.CHOICE:
        codes = [c.code for c in item.choices]
        if text in codes:
            return text
        by_label = {c.label.en.lower(): c.code for c in item.choices}
        by_label |= {c.label.zh: c.code for c in item.choices}
        if text.lower() in by_label:
            return by_label[text.lower()]
        raise InvalidValue(f"{text!r} is not one of {', '.join(codes)}")
    if kind == DataType.BOOLEAN:
        word = text.lower()
        if word in TRUE_WORDS:
            return "true"
        if word in FALSE_WORDS:
            return "false"
        raise InvalidValue(f"{text!r} is not yes or no")
    if kind == DataType.DATE:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise InvalidValue(f"{text!r} is not a date (YYYY-MM-DD)") from None
    if kind == DataType.DATETIME:
        try:
            moment = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
        except ValueError:
            raise InvalidValue(f"{text!r} is not a date and time (YYYY-MM-DD HH:MM)") from None
        return moment.isoformat(timespec="minutes")
    return text


def check_value(item: Item, entered: EnteredValue) -> CheckedValue:
    """Validate ``entered`` for ``item``; raise :class:`InvalidValue` saying what is wrong."""
    text = unicodedata.normalize("NFKC", entered.text or "").strip()
    entered_unit = unicodedata.normalize("NFKC", entered.unit).strip() if entered.unit else None
    if entered_unit and item.units and entered_unit not in item.units:
        # NFKC turns "µ" (micro sign) into "μ" (Greek mu); accept either spelling.
        entered_unit = next(
            (u for u in item.units if unicodedata.normalize("NFKC", u) == entered_unit),
            entered_unit,
        )
    if entered.status in MISSING_STATUSES:
        if text:
            raise InvalidValue(f"a value was given but the item is marked {entered.status.value}")
        return CheckedValue(item.oid, entered.status, "", None)
    if not text:
        raise InvalidValue("no value: enter one or mark it not done, not applicable or unknown")
    if item.data_type in (DataType.INTEGER, DataType.FLOAT):
        return _check_numeric(text, entered_unit, item)
    if entered_unit:
        raise InvalidValue(f"a {item.data_type.value} item takes no unit")
    return CheckedValue(
        item.oid, ValueStatus.VALUE, text, None, normalized_text=_check_other(text, item)
    )
