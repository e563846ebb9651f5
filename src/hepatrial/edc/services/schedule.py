"""The visit schedule: planned from day 0 by the protocol and the participant's arm."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.models import Deviation, Participant, Visit
from hepatrial.edc.permissions import Actor
from hepatrial.protocol.model import EventKind, Protocol


def create_visit(actor: Actor, participant: Participant, event_oid: str, *, repeat: int = 0,
                 target: dt.date | None = None, before: int = 0, after: int = 0,
                 blinded: bool = False) -> Visit:  # fmt: skip
    """Create one visit and its audit record; ``blinded`` hides its details from blinded readers."""
    visit = Visit.objects.create(
        participant=participant, event_oid=event_oid, repeat=repeat, target_date=target,
        window_start=target - dt.timedelta(days=before) if target else None,
        window_end=target + dt.timedelta(days=after) if target else None,
    )  # fmt: skip
    audit.record(
        "create", username=actor.username, object_type="visit", object_id=visit.pk,
        participant=participant.screening_number, site=participant.site.code,
        item=event_oid, new=target, blinded_content=blinded,
        context={"window": [str(visit.window_start), str(visit.window_end)]} if target else {},
    )  # fmt: skip
    return visit


def record_deviation(
    actor: Actor, participant: Participant, visit: Visit | None, kind: str, description: str,
    *, blinded: bool,
) -> str:  # fmt: skip
    """Record a protocol deviation and its audit record; return its description."""
    deviation = Deviation.objects.create(
        participant=participant, visit=visit, kind=kind, description=description,
        detected_at=timezone.now(),
    )  # fmt: skip
    audit.record(
        "deviation", username=actor.username, object_type="deviation", object_id=deviation.pk,
        participant=participant.screening_number, site=participant.site.code,
        new=description, blinded_content=blinded,
    )  # fmt: skip
    return description


def plan_visits(
    actor: Actor, participant: Participant, protocol: Protocol, arm: str, day0: dt.date
) -> None:
    """Create the scheduled visits and the arm's intervention visits (e.g. the second infusion).

    Intervention visits carry the intervention code as their event; blinded views leave them out
    because which ones exist reveals the arm.
    """
    for event in protocol.scheduled_events(arm):
        target = day0 + dt.timedelta(days=event.day)
        create_visit(actor, participant, event.oid, target=target, before=event.window.before,
                     after=event.window.after)  # fmt: skip
    for intervention in protocol.arm(arm).interventions:
        target = day0 + dt.timedelta(days=intervention.study_day)
        create_visit(actor, participant, intervention.code, target=target,
                     before=intervention.window.before, after=intervention.window.after,
                     blinded=True)  # fmt: skip


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


def out_of_window(visit: Visit, on: dt.date) -> str | None:
    """Why ``on`` is outside the visit's window, or ``None`` when it is inside."""
    if visit.window_start and on < visit.window_start:
        days = (visit.window_start - on).days
        return f"{visit.event_oid} done on {on}, {days} day(s) before its window opens"
    if visit.window_end and on > visit.window_end:
        days = (on - visit.window_end).days
        return f"{visit.event_oid} done on {on}, {days} day(s) after its window closed"
    return None
