"""The explicit check of casebook, visit and form locks, made where a write service finds the
records it will change: :func:`~hepatrial.edc.services.lookup.participant_for` (``lock=True``)
for the casebook, ``save_form`` for the visit and the form. The database triggers
(:mod:`hepatrial.edc.lock_triggers`) refuse the same rows whatever the code path; this check
comes first so that the refusal says which lock, when, by whom and why.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from hepatrial.edc.models import FormRecord, Participant, RecordLock, Visit
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.boundary import RecordLocked
from hepatrial.edc.services.schedule import event_label
from hepatrial.problems import MESSAGES, Problem, gettext_noop

L = RecordLock.Level

MESSAGES.update({
    "lock.casebook_locked": gettext_noop(
        "the casebook of %(participant)s was locked on %(on)s by %(user)s (%(reason)s); "
        "nothing in it can be changed until it is unlocked"
    ),
    "lock.visit_locked": gettext_noop(
        "%(visit)s of %(participant)s was locked on %(on)s by %(user)s (%(reason)s); "
        "nothing in it can be changed until it is unlocked"
    ),
    "lock.form_locked": gettext_noop(
        "%(form)s at %(visit)s of %(participant)s was locked on %(on)s by %(user)s "
        "(%(reason)s); it cannot be changed until it is unlocked"
    ),
})  # fmt: skip


def open_locks(participant: Participant) -> list[RecordLock]:
    """The participant's open locks, casebook first."""
    locks = RecordLock.objects.filter(participant=participant, unlocked_at=None)
    order = {L.CASEBOOK: 0, L.VISIT: 1, L.FORM: 2}
    return sorted(locks.select_related("visit", "form_record"), key=lambda x: order[x.level])


def covering_lock(
    participant: Participant, visit: Visit | None = None, record: FormRecord | None = None
) -> RecordLock | None:
    """The open lock of the casebook, else of ``visit``, else of ``record``; ``None`` if none."""
    wanted = Q(level=L.CASEBOOK)
    if visit is not None:
        wanted |= Q(level=L.VISIT, visit=visit)
    if record is not None:
        wanted |= Q(level=L.FORM, form_record=record)
    found = RecordLock.objects.filter(wanted, participant=participant, unlocked_at=None)
    order = {L.CASEBOOK: 0, L.VISIT: 1, L.FORM: 2}
    return min(found.select_related("visit", "form_record"), key=lambda x: order[x.level],
               default=None)  # fmt: skip


def lock_problem(lock: RecordLock, screening_number: str) -> Problem:
    """What a lock says: which record, when, by whom and why."""
    when = {"on": timezone.localdate(lock.locked_at), "user": lock.locked_by,
            "reason": lock.reason, "participant": screening_number}  # fmt: skip
    if lock.level == L.CASEBOOK:
        return Problem("lock.casebook_locked", **when)
    protocol = active_protocol()[1].protocol
    visit = event_label(protocol, lock.visit.event_oid)
    if lock.level == L.VISIT:
        return Problem("lock.visit_locked", visit=visit, **when)
    form = next((f.label for f in protocol.forms if f.oid == lock.form_record.form_oid),
                lock.form_record.form_oid)  # fmt: skip
    return Problem("lock.form_locked", form=form, visit=visit, **when)


def refuse_if_locked(
    participant: Participant, visit: Visit | None = None, *, form_oid: str = "",
    repeat: int | None = None,
) -> None:  # fmt: skip
    """Raise :class:`RecordLocked` if the casebook, ``visit`` or its record of ``form_oid``
    (``repeat``; a new record, ``None``, cannot be locked yet) is locked."""
    record = None
    if visit is not None and form_oid and repeat is not None:
        record = FormRecord.objects.filter(visit=visit, form_oid=form_oid, repeat=repeat).first()
    lock = covering_lock(participant, visit, record)
    if lock is not None:
        raise RecordLocked(lock_problem(lock, participant.screening_number))
