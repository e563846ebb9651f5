"""Locking and unlocking a casebook, a visit or a form record, with reasons.

The roles of ``lock_records`` (the monitor, the administrator) lock what they have reviewed;
while a lock is open nothing under it changes: the services refuse with the lock's date, user
and reason (:mod:`hepatrial.edc.services.lock_check`) and the database triggers refuse every
other path (:mod:`hepatrial.edc.lock_triggers`). Locks are clinical-data decisions, so they are
refused, like every clinical write, while the whole database is locked. A blinded role never
finds an intervention visit or form here, as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.errors import NotFound, PreconditionFailed, ValidationFailed
from hepatrial.edc.models import FormRecord, Participant, RecordLock, Visit
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.boundary import Writes, service
from hepatrial.edc.services.lock_check import covering_lock, lock_problem, open_locks
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.schedule import event_label, intervention_codes, intervention_forms
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol.model import Label

L = RecordLock.Level

MESSAGES.update({
    "lock.reason_required": gettext_noop("say why it is locked (e.g. source data verified)"),
    "lock.unlock_reason_required": gettext_noop("say why it is unlocked"),
    "lock.already_locked": gettext_noop("it is already locked"),
    "lock.not_locked": gettext_noop("it is not locked"),
    "lock.nothing_entered": gettext_noop("nothing is entered on this form yet, so nothing to lock"),
    "lock.record_not_found": gettext_noop("no such visit or form for %(participant)s"),
})  # fmt: skip


@dataclass(frozen=True)
class Target:
    """What a lock names: the casebook (no visit), a visit, or a form record at a visit."""

    participant: Participant
    visit: Visit | None = None
    record: FormRecord | None = None

    @property
    def level(self) -> str:
        if self.record is not None:
            return L.FORM
        return L.VISIT if self.visit is not None else L.CASEBOOK


def _hidden(actor: Actor, participant: Participant) -> tuple[set[str], set[str]]:
    """Intervention visits and forms, which a role that may not see the arm never finds."""
    if actor.can(Action.VIEW_ARM, participant.site.code):
        return set(), set()
    protocol = active_protocol()[1].protocol
    return intervention_codes(protocol), intervention_forms(protocol)


def _target(
    actor: Actor, screening_number: str, event_oid: str, visit_repeat: int, form_oid: str,
    repeat: int,
) -> Target:  # fmt: skip
    participant = participant_for(actor, screening_number, Action.LOCK_RECORDS)
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if not event_oid:
        return Target(participant)
    events, forms = _hidden(actor, participant)
    missing = NotFound(Problem("lock.record_not_found", participant=screening_number))
    visit = Visit.objects.filter(participant=participant, event_oid=event_oid,
                                 repeat=visit_repeat).first()  # fmt: skip
    if visit is None or event_oid in events:
        raise missing
    if not form_oid:
        return Target(participant, visit)
    if form_oid in forms:
        raise missing
    record = FormRecord.objects.filter(visit=visit, form_oid=form_oid, repeat=repeat).first()
    if record is None or not record.version:
        raise PreconditionFailed(Problem("lock.nothing_entered"))
    return Target(participant, visit, record)


def _own_lock(target: Target) -> RecordLock | None:
    return RecordLock.objects.filter(
        participant=target.participant, visit=target.visit, form_record=target.record,
        level=target.level, unlocked_at=None,
    ).first()  # fmt: skip


def _audit(actor: Actor, target: Target, lock: RecordLock, action: str, reason: str) -> None:
    context = {"level": lock.level}
    if target.visit is not None:
        context |= {"event": target.visit.event_oid, "visit_repeat": target.visit.repeat}
    if target.record is not None:
        context |= {"form": target.record.form_oid, "repeat": target.record.repeat}
    audit.record(action, username=actor.username, object_type="recordlock", object_id=lock.pk,
                 participant=target.participant.screening_number,
                 site=target.participant.site.code,
                 old="open" if action == "record_lock" else "locked",
                 new="locked" if action == "record_lock" else "open",
                 reason=reason, context=context)  # fmt: skip


@service(Action.LOCK_RECORDS, writes=Writes.CLINICAL)
def lock_record(
    actor: Actor, screening_number: str, reason: str, *, event_oid: str = "",
    visit_repeat: int = 0, form_oid: str = "", repeat: int = 0,
) -> RecordLock:  # fmt: skip
    """Lock the casebook (no ``event_oid``), a visit, or a form record at a visit."""
    target = _target(actor, screening_number, event_oid, visit_repeat, form_oid, repeat)
    if not reason.strip():
        raise ValidationFailed({"reason": Problem("lock.reason_required")})
    if _own_lock(target) is not None:
        raise PreconditionFailed(Problem("lock.already_locked"))
    lock = RecordLock.objects.create(
        level=target.level, participant=target.participant, visit=target.visit,
        form_record=target.record, locked_at=timezone.now(), locked_by=actor.username,
        reason=reason.strip(),
    )  # fmt: skip
    _audit(actor, target, lock, "record_lock", lock.reason)
    return lock


@service(Action.LOCK_RECORDS, writes=Writes.CLINICAL)
def unlock_record(
    actor: Actor, screening_number: str, reason: str, *, event_oid: str = "",
    visit_repeat: int = 0, form_oid: str = "", repeat: int = 0,
) -> RecordLock:  # fmt: skip
    """Lift the open lock of the casebook, a visit or a form record (a lock of the casebook
    does not lift the locks of its visits and forms: each is lifted by its own decision)."""
    target = _target(actor, screening_number, event_oid, visit_repeat, form_oid, repeat)
    lock = _own_lock(target)
    if lock is None:
        raise PreconditionFailed(Problem("lock.not_locked"))
    if not reason.strip():
        raise ValidationFailed({"reason": Problem("lock.unlock_reason_required")})
    lock.unlocked_at, lock.unlocked_by = timezone.now(), actor.username
    lock.unlock_reason = reason.strip()
    lock.save()
    _audit(actor, target, lock, "record_unlock", lock.unlock_reason)
    return lock


@dataclass(frozen=True)
class VisitLock:
    event_oid: str
    visit_repeat: int
    label: Label | str
    lock: RecordLock | None


@dataclass(frozen=True)
class LockView:
    """A participant's locks as the actor may see them (never an intervention visit's lock for
    a role blind to the arm)."""

    screening_number: str
    casebook: RecordLock | None
    visits: list[VisitLock]
    forms: list[tuple[Label | str, Label | str, RecordLock]]
    """(visit label, form label, lock) of each open form lock."""
    can_lock: bool


def locks_of(actor: Actor, participant: Participant) -> LockView:
    """The open locks of ``participant`` (found by the caller as ``actor`` may see it)."""
    protocol = active_protocol()[1].protocol
    events, forms = _hidden(actor, participant)
    locks = open_locks(participant)
    casebook = next((x for x in locks if x.level == L.CASEBOOK), None)
    by_visit = {x.visit_id: x for x in locks if x.level == L.VISIT}
    labels = {f.oid: f.label for f in protocol.forms}
    visits = [
        VisitLock(v.event_oid, v.repeat, event_label(protocol, v.event_oid), by_visit.get(v.pk))
        for v in participant.visits.exclude(event_oid__in=events)
    ]
    form_locks = [
        (event_label(protocol, x.visit.event_oid),
         labels.get(x.form_record.form_oid, x.form_record.form_oid), x)
        for x in locks
        if x.level == L.FORM and x.visit.event_oid not in events
        and x.form_record.form_oid not in forms
    ]  # fmt: skip
    can_lock = actor.can(Action.LOCK_RECORDS, participant.site.code)
    return LockView(participant.screening_number, casebook, visits, form_locks, can_lock)


def form_lock(
    participant: Participant, event_oid: str, visit_repeat: int, form_oid: str, repeat: int | None
) -> tuple[RecordLock | None, RecordLock | None]:
    """(the lock covering this form page — casebook, visit or form —, the form's own lock)."""
    visit = Visit.objects.filter(participant=participant, event_oid=event_oid,
                                 repeat=visit_repeat).first()  # fmt: skip
    record = None
    if visit is not None and repeat is not None:
        record = visit.forms.filter(form_oid=form_oid, repeat=repeat).first()
    covering = covering_lock(participant, visit, record)
    own = None
    if record is not None:
        own = RecordLock.objects.filter(level=L.FORM, form_record=record, unlocked_at=None).first()
    return covering, own


__all__ = ["LockView", "form_lock", "lock_problem", "lock_record", "locks_of", "unlock_record"]
