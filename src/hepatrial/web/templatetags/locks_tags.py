"""Template tags of the lock partials: the locks shown on the participant and form pages."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from hepatrial.edc.errors import NotAllowed, NotFound
from hepatrial.edc.models import RecordLock
from hepatrial.edc.permissions import Action, actor_for
from hepatrial.edc.services.lock_check import lock_problem
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.record_lock import locks_of
from hepatrial.web.errors import problem_text

register = template.Library()


def _url(number: str, **query: object) -> str:
    query = {k: v for k, v in query.items() if v}
    url = reverse("record_lock", args=[number])
    return f"{url}?{urlencode(query)}" if query else url


@register.simple_tag(takes_context=True)
def participant_locks(context, p) -> dict | None:
    """The casebook's and visits' locks, with the URLs to lock or unlock them."""
    actor = actor_for(context["request"].user)
    number = p.row.screening_number
    try:
        participant = participant_for(actor, number, Action.VIEW_PARTICIPANTS)
    except (NotFound, NotAllowed):
        return None
    view = locks_of(actor, participant)
    visits = [{"label": v.label, "lock": v.lock,
               "url": _url(number, event=v.event_oid, visit=v.visit_repeat)}
              for v in view.visits]  # fmt: skip
    any_lock = bool(view.casebook or view.forms or any(v.lock for v in view.visits))
    return {"view": view, "url": _url(number), "visits": visits, "any": any_lock}


@register.simple_tag(takes_context=True)
def form_locks(context, view) -> dict:
    """The lock covering a form page, as a sentence, and whether the user may lock this form."""
    actor = actor_for(context["request"].user)
    lock: RecordLock | None = view.lock
    own = lock is not None and lock.level == RecordLock.Level.FORM
    return {
        "lock": lock,
        "text": problem_text(lock_problem(lock, view.screening_number)) if lock else "",
        "own": own,
        "can_lock": actor.can(Action.LOCK_RECORDS, view.site) and bool(view.version)
        and (lock is None or own) and view.repeat is not None,
        "url": _url(view.screening_number, event=view.event_oid, visit=view.visit_repeat,
                    form=view.form.oid, repeat=view.repeat),
    }  # fmt: skip
