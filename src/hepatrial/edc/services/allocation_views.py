"""What the cell-therapy team reads of the allocation: who got which arm, and the balance.

Only ``view_allocation_list`` opens it, at the sites where the reader holds it. Arms and strata
are returned as codes with the protocol's labels, for the page to show in the reader's language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.models import AllocationSlot
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.enrolment import allocation_balance
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol.model import Label, Protocol

MESSAGES.update(
    {
        "allocation.list_not_allowed": gettext_noop(
            "The allocation list is shown to the cell-therapy team only."
        ),
    }
)


@dataclass(frozen=True)
class ArmView:
    code: str
    label: Label


@dataclass(frozen=True)
class AllocationRow:
    screening_number: str
    site: str
    randomization_number: str
    stratum: str
    stratum_labels: tuple[Label, ...]
    arm: ArmView
    allocated_at: dt.datetime | None
    allocated_by: str
    emergency_unblinded: bool


@dataclass(frozen=True)
class BalanceRow:
    stratum: str
    stratum_labels: tuple[Label, ...]
    counts: tuple[int, ...]
    """Participants per arm, in the order of :attr:`AllocationOverview.arms`."""
    total: int


@dataclass(frozen=True)
class AllocationOverview:
    arms: tuple[ArmView, ...]
    rows: list[AllocationRow]
    balance: list[BalanceRow]


def arm_view(protocol: Protocol, code: str) -> ArmView:
    """The arm with its protocol label (the code itself when the protocol no longer has it)."""
    arm = next((a for a in protocol.arms if a.code == code), None)
    return ArmView(code, arm.label if arm else Label(en=code, zh=code))


def stratum_labels(protocol: Protocol, stratum: str) -> tuple[Label, ...]:
    """``CPCLASS=B`` → the labels of its levels (``Child-Pugh B``), in factor order."""
    levels = dict(pair.split("=", 1) for pair in stratum.split(";") if "=" in pair)
    labels = []
    for factor in protocol.randomization.strata:
        level = next((lv for lv in factor.levels if lv.code == levels.get(factor.code)), None)
        if level is not None:
            labels.append(level.label)
    return tuple(labels) or (Label(en=stratum, zh=stratum),)


def allocation_overview(actor: Actor) -> AllocationOverview:
    """Every allocation at the reader's sites, in randomization order, and the balance."""
    sites = actor.sites_for(Action.VIEW_ALLOCATION_LIST)
    if not sites:
        raise NotAllowed(Problem("allocation.list_not_allowed"))
    protocol = active_protocol()[1].protocol
    arms = tuple(arm_view(protocol, a.code) for a in protocol.arms)
    slots = (
        AllocationSlot.objects.filter(participant__site__code__in=sites)
        .select_related("participant__site")
        .order_by("allocated_at", "id")
    )
    rows = [
        AllocationRow(
            screening_number=s.participant.screening_number,
            site=s.participant.site.code,
            randomization_number=s.participant.randomization_number,
            stratum=s.stratum,
            stratum_labels=stratum_labels(protocol, s.stratum),
            arm=arm_view(protocol, s.arm),
            allocated_at=s.allocated_at,
            allocated_by=s.allocated_by,
            emergency_unblinded=s.participant.emergency_unblinded,
        )
        for s in slots
    ]
    balance = [
        BalanceRow(
            stratum=stratum,
            stratum_labels=stratum_labels(protocol, stratum),
            counts=tuple(counts.get(a.code, 0) for a in arms),
            total=sum(counts.values()),
        )
        for stratum, counts in allocation_balance(actor).items()
    ]
    return AllocationOverview(arms, rows, balance)
