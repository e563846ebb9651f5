"""Locking the trial's clinical data (the database lock).

While a lock is open, every clinical write service is refused first by its boundary
(:func:`hepatrial.edc.services.boundary.service`), and every insert, update or delete of a
clinical table by a database trigger (:mod:`hepatrial.edc.lock_triggers`), whichever code
path tries it. Locking and reopening are audited with their reasons.
"""

from __future__ import annotations

from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.errors import NotAllowed, PreconditionFailed, ValidationFailed
from hepatrial.edc.models import DatabaseLock
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.services.boundary import DatabaseLocked, Writes, current_lock, service
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

__all__ = ["DatabaseLocked", "lock_database", "unlock_database"]


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
