"""What a user may see of participants, as plain data for pages and the API.

Blinding is applied here, once: a blinded user's view has no arm, no intervention visits (which
ones exist tells the arm) and no infusion records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone

from hepatrial.edc.models import (
    AllocationSlot,
    DerivedValue,
    Deviation,
    FormRecord,
    Participant,
    ParticipantStatus,
    Visit,
)
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.schedule import ENDED, intervention_codes, visit_status
from hepatrial.protocol.model import Label, Protocol

S = ParticipantStatus

SHOWN_SCORES = ("meld", "meld_na", "child_pugh_points", "child_pugh_class", "albi")
"""The scores a participant's visit table shows, by score kind, whatever the protocol's OIDs."""


@dataclass(frozen=True)
class NextVisit:
    """The next planned visit of a participant still on study; ``state`` is a visit state code."""

    event_oid: str
    label: Label
    target_date: dt.date
    state: str


@dataclass(frozen=True)
class ParticipantRow:
    screening_number: str
    site: str
    status: str
    """A :class:`ParticipantStatus` code."""
    screened_on: dt.date
    randomization_number: str
    randomization_date: dt.date | None
    stratum: str
    arm: str | None
    next_visit: NextVisit | None
    deviations: int
    emergency_unblinded: bool


@dataclass(frozen=True)
class RecordCount:
    """How many records of a form are on file at a visit (e.g. 3 adverse events)."""

    form_oid: str
    label: Label
    count: int


@dataclass(frozen=True)
class VisitView:
    event_oid: str
    label: Label
    target_date: dt.date | None
    window_start: dt.date | None
    window_end: dt.date | None
    visit_date: dt.date | None
    status: str
    """A visit state code (:data:`hepatrial.edc.services.schedule.VISIT_STATES`)."""
    scores: dict[str, str] = field(default_factory=dict)
    records: list[RecordCount] = field(default_factory=list)
    end_status: str = ""
    """On the visit holding the end-of-study form: the participant's end status code."""


@dataclass(frozen=True)
class DeviationView:
    """A deviation as codes: its kind, the visit's label and when it was found."""

    kind: str
    event: Label | None
    visit_date: dt.date | None
    detected_at: dt.datetime
    description: str


@dataclass(frozen=True)
class ParticipantView:
    row: ParticipantRow
    visits: list[VisitView]
    failed_criteria: list[str]
    deviations: list[str]
    failed_labels: list[Label] = field(default_factory=list)
    deviation_views: list[DeviationView] = field(default_factory=list)
    score_columns: list[tuple[str, Label]] = field(default_factory=list)
    """(derived item OID, label) of each score column, in the order of :data:`SHOWN_SCORES`."""


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


def event_label(protocol: Protocol, event_oid: str) -> Label:
    """The label of a protocol event or of an arm's intervention visit (e.g. infusion 2)."""
    return protocol.visit_labels().get(event_oid) or Label(en=event_oid, zh=event_oid)


def end_forms(protocol: Protocol) -> set[str]:
    """Forms that record the end of participation: a choice item offering the end statuses."""
    return {
        form.oid
        for form in protocol.forms
        for item in form.items
        if item.choices and {c.code for c in item.choices} <= ENDED
    }


def list_participants(actor: Actor, today: dt.date | None = None) -> list[ParticipantRow]:
    sites = actor.sites_for(Action.VIEW_PARTICIPANTS)
    people = list(
        Participant.objects.filter(site__code__in=sites)
        .select_related("site")
        .order_by("screening_number")
    )
    return rows_for(actor, people, today)


def rows_for(
    actor: Actor, people: list[Participant], today: dt.date | None = None
) -> list[ParticipantRow]:
    """One row per participant, with as many queries for many participants as for one.

    ``people`` must come with their site (``select_related("site")``).
    """
    protocol = active_protocol()[1].protocol
    hidden = intervention_codes(protocol)
    arms = _arms(actor, people)
    today = today or timezone.localdate()
    still_in = [
        p.pk for p in people if p.ended_on is None and p.status not in (S.SCREEN_FAILED, *ENDED)
    ]
    upcoming: dict[int, Visit] = {}
    for visit in (
        Visit.objects.filter(participant__in=still_in, status=Visit.Status.PLANNED)
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
        next_visit = None
        if visit is not None:
            next_visit = NextVisit(
                visit.event_oid, event_label(protocol, visit.event_oid), visit.target_date,
                visit_status(visit, today, participant=p),
            )  # fmt: skip
        rows.append(
            ParticipantRow(
                p.screening_number,
                p.site.code,
                p.status,
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


def participant_detail(
    actor: Actor, screening_number: str, today: dt.date | None = None
) -> ParticipantView:
    participant = participant_for(actor, screening_number, Action.VIEW_PARTICIPANTS)
    [row] = rows_for(actor, [participant], today)
    protocol = active_protocol()[1].protocol
    hidden = intervention_codes(protocol) if row.arm is None else set()
    score_items = sorted(
        (d for d in protocol.derived_items if d.score in SHOWN_SCORES),
        key=lambda d: SHOWN_SCORES.index(d.score),
    )
    columns = [(d.oid, d.label) for d in score_items]
    scores: dict[int, dict[str, str]] = {}
    for derived in DerivedValue.objects.filter(
        visit__participant=participant, item_oid__in=[oid for oid, _ in columns]
    ):
        value = derived.text or (f"{derived.number:.4g}" if derived.number is not None else "")
        scores.setdefault(derived.visit_id, {})[derived.item_oid] = value
    records: dict[int, dict[str, int]] = {}
    for visit_id, form_oid, count in (
        FormRecord.objects.filter(visit__participant=participant)
        .values_list("visit_id", "form_oid")
        .annotate(n=Count("id"))
        .order_by("visit_id", "form_oid")
    ):
        records.setdefault(visit_id, {})[form_oid] = count
    forms = {f.oid: f for f in protocol.forms}
    ending = end_forms(protocol)
    ended = participant.status in ENDED
    visits = []
    timed_first = sorted(
        participant.visits.all(),
        key=lambda v: (v.target_date is None, v.target_date or dt.date.min, v.event_oid, v.repeat),
    )
    for visit in timed_first:
        if visit.event_oid in hidden:
            continue
        on_file = records.get(visit.pk, {})
        visits.append(
            VisitView(
                visit.event_oid,
                event_label(protocol, visit.event_oid),
                visit.target_date,
                visit.window_start if visit.window_start != visit.window_end else None,
                visit.window_end if visit.window_start != visit.window_end else None,
                visit.visit_date,
                visit_status(visit, today, participant=participant),
                scores.get(visit.pk, {}),
                [
                    RecordCount(oid, forms[oid].label, n)
                    for oid, n in on_file.items()
                    if oid in forms and visit.target_date is None
                ],
                participant.status if ended and ending & set(on_file) else "",
            )  # fmt: skip
        )
    shown = [
        d
        for d in Deviation.objects.filter(participant=participant)
        .select_related("visit")
        .order_by("detected_at")
        if _visible(d, intervention_codes(protocol), row.arm is not None)
    ]
    deviation_views = [
        DeviationView(
            d.kind,
            event_label(protocol, d.visit.event_oid) if d.visit else None,
            d.visit.visit_date if d.visit else None,
            d.detected_at,
            d.description,
        )  # fmt: skip
        for d in shown
    ]
    criteria = {c.oid: c.label for c in protocol.eligibility}
    failed = list(participant.failed_criteria)
    return ParticipantView(
        row, visits, failed, [d.description for d in shown],
        [criteria[c] for c in failed if c in criteria], deviation_views, columns,
    )  # fmt: skip
