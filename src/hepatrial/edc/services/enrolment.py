"""Enrolment reports: a blinded summary for everyone, allocation balance for unblinded roles."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, Q

from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.models import AllocationSlot, Notice, Participant, ParticipantStatus
from hepatrial.edc.permissions import Action, Actor
from hepatrial.problems import MESSAGES, Problem, as_problem, gettext_noop

MESSAGES.update({
    "permission.no_enrolment_reports": gettext_noop(
        "your role does not include enrolment reports"
    ),
    "permission.balance_unblinded_only": gettext_noop(
        "allocation balance is shown to unblinded roles only"
    ),
})  # fmt: skip

S = ParticipantStatus
SEES_ENROLMENT = (
    Action.VIEW_PARTICIPANTS, Action.EXPORT_BLINDED, Action.VIEW_AGGREGATE_BY_ARM,
)  # fmt: skip
SEES_BALANCE = (Action.VIEW_ALLOCATION_LIST, Action.VIEW_AGGREGATE_BY_ARM)


@dataclass(frozen=True)
class EnrolmentSummary:
    """Counts that reveal nothing about arms."""

    screened: int
    screen_failed: int
    randomized: int
    by_status: dict[str, int]
    by_stratum: dict[str, int]
    by_month: dict[str, int]
    failed_criteria: dict[str, int]
    emergency_unblinded: list[str]


def _sites(actor: Actor, actions) -> list[str]:
    sites = sorted({site for action in actions for site in actor.sites_for(action)})
    if not sites:
        raise NotAllowed(Problem("permission.no_enrolment_reports"))
    return sites


def enrolment_summary(actor: Actor) -> EnrolmentSummary:
    people = Participant.objects.filter(site__code__in=_sites(actor, SEES_ENROLMENT))
    randomized = people.exclude(randomization_date=None)
    failed = Counter(
        c for row in people.filter(status=S.SCREEN_FAILED) for c in row.failed_criteria
    )
    by_month = Counter(p.randomization_date.strftime("%Y-%m") for p in randomized)
    return EnrolmentSummary(
        screened=people.count(),
        screen_failed=people.filter(status=S.SCREEN_FAILED).count(),
        randomized=randomized.count(),
        by_status=dict(people.values_list("status").annotate(n=Count("id")).order_by("status")),
        by_stratum=dict(
            randomized.values_list("stratum").annotate(n=Count("id")).order_by("stratum")
        ),
        by_month=dict(sorted(by_month.items())),
        failed_criteria=dict(sorted(failed.items())),
        emergency_unblinded=sorted(
            randomized.filter(emergency_unblinded=True).values_list("screening_number", flat=True)
        ),
    )


def allocation_balance(actor: Actor) -> dict[str, dict[str, int]]:
    """Participants allocated to each arm in each stratum. Unblinded roles only."""
    sites = sorted({site for action in SEES_BALANCE for site in actor.sites_for(action)})
    if not sites:
        raise NotAllowed(Problem("permission.balance_unblinded_only"))
    rows = (
        AllocationSlot.objects.filter(participant__site__code__in=sites)
        .values_list("stratum", "arm")
        .annotate(n=Count("id"))
        .order_by("stratum", "arm")
    )
    balance: dict[str, dict[str, int]] = {}
    for stratum, arm, count in rows:
        balance.setdefault(stratum, {})[arm] = count
    return balance


def notices_for(actor: Actor, limit: int = 20) -> list[Notice]:
    """Notices addressed to the user's role at each of their sites, newest first."""
    wanted = Q()
    for site, role in actor.roles.items():
        wanted |= Q(site__code=site, role=role)
    if not actor.roles:
        return []
    return list(Notice.objects.filter(wanted).order_by("-created_at")[:limit])


def notice_problem(notice: Notice) -> Problem:
    """The notice as a problem to render in the reader's language (its English if it has none)."""
    if notice.code:
        try:
            return Problem.from_json({"code": notice.code, "params": notice.params})
        except (KeyError, TypeError, ValueError):
            pass
    return as_problem(notice.message)
