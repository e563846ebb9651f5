"""Simulated participants as the analysis derivation reads them, and their analysis datasets.

Each value the simulator "typed" goes through the capture checks
(:func:`hepatrial.protocol.values.check_value`: unit conversion to the canonical unit, code and
date normalization) and each visit's scores through the same computation capture uses
(:mod:`hepatrial.protocol.derivation`), so the simulated datasets come out of
:func:`hepatrial.analysis.derive.derive_adam` exactly as the database export's do.
"""

from __future__ import annotations

import datetime as dt

from hepatrial.analysis.datasets import AdamDatasets
from hepatrial.analysis.derive import DerivedEntry, FormEntry, ParticipantData, Value, derive_adam
from hepatrial.protocol.derivation import Entered, compute, typed_input
from hepatrial.protocol.model import Protocol
from hepatrial.protocol.roles import Role, form_of, item_with_role, meaning
from hepatrial.protocol.values import CheckedValue, EnteredValue, check_value
from hepatrial.simulate.records import FormRecord, ParticipantRecord, TrialRecords, VisitRecord


def to_adam(records: TrialRecords, protocol: Protocol) -> AdamDatasets:
    """The four analysis datasets of the randomized participants of ``records``."""
    return derive_adam(participant_data(records, protocol), protocol)


def participant_data(records: TrialRecords, protocol: Protocol) -> list[ParticipantData]:
    """The randomized participants of ``records`` as :func:`derive_adam` reads them."""
    return [_participant(p, protocol) for p in records.randomized]


def _checked(protocol: Protocol, items: dict[str, tuple[str, str | None]]) -> dict:
    known = protocol.items()
    return {
        oid: check_value(known[oid], EnteredValue(text, unit))
        for oid, (text, unit) in items.items()
    }


def _value(checked: CheckedValue) -> Value:
    return Value(checked.normalized_text or "", checked.number, checked.text)


def _split(protocol: Protocol, event: str, on: dt.date | None, checked: dict) -> list[FormEntry]:
    """One entry per form the values belong to, in the protocol's form order."""
    by_form: dict[str, dict[str, Value]] = {}
    for oid, value in checked.items():
        by_form.setdefault(form_of(protocol, oid).oid, {})[oid] = _value(value)
    order = [f.oid for f in protocol.forms]
    return [FormEntry(event, form, on, by_form[form]) for form in order if form in by_form]


def _form_event(protocol: Protocol, form: FormRecord) -> str:
    events = protocol.form(form.form_oid).events
    return form.intervention or (events[0] if events else "")


def _participant(p: ParticipantRecord, protocol: Protocol) -> ParticipantData:
    forms: list[FormEntry] = []
    derived: list[DerivedEntry] = []
    latest: dict[str, CheckedValue] = {}
    screening = p.screening_visit
    demographics = _checked(protocol, p.demographics)
    latest |= demographics
    forms += _split(protocol, screening.event_oid, dt.date.fromisoformat(p.screening_date),
                    demographics)  # fmt: skip
    for visit in (screening, *p.visits):
        on = dt.date.fromisoformat(visit.visit_date)
        checked = _checked(protocol, visit.items)
        latest |= checked
        forms += _split(protocol, visit.event_oid, on, checked)
        derived += _scores(protocol, visit, on, checked, latest)
    start = item_with_role(protocol, Role.INFUSION_START)
    for infusion in p.infusions:
        given = infusion.items.get(start.oid) if start else None
        on = dt.date.fromisoformat(given[0][:10]) if given else None
        forms += _split(protocol, _form_event(protocol, infusion), on,
                        _checked(protocol, infusion.items))  # fmt: skip
    for form in (*p.adverse_events, *p.decompensations, p.death, p.transplant, p.end_of_study):
        if form is not None:
            forms += _split(protocol, _form_event(protocol, form), None,
                            _checked(protocol, form.items))  # fmt: skip
    status, ended = _end_of_study(protocol, p)
    return ParticipantData(
        subject=p.screening_number, site=p.site_code,
        randomization_date=dt.date.fromisoformat(p.randomization_date or ""),
        arm=p.arm or "", stratum=p.stratum or "", status=status, ended_on=ended,
        emergency_unblinded=any(d.code == "EMERGENCY_UNBLINDING" for d in p.deviations),
        major_deviation=any(d.major for d in p.deviations), forms=forms, derived=derived,
    )  # fmt: skip


def _end_of_study(protocol: Protocol, p: ParticipantRecord) -> tuple[str, dt.date | None]:
    if p.end_of_study is None:
        return "ongoing", None
    status, ended = item_with_role(protocol, Role.END_OF_STUDY_STATUS), None
    end_date = item_with_role(protocol, Role.END_OF_STUDY_DATE)
    items = p.end_of_study.items
    if end_date and end_date.oid in items:
        ended = dt.date.fromisoformat(items[end_date.oid][0][:10])
    if status is None or status.oid not in items:
        return "ongoing", ended
    return meaning(status, items[status.oid][0]), ended


def _scores(
    protocol: Protocol,
    visit: VisitRecord,
    on: dt.date,
    at_visit: dict[str, CheckedValue],
    latest: dict[str, CheckedValue],
) -> list[DerivedEntry]:
    """The visit's derived items; an input its event does not collect (sex) is the latest value,
    as capture does (``hepatrial.edc.services.derive.compute_derived``)."""
    settings = protocol.score_settings()
    items = protocol.items()
    collected = {i.oid for f in protocol.forms if visit.event_oid in f.events for i in f.items}
    out = []
    for derived in protocol.derived_items:
        if not set(derived.inputs.values()) & set(visit.items):
            continue
        inputs, units = {}, {}
        for name, oid in derived.inputs.items():
            source = at_visit if oid in collected else latest
            value = typed_input(source[oid]) if oid in source else None
            if isinstance(value, Entered):
                value, units[name] = value.value, value.unit
            elif items[oid].canonical_unit:
                units[name] = items[oid].canonical_unit
            inputs[name] = value
        result, _ = compute(derived, inputs, units, settings)
        if result is None:
            continue
        number = float(result) if isinstance(result, int | float) else None
        text = "" if number is not None else str(result)
        out.append(DerivedEntry(visit.event_oid, on, derived.oid, number, text))
    return out
