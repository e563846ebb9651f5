"""Locking the trial's clinical data, and the guard that makes a lock hold.

While a lock is open, every save or delete of a clinical model is refused by a model-signal
guard, whichever service, admin page or script tries it: the lock does not rely on each service
remembering to check. Locking and reopening are audited with their reasons.
"""

from __future__ import annotations

from django.db.models.signals import pre_delete, pre_save
from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.errors import NotAllowed, PreconditionFailed, ValidationFailed
from hepatrial.edc.models import (
    AllocationSlot,
    Consent,
    DatabaseLock,
    DerivedValue,
    Deviation,
    EligibilityAssessment,
    FormRecord,
    ItemValue,
    Participant,
    StratumCursor,
    Visit,
)
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.services.boundary import (
    DatabaseLocked,
    Writes,
    checked_unlocked,
    current_lock,
    locked_problem,
    service,
)
from hepatrial.problems import MESSAGES, Problem, gettext_noop

MESSAGES.update({
    "database.lock_administrator_only": gettext_noop(
        "only an administrator may lock or reopen the database"
    ),
    "database.lock_reason_required": gettext_noop(
        "say why the database is locked (e.g. final analysis)"
    ),
    "database.unlock_reason_required": gettext_noop("say why the locked database is reopened"),
    "database.already_locked": gettext_noop("the database is already locked"),
    "database.not_locked": gettext_noop("the database is not locked"),
})  # fmt: skip

LOCKED_MODELS = (
    Participant, EligibilityAssessment, Consent, Visit, FormRecord, ItemValue, DerivedValue,
    Deviation, AllocationSlot, StratumCursor,
)  # fmt: skip
"""Models whose rows may not change while the database is locked."""


def _require(actor: Actor) -> None:
    if not actor.sites_for(Action.LOCK_DATABASE):
        raise NotAllowed(Problem("database.lock_administrator_only"))


@service(Action.LOCK_DATABASE, writes=Writes.ADMINISTRATION)
def lock_database(actor: Actor, reason: str) -> DatabaseLock:
    _require(actor)
    if not reason.strip():
        raise ValidationFailed({"reason": Problem("database.lock_reason_required")})
    if current_lock() is not None:
        raise PreconditionFailed(Problem("database.already_locked"))
    lock = DatabaseLock.objects.create(
        locked_at=timezone.now(), locked_by=actor.username, reason=reason.strip()
    )
    audit.record("lock", username=actor.username, object_type="databaselock",
                 object_id=lock.pk, new="locked", reason=lock.reason)  # fmt: skip
    return lock


@service(Action.LOCK_DATABASE, writes=Writes.ADMINISTRATION)
def unlock_database(actor: Actor, reason: str) -> DatabaseLock:
    _require(actor)
    lock = current_lock()
    if lock is None:
        raise PreconditionFailed(Problem("database.not_locked"))
    if not reason.strip():
        raise ValidationFailed({"reason": Problem("database.unlock_reason_required")})
    lock.unlocked_at, lock.unlocked_by = timezone.now(), actor.username
    lock.unlock_reason = reason.strip()
    lock.save()
    audit.record("unlock", username=actor.username, object_type="databaselock",
                 object_id=lock.pk, old="locked", new="open",
                 reason=lock.unlock_reason)  # fmt: skip
    return lock


def _refuse_while_locked(sender, instance, **kwargs) -> None:
    if checked_unlocked.get():
        return
    lock = current_lock()
    if lock is not None:
        raise DatabaseLocked(locked_problem(lock))


def connect_guard() -> None:
    for model in LOCKED_MODELS:
        pre_save.connect(_refuse_while_locked, sender=model, dispatch_uid=f"lock-{model.__name__}")
        pre_delete.connect(
            _refuse_while_locked, sender=model, dispatch_uid=f"lock-del-{model.__name__}"
        )
