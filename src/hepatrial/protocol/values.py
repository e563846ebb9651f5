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

from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol.model import DataType, Item
from hepatrial.scores.units import UnitError, to_canonical, unit

MESSAGES.update({
    "value.not_a_number": gettext_noop("'%(text)s' is not a number"),
    "value.not_a_whole_number": gettext_noop("'%(text)s' is not a whole number"),
    "value.not_finite": gettext_noop("'%(text)s' is not a finite number"),
    "value.unit_missing": gettext_noop("unit missing: choose one of %(units)s"),
    "value.unit_not_allowed": gettext_noop("'%(unit)s' is not one of %(units)s"),
    "value.unit_not_convertible": gettext_noop(
        "'%(unit)s' cannot be converted to %(canonical_unit)s for this item"
    ),
    "value.below_hard_range": gettext_noop(
        "%(value)s %(unit)s is below the lowest possible value %(low)s %(unit)s"
    ),
    "value.above_hard_range": gettext_noop(
        "%(value)s %(unit)s is above the highest possible value %(high)s %(unit)s"
    ),
    "value.outside_plausible_range": gettext_noop(
        "%(value)s %(unit)s is outside the usual range %(low)s–%(high)s %(unit)s: "
        "confirm it is correct"
    ),
    "value.not_a_choice": gettext_noop("'%(text)s' is not one of %(choices)s"),
    "value.not_yes_or_no": gettext_noop("'%(text)s' is not yes or no"),
    "value.not_a_date": gettext_noop("'%(text)s' is not a date (YYYY-MM-DD)"),
    "value.not_a_datetime": gettext_noop(
        "'%(text)s' is not a date and time (YYYY-MM-DD HH:MM)"
    ),
    "value.given_but_missing": gettext_noop(
        "a value was given but the item is marked %(status)s"
    ),
    "value.empty": gettext_noop(
        "no value: enter one or mark it not done, not applicable or unknown"
    ),
    "value.takes_no_unit": gettext_noop("a %(data_type)s item takes no unit"),
})  # fmt: skip


class ValueStatus(StrEnum):
    VALUE = "value"
    NOT_DONE = "not_done"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        """In English; marked for the catalogue, so the web shows it translated."""
        return VALUE_STATUS_LABELS[self]


VALUE_STATUS_LABELS = {
    ValueStatus.VALUE: gettext_noop("value"),
    ValueStatus.NOT_DONE: gettext_noop("not done"),
    ValueStatus.NOT_APPLICABLE: gettext_noop("not applicable"),
    ValueStatus.UNKNOWN: gettext_noop("unknown"),
}


MISSING_STATUSES = {ValueStatus.NOT_DONE, ValueStatus.NOT_APPLICABLE, ValueStatus.UNKNOWN}

TRUE_WORDS = {"yes", "y", "true", "1", "是", "有"}
FALSE_WORDS = {"no", "n", "false", "0", "否", "无"}


class InvalidValue(ValueError):
    """An entered value that cannot be stored; ``problem`` says what is wrong (``str`` too)."""

    def __init__(self, code: str, **params: object):
        self.problem = Problem(code, **params)
        super().__init__(self.problem)


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
    warnings: list[Problem] = field(default_factory=list)

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
        whole = item.data_type == DataType.INTEGER
        raise InvalidValue("value.not_a_whole_number" if whole else "value.not_a_number",
                           text=text) from None  # fmt: skip
    if not math.isfinite(number):
        raise InvalidValue("value.not_finite", text=text)
    if item.data_type == DataType.INTEGER and number != int(number):
        raise InvalidValue("value.not_a_whole_number", text=text)
    return number


def _check_numeric(text: str, entered_unit: str | None, item: Item) -> CheckedValue:
    number = _read_number(text, item)
    canonical = item.canonical_unit
    unit_used = entered_unit
    if item.units:
        if not unit_used:
            if len(item.units) > 1:
                raise InvalidValue("value.unit_missing", units=list(item.units))
            unit_used = item.units[0]
        if unit_used not in item.units:
            raise InvalidValue("value.unit_not_allowed", unit=unit_used, units=list(item.units))
        try:
            unit(item.quantity or "", unit_used)
            normalized = float(to_canonical(number, unit_used, item.quantity or ""))
        except UnitError:
            raise InvalidValue("value.unit_not_convertible", unit=unit_used,
                               canonical_unit=canonical or "") from None  # fmt: skip
    else:
        normalized = number
    shown_unit = canonical or ""
    warnings = []
    hard = item.hard_range
    if hard:
        if hard.low is not None and normalized < hard.low:
            raise InvalidValue("value.below_hard_range", value=normalized, low=hard.low,
                               unit=shown_unit)  # fmt: skip
        if hard.high is not None and normalized > hard.high:
            raise InvalidValue("value.above_hard_range", value=normalized, high=hard.high,
                               unit=shown_unit)  # fmt: skip
    plausible = item.plausible_range
    if plausible:
        low, high = plausible.low, plausible.high
        if (low is not None and normalized < low) or (high is not None and normalized > high):
            warnings.append(
                Problem("value.outside_plausible_range", value=normalized, low=low, high=high,
                        unit=shown_unit)
            )  # fmt: skip
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
        by_label = {t.lower(): c.code for c in item.choices for t in c.label.texts().values()}
        if text.lower() in by_label:
            return by_label[text.lower()]
        raise InvalidValue("value.not_a_choice", text=text, choices=codes)
    if kind == DataType.BOOLEAN:
        word = text.lower()
        if word in TRUE_WORDS:
            return "true"
        if word in FALSE_WORDS:
            return "false"
        raise InvalidValue("value.not_yes_or_no", text=text)
    if kind == DataType.DATE:
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise InvalidValue("value.not_a_date", text=text) from None
    if kind == DataType.DATETIME:
        try:
            moment = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
        except ValueError:
            raise InvalidValue("value.not_a_datetime", text=text) from None
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
            raise InvalidValue("value.given_but_missing", status=ValueStatus(entered.status))
        return CheckedValue(item.oid, entered.status, "", None)
    if not text:
        raise InvalidValue("value.empty")
    if item.data_type in (DataType.INTEGER, DataType.FLOAT):
        return _check_numeric(text, entered_unit, item)
    if entered_unit:
        raise InvalidValue("value.takes_no_unit", data_type=item.data_type.value)
    return CheckedValue(
        item.oid, ValueStatus.VALUE, text, None, normalized_text=_check_other(text, item)
    )
