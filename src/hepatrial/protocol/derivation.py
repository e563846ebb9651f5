"""Derived items computed from entered values: the one definition capture and simulation share.

Inputs are given as scores read them: a number as it was typed with the unit it was typed in
(:class:`Entered`, so a bilirubin typed in mg/dL is scored by the mg/dL limits of the protocol's
Child-Pugh table), a date, a choice code, or ``True``/``False``.
"""

from __future__ import annotations

from dataclasses import dataclass

from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol.model import DerivedItem
from hepatrial.protocol.values import CheckedValue
from hepatrial.scores import SCORES, ScoreInputError
from hepatrial.scores.settings import ScoreSettings

BOOLEAN_TEXT = {"true": True, "false": False}


@dataclass(frozen=True)
class Entered:
    """A number as it was typed, in the unit it was typed in: what the scores are given."""

    value: float
    unit: str


def as_entered(text: str, unit: str | None, fallback: object) -> object:
    if not unit:
        return fallback
    try:
        return Entered(float(text.replace(" ", "")), unit)
    except ValueError:
        return fallback


MESSAGES.update({
    "score.inputs_missing": gettext_noop("missing %(inputs)s"),
    "score.input_invalid": gettext_noop("%(argument)s=%(value)s: %(detail)s"),
})  # fmt: skip
"""Why a derived item has no value; kept with its inputs (``detail`` is the score's own English)."""


def compute(
    derived: DerivedItem,
    inputs: dict[str, object],
    units: dict[str, str],
    settings: ScoreSettings,
) -> tuple[object, Problem | str]:
    """The score of ``derived`` from ``inputs`` (by input name), or None and why it is missing."""
    definition = SCORES[derived.score]
    arguments = {name: value for name, value in inputs.items() if value is not None}
    arguments["settings"] = settings
    for name in list(arguments):
        if f"{name}_unit" in definition.inputs and name in units:
            arguments[f"{name}_unit"] = units[name]
    missing = [name for name in definition.required if name not in arguments]
    if missing:
        return None, Problem("score.inputs_missing", inputs=missing)
    try:
        result = definition.function(**arguments)
    except ScoreInputError as exc:
        return None, Problem("score.input_invalid", argument=exc.argument, value=repr(exc.value),
                             detail=exc.problem)  # fmt: skip
    return (result.item() if hasattr(result, "item") else result), ""


def typed_input(value: CheckedValue) -> object:
    """A checked (not yet saved) value as scores read it, like a stored row in ``stored_input``."""
    if value.is_missing:
        return None
    if value.number is not None:
        return as_entered(value.text, value.unit_entered, value.number)
    read = value.comparable()
    return BOOLEAN_TEXT.get(read, read) if isinstance(read, str) else read
