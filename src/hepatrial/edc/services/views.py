"""What a user may see of participants, as plain data for pages and the API.

Blinding is applied here, once: a blinded user's view has no arm, no intervention visits (which
ones exist tells the arm) and no infusion records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from hepatrial.edc.models import (
    AllocationSlot,
    DerivedValue,
    Deviation,
    Participant,
    ParticipantStatus,
    Visit,
)
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.schedule import intervention_codes, visit_status

SHOWN_SCORES = ("D.MELD", "D.MELDNA", "D.CPSCORE", "D.CPCLASS", "D.ALBI")


@dataclass(frozen=True)
class ParticipantRow:
    screening_number: str
    site: str
    status: str
    screened_on: dt.date
    randomization_number: str
    randomization_date: dt.date | None
    stratum: str
    arm: str | None
    next_visit: str
    deviations: int
    emergency_unblinded: bool


@dataclass(frozen=True)
class VisitView:
    event_oid: str
    label: str
    target_date: dt.date | None
    window: str
    visit_date: dt.date | None
    status: str
    scores: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ParticipantView:
    row: ParticipantRow
    visits: list[VisitView]
    failed_criteria: list[str]
    deviations: list[str]


def _visible(deviation: Deviation, hidden_events: set[str], arm_visible: bool) -> bool:
    """Dose deviations and deviations of intervention visits tell the arm: unblinded only."""
    if arm_visible:
        return True
    on_intervention = deviation.visit is not None and deviation.visit.event_oid in hidden_events
    return deviation.kind != "dose" and not on_intervention


def _arms(actor: Actor, participants) -> dict[int, str]:
    visible = [p.pk for p in participants if actor.can(Action.VIEW_ARM, p.site.code)]
    slots = AllocationSlot.objects.filter(participant_id__in=visible)
    return {s.participant_id: s.arm for s in slots}


def _label(protocol, event_oid: str) -> str:
    for event in protocol.events:
        if event.oid == event_oid:
            return event.label.en
    for arm in protocol.arms:
        for intervention in arm.interventions:
            if intervention.code == event_oid:
                return intervention.label.en
    return event_oid


def list_participants(actor: Actor, today: dt.date | None = None) -> list[ParticipantRow]:
    sites = actor.sites_for(Action.VIEW_PARTICIPANTS)
    people = list(
        Participant.objects.filter(site__code__in=sites)
        .select_related("site")
        .order_by("screening_number")
    )
    return _rows(actor, people, today)


def _rows(actor: Actor, people: list[Participant], today: dt.date | None = None):
    """One row per participant, with as many queries for many participants as for one."""
    protocol = active_protocol()[1].protocol
    hidden = intervention_codes(protocol)
    arms = _arms(actor, people)
    today = today or timezone.localdate()
    upcoming: dict[int, Visit] = {}
    for visit in (
        Visit.objects.filter(participant__in=people, status=Visit.Status.PLANNED)
        .exclude(target_date=None)
        .order_by("target_date")
    ):
        if visit.event_oid in hidden and visit.participant_id not in arms:
            continue
        upcoming.setdefault(visit.participant_id, visit)
    deviations: dict[int, int] = {}
    for deviation in Deviation.objects.filter(participant__in=people).select_related("visit"):
        if not _visible(deviation, hidden, deviation.participant_id in arms):
            continue
        deviations[deviation.participant_id] = deviations.get(deviation.participant_id, 0) + 1
    rows = []
    for p in people:
        visit = upcoming.get(p.pk)
        next_visit = ""
        still_in = p.ended_on is None and p.status != ParticipantStatus.SCREEN_FAILED
        if visit is not None and still_in:
            state = visit_status(visit, today)
            next_visit = f"{_label(protocol, visit.event_oid)} {visit.target_date} ({state})"
        rows.append(
            ParticipantRow(
                p.screening_number,
                p.site.code,
                p.get_status_display(),
                p.screened_on,
                p.randomization_number,
                p.randomization_date,
                p.stratum,
                arms.get(p.pk),
                next_visit,
                deviations.get(p.pk, 0),
                p.emergency_unblinded,
            )  # fmt: skip
        )
    return rows


def participant_detail(actor: Actor, screening_number: str) -> ParticipantView:
    participant = participant_for(actor, screening_number, Action.VIEW_PARTICIPANTS)
    [row] = _rows(actor, [participant])
    protocol = active_protocol()[1].protocol
    hidden = intervention_codes(protocol) if row.arm is None else set()
    scores: dict[int, dict[str, str]] = {}
    for derived in DerivedValue.objects.filter(
        visit__participant=participant, item_oid__in=SHOWN_SCORES
    ):
        value = derived.text or (f"{derived.number:.4g}" if derived.number is not None else "")
        scores.setdefault(derived.visit_id, {})[derived.item_oid] = value
    visits = []
    timed_first = sorted(
        participant.visits.all(),
        key=lambda v: (v.target_date is None, v.target_date or dt.date.min, v.event_oid, v.repeat),
    )
    for visit in timed_first:
        if visit.event_oid in hidden:
            continue
        window = (
            f"{visit.window_start} – {visit.window_end}"
            if visit.window_start and visit.window_start != visit.window_end
            else ""
        )
        visits.append(
            VisitView(
                visit.event_oid,
                _label(protocol, visit.event_oid),
                visit.target_date,
                window,
                visit.visit_date,
                visit_status(visit) if visit.target_date else "recorded",
                scores.get(visit.pk, {}),
            )  # fmt: skip
        )
    deviations = [
        d.description
        for d in Deviation.objects.filter(participant=participant)
        .select_related("visit")
        .order_by("detected_at")
        if _visible(d, intervention_codes(protocol), row.arm is not None)
    ]
    return ParticipantView(row, visits, list(participant.failed_criteria), deviations)
