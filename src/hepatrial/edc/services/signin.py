"""Sign-in lockout: whether an account is locked by failed sign-ins, and its unlocking.

django-axes counts the failures (``AXES_*`` in settings) and refuses the sign-in of a locked
account; here an administrator sees and lifts the lockout, through the same site-scoped rule as
every other change to an account (:mod:`hepatrial.edc.services.accounts`), and it is audited.
"""

from __future__ import annotations

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.errors import PreconditionFailed
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.services.accounts import _require_manages, _user
from hepatrial.edc.services.boundary import Writes, service
from hepatrial.problems import MESSAGES, Problem, gettext_noop

MESSAGES.update({
    "signin.not_locked": gettext_noop("%(username)s is not locked out"),
})  # fmt: skip


def is_locked_out(username: str) -> bool:
    """Whether failed sign-ins have locked ``username`` (until unlocked or the lockout ends)."""
    attempts = AccessAttempt.objects.filter(
        username=username, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    )
    cool_off = get_cool_off()
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts.exists()


@service(Action.MANAGE_USERS, writes=Writes.ADMINISTRATION)
def unlock_user(actor: Actor, username: str) -> None:
    """Lift the lockout of ``username``: its failed sign-ins are forgotten and it may sign in."""
    user = _user(username, lock=True)
    _require_manages(actor, user)
    if not is_locked_out(user.username):
        raise PreconditionFailed(Problem("signin.not_locked", username=user.username))
    reset(username=user.username)
    audit.record("lockout_cleared", username=actor.username, object_type="user",
                 object_id=user.username)  # fmt: skip
