"""The dashboard: enrolment against target, screen failures, visits to chase and recent events.

Everything is counted in the database and lists are cut to a few rows, so the dashboard costs
the same number of queries whatever the size of the trial. Roles without participant access
(statistician, data-safety board) get the aggregate enrolment only; the arm breakdown is
:func:`allocation_balance`, which only unblinded roles pass.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Min, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.models import Deviation, FormRecord, ItemValue, Participant, Visit
from hepatrial.edc.models import ParticipantStatus as S
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.enrolment import SEES_ENROLMENT, allocation_balance
from hepatrial.edc.services.listing import overdue_visits, still_expected
from hepatrial.edc.services.queries import SiteQueryCount, site_query_counts
from hepatrial.edc.services.schedule import intervention_codes
from hepatrial.edc.services.views import event_label
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol.model import EventKind, Label, Protocol

MESSAGES.update(
    {"dashboard.no_enrolment": gettext_noop("Your role does not include enrolment reports.")}
)

LISTED = 10
"""Rows shown in each list of the dashboard; the counts cover everything."""


@dataclass(frozen=True)
class Enrolment:
    target: int
    period_start: dt.date
    period_end: dt.date
    screened: int
    screen_failed: int
    randomized: int
    first_randomized: dt.date | None
    projected_completion: dt.date | None
    """When the target is reached at the rate so far (the day it was reached, once it is)."""
    per_month: float
    by_month: list[tuple[dt.date, int]]


@dataclass(frozen=True)
class CriterionCount:
    oid: str
    label: Label
    count: int


@dataclass(frozen=True)
class VisitToChase:
    screening_number: str
    event_oid: str
    label: Label
    target_date: dt.date
    window_end: dt.date | None
    state: str


@dataclass(frozen=True)
class RecentEvent:
    kind: str
    """``form`` (an adverse or decompensation event record) or ``deviation``."""
    screening_number: str
    at: dt.datetime | None
    label: Label | None = None
    summary: Label | str = ""
    deviation_kind: str = ""
    event: Label | None = None


@dataclass(frozen=True)
class Dashboard:
    enrolment: Enrolment | None
    failures: list[CriterionCount]
    sees_participants: bool
    due_count: int = 0
    due: list[VisitToChase] = field(default_factory=list)
    overdue_count: int = 0
    overdue: list[VisitToChase] = field(default_factory=list)
    recent: list[RecentEvent] = field(default_factory=list)
    balance: dict[str, dict[str, int]] | None = None
    queries: list[SiteQueryCount] = field(default_factory=list)


def _months_later(start: dt.date, months: int) -> dt.date:
    year, month = divmod(start.month - 1 + months, 12)
    return start.replace(year=start.year + year, month=month + 1, day=1) - dt.timedelta(days=1)


def projected_completion(
    target: int, count: int, since: dt.date, today: dt.date, reached_on: dt.date | None = None
) -> dt.date | None:
    """The day enrolment reaches ``target`` at the rate since ``since`` (None before anyone)."""
    if reached_on is not None:
        return reached_on
    if count == 0:
        return None
    days = max(1, (today - since).days + 1)
    remaining = target - count
    return today + dt.timedelta(days=round(remaining * days / count))


def enrolment(actor: Actor, today: dt.date | None = None) -> Enrolment:
    sites = sorted({site for action in SEES_ENROLMENT for site in actor.sites_for(action)})
    if not sites:
        raise NotAllowed(Problem("dashboard.no_enrolment"))
    today = today or timezone.localdate()
    study = active_protocol()[1].protocol.study
    people = Participant.objects.filter(site__code__in=sites)
    counts = people.aggregate(
        screened=Count("id"),
        screen_failed=Count("id", filter=Q(status=S.SCREEN_FAILED)),
        randomized=Count("id", filter=~Q(randomization_date=None)),
        first=Min("randomization_date"),
    )
    randomized = people.exclude(randomization_date=None)
    by_month = list(
        randomized.annotate(month=TruncMonth("randomization_date"))
        .values_list("month")
        .annotate(n=Count("id"))
        .order_by("month")
    )
    reached_on = None
    if counts["randomized"] >= study.target_enrolment:
        reached_on = (
            randomized.order_by("randomization_date")
            .values_list("randomization_date", flat=True)[study.target_enrolment - 1]
        )  # fmt: skip
    start = study.enrolment_period.start
    since = min(start, counts["first"]) if counts["first"] else start
    months = max(1.0, ((today - since).days + 1) / 30.4375)
    return Enrolment(
        target=study.target_enrolment,
        period_start=start,
        period_end=_months_later(start, study.enrolment_period.months),
        screened=counts["screened"],
        screen_failed=counts["screen_failed"],
        randomized=counts["randomized"],
        first_randomized=counts["first"],
        projected_completion=projected_completion(
            study.target_enrolment, counts["randomized"], since, today, reached_on
        ),
        per_month=counts["randomized"] / months,
        by_month=[(month, n) for month, n in by_month],
    )


def screen_failures(actor: Actor, protocol: Protocol) -> list[CriterionCount]:
    """Screen failures by failed criterion, in the protocol's order of criteria."""
    sites = sorted({site for action in SEES_ENROLMENT for site in actor.sites_for(action)})
    counts: dict[str, int] = {}
    failed = Participant.objects.filter(site__code__in=sites, status=S.SCREEN_FAILED)
    for criteria in failed.values_list("failed_criteria", flat=True):
        for oid in criteria:
            counts[oid] = counts.get(oid, 0) + 1
    return [
        CriterionCount(c.oid, c.label, counts[c.oid])
        for c in protocol.eligibility
        if c.oid in counts
    ]


def _chase(protocol: Protocol, visits, today: dt.date) -> list[VisitToChase]:
    def state(visit: Visit) -> str:
        if visit.window_end and visit.window_end < today:
            return "overdue"
        return "upcoming" if visit.window_start and today < visit.window_start else "due"

    return [
        VisitToChase(
            v.participant.screening_number,
            v.event_oid,
            event_label(protocol, v.event_oid),
            v.target_date,
            v.window_end,
            state(v),
        )  # fmt: skip
        for v in visits.select_related("participant").order_by("target_date", "id")[:LISTED]
    ]


def _due_this_week(actor: Actor, protocol: Protocol, today: dt.date):
    """Planned visits whose window is open today or opens within seven days."""
    hidden = intervention_codes(protocol)
    return Visit.objects.filter(
        still_expected("participant__"),
        Q(participant__site__code__in=actor.sites_for(Action.VIEW_ARM)) | ~Q(event_oid__in=hidden),
        participant__site__code__in=actor.sites_for(Action.VIEW_PARTICIPANTS),
        status=Visit.Status.PLANNED,
        window_start__lte=today + dt.timedelta(days=7),
        window_end__gte=today,
    )


def _event_forms(protocol: Protocol) -> list[str]:
    """The repeating forms of the protocol's event logs (adverse events, decompensations...)."""
    logs = {e.oid for e in protocol.events if e.kind == EventKind.REPEATING}
    return [f.oid for f in protocol.forms if f.repeating and logs & set(f.events)]


def _summary(protocol: Protocol, form_oid: str, value: ItemValue | None) -> Label | str:
    """A record's first item as shown: the choice label, or the text as entered."""
    if value is None:
        return ""
    item = protocol.form(form_oid).items[0]
    for choice in item.choices or []:
        if choice.code == value.text:
            return choice.label
    return value.text


def recent_events(actor: Actor, protocol: Protocol) -> list[RecentEvent]:
    """The latest event-log records and deviations the actor may see, newest first."""
    sites = actor.sites_for(Action.VIEW_PARTICIPANTS)
    arm_sites = actor.sites_for(Action.VIEW_ARM)
    forms = _event_forms(protocol)
    records = list(
        FormRecord.objects.filter(
            visit__participant__site__code__in=sites, form_oid__in=forms, version__gt=0
        )
        .select_related("visit__participant")
        .order_by("-updated_at", "-id")[:LISTED]
    )
    first_items = {oid: protocol.form(oid).items[0].oid for oid in forms}
    form_of = {r.pk: r.form_oid for r in records}
    values = {
        v.form_record_id: v
        for v in ItemValue.objects.filter(
            form_record__in=records, item_oid__in=set(first_items.values())
        )
        if v.item_oid == first_items[form_of[v.form_record_id]]
    }
    events = [
        RecentEvent(
            "form",
            r.visit.participant.screening_number,
            r.updated_at,
            label=protocol.form(r.form_oid).label,
            summary=_summary(protocol, r.form_oid, values.get(r.pk)),
        )  # fmt: skip
        for r in records
    ]
    hidden = intervention_codes(protocol)
    deviations = (
        Deviation.objects.filter(participant__site__code__in=sites)
        .filter(
            Q(participant__site__code__in=arm_sites)
            | (~Q(kind="dose") & (Q(visit=None) | ~Q(visit__event_oid__in=hidden)))
        )
        .select_related("participant", "visit")
        .order_by("-detected_at", "-id")[:LISTED]
    )
    events += [
        RecentEvent(
            "deviation",
            d.participant.screening_number,
            d.detected_at,
            deviation_kind=d.kind,
            event=event_label(protocol, d.visit.event_oid) if d.visit else None,
        )  # fmt: skip
        for d in deviations
    ]
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(events, key=lambda e: e.at or never, reverse=True)[:LISTED]


def dashboard(actor: Actor, today: dt.date | None = None) -> Dashboard:
    """What the actor's dashboard shows; raises NotAllowed for a role that sees no enrolment."""
    today = today or timezone.localdate()
    protocol = active_protocol()[1].protocol
    try:
        balance = allocation_balance(actor)
    except NotAllowed:
        balance = None
    progress = enrolment(actor, today)
    failures = screen_failures(actor, protocol)
    if not actor.sites_for(Action.VIEW_PARTICIPANTS):
        return Dashboard(progress, failures, sees_participants=False, balance=balance)
    due = _due_this_week(actor, protocol, today)
    overdue = overdue_visits(actor, today)
    return Dashboard(
        progress, failures, sees_participants=True,
        due_count=due.count(), due=_chase(protocol, due, today),
        overdue_count=overdue.count(), overdue=_chase(protocol, overdue, today),
        recent=recent_events(actor, protocol), balance=balance,
        queries=site_query_counts(actor),
    )  # fmt: skip
