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


_ORDER = {L.CASEBOOK: 0, L.VISIT: 1, L.FORM: 2}
_HELD = "_hepatrial_open_locks"
"""Where :func:`hold_open_locks` keeps a locked participant's open locks, on the instance."""


def open_locks(participant: Participant) -> list[RecordLock]:
    """The participant's open locks, casebook first."""
    locks = RecordLock.objects.filter(participant=participant, unlocked_at=None)
    return sorted(locks.select_related("visit", "form_record"), key=lambda x: _ORDER[x.level])


def hold_open_locks(participant: Participant) -> None:
    """Read the open locks of ``participant``, whose row the caller has just locked, once for
    the rest of its transaction.

    Locks are opened and lifted only with the participant's row locked
    (:mod:`hepatrial.edc.services.record_lock`), so while the caller holds that row its open
    locks cannot change: the checks of the casebook, then of a visit and a form, made later in
    the same service read them from here instead of asking the database again.
    """
    setattr(participant, _HELD, open_locks(participant))


def _covers(lock: RecordLock, visit: Visit | None, record: FormRecord | None) -> bool:
    if lock.level == L.CASEBOOK:
        return True
    if lock.level == L.VISIT:
        return visit is not None and lock.visit_id == visit.pk
    return record is not None and lock.form_record_id == record.pk


def covering_lock(
    participant: Participant, visit: Visit | None = None, record: FormRecord | None = None
) -> RecordLock | None:
    """The open lock of the casebook, else of ``visit``, else of ``record``; ``None`` if none."""
    held = getattr(participant, _HELD, None)
    if held is not None:
        return next((lock for lock in held if _covers(lock, visit, record)), None)
    wanted = Q(level=L.CASEBOOK)
    if visit is not None:
        wanted |= Q(level=L.VISIT, visit=visit)
    if record is not None:
        wanted |= Q(level=L.FORM, form_record=record)
    found = RecordLock.objects.filter(wanted, participant=participant, unlocked_at=None)
    return min(found.select_related("visit", "form_record"), key=lambda x: _ORDER[x.level],
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
    repeat: int | None = None, record: FormRecord | None = None,
) -> None:  # fmt: skip
    """Raise :class:`RecordLocked` if the casebook, ``visit`` or its record of ``form_oid``
    (``repeat``; a new record, ``None``, cannot be locked yet) is locked. A caller that has read
    the record already passes it as ``record`` instead (an unsaved one cannot be locked yet)."""
    if record is not None and record.pk is None:
        record = None
    elif record is None and visit is not None and form_oid and repeat is not None:
        record = FormRecord.objects.filter(visit=visit, form_oid=form_oid, repeat=repeat).first()
    lock = covering_lock(participant, visit, record)
    if lock is not None:
        raise RecordLocked(lock_problem(lock, participant.screening_number))
