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
  records. Database triggers refuse the same writes whatever the code path
  (:mod:`hepatrial.edc.services.lock`).

Administration (accounts, sites, the locks themselves) is ``Writes.ADMINISTRATION``: it goes on
while the clinical data are locked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from enum import StrEnum
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.models import DatabaseLock
from hepatrial.edc.permissions import Action, declared_actions
from hepatrial.problems import MESSAGES, Problem, gettext_noop

MESSAGES.update({
    "database.locked": gettext_noop(
        "the database was locked on %(on)s by %(user)s (%(reason)s); nothing can be changed "
        "until an administrator reopens it"
    ),
})  # fmt: skip


class Writes(StrEnum):
    CLINICAL = "clinical"
    """Participants, visits, forms, values, allocations: refused while the database is locked."""
    ADMINISTRATION = "administration"
    """Accounts, sites, locks: allowed while the clinical data are locked."""


class DatabaseLocked(NotAllowed):
    """A change was attempted while the clinical data are locked."""


def current_lock() -> DatabaseLock | None:
    return DatabaseLock.objects.filter(unlocked_at=None).order_by("-locked_at").first()


def locked_problem(lock: DatabaseLock) -> Problem:
    return Problem("database.locked", on=timezone.localdate(lock.locked_at), user=lock.locked_by,
                   reason=lock.reason)  # fmt: skip


def refuse_while_database_locked() -> None:
    lock = current_lock()
    if lock is not None:
        raise DatabaseLocked(locked_problem(lock))


F = TypeVar("F", bound=Callable)

checked_unlocked: ContextVar[bool] = ContextVar("checked_unlocked", default=False)
"""Set while a clinical service runs that found the database open: its transaction holds that
answer, so the row-level guard need not ask again for every row."""


def service(*actions: Action, writes: Writes) -> Callable[[F], F]:
    """Declare a write service: its permissions, what it writes, one audited transaction."""

    def declare(body: F) -> F:
        @functools.wraps(body)
        def run(*args, **kwargs):
            token = declared_actions.set(frozenset(actions))
            checked = checked_unlocked.set(False)
            try:
                with transaction.atomic(), audit.batched():
                    if writes is Writes.CLINICAL:
                        refuse_while_database_locked()
                        checked_unlocked.set(True)
                    return body(*args, **kwargs)
            finally:
                checked_unlocked.reset(checked)
                declared_actions.reset(token)

        run.actions = frozenset(actions)
        run.writes = writes
        return run  # type: ignore[return-value]

    return declare
