"""The boundary of every service that writes, stated where the service is defined.

``@service(Action.RANDOMIZE, writes=Writes.CLINICAL)`` on a function says, before its first line:

- **the transaction**: the body runs in one ``transaction.atomic()``; the audit rows it records
  are appended together just before that transaction commits (:func:`hepatrial.edc.audit.batched`);
- **the permission**: the actions of the permission table the body may check. The body checks
  them where it finds its participant or site (:func:`hepatrial.edc.services.lookup.participant_for`
  or ``actor.require``), because the site is known only then; a check of an action the
  decorator does not name is a programming error and fails loudly, so the declaration stays true;
- **the lock**: a service that writes clinical data is refused, before anything else, while the
  database is locked. Casebook, visit and form locks are checked where the body finds those
  records (:mod:`hepatrial.edc.services.record_lock`). Database triggers refuse the same
  writes whatever the code path (:mod:`hepatrial.edc.lock_triggers`); a trigger's refusal
  that reaches the boundary becomes the same "locked" problem (:func:`lock_refusal`).

Administration (accounts, sites, the locks themselves) is ``Writes.ADMINISTRATION``: it goes on
while the clinical data are locked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

from django.db import DatabaseError, transaction
from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.lock_triggers import DATABASE_REFUSED, RECORD_REFUSED
from hepatrial.edc.models import DatabaseLock
from hepatrial.edc.permissions import Action, declared_actions
from hepatrial.problems import MESSAGES, Problem, gettext_noop

MESSAGES.update({
    "database.locked": gettext_noop(
        "the database was locked on %(on)s by %(user)s (%(reason)s); nothing can be changed "
        "until an administrator reopens it"
    ),
    "lock.record_refused": gettext_noop(
        "this change touches a locked casebook, visit or form; nothing was saved"
    ),
})  # fmt: skip


class Writes(StrEnum):
    CLINICAL = "clinical"
    """Participants, visits, forms, values, allocations: refused while the database is locked."""
    ADMINISTRATION = "administration"
    """Accounts, sites, locks: allowed while the clinical data are locked."""


class DatabaseLocked(NotAllowed):
    """A change was attempted while the clinical data are locked."""


class RecordLocked(DatabaseLocked):
    """A change touched a locked casebook, visit or form: handled like the database lock (the
    page says so above the form and keeps what was typed)."""


def current_lock() -> DatabaseLock | None:
    return DatabaseLock.objects.filter(unlocked_at=None).order_by("-locked_at").first()


def locked_problem(lock: DatabaseLock) -> Problem:
    return Problem("database.locked", on=timezone.localdate(lock.locked_at), user=lock.locked_by,
                   reason=lock.reason)  # fmt: skip


def refuse_while_database_locked() -> None:
    lock = current_lock()
    if lock is not None:
        raise DatabaseLocked(locked_problem(lock))


def lock_refusal(error: DatabaseError) -> DatabaseLocked | None:
    """The "locked" error a lock trigger's refusal stands for; ``None`` for any other error.

    The one place where a trigger's message becomes what a person reads: a service that missed
    a check, or a write that bypassed the services, still says who locked what and why.
    """
    text = str(error)
    if DATABASE_REFUSED in text:
        lock = current_lock()
        return DatabaseLocked(locked_problem(lock) if lock else Problem("lock.record_refused"))
    if RECORD_REFUSED in text:
        return RecordLocked(Problem("lock.record_refused"))
    return None


F = TypeVar("F", bound=Callable)


def service(*actions: Action, writes: Writes) -> Callable[[F], F]:
    """Declare a write service: its permissions, what it writes, one audited transaction."""

    def declare(body: F) -> F:
        @functools.wraps(body)
        def run(*args, **kwargs):
            token = declared_actions.set(frozenset(actions))
            try:
                with transaction.atomic(), audit.batched():
                    if writes is Writes.CLINICAL:
                        refuse_while_database_locked()
                    return body(*args, **kwargs)
            except DatabaseError as error:
                refused = lock_refusal(error)
                if refused is None:
                    raise
                raise refused from error
            finally:
                declared_actions.reset(token)

        run.actions = frozenset(actions)
        run.writes = writes
        return run  # type: ignore[return-value]

    return declare
