"""Saving a form: the one write path for item values.

Order of work, all in one transaction: find the participant as the user may see them and check
the role; replay a submission already applied; refuse a save based on a stale version, saying
what changed meanwhile; validate every item (type, unit, hard range, plausible range needing
confirmation, required, cross-item rules); write only what changed, each change audited with
its reason; set the visit date and record a deviation when it is outside the window; recompute
the visit's derived scores; commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.errors import PreconditionFailed, StaleForm, ValidationFailed
from hepatrial.edc.models import (
    AuditEvent,
    FormRecord,
    ItemValue,
    Participant,
    ParticipantStatus,
    Submission,
    Visit,
)
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.boundary import Writes, service
from hepatrial.edc.services.casebook import Casebook
from hepatrial.edc.services.derive import derive_visit
from hepatrial.edc.services.interventions import after_intervention_saved
from hepatrial.edc.services.lock_check import refuse_if_locked
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.queries import update_automatic_queries
from hepatrial.edc.services.review import after_change_saved
from hepatrial.edc.services.rules import check_rules
from hepatrial.edc.services.schedule import (
    create_visit,
    event_label,
    intervention_forms,
    out_of_window,
    record_deviation,
    timed_events,
)
from hepatrial.edc.services.values import ValueRow
from hepatrial.problems import MESSAGES, Problem, gettext_noop, several
from hepatrial.protocol.model import EventKind, Form, Protocol
from hepatrial.protocol.values import CheckedValue, EnteredValue, InvalidValue, check_value

S = ParticipantStatus

MESSAGES.update({
    "form.unknown": gettext_noop("unknown form %(form)s"),
    "form.not_at_event": gettext_noop("%(form)s is not collected at %(event)s"),
    "form.does_not_repeat": gettext_noop("%(form)s does not repeat"),
    "form.not_an_item": gettext_noop("%(item)s is not an item of %(form)s"),
    "form.stale": gettext_noop(
        "%(form)s at %(event)s was changed by someone else after you opened it (version "
        "%(base_version)s → %(current_version)s); nothing was saved. Reload to see: %(changes)s"
    ),
    "form.item_changed": gettext_noop(
        "%(item)s changed from %(old)s to %(new)s by %(user)s at %(at)s"
    ),
    "form.value_empty": gettext_noop("(empty)"),
    "form.reason_required": gettext_noop("a reason is required to change data already saved"),
    "visit.not_scheduled": gettext_noop(
        "%(event)s is not in the schedule of %(participant)s"
    ),
    "visit.does_not_repeat": gettext_noop("%(event)s does not repeat"),
    "visit.date_required": gettext_noop("the visit date is required"),
    "visit.date_before_randomization": gettext_noop(
        "%(date)s is before randomization on %(randomized_on)s"
    ),
    "participant.not_randomized_yet": gettext_noop(
        "%(participant)s is not randomized yet: only screening forms can be entered"
    ),
    "value.required": gettext_noop(
        "required: enter a value or mark it not done, not applicable or unknown"
    ),
})  # fmt: skip
PRE_RANDOMIZATION = {S.SCREENED, S.ELIGIBLE, S.SCREEN_FAILED, S.CONSENTED}


@dataclass(frozen=True)
class SaveResult:
    form_version: int
    changed: list[str] = field(default_factory=list)
    deviations: list[Problem] = field(default_factory=list)
    derived: dict[str, object] = field(default_factory=dict)
    replayed: bool = False


def _form(protocol: Protocol, form_oid: str) -> Form:
    try:
        return protocol.form(form_oid)
    except StopIteration:
        raise ValidationFailed({"form": Problem("form.unknown", form=form_oid)}) from None


def _visit(
    actor: Actor, participant: Participant, protocol: Protocol, form: Form, event_oid: str,
    visit_repeat: int, casebook: Casebook,
) -> Visit:  # fmt: skip
    """The visit of the casebook to save into; a visit created here is not in it yet."""
    is_intervention = form.oid in intervention_forms(protocol)
    if not is_intervention and event_oid not in form.events:
        raise ValidationFailed({"form": Problem("form.not_at_event", form=form.oid,
                                                event=event_oid)})  # fmt: skip
    visit = casebook.visit(event_oid, visit_repeat)
    if visit is not None:
        return visit
    if is_intervention or (event_oid in timed_events(protocol) and protocol.randomized):
        not_scheduled = Problem("visit.not_scheduled", event=event_oid,
                                participant=participant.screening_number)  # fmt: skip
        raise ValidationFailed({"form": not_scheduled})
    event = protocol.event(event_oid)
    if event.kind != EventKind.REPEATING and not event.repeats and visit_repeat:
        raise ValidationFailed({"form": Problem("visit.does_not_repeat", event=event_oid)})
    return create_visit(actor, participant, event_oid, repeat=visit_repeat)


def _check_status(participant: Participant, protocol: Protocol, event_oid: str) -> None:
    screening = {e.oid for e in protocol.events if e.kind == EventKind.SCREENING}
    if event_oid in screening:
        return
    if not protocol.randomized and participant.status == S.CONSENTED:
        return  # enrolled without randomization: consent opens every form
    if participant.status in PRE_RANDOMIZATION:
        raise PreconditionFailed(Problem("participant.not_randomized_yet",
                                         participant=participant.screening_number))  # fmt: skip


def _record(participant: Participant, visit: Visit, form: Form, repeat: int | None) -> FormRecord:
    """The record to save into, its row locked, after refusing a locked visit or record.

    A record not on file yet comes back unsaved: the save inserts it once, with its first
    version (a save that changes nothing still files it, at version 0).
    """
    wanted = repeat if form.repeating else 0
    record = None
    if wanted is not None:
        record = (
            FormRecord.objects.select_for_update()
            .filter(visit=visit, form_oid=form.oid, repeat=wanted)
            .first()
        )
    refuse_if_locked(participant, visit, record=record)
    if repeat is None:
        if not form.repeating:
            repeat = 0
        else:
            last = visit.forms.filter(form_oid=form.oid).order_by("-repeat").first()
            repeat = 0 if last is None else last.repeat + 1
    elif repeat and not form.repeating:
        raise ValidationFailed({"form": Problem("form.does_not_repeat", form=form.oid)})
    if record is None:
        return FormRecord(visit=visit, form_oid=form.oid, repeat=repeat, protocol_hash="")
    record.visit = visit  # the visit already held, not read again through the record
    return record


def _changes_since(record: FormRecord, version: int) -> list[Problem]:
    events = AuditEvent.objects.filter(
        object_type="itemvalue", context__record=record.pk, context__version__gt=version
    ).order_by("id")
    empty = Problem("form.value_empty")
    return [
        Problem("form.item_changed", item=e.item, old=e.old_value or empty,
                new=e.new_value or empty, user=e.username, at=timezone.localtime(e.at))
        for e in events
    ]  # fmt: skip


def _shown(value: ValueRow | CheckedValue | None) -> str:
    if value is None:
        return ""
    if value.status != "value":
        return f"({value.status})"
    unit = value.unit_entered
    return f"{value.text} {unit}" if unit else value.text


def _same(old: ValueRow | None, new: CheckedValue) -> bool:
    return old is not None and (old.status, old.text, old.unit_entered or None) == (
        new.status, new.text, new.unit_entered,
    )  # fmt: skip


def _validate(
    form: Form, values: Mapping[str, EnteredValue], existing: dict[str, ValueRow],
    confirmed: Collection[str],
) -> tuple[dict[str, CheckedValue], dict[str, Problem]]:  # fmt: skip
    items = {item.oid: item for item in form.items}
    errors: dict[str, Problem] = {}
    checked: dict[str, CheckedValue] = {}
    for oid in sorted(set(values) - set(items)):
        errors[oid] = Problem("form.not_an_item", item=oid, form=form.oid)
    for oid, entered in values.items():
        if oid not in items:
            continue
        try:
            value = check_value(items[oid], entered)
        except InvalidValue as exc:
            errors[oid] = exc.problem
            continue
        already_saved = _same(existing.get(oid), value)
        if value.warnings and oid not in confirmed and not already_saved:
            errors[oid] = several(value.warnings)
        checked[oid] = value
    for item in form.items:
        if item.required and item.oid not in checked and item.oid not in existing:
            errors.setdefault(item.oid, Problem("value.required"))
    return checked, errors


@service(Action.ENTER_DATA, Action.ENTER_INTERVENTION, writes=Writes.CLINICAL)
def save_form(
    actor: Actor,
    screening_number: str,
    event_oid: str,
    form_oid: str,
    values: Mapping[str, EnteredValue],
    *,
    base_version: int,
    visit_date: dt.date | None = None,
    reason: str = "",
    confirmed: Collection[str] = (),
    repeat: int | None = 0,
    visit_repeat: int = 0,
    submission_id: str | None = None,
) -> SaveResult:
    """Save ``values`` for one form at one visit; see the module docstring for the order of work.

    ``base_version`` is the form version the user started from (0 for a new form). Items left
    out of ``values`` keep what they had. ``confirmed`` lists items whose out-of-usual-range
    warning the user confirmed. ``repeat=None`` starts a new record of a repeating form.
    """
    protocol_version, loaded = active_protocol()
    protocol = loaded.protocol
    form = _form(protocol, form_oid)
    blinded_form = form.oid in intervention_forms(protocol)
    action = Action.ENTER_INTERVENTION if blinded_form else Action.ENTER_DATA
    participant = participant_for(actor, screening_number, action, lock=True)

    if submission_id:
        done = Submission.objects.filter(submission_id=submission_id).first()
        if done is not None:
            return SaveResult(form_version=done.version, replayed=True)

    _check_status(participant, protocol, event_oid)
    casebook = Casebook.load(participant)
    visit = _visit(actor, participant, protocol, form, event_oid, visit_repeat, casebook)
    if casebook.visit(event_oid, visit_repeat) is None:  # created: read again, in its place
        casebook = Casebook.load(participant)
        visit = casebook.visit(event_oid, visit_repeat)
    record = _record(participant, visit, form, repeat)
    if record.version != base_version:
        changes = _changes_since(record, base_version) if record.pk else []
        stale = Problem("form.stale", form=form.label, event=event_label(protocol, event_oid),
                        base_version=base_version, current_version=record.version,
                        changes=changes)  # fmt: skip
        raise StaleForm(stale, record.version, changes)

    existing = dict(casebook.values_of(visit, form.oid, record.repeat))
    checked, errors = _validate(form, values, existing, set(confirmed))
    errors |= _visit_date_errors(participant, protocol, visit, visit_date)
    errors |= check_rules(protocol, participant, form, checked, existing, casebook.latest)
    changed = [oid for oid, value in checked.items() if not _same(existing.get(oid), value)]
    date_changes = visit_date is not None and visit_date != visit.visit_date
    if (changed or (date_changes and visit.visit_date)) and record.version and not reason.strip():
        errors["reason"] = Problem("form.reason_required")
    if errors:
        raise ValidationFailed(errors)
    if not changed and not date_changes:
        if record.pk is None:
            record.save()
        return SaveResult(form_version=record.version)

    old_shown = {oid: _shown(existing.get(oid)) for oid in changed}
    new_version = record.version + 1
    record.version = new_version
    record.updated_at, record.updated_by_id = timezone.now(), actor.user_id
    record.protocol_hash = protocol_version.content_hash
    record.protocol_version = protocol_version
    record.save()
    where = {"form": form.oid, "event": event_oid, "record": record.pk, "version": new_version}
    rows = _write_values(record, [checked[oid] for oid in changed], existing)
    casebook.saved(visit, record, rows)
    for oid, row in zip(changed, rows, strict=True):
        value, old = checked[oid], existing.get(oid)
        audit.record(
            "change" if old else "create", username=actor.username, object_type="itemvalue",
            object_id=row.pk, participant=participant.screening_number,
            site=participant.site.code, item=oid, old=old_shown[oid], new=_shown(value),
            reason=reason.strip(), blinded_content=blinded_form,
            context=where | ({"warnings_confirmed": stored_warnings(value)}
                             if value.warnings else {}),
        )  # fmt: skip

    deviations = _set_visit_date(actor, participant, visit, visit_date, reason, blinded_form,
                                 protocol)  # fmt: skip
    if deviations:  # a visit-window deviation, which the automatic queries read
        casebook.out_of_window.add(visit.pk)
    if blinded_form and participant.status == S.RANDOMIZED:
        participant.status = S.ON_STUDY
        participant.save(update_fields=["status"])
        audit.record(
            "status", username=actor.username, object_type="participant",
            object_id=participant.pk, participant=participant.screening_number,
            site=participant.site.code, item="status", old=S.RANDOMIZED, new=S.ON_STUDY,
        )  # fmt: skip
    at_visit = casebook.values_at(visit)
    derived = derive_visit(actor, participant, visit, protocol, at_visit, casebook.latest)
    after_change_saved(actor, participant, visit, record, changed, protocol=protocol,
                       replaced=[oid for oid in changed if oid in existing])  # fmt: skip
    if blinded_form:
        deviations += after_intervention_saved(actor, participant, visit, protocol, at_visit)
    update_automatic_queries(actor, participant, protocol, casebook)
    if submission_id:
        Submission.objects.create(
            submission_id=submission_id, form_record=record, version=new_version
        )
    return SaveResult(new_version, changed, deviations, derived)


VALUE_FIELDS = ["status", "text", "unit_entered", "number", "normalized_text", "canonical_unit",
                "warnings"]  # fmt: skip
"""What a save writes of an item value (the keys of ``fields`` in :func:`_write_values`)."""


def stored_warnings(value: CheckedValue) -> list[dict]:
    """The confirmed warnings as stored: each problem's code and parameters, so that a reader
    gets them in their own language (a plain string would keep only the English)."""
    return [warning.to_json() for warning in value.warnings]


def _write_values(
    record: FormRecord, values: list[CheckedValue], existing: dict[str, ValueRow]
) -> list[ItemValue]:
    """Update the rows that exist in one statement, insert the new ones in another; the rows in
    input order."""
    rows, new, updated = [], [], []
    for value in values:
        fields = {
            "status": value.status, "text": value.text, "unit_entered": value.unit_entered or "",
            "number": value.number, "normalized_text": value.normalized_text or "",
            "canonical_unit": value.canonical_unit or "", "warnings": stored_warnings(value),
        }  # fmt: skip
        row = ItemValue(form_record=record, item_oid=value.item_oid, **fields)
        old = existing.get(value.item_oid)
        if old is None:
            new.append(row)
        else:
            row.pk = old.id
            updated.append(row)
        rows.append(row)
    if updated:
        ItemValue.objects.bulk_update(updated, VALUE_FIELDS)
    ItemValue.objects.bulk_create(new)
    return rows


def _visit_date_errors(
    participant: Participant, protocol: Protocol, visit: Visit, visit_date: dt.date | None
) -> dict[str, Problem]:
    timed = visit.event_oid in timed_events(protocol) or visit.event_oid in {
        e.oid for e in protocol.events if e.kind == EventKind.UNSCHEDULED
    }
    if visit_date is None:
        if timed and visit.visit_date is None and visit.target_date is not None:
            return {"visit_date": Problem("visit.date_required")}
        return {}
    if visit_date > timezone.localdate():
        return {"visit_date": Problem("date.in_future", date=visit_date)}
    day0 = participant.randomization_date
    if day0 and visit.target_date and visit.target_date >= day0 and visit_date < day0:
        return {"visit_date": Problem("visit.date_before_randomization", date=visit_date,
                                      randomized_on=day0)}  # fmt: skip
    return {}


def _set_visit_date(
    actor: Actor, participant: Participant, visit: Visit, visit_date: dt.date | None,
    reason: str, blinded: bool, protocol: Protocol,
) -> list[Problem]:  # fmt: skip
    if visit_date is None or visit_date == visit.visit_date:
        if visit.status != Visit.Status.DONE and visit.visit_date:
            visit.status = Visit.Status.DONE
            visit.save(update_fields=["status"])
        return []
    old = visit.visit_date
    visit.visit_date, visit.status = visit_date, Visit.Status.DONE
    visit.save(update_fields=["visit_date", "status"])
    audit.record(
        "change" if old else "create", username=actor.username, object_type="visit",
        object_id=visit.pk, participant=participant.screening_number,
        site=participant.site.code, item="visit_date", old=old, new=visit_date,
        reason=reason.strip(), blinded_content=blinded, context={"event": visit.event_oid},
    )  # fmt: skip
    outside = out_of_window(visit, visit_date, protocol)
    if outside is None:
        return []
    return [record_deviation(actor, participant, visit, outside, blinded=blinded)]
