"""The visit schedule: planned from day 0 by the protocol and the participant's arm."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from hepatrial.edc import audit
from hepatrial.edc.models import Deviation, Participant, Visit
from hepatrial.edc.permissions import Actor
from hepatrial.problems import MESSAGES, PARAM_TYPES, Problem, as_problem, gettext_noop
from hepatrial.protocol.model import EventKind, Label, Protocol

MESSAGES.update({
    "deviation.visit_out_of_window": gettext_noop(
        "%(event)s done on %(on)s, %(days)s day(s) %(side)s"
    ),
})  # fmt: skip


class WindowSide(StrEnum):
    """Which side of its window a visit fell on; its label completes the deviation sentence."""

    BEFORE = "before"
    AFTER = "after"

    @property
    def label(self) -> Promise:
        return (
            _("before its window opens")
            if self == WindowSide.BEFORE
            else _("after its window closed")
        )


PARAM_TYPES["deviation.visit_out_of_window"] = {"side": WindowSide, "on": dt.date.fromisoformat}


def _new_visit(participant: Participant, event_oid: str, repeat: int, target: dt.date | None,
               before: int, after: int) -> Visit:  # fmt: skip
    return Visit(
        participant=participant, event_oid=event_oid, repeat=repeat, target_date=target,
        window_start=target - dt.timedelta(days=before) if target else None,
        window_end=target + dt.timedelta(days=after) if target else None,
    )  # fmt: skip


def _audit_created(actor: Actor, participant: Participant, visit: Visit, blinded: bool) -> None:
    target = visit.target_date
    audit.record(
        "create", username=actor.username, object_type="visit", object_id=visit.pk,
        participant=participant.screening_number, site=participant.site.code,
        item=visit.event_oid, new=target, blinded_content=blinded,
        context={"window": [str(visit.window_start), str(visit.window_end)]} if target else {},
    )  # fmt: skip


def create_visit(actor: Actor, participant: Participant, event_oid: str, *, repeat: int = 0,
                 target: dt.date | None = None, before: int = 0, after: int = 0,
                 blinded: bool = False) -> Visit:  # fmt: skip
    """Create one visit and its audit record; ``blinded`` hides its details from blinded readers."""
    visit = _new_visit(participant, event_oid, repeat, target, before, after)
    visit.save()
    _audit_created(actor, participant, visit, blinded)
    return visit


def record_deviation(
    actor: Actor, participant: Participant, visit: Visit | None, problem: Problem,
    *, blinded: bool,
) -> Problem:  # fmt: skip
    """Record the deviation ``problem`` (code ``deviation.<kind>``) and its audit; return it.

    The English text is kept as the description (and in the audit trail); the parameters are
    stored so that :func:`deviation_problem` can give the deviation in any language.
    """
    kind = problem.code.removeprefix("deviation.")
    deviation = Deviation.objects.create(
        participant=participant, visit=visit, kind=kind, description=problem,
        params=problem.to_json()["params"], detected_at=timezone.now(),
    )  # fmt: skip
    audit.record(
        "deviation", username=actor.username, object_type="deviation", object_id=deviation.pk,
        participant=participant.screening_number, site=participant.site.code,
        new=problem, blinded_content=blinded,
    )  # fmt: skip
    return problem


def deviation_problem(deviation: Deviation) -> Problem:
    """The deviation as a problem to render in the reader's language.

    A deviation recorded before parameters were stored (or of a kind no longer known) reads as
    its English description.
    """
    if deviation.params:
        try:
            return Problem.from_json(
                {"code": f"deviation.{deviation.kind}", "params": deviation.params}
            )
        except (KeyError, TypeError, ValueError):
            pass
    return as_problem(deviation.description)


def plan_visits(
    actor: Actor, participant: Participant, protocol: Protocol, arm: str, day0: dt.date
) -> None:
    """Create the scheduled visits and the arm's intervention visits (e.g. the second infusion).

    Intervention visits carry the intervention code as their event; blinded views leave them out
    because which ones exist reveals the arm. Each visit is audited as :func:`create_visit` does.
    """
    planned = [
        (_new_visit(participant, event.oid, 0, day0 + dt.timedelta(days=event.day),
                    event.window.before, event.window.after), False)
        for event in protocol.scheduled_events(arm)
    ] + [
        (_new_visit(participant, intervention.code, 0,
                    day0 + dt.timedelta(days=intervention.study_day),
                    intervention.window.before, intervention.window.after), True)
        for intervention in protocol.arm(arm).interventions
    ]  # fmt: skip
    Visit.objects.bulk_create([visit for visit, _ in planned])  # one statement, in this order
    for visit, blinded in planned:
        _audit_created(actor, participant, visit, blinded)


def intervention_codes(protocol: Protocol) -> set[str]:
    return {i.code for arm in protocol.arms for i in arm.interventions}


def intervention_forms(protocol: Protocol) -> set[str]:
    return {i.form for arm in protocol.arms for i in arm.interventions}


def timed_events(protocol: Protocol) -> set[str]:
    kinds = (EventKind.SCREENING, EventKind.SCHEDULED)
    return {e.oid for e in protocol.events if e.kind in kinds} | intervention_codes(protocol)


@dataclass(frozen=True)
class VisitState:
    event_oid: str
    repeat: int
    target_date: dt.date | None
    window_start: dt.date | None
    window_end: dt.date | None
    visit_date: dt.date | None
    status: str
    """upcoming, due, overdue, done or missed."""


VISIT_STATUS_LABELS: dict[str, Promise] = {
    "upcoming": _("upcoming"),
    "due": _("due"),
    "overdue": _("overdue"),
    Visit.Status.DONE: _("done"),
    Visit.Status.MISSED: _("missed"),
    "not_expected": _("not expected"),
    "recorded": _("recorded"),
}
"""What :func:`visit_status` returns, as a page shows it in the reader's language."""


ENDED = frozenset({"completed", "withdrawn", "died", "transplanted", "lost"})
"""Participant statuses after which no visit is expected."""
VISIT_STATES = ("upcoming", "due", "overdue", "done", "missed", "not_expected", "recorded")
"""The codes :func:`visit_status` returns; the web translates them."""


def visit_status(
    visit: Visit, today: dt.date | None = None, participant: Participant | None = None
) -> str:
    """Where a visit stands today, as one of :data:`VISIT_STATES`.

    Only a planned visit of a participant still expected to come can be overdue: a screen
    failure's screening visit and a visit after the end of participation (death, transplant,
    withdrawal, loss to follow-up, completion) are ``not_expected``; a planned visit whose window
    closed before the end is ``missed``. A visit without a target date (event log, end of study)
    is ``recorded``. Pass ``participant`` when it is at hand, to save a query.
    """
    if visit.status != Visit.Status.PLANNED:
        return visit.status
    if visit.target_date is None:
        return "recorded"
    participant = participant or visit.participant
    if participant.status == "screen_failed":
        return "not_expected"
    if participant.ended_on is not None or participant.status in ENDED:
        ended_on = participant.ended_on
        closed = ended_on is not None and visit.window_end and visit.window_end < ended_on
        return "missed" if closed else "not_expected"
    today = today or timezone.localdate()
    if visit.window_start and today < visit.window_start:
        return "upcoming"
    if visit.window_end and today > visit.window_end:
        return "overdue"
    return "due"


def event_label(protocol: Protocol, event_oid: str) -> Label | str:
    """The protocol's label of an event or intervention visit, or the code if it has none."""
    return protocol.visit_labels().get(event_oid, event_oid)


def out_of_window(visit: Visit, on: dt.date, protocol: Protocol | None = None) -> Problem | None:
    """Why ``on`` is outside the visit's window (``deviation.visit_out_of_window``), or ``None``.

    The visit is named by its label in ``protocol`` when given, else by its event code.
    """
    if visit.window_start and on < visit.window_start:
        days, side = (visit.window_start - on).days, WindowSide.BEFORE
    elif visit.window_end and on > visit.window_end:
        days, side = (on - visit.window_end).days, WindowSide.AFTER
    else:
        return None
    event = event_label(protocol, visit.event_oid) if protocol else visit.event_oid
    return Problem("deviation.visit_out_of_window", event=event, on=on, days=days,
                   side=side)  # fmt: skip
