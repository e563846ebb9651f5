"""What a visit form page shows, and the scores a form would give, read without saving anything.

A form page is generated from the protocol: :func:`form_view` gathers the form, the visit (its
date and window), what is saved (each value as it was typed, with its unit and status), the
visit's derived scores and, for a repeating form, the records already on file.
:func:`preview_scores` computes the derived items from values still being typed, through the
same :func:`~hepatrial.edc.services.derive.compute_derived` a save uses.

Blinding: an intervention form (the infusion record) and the intervention visits exist only for
users who may enter them; for everyone else they are "not found", like an unknown form.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hepatrial.edc.errors import NotFound
from hepatrial.edc.models import (
    DerivedValue,
    FormRecord,
    ItemValue,
    Participant,
    RecordLock,
    Submission,
    Visit,
)
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.derive import compute_derived, stored_input
from hepatrial.edc.services.forms import PRE_RANDOMIZATION
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.record_lock import form_lock
from hepatrial.edc.services.schedule import intervention_codes, timed_events
from hepatrial.edc.services.views import VisitView
from hepatrial.protocol.derivation import typed_input
from hepatrial.protocol.model import DerivedItem, EventKind, Form, Label, Protocol
from hepatrial.protocol.values import EnteredValue, InvalidValue, check_value
from hepatrial.scores import SCORES


@dataclass(frozen=True)
class SavedValue:
    """One saved item value as the user typed it."""

    text: str
    unit: str
    status: str
    code: str
    """The normalized value of a choice, boolean (``true``/``false``), date or date-time."""


@dataclass(frozen=True)
class RecordSummary:
    """One record of a repeating form, for a list of the records on file."""

    repeat: int
    version: int
    values: dict[str, SavedValue]


@dataclass(frozen=True)
class Score:
    derived: DerivedItem
    value: object
    """The score, or ``None`` when it cannot be computed yet."""
    missing: list[Label] = field(default_factory=list)
    """Labels of the items the score still needs (empty when the values given are refused)."""


@dataclass(frozen=True)
class FormView:
    screening_number: str
    site: str
    event_oid: str
    event_label: Label
    event_kind: str
    """The protocol's event kind, or ``intervention`` for an arm's intervention visit."""
    form: Form
    repeat: int | None
    """The record of a repeating form; ``None`` for a new one."""
    visit_repeat: int
    version: int
    values: dict[str, SavedValue]
    visit_date: dt.date | None
    window_start: dt.date | None
    window_end: dt.date | None
    scores: list[Score]
    records: list[RecordSummary]
    can_edit: bool
    """The role may enter data here and no casebook, visit or form lock covers the form."""
    takes_visit_date: bool
    lock: RecordLock | None = None
    """The open lock covering this form (its casebook's, its visit's or its own)."""


@dataclass(frozen=True)
class _Place:
    protocol: Protocol
    participant: Participant
    form: Form
    event_label: Label
    event_kind: str
    visit: Visit | None


def _intervention(protocol: Protocol, event_oid: str, form_oid: str):
    for arm in protocol.arms:
        for intervention in arm.interventions:
            if intervention.code == event_oid and intervention.form == form_oid:
                return intervention
    return None


def _place(actor: Actor, screening_number: str, event_oid: str, form_oid: str,
           visit_repeat: int) -> _Place:  # fmt: skip
    """Find the participant, form and visit as ``actor`` may see them, or raise NotFound."""
    protocol = active_protocol()[1].protocol
    participant = participant_for(actor, screening_number, Action.VIEW_PARTICIPANTS)
    not_found = NotFound(f"form {form_oid} at {event_oid} not found for {screening_number}")
    form = next((f for f in protocol.forms if f.oid == form_oid), None)
    if form is None:
        raise not_found
    visit = Visit.objects.filter(
        participant=participant, event_oid=event_oid, repeat=visit_repeat
    ).first()
    intervention = _intervention(protocol, event_oid, form_oid)
    if intervention is not None:
        if not actor.can(Action.ENTER_INTERVENTION, participant.site.code) or visit is None:
            raise not_found
        return _Place(protocol, participant, form, intervention.label, "intervention", visit)
    event = next((e for e in protocol.events if e.oid == event_oid), None)
    if event is None or event_oid not in form.events:
        raise not_found
    if visit is None and (event_oid in timed_events(protocol) or
                          (visit_repeat and event.kind != EventKind.REPEATING
                           and not event.repeats)):  # fmt: skip
        raise not_found
    return _Place(protocol, participant, form, event.label, event.kind.value, visit)


def _saved(row: ItemValue) -> SavedValue:
    return SavedValue(row.text, row.unit_entered, row.status, row.normalized_text)


def _summary(record: FormRecord) -> RecordSummary:
    values = {v.item_oid: _saved(v) for v in record.values.all()}
    return RecordSummary(record.repeat, record.version, values)


def _scores_on_file(place: _Place) -> list[Score]:
    in_form = {item.oid for item in place.form.items}
    shown = [d for d in place.protocol.derived_items if in_form & set(d.inputs.values())]
    if place.visit is None or not shown:
        return []
    rows = {d.item_oid: d for d in DerivedValue.objects.filter(visit=place.visit)}
    scores = []
    for derived in shown:
        row = rows.get(derived.oid)
        if row is not None:
            scores.append(Score(derived, row.text or row.number))
    return scores


def form_view(
    actor: Actor, screening_number: str, event_oid: str, form_oid: str, *,
    repeat: int | None = 0, visit_repeat: int = 0,
) -> FormView:  # fmt: skip
    """The form page's content; :class:`NotFound` for a form, visit or record the user can't see.

    ``repeat=None`` is a new record of a repeating form.
    """
    place = _place(actor, screening_number, event_oid, form_oid, visit_repeat)
    form, visit = place.form, place.visit
    if repeat and not form.repeating:
        raise NotFound(f"{form_oid} does not repeat")
    records = []
    if visit is not None and form.repeating:
        on_file = visit.forms.filter(form_oid=form_oid).prefetch_related("values")
        records = [_summary(r) for r in on_file.order_by("repeat")]
    version, values = 0, {}
    if repeat is not None:
        record = None
        if visit is not None:
            record = visit.forms.filter(form_oid=form_oid, repeat=repeat).first()
        if record is None and form.repeating:
            raise NotFound(f"record {repeat} of {form_oid} not found")
        if record is not None:
            version = record.version
            values = {v.item_oid: _saved(v) for v in record.values.all()}
    site = place.participant.site.code
    action = Action.ENTER_INTERVENTION if place.event_kind == "intervention" else Action.ENTER_DATA
    lock, _ = form_lock(place.participant, event_oid, visit_repeat, form_oid, repeat)
    return FormView(
        screening_number, site, event_oid, place.event_label, place.event_kind, form, repeat,
        visit_repeat, version, values,
        visit.visit_date if visit else None, visit.window_start if visit else None,
        visit.window_end if visit else None, _scores_on_file(place), records,
        actor.can(action, site) and lock is None, place.event_kind != EventKind.REPEATING.value,
        lock,
    )  # fmt: skip


def needs_confirmation(form: Form, values: Mapping[str, EnteredValue]) -> set[str]:
    """Items whose entered value is valid but outside the usual range, so it needs confirming."""
    items = {item.oid: item for item in form.items}
    flagged = set()
    for oid, entered in values.items():
        if oid not in items:
            continue
        try:
            if check_value(items[oid], entered).warnings:
                flagged.add(oid)
        except InvalidValue:
            continue
    return flagged


def preview_scores(
    actor: Actor, screening_number: str, event_oid: str, form_oid: str,
    values: Mapping[str, EnteredValue], *, visit_repeat: int = 0,
) -> list[Score]:  # fmt: skip
    """The derived scores the form would give with ``values``, computed without saving.

    Inputs: the values typed on this form (an empty or invalid one counts as missing), the
    visit's other saved values, and the participant's latest value for what the visit does
    not collect, as :func:`~hepatrial.edc.services.derive.compute_derived` gathers them.
    """
    place = _place(actor, screening_number, event_oid, form_oid, visit_repeat)
    in_form = {item.oid: item for item in place.form.items}
    at_visit: dict[str, object] = {}
    if place.visit is not None:
        rows = ItemValue.objects.filter(form_record__visit=place.visit, status="value")
        at_visit = {row.item_oid: stored_input(row) for row in rows}
    for oid, item in in_form.items():
        at_visit[oid] = None
        if oid in values:
            with contextlib.suppress(InvalidValue):
                at_visit[oid] = typed_input(check_value(item, values[oid]))
    items = place.protocol.items()
    scores = []
    for computed in compute_derived(place.participant, event_oid, place.protocol, at_visit):
        derived = computed.derived
        if not set(in_form) & set(derived.inputs.values()):
            continue
        required = SCORES[derived.score].required
        missing = [
            items[oid].label
            for name, oid in derived.inputs.items()
            if name in required and computed.inputs.get(name) is None
        ]
        scores.append(Score(derived, computed.value, missing))
    return scores


def saved_repeat(actor: Actor, submission_id: str) -> int | None:
    """The record a submission saved (a new repeating record learns its number this way)."""
    done = (
        Submission.objects.filter(
            submission_id=submission_id,
            form_record__visit__participant__site__code__in=list(actor.roles),
        )
        .select_related("form_record")
        .first()
    )
    return None if done is None else done.form_record.repeat


@dataclass(frozen=True)
class FormLink:
    form: Form
    saved: bool


@dataclass(frozen=True)
class VisitEntry:
    event_oid: str
    visit_repeat: int
    label: Label
    status: str
    target_date: dt.date | None
    visit_date: dt.date | None
    forms: list[FormLink]
    intervention: bool = False


@dataclass(frozen=True)
class LogForm:
    """A repeating form (adverse events, decompensation events) and its records on file."""

    form: Form
    event_oid: str
    records: list[RecordSummary]


@dataclass(frozen=True)
class DataEntry:
    visits: list[VisitEntry]
    log_forms: list[LogForm]
    new_visits: list[VisitEntry]
    """Unscheduled events not on file yet (an unscheduled visit, end of study...)."""
    can_enter: bool


def data_entry(actor: Actor, screening_number: str, visits: Sequence[VisitView]) -> DataEntry:
    """The forms a user may open for a participant, visit by visit, from the participant's
    ``visits`` as :func:`~hepatrial.edc.services.views.participant_detail` shows them.

    Intervention visits are listed only for users who may enter them.
    """
    protocol = active_protocol()[1].protocol
    participant = participant_for(actor, screening_number, Action.VIEW_PARTICIPANTS)
    site = participant.site.code
    infusions = {
        i.code: i.form for arm in protocol.arms for i in arm.interventions
    } if actor.can(Action.ENTER_INTERVENTION, site) else {}  # fmt: skip
    hidden = intervention_codes(protocol) - set(infusions)
    events = {e.oid: e for e in protocol.events}
    labels = protocol.visit_labels()
    records = list(
        FormRecord.objects.filter(visit__participant=participant)
        .exclude(visit__event_oid__in=hidden)
        .select_related("visit")
        .prefetch_related("values")
        .order_by("repeat")
    )
    saved = {(r.visit.event_oid, r.visit.repeat, r.form_oid) for r in records if r.version}
    seen: dict[str, int] = {}
    entries = []
    for visit in visits:
        if visit.event_oid in hidden:
            continue
        repeat = seen.get(visit.event_oid, 0)
        seen[visit.event_oid] = repeat + 1
        if visit.event_oid in infusions:
            forms = [protocol.form(infusions[visit.event_oid])]
        elif visit.event_oid in events and events[visit.event_oid].kind != EventKind.REPEATING:
            forms = _forms_at(protocol, visit.event_oid)
        else:
            continue
        links = [FormLink(f, (visit.event_oid, repeat, f.oid) in saved) for f in forms]
        entries.append(VisitEntry(visit.event_oid, repeat, labels[visit.event_oid], visit.status,
                                  visit.target_date, visit.visit_date, links,
                                  visit.event_oid in infusions))  # fmt: skip
    randomized = participant.status not in PRE_RANDOMIZATION
    log_forms, new_visits = [], []
    if randomized:
        for form in protocol.forms:
            if not form.repeating:
                continue
            for event_oid in form.events:
                on_file = [
                    _summary(r)
                    for r in records
                    if r.form_oid == form.oid and r.visit.event_oid == event_oid and r.version
                ]
                log_forms.append(LogForm(form, event_oid, on_file))
        for event in protocol.events:
            forms = _forms_at(protocol, event.oid)
            once = not event.repeats and event.oid in seen
            if event.kind != EventKind.UNSCHEDULED or once or not forms:
                continue
            links = [FormLink(f, False) for f in forms]
            new_visits.append(
                VisitEntry(event.oid, seen.get(event.oid, 0), event.label, "", None, None, links)
            )
    return DataEntry(entries, log_forms, new_visits, actor.can(Action.ENTER_DATA, site))


def _forms_at(protocol: Protocol, event_oid: str) -> list[Form]:
    return [f for f in protocol.forms if event_oid in f.events and not f.repeating]
