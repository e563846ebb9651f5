"""Derived items (MELD, Child-Pugh, ALBI...) recomputed for a visit whenever an input changes.

Inputs come from the visit's own values in their canonical units; an item the visit's event
does not collect (sex, on the demographics form at screening) is taken from the participant's
most recent value. Each result keeps the inputs it used and the formula version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.models import DerivedValue, ItemValue, Participant, Visit
from hepatrial.edc.permissions import Actor
from hepatrial.edc.services.values import latest_value, stored_value
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol.model import DerivedItem, Protocol
from hepatrial.protocol.values import CheckedValue
from hepatrial.scores import SCORES, ScoreInputError

BOOLEAN_TEXT = {"true": True, "false": False}

MESSAGES.update({
    "score.inputs_missing": gettext_noop("missing %(inputs)s"),
    "score.input_invalid": gettext_noop("%(argument)s=%(value)s: %(detail)s"),
})  # fmt: skip
"""Why a derived item has no value; kept with its inputs (``detail`` is the score's own English)."""


def stored_input(row: ItemValue | None) -> object:
    """A stored value as scores read it: number, date, code, or ``True``/``False``."""
    if row is None:
        return None
    value = stored_value(row)
    return BOOLEAN_TEXT.get(value, value) if isinstance(value, str) else value


def _compute(derived: DerivedItem, inputs: dict[str, object], units: dict[str, str]):
    definition = SCORES[derived.score]
    arguments = {name: value for name, value in inputs.items() if value is not None}
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


def collected_at(protocol: Protocol, event_oid: str) -> set[str]:
    """The items that some form of the event collects."""
    return {item.oid for form in protocol.forms if event_oid in form.events for item in form.items}


def typed_input(value: CheckedValue) -> object:
    """A checked (not yet saved) value as scores read it, like a stored row in ``stored_input``."""
    if value.is_missing:
        return None
    read = value.comparable()
    return BOOLEAN_TEXT.get(read, read) if isinstance(read, str) else read


@dataclass(frozen=True)
class Computed:
    derived: DerivedItem
    value: object
    """The score, or ``None`` when it cannot be computed (``why_missing`` says why)."""
    why_missing: str
    inputs: dict[str, object]
    units: dict[str, str]


def compute_derived(
    participant: Participant, event_oid: str, protocol: Protocol, at_visit: Mapping[str, object]
) -> list[Computed]:
    """Every derived item whose inputs the event collects, computed without saving anything.

    ``at_visit`` holds the visit's input values by item OID, as scores read them; an item the
    event does not collect comes from the participant's most recent stored value. This is the
    one definition of how a score's inputs are gathered: saving and the live preview use it.
    """
    collected = collected_at(protocol, event_oid)
    items = protocol.items()
    results = []
    for derived in protocol.derived_items:
        if not collected & set(derived.inputs.values()):
            continue
        inputs, units = {}, {}
        for name, oid in derived.inputs.items():
            if oid in collected:
                inputs[name] = at_visit.get(oid)
            else:
                inputs[name] = stored_input(latest_value(participant, oid))
            if items[oid].canonical_unit:
                units[name] = items[oid].canonical_unit
        value, why_missing = _compute(derived, inputs, units)
        results.append(Computed(derived, value, why_missing, inputs, units))
    return results


def derive_visit(
    actor: Actor, participant: Participant, visit: Visit, protocol: Protocol
) -> dict[str, object]:
    """Recompute every derived item whose inputs the visit collects; return the new values."""
    at_visit = {
        row.item_oid: stored_input(row)
        for row in ItemValue.objects.filter(form_record__visit=visit, status="value")
    }
    existing = {d.item_oid: d for d in visit.derived.all()}
    results: dict[str, object] = {}
    for computed in compute_derived(participant, visit.event_oid, protocol, at_visit):
        derived, value, why_missing = computed.derived, computed.value, computed.why_missing
        inputs, units = computed.inputs, computed.units
        number = value if isinstance(value, int | float) else None
        text = value if isinstance(value, str) else ""
        version = SCORES[derived.score].formula_version
        record = {"inputs": inputs, "units": units, "missing": why_missing}
        old = existing.get(derived.oid)
        if old is None and value is None:
            continue
        if old and (old.number, old.text, old.formula_version) == (number, text, version):
            results[derived.oid] = value
            continue
        was = _shown(old)
        fields = {"number": number, "text": text, "inputs": _jsonable(record),
                  "formula_version": version, "computed_at": timezone.now()}  # fmt: skip
        if old is None:
            row = DerivedValue.objects.create(visit=visit, item_oid=derived.oid, **fields)
        else:
            row = old
            for name, field_value in fields.items():
                setattr(row, name, field_value)
            row.save(update_fields=list(fields))
        audit.record(
            "derive", username=actor.username, object_type="derivedvalue", object_id=row.pk,
            participant=participant.screening_number, site=participant.site.code,
            item=derived.oid, old=was, new=_shown_value(number, text),
            context={"event": visit.event_oid, "formula": version, **_jsonable(record)},
        )  # fmt: skip
        results[derived.oid] = value
    return results


def _shown(row: DerivedValue | None) -> str:
    return "" if row is None else _shown_value(row.number, row.text)


def _shown_value(number: float | None, text: str) -> str:
    if number is not None:
        return f"{number:g}"
    return text


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value
