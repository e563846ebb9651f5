"""Record locks: a participant's open locks, and locking or unlocking the casebook, a visit or
a form record with a reason (the monitor, the administrator).

Thin callers of :mod:`hepatrial.edc.services.record_lock`, as the page in ``web/locks.py``. A
role that may not see the arm never finds an intervention visit or form here. While a lock
holds, every change under it is 423 with what the lock says (the form read carries the lock).
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from hepatrial.api.schemas import WRITE_ERRORS, LockOut, lock_out, responses
from hepatrial.edc.permissions import Action, actor_for
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.record_lock import lock_record, locks_of, unlock_record

router = Router()
PATH = "/{screening_number}"


class VisitLockOut(Schema):
    event_oid: str
    visit_repeat: int
    lock: LockOut | None


class LocksOut(Schema):
    casebook: LockOut | None
    visits: list[VisitLockOut] = Field(description="Every visit on file, locked or not.")
    forms: list[LockOut] = Field(description="The open form locks.")
    can_lock: bool


def _locks(actor, screening_number: str) -> dict:
    participant = participant_for(actor, screening_number, Action.VIEW_PARTICIPANTS)
    view = locks_of(actor, participant)

    def shown(lock) -> dict | None:
        return lock_out(lock, screening_number) if lock else None

    return {
        "casebook": shown(view.casebook),
        "visits": [{"event_oid": v.event_oid, "visit_repeat": v.visit_repeat,
                    "lock": shown(v.lock)} for v in view.visits],
        "forms": [shown(lock) for _, _, lock in view.forms],
        "can_lock": view.can_lock,
    }  # fmt: skip


@router.get(PATH + "/locks", response=responses(LocksOut), operation_id="participant_locks",
            summary="A participant's open casebook, visit and form locks")  # fmt: skip
def participant_locks(request: HttpRequest, screening_number: str):
    return _locks(actor_for(request.auth), screening_number)


class LockIn(Schema):
    reason: str = Field(description="Why it is locked or unlocked.")
    event_oid: str = Field("", max_length=64, description="The visit; empty: the casebook.")
    visit_repeat: int = Field(0, ge=0, le=10000)
    form_oid: str = Field("", max_length=64, description="A form at the visit; empty: the visit.")
    repeat: int = Field(0, ge=0, le=10000, description="The form's record (repeating forms).")


def _write(request: HttpRequest, write, screening_number: str, body: LockIn) -> dict:
    actor = actor_for(request.auth)
    write(actor, screening_number, body.reason, event_oid=body.event_oid,
          visit_repeat=body.visit_repeat, form_oid=body.form_oid if body.event_oid else "",
          repeat=body.repeat)  # fmt: skip
    return _locks(actor, screening_number)


@router.post(PATH + "/lock", response=responses(LocksOut, errors=WRITE_ERRORS),
             operation_id="record_lock",
             summary="Lock the casebook, a visit or a form record with a reason")  # fmt: skip
def record_lock_op(request: HttpRequest, screening_number: str, body: LockIn):
    return _write(request, lock_record, screening_number, body)


@router.post(PATH + "/unlock", response=responses(LocksOut, errors=WRITE_ERRORS),
             operation_id="record_unlock",
             summary="Lift the open lock of the casebook, a visit or a form record")  # fmt: skip
def record_unlock_op(request: HttpRequest, screening_number: str, body: LockIn):
    return _write(request, unlock_record, screening_number, body)
