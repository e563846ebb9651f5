"""The idle session limit: set by an administrator (stored, audited, bounded), falling back to
``HEPATRIAL_SESSION_IDLE_MINUTES`` (``settings.SESSION_IDLE_SECONDS``) until one is set."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.errors import NotAllowed, ValidationFailed
from hepatrial.edc.models import SessionPolicy
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.services.boundary import Writes, service
from hepatrial.problems import MESSAGES, Problem, gettext_noop

IDLE_MINUTES = (5, 120)
"""The bounds an administrator may choose between, in minutes."""

MESSAGES.update({
    "session.idle_out_of_bounds": gettext_noop(
        "the idle limit is a whole number of minutes from %(low)s to %(high)s"
    ),
    "session.administrator_only": gettext_noop("only an administrator may set the session limits"),
})  # fmt: skip


def idle_seconds() -> int:
    """How long a session may stay idle: the administrator's choice, else the setting."""
    policy = SessionPolicy.objects.order_by("-set_at", "-id").first()
    return policy.idle_minutes * 60 if policy else settings.SESSION_IDLE_SECONDS


@service(Action.MANAGE_USERS, writes=Writes.ADMINISTRATION)
def set_idle_minutes(actor: Actor, minutes: int | str) -> SessionPolicy:
    """Set the idle limit for every session (checked at each session's next request)."""
    if not actor.sites_for(Action.MANAGE_USERS):
        raise NotAllowed(Problem("session.administrator_only"))
    low, high = IDLE_MINUTES
    text = str(minutes).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValidationFailed({"idle_minutes": Problem("session.idle_out_of_bounds", low=low,
                                                        high=high)})  # fmt: skip
    old = idle_seconds() // 60
    policy = SessionPolicy.objects.create(idle_minutes=int(text), set_at=timezone.now(),
                                          set_by=actor.username)  # fmt: skip
    audit.record("session_limit", username=actor.username, object_type="sessionpolicy",
                 object_id=policy.pk, item="idle_minutes", old=old,
                 new=policy.idle_minutes)  # fmt: skip
    return policy
