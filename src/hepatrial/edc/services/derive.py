"""Derived items (MELD, Child-Pugh, ALBI...) recomputed for a visit whenever an input changes.

Inputs come from the visit's own values in the units they were entered in (a bilirubin typed
in mg/dL is scored by the mg/dL limits of the protocol's Child-Pugh table); an item the visit's
event does not collect (sex, on the demographics form at screening) is taken from the
participant's most recent value. Each result keeps the inputs it used and the formula version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.models import DerivedValue, ItemValue, Participant, Visit
from hepatrial.edc.permissions import Actor
from hepatrial.edc.services.values import ValueRow, latest_value, stored_value
from hepatrial.protocol.derivation import BOOLEAN_TEXT, Entered, as_entered, compute
from hepatrial.protocol.model import DerivedItem, Protocol
from hepatrial.scores import SCORES
from hepatrial.scores.settings import ScoreSettings

Latest = Callable[[str], "ItemValue | ValueRow | None"]
"""The participant's most recent stored value of an item (see :func:`latest_value`)."""


def stored_input(row: ItemValue | ValueRow | None) -> object:
    """A stored value as scores read it: number, date, code, or ``True``/``False``."""
    if row is None:
        return None
    value = stored_value(row)
    if row.number is not None:
        return as_entered(row.text, row.unit_entered, value)
    return BOOLEAN_TEXT.get(value, value) if isinstance(value, str) else value


def collected_at(protocol: Protocol, event_oid: str) -> set[str]:
    """The items that some form of the event collects."""
    return {item.oid for form in protocol.forms if event_oid in form.events for item in form.items}


@dataclass(frozen=True)
class Computed:
    derived: DerivedItem
    value: object
    """The score, or ``None`` when it cannot be computed (``why_missing`` says why)."""
    why_missing: str
    inputs: dict[str, object]
    units: dict[str, str]


def compute_derived(
    participant: Participant, event_oid: str, protocol: Protocol, at_visit: Mapping[str, object],
    latest: Latest | None = None,
) -> list[Computed]:  # fmt: skip
    """Every derived item whose inputs the event collects, computed without saving anything.

    ``at_visit`` holds the visit's input values by item OID, as scores read them; an item the
    event does not collect comes from the participant's most recent stored value (``latest``,
    when the caller holds the participant's values, else :func:`latest_value`). This is the
    one definition of how a score's inputs are gathered: saving and the live preview use it.
    """
    collected = collected_at(protocol, event_oid)
    items = protocol.items()
    settings = protocol.score_settings()
    results = []
    for derived in protocol.derived_items:
        if not collected & set(derived.inputs.values()):
            continue
        inputs, units = {}, {}
        for name, oid in derived.inputs.items():
            if oid in collected:
                value = at_visit.get(oid)
            else:
                row = latest(oid) if latest else latest_value(participant, oid)
                value = stored_input(row)
            if isinstance(value, Entered):
                value, units[name] = value.value, value.unit
            elif items[oid].canonical_unit:
                units[name] = items[oid].canonical_unit
            inputs[name] = value
        value, why_missing = compute(derived, inputs, units, settings)
        results.append(Computed(derived, value, why_missing, inputs, units))
    return results


@dataclass(frozen=True)
class DerivedChange:
    """One derived item of a visit whose stored value or formula version is out of date."""

    item_oid: str
    old: DerivedValue | None
    was: str
    """The old value as shown (empty when there was none)."""
    old_version: str
    fields: dict[str, object]
    """What the row gets: number, text, inputs, formula_version, computed_at."""

    @property
    def now(self) -> str:
        return _shown_value(self.fields["number"], self.fields["text"])


def visit_changes(
    participant: Participant, visit: Visit, protocol: Protocol,
    values: Iterable[ItemValue | ValueRow] | None = None, latest: Latest | None = None,
) -> tuple[dict[str, object], list[DerivedChange]]:  # fmt: skip
    """Every derived item of the visit recomputed from its stored values: (values, changes).

    ``values`` and ``latest``: the visit's item values as they are now and the participant's
    most recent value of an item, when the caller holds them (the save that has just written
    them); otherwise they are read.
    """
    if values is None:
        values = ItemValue.objects.filter(form_record__visit=visit, status="value").order_by("id")
    at_visit = {row.item_oid: stored_input(row) for row in values if row.status == "value"}
    existing = {d.item_oid: d for d in visit.derived.all()}
    results: dict[str, object] = {}
    changes: list[DerivedChange] = []
    settings = protocol.score_settings()
    for computed in compute_derived(participant, visit.event_oid, protocol, at_visit, latest):
        derived, value, why_missing = computed.derived, computed.value, computed.why_missing
        number = value if isinstance(value, int | float) else None
        text = value if isinstance(value, str) else ""
        version = SCORES[derived.score].formula_version
        record = {"inputs": computed.inputs, "units": computed.units, "missing": why_missing,
                  "settings": _settings_used(derived, settings)}  # fmt: skip
        old = existing.get(derived.oid)
        if old is None and value is None:
            continue
        results[derived.oid] = value
        if old and (old.number, old.text, old.formula_version) == (number, text, version):
            continue
        fields = {"number": number, "text": text, "inputs": _jsonable(record),
                  "formula_version": version, "computed_at": timezone.now()}  # fmt: skip
        changes.append(
            DerivedChange(derived.oid, old, _shown(old), old.formula_version if old else "", fields)
        )
    return results, changes


def apply_changes(visit: Visit, changes: list[DerivedChange]) -> list[DerivedValue]:
    """Write ``changes`` (inside the caller's audited transaction): the new rows in one
    statement, the changed ones in another; the rows in the order of ``changes``."""
    rows, new, changed = [], [], []
    for change in changes:
        if change.old is None:
            row = DerivedValue(visit=visit, item_oid=change.item_oid, **change.fields)
            new.append(row)
        else:
            row = change.old
            for name, field_value in change.fields.items():
                setattr(row, name, field_value)
            changed.append(row)
        rows.append(row)
    DerivedValue.objects.bulk_create(new)
    if changed:
        DerivedValue.objects.bulk_update(changed, list(changes[0].fields))
    return rows


def derive_visit(
    actor: Actor, participant: Participant, visit: Visit, protocol: Protocol,
    values: Iterable[ItemValue | ValueRow] | None = None, latest: Latest | None = None,
) -> dict[str, object]:  # fmt: skip
    """Recompute every derived item whose inputs the visit collects; return the new values.

    ``values`` and ``latest``: as :func:`visit_changes` takes them.
    """
    results, changes = visit_changes(participant, visit, protocol, values, latest)
    for change, row in zip(changes, apply_changes(visit, changes), strict=True):
        inputs = change.fields["inputs"]
        audit.record(
            "derive", username=actor.username, object_type="derivedvalue", object_id=row.pk,
            participant=participant.screening_number, site=participant.site.code,
            item=change.item_oid, old=change.was, new=change.now,
            context={"event": visit.event_oid, "formula": change.fields["formula_version"],
                     **inputs},
        )  # fmt: skip
    return results


def _settings_used(derived: DerivedItem, settings: ScoreSettings) -> dict[str, object]:
    """The part of the protocol's score settings that ``derived`` depends on."""
    if derived.score.startswith("child_pugh"):
        return {"child_pugh": settings.child_pugh.as_text()}
    return {"factors": dict(settings.factors)}


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
