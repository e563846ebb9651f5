"""The participant list: search, filters and pages, in a fixed number of queries.

Filtering and paging happen in the database; rows are built only for the page shown, so the list
costs the same with 10 participants as with 10,000.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.models import Participant, ParticipantStatus, Visit
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.schedule import ENDED, intervention_codes
from hepatrial.edc.services.views import ParticipantRow, rows_for
from hepatrial.problems import MESSAGES, Problem, gettext_noop

PER_PAGE = 50

MESSAGES.update(
    {"listing.no_access": gettext_noop("Your role has no access to individual participants.")}
)


@dataclass(frozen=True)
class ParticipantFilter:
    """What the user asked for; empty means everything."""

    query: str = ""
    status: str = ""
    stratum: str = ""
    overdue: bool = False


@dataclass(frozen=True)
class ParticipantPage:
    rows: list[ParticipantRow]
    total: int
    page: int
    pages: int
    per_page: int
    show_arm: bool
    strata: list[str]
    statuses: list[str]
    """Status codes a filter may choose, in the order of :class:`ParticipantStatus`."""


def still_expected(prefix: str = "") -> Q:
    """Participants from whom visits are still expected (not a screen failure, not ended)."""
    return Q(**{f"{prefix}ended_on": None}) & ~Q(
        **{f"{prefix}status__in": [ParticipantStatus.SCREEN_FAILED, *ENDED]}
    )


def overdue_visits(actor: Actor, today: dt.date) -> QuerySet[Visit]:
    """Visits shown as overdue to ``actor``: the SQL twin of ``visit_status(...) == "overdue"``.

    Intervention visits count only at sites where the actor may see the arm.
    """
    hidden = intervention_codes(active_protocol()[1].protocol)
    sites = actor.sites_for(Action.VIEW_PARTICIPANTS)
    arm_sites = actor.sites_for(Action.VIEW_ARM)
    return Visit.objects.filter(
        still_expected("participant__"),
        Q(participant__site__code__in=arm_sites) | ~Q(event_oid__in=hidden),
        participant__site__code__in=sites,
        status=Visit.Status.PLANNED,
        window_end__lt=today,
    )


def matching(actor: Actor, wanted: ParticipantFilter, today: dt.date) -> tuple[QuerySet, QuerySet]:
    """The participants the actor may see, and those of them matching ``wanted`` (search,
    status, stratum, overdue): the two querysets a list is built from."""
    sites = actor.sites_for(Action.VIEW_PARTICIPANTS)
    if not sites:
        raise NotAllowed(Problem("listing.no_access"))
    everyone = Participant.objects.filter(site__code__in=sites)
    people = everyone
    query = wanted.query.strip()
    if query:
        people = people.filter(
            Q(screening_number__icontains=query) | Q(randomization_number__icontains=query)
        )
    if wanted.status:
        people = people.filter(status=wanted.status)
    if wanted.stratum:
        people = people.filter(stratum=wanted.stratum)
    if wanted.overdue:
        late = overdue_visits(actor, today).filter(participant=OuterRef("pk"))
        people = people.filter(Exists(late))
    return everyone, people


def participant_page(
    actor: Actor, wanted: ParticipantFilter = ParticipantFilter(), page: int = 1,
    per_page: int = PER_PAGE, today: dt.date | None = None,
) -> ParticipantPage:  # fmt: skip
    """One page of the participants the actor may see, matching ``wanted``."""
    today = today or timezone.localdate()
    everyone, people = matching(actor, wanted, today)
    total = people.count()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    shown = list(
        people.select_related("site").order_by("screening_number")[start : start + per_page]
    )
    strata = sorted(
        everyone.exclude(stratum="").values_list("stratum", flat=True).distinct().order_by()
    )
    return ParticipantPage(
        rows=rows_for(actor, shown, today),
        total=total,
        page=page,
        pages=pages,
        per_page=per_page,
        show_arm=bool(actor.sites_for(Action.VIEW_ARM)),
        strata=strata,
        statuses=list(ParticipantStatus.values),
    )
