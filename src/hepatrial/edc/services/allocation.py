"""Randomization of a participant: preconditions, an atomic slot claim, the schedule, blinding.

The claim moves the stratum's :class:`StratumCursor` on, which locks its row (an ``UPDATE`` on
PostgreSQL; on SQLite the IMMEDIATE transaction holds the database's write lock), and takes the
slot the cursor was at, all in the transaction that also marks the participant
randomized and plans the visits. Concurrent claims in one stratum queue on the cursor row; a
failure anywhere rolls the cursor back with everything else, so no slot is used twice or skipped.
``SKIP LOCKED`` would be faster but could skip a slot whose claimer later rolls back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.errors import PreconditionFailed, ValidationFailed
from hepatrial.edc.models import (
    AllocationList,
    AllocationSlot,
    DerivedValue,
    ItemValue,
    Notice,
    Participant,
    ParticipantStatus,
    StratumCursor,
)
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.roles import Role
from hepatrial.edc.services.boundary import Writes, service
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.schedule import plan_visits
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol.model import EventKind, Protocol
from hepatrial.randomization.blocks import ListEntry, RandomizationList
from hepatrial.randomization.design import (
    BlockDesign,
    Factor,
    protocol_block_design,
    stratum_code,
)
from hepatrial.randomization.verify import AllocationRecord, VerificationResult
from hepatrial.randomization.verify import verify_allocations as check_allocations

S = ParticipantStatus

MESSAGES.update({
    "allocation.list_in_use": gettext_noop(
        "participants are already randomized: the list cannot change"
    ),
    "allocation.no_list": gettext_noop(
        "no randomization list is loaded: ask the trial administrator"
    ),
    "allocation.none_loaded": gettext_noop("no randomization list is loaded"),
    "allocation.no_stratum": gettext_noop("the randomization list has no stratum %(stratum)s"),
    "allocation.stratum_used_up": gettext_noop(
        "the randomization list for stratum %(stratum)s is used up: ask the trial statistician "
        "to extend it"
    ),
    "allocation.slot_used": gettext_noop("slot %(stratum)s #%(sequence)s is already used"),
    "randomization.stratum_data_missing": gettext_noop(
        "%(factor)s is missing for %(participant)s: complete the screening forms it is derived "
        "from"
    ),
    "randomization.not_a_stratum": gettext_noop(
        "%(factor)s is %(value)s, which is not a stratum of this trial (%(known)s)"
    ),
    "randomization.requires_consent": gettext_noop(
        "%(participant)s is %(status)s: randomization needs confirmed eligibility and dated "
        "consent"
    ),
    "randomization.no_eligibility": gettext_noop("%(participant)s has no confirmed eligibility"),
    "randomization.no_consent": gettext_noop("%(participant)s has no dated consent"),
    "randomization.before_consent": gettext_noop("%(date)s is before consent was signed"),
    "unblinding.reason_required": gettext_noop("a reason is required to unblind"),
    "notice.emergency_unblinding": gettext_noop(
        "%(user)s unblinded %(participant)s on %(at)s: %(reason)s"
    ),
})  # fmt: skip


@dataclass(frozen=True)
class Allocated:
    """What a randomization returns. ``arm`` is ``None`` for a blinded user: never the arm."""

    screening_number: str
    randomization_number: str
    stratum: str
    randomization_date: dt.date
    arm: str | None


def design_for(protocol: Protocol, per_stratum: int) -> BlockDesign:
    """The permuted-block design the protocol describes, with ``per_stratum`` slots per stratum."""
    return protocol_block_design(protocol, per_stratum)


@service(writes=Writes.CLINICAL)
def load_list(rlist: RandomizationList, *, operator: str) -> AllocationList:
    """Make ``rlist`` the active list. Run by the system operator, never through the web."""
    if AllocationSlot.objects.filter(participant__isnull=False).exists():
        raise PreconditionFailed(Problem("allocation.list_in_use"))
    AllocationList.objects.filter(is_active=True).update(is_active=False)
    loaded, created = AllocationList.objects.get_or_create(
        list_hash=rlist.list_hash,
        defaults={"method": rlist.method, "parameters": rlist.parameters,
                  "seed_fingerprint": rlist.seed_fingerprint},
    )  # fmt: skip
    loaded.is_active = True
    loaded.save(update_fields=["is_active"])
    if created:
        AllocationSlot.objects.bulk_create(
            AllocationSlot(
                allocation_list=loaded,
                stratum=e.stratum,
                sequence=e.sequence,
                block=e.block,
                block_size=e.block_size,
                arm=e.arm,
            )  # fmt: skip
            for e in rlist.entries
        )
        StratumCursor.objects.bulk_create(
            StratumCursor(allocation_list=loaded, stratum=stratum)
            for stratum in sorted({e.stratum for e in rlist.entries})
        )
    audit.record(
        "list_loaded", username=operator, object_type="allocationlist", object_id=loaded.pk,
        new=rlist.list_hash, context={"fingerprint": rlist.seed_fingerprint,
                                      "slots": len(rlist.entries)},
    )  # fmt: skip
    return loaded


def _stratification_value(participant: Participant, item_oid: str, protocol: Protocol) -> str:
    """The stratification item's value from the participant's screening visit."""
    screening = [e.oid for e in protocol.events if e.kind == EventKind.SCREENING]
    visits = {"visit__participant": participant, "visit__event_oid__in": screening}
    derived = DerivedValue.objects.filter(item_oid=item_oid, **visits).first()
    if derived is not None:
        return derived.text or (f"{derived.number:g}" if derived.number is not None else "")
    row = ItemValue.objects.filter(
        item_oid=item_oid, status="value",
        **{f"form_record__{key}": value for key, value in visits.items()},
    ).first()  # fmt: skip
    return (row.normalized_text or row.text) if row else ""


def stratum_of(participant: Participant, protocol: Protocol) -> str:
    """The stratum code the participant's screening data place them in, or PreconditionFailed."""
    factors, levels = [], []
    for factor in protocol.randomization.strata:
        value = _stratification_value(participant, factor.item, protocol)
        if not value:
            raise PreconditionFailed(Problem("randomization.stratum_data_missing",
                                             factor=factor.label,
                                             participant=participant.screening_number))  # fmt: skip
        level = next((lv.code for lv in factor.levels if value in lv.values), None)
        if level is None:
            known = [v for lv in factor.levels for v in lv.values]
            raise PreconditionFailed(Problem("randomization.not_a_stratum", factor=factor.label,
                                             value=value, known=known))  # fmt: skip
        factors.append(Factor(factor.code, tuple(lv.code for lv in factor.levels)))
        levels.append(level)
    return stratum_code(tuple(factors), tuple(levels))


def _claim(stratum: str, participant: Participant, username: str) -> AllocationSlot:
    """Take the slot at the stratum's cursor and move the cursor on, in two statements.

    The cursor's ``UPDATE ... RETURNING`` locks its row until commit (the queue), and the
    slot's conditional ``UPDATE`` claims it only if nobody has: two round trips while the
    stratum waits, not a read, a read and two writes. Raw SQL because the ORM has no
    ``UPDATE ... RETURNING``; both PostgreSQL and SQLite (3.35 and later) have it.
    """
    active = AllocationList.objects.filter(is_active=True).values_list("pk", flat=True).first()
    if active is None:
        raise PreconditionFailed(Problem("allocation.no_list"))
    at = timezone.now()
    cursors, slots = StratumCursor._meta.db_table, AllocationSlot._meta.db_table
    with connection.cursor() as sql:
        sql.execute(
            f"UPDATE {cursors} SET next_sequence = next_sequence + 1"
            " WHERE allocation_list_id = %s AND stratum = %s RETURNING next_sequence - 1",
            [active, stratum],
        )
        moved = sql.fetchone()
        if moved is None:
            raise PreconditionFailed(Problem("allocation.no_stratum", stratum=stratum))
        sequence = moved[0]
        sql.execute(
            f"UPDATE {slots} SET participant_id = %s, allocated_at = %s, allocated_by = %s"
            " WHERE allocation_list_id = %s AND stratum = %s AND sequence = %s"
            " AND participant_id IS NULL RETURNING id, block, block_size, arm",
            [participant.pk, connection.ops.adapt_datetimefield_value(at), username, active,
             stratum, sequence],
        )  # fmt: skip
        claimed = sql.fetchone()
    if claimed is None:  # raising rolls the cursor back with the rest of the transaction
        there = AllocationSlot.objects.filter(allocation_list_id=active, stratum=stratum,
                                              sequence=sequence).exists()  # fmt: skip
        if not there:
            raise PreconditionFailed(Problem("allocation.stratum_used_up", stratum=stratum))
        raise PreconditionFailed(Problem("allocation.slot_used", stratum=stratum,
                                         sequence=sequence))  # fmt: skip
    pk, block, block_size, arm = claimed
    return AllocationSlot.from_db(
        connection.alias,
        ["id", "allocation_list_id", "stratum", "sequence", "block", "block_size", "arm",
         "participant_id", "allocated_at", "allocated_by"],
        [pk, active, stratum, sequence, block, block_size, arm, participant.pk, at, username],
    )  # fmt: skip


def randomization_number(slot: AllocationSlot) -> str:
    """E.g. ``R1-B-007``: list, stratum level(s), sequence. It says nothing about the arm."""
    levels = "".join(pair.split("=")[-1] for pair in slot.stratum.split(";"))
    return f"R{slot.allocation_list_id}-{levels}-{slot.sequence:03d}"


@service(Action.RANDOMIZE, writes=Writes.CLINICAL)
def randomize(actor: Actor, screening_number: str, on: dt.date | None = None) -> Allocated:
    """Allocate the participant to an arm; day 0 of their schedule is ``on`` (today)."""
    participant = participant_for(actor, screening_number, Action.RANDOMIZE, lock=True)
    protocol = active_protocol()[1].protocol
    if participant.status != S.CONSENTED:
        raise PreconditionFailed(Problem("randomization.requires_consent",
                                         participant=screening_number,
                                         status=S(participant.status)))  # fmt: skip
    if not getattr(participant, "eligibility", None) or not participant.eligibility.eligible:
        raise PreconditionFailed(
            Problem("randomization.no_eligibility", participant=screening_number)
        )
    consent = participant.consents.order_by("-signed_at").first()
    if consent is None:
        raise PreconditionFailed(Problem("randomization.no_consent", participant=screening_number))
    day0 = on or timezone.localdate()
    if day0 > timezone.localdate():
        raise ValidationFailed({"on": Problem("date.in_future", date=day0)})
    if day0 < timezone.localdate(consent.signed_at):
        raise ValidationFailed({"on": Problem("randomization.before_consent", date=day0)})
    stratum = stratum_of(participant, protocol)
    slot = _claim(stratum, participant, actor.username)
    participant.randomization_date = day0
    participant.stratum = stratum
    participant.randomization_number = randomization_number(slot)
    participant.status = S.RANDOMIZED
    participant.save()
    audit.record(
        "status", username=actor.username, object_type="participant", object_id=participant.pk,
        participant=screening_number, site=participant.site.code, item="status",
        old=S.CONSENTED, new=S.RANDOMIZED,
        context={"randomization_number": participant.randomization_number},
    )  # fmt: skip
    plan_visits(actor, participant, protocol, slot.arm, day0)
    audit.record(
        "randomize", username=actor.username, object_type="allocationslot",
        object_id=slot.pk, participant=screening_number, site=participant.site.code,
        item="arm", new=slot.arm, blinded_content=True,
        context={"stratum": stratum, "sequence": slot.sequence, "list": slot.allocation_list_id,
                 "randomization_number": participant.randomization_number,
                 "day0": day0.isoformat()},
    )  # fmt: skip
    show_arm = actor.can(Action.VIEW_ARM, participant.site.code)
    return Allocated(
        screening_number,
        participant.randomization_number,
        stratum,
        day0,
        slot.arm if show_arm else None,
    )


def arm_of(actor: Actor, participant: Participant) -> str | None:
    """The participant's arm for an unblinded user, ``None`` for everyone else."""
    if not actor.can(Action.VIEW_ARM, participant.site.code):
        return None
    slot = AllocationSlot.objects.filter(participant=participant).first()
    return slot.arm if slot else None


@service(Action.EMERGENCY_UNBLIND, writes=Writes.CLINICAL)
def emergency_unblind(actor: Actor, screening_number: str, reason: str) -> str:
    """Reveal one participant's arm to an authorized investigator, for the participant's safety."""
    participant = participant_for(actor, screening_number, Action.EMERGENCY_UNBLIND, lock=True)
    if not reason.strip():
        raise ValidationFailed({"reason": Problem("unblinding.reason_required")})
    slot = AllocationSlot.objects.filter(participant=participant).first()
    if slot is None:
        raise PreconditionFailed(
            Problem("participant.not_randomized", participant=screening_number)
        )
    participant.emergency_unblinded = True
    participant.save(update_fields=["emergency_unblinded"])
    audit.record(
        "unblind", username=actor.username, object_type="participant", object_id=participant.pk,
        participant=screening_number, site=participant.site.code, item="arm", new=slot.arm,
        reason=reason.strip(), blinded_content=True,
    )  # fmt: skip
    notice = Problem(
        "notice.emergency_unblinding",
        user=actor.username,
        participant=screening_number,
        at=timezone.localtime(),
        reason=reason.strip(),
    )
    Notice.objects.create(
        role=Role.ADMINISTRATOR, site=participant.site, message=notice, code=notice.code,
        params=notice.to_json()["params"],
    )  # fmt: skip
    return slot.arm


def verify_allocations(seed: bytes) -> VerificationResult:
    """Regenerate the active list from ``seed`` and check every slot and every allocation made.

    A changed arm, a slot used out of order, or a list that the seed does not produce is reported
    with the first stratum and sequence where it happens.
    """
    active = AllocationList.objects.filter(is_active=True).first()
    if active is None:
        raise PreconditionFailed(Problem("allocation.none_loaded"))
    slots = list(active.slots.order_by("stratum", "sequence"))
    stored = RandomizationList(
        entries=tuple(
            ListEntry(s.stratum, s.sequence, s.block, s.block_size, s.arm) for s in slots
        ),
        method=active.method,
        seed_fingerprint=active.seed_fingerprint,
        parameters=active.parameters,
    )
    used = sorted(
        (s for s in slots if s.participant_id is not None),
        key=lambda s: (s.allocated_at, s.stratum, s.sequence),
    )
    records = [AllocationRecord(s.stratum, s.sequence, s.arm) for s in used]
    return check_allocations(stored, seed, records)
