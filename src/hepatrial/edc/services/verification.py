"""Source-data verification: the monitor checks entered values against the source documents.

The status is kept per item value (:class:`~hepatrial.edc.models.SourceVerification`): verified
by whom, when, at which value and form version. A monitor verifies one or more items of a
form, a whole form record or a whole visit; each verified item is one audit row
(``object_type="verification"``). A later change of a verified value keeps the row and marks
it changed (:func:`reset_changed`, called by the save path), so pages say who changed what after
verification until the monitor verifies the value again.

Blinding: the monitor is blinded, so intervention forms and intervention visits are "not found"
here and are left out of every count, exactly as on the other pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.errors import NotFound, ValidationFailed
from hepatrial.edc.models import FormRecord, ItemValue, Participant, SourceVerification, Visit
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.boundary import Writes, service
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.schedule import intervention_codes, intervention_forms
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol.model import Protocol

MESSAGES.update({
    "verification.nothing_chosen": gettext_noop(
        "choose the items to verify, or verify the whole form"
    ),
    "verification.nothing_entered": gettext_noop("nothing is entered here yet to verify"),
    "verification.not_found": gettext_noop("%(what)s not found for %(participant)s"),
})  # fmt: skip

VERIFIED = "verified"
CHANGED = "changed"
UNVERIFIED = "unverified"


def value_shown(row: ItemValue) -> str:
    """An item value as the audit trail writes it: text and unit, or ``(reason)`` if missing."""
    if row.status != "value":
        return f"({row.status})"
    return f"{row.text} {row.unit_entered}" if row.unit_entered else row.text


@dataclass(frozen=True)
class ItemState:
    """Where one entered item stands: ``verified``, ``changed`` (after verification) or
    ``unverified``; who verified it at which value, and who changed it since."""

    item_oid: str
    state: str
    value: str
    verified_by: str = ""
    verified_at: dt.datetime | None = None
    verified_value: str = ""
    form_version: int = 0
    changed_by: str = ""
    changed_at: dt.datetime | None = None


@dataclass(frozen=True)
class Progress:
    verified: int
    entered: int

    @property
    def percent(self) -> int:
        return round(100 * self.verified / self.entered) if self.entered else 0


def _state(row: ItemValue) -> ItemState:
    check = getattr(row, "verification", None)
    current = value_shown(row)
    if check is None:
        return ItemState(row.item_oid, UNVERIFIED, current)
    changed = check.changed_at is not None or check.verified_value != current
    return ItemState(
        row.item_oid, CHANGED if changed else VERIFIED, current, check.verified_by.get_username(),
        check.verified_at, check.verified_value, check.form_version, check.changed_by,
        check.changed_at,
    )  # fmt: skip


def _with_checks(rows):
    return rows.select_related("verification__verified_by")


def item_states(record: FormRecord) -> dict[str, ItemState]:
    """Item OID → its verification state, for every value on file in ``record``."""
    return {row.item_oid: _state(row) for row in _with_checks(record.values.all())}


def _visible_values(protocol: Protocol, participants) -> Q:
    """The item values a blinded reader may count: no intervention form, no intervention visit."""
    return (
        Q(form_record__visit__participant__in=participants)
        & ~Q(form_record__form_oid__in=sorted(intervention_forms(protocol)))
        & ~Q(form_record__visit__event_oid__in=sorted(intervention_codes(protocol)))
    )


def _verified_now() -> Q:
    """Verified and unchanged since (a changed value counts as not verified)."""
    return Q(verification__isnull=False, verification__changed_at=None)


def participant_progress(participant: Participant) -> Progress:
    protocol = active_protocol()[1].protocol
    counts = ItemValue.objects.filter(_visible_values(protocol, [participant])).aggregate(
        entered=Count("id"), verified=Count("id", filter=_verified_now())
    )
    return Progress(counts["verified"], counts["entered"])


def site_progress(actor: Actor) -> dict[str, Progress]:
    """Site code → items verified / items entered, for each site where ``actor`` sees
    participants; one query whatever the size of the trial."""
    protocol = active_protocol()[1].protocol
    sites = actor.sites_for(Action.VIEW_PARTICIPANTS)
    people = Participant.objects.filter(site__code__in=sites)
    rows = (
        ItemValue.objects.filter(_visible_values(protocol, people))
        .values("form_record__visit__participant__site__code")
        .annotate(entered=Count("id"), verified=Count("id", filter=_verified_now()))
    )
    found = {r["form_record__visit__participant__site__code"]: r for r in rows}
    return {
        site: Progress(found[site]["verified"], found[site]["entered"]) if site in found
        else Progress(0, 0)
        for site in sites
    }  # fmt: skip


def changed_after_verification(participant: Participant) -> list[tuple[Visit, str, ItemState]]:
    """(visit, form OID, state) of every value changed after it was verified, oldest first."""
    protocol = active_protocol()[1].protocol
    rows = _with_checks(
        ItemValue.objects.filter(_visible_values(protocol, [participant]))
        .filter(verification__isnull=False)
        .select_related("form_record__visit")
    )
    found = []
    for row in rows:
        state = _state(row)
        if state.state == CHANGED:
            found.append((row.form_record.visit, row.form_record.form_oid, state))
    return sorted(found, key=lambda f: (f[2].changed_at or timezone.now(), f[2].item_oid))


def _visit(participant: Participant, protocol: Protocol, event_oid: str, visit_repeat: int,
           actor: Actor) -> Visit:  # fmt: skip
    hidden = event_oid in intervention_codes(protocol)
    visit = Visit.objects.filter(
        participant=participant, event_oid=event_oid, repeat=visit_repeat
    ).first()
    if visit is None or (hidden and actor.blinded_at(participant.site.code)):
        raise NotFound(Problem("verification.not_found", what=event_oid,
                               participant=participant.screening_number))  # fmt: skip
    return visit


def _verify_rows(actor: Actor, participant: Participant, rows: Iterable[ItemValue]) -> int:
    """Verify each row at its current value; returns how many changed state."""
    now, count = timezone.now(), 0
    for row in rows:
        shown = value_shown(row)
        record = row.form_record
        check = getattr(row, "verification", None)
        if check is not None and check.changed_at is None and check.verified_value == shown:
            continue
        old = ""
        if check is None:
            check = SourceVerification(item_value=row)
        else:
            old = f"{VERIFIED} {check.verified_value}" if check.changed_at is None else CHANGED
        check.verified_by_id, check.verified_at = actor.user_id, now
        check.verified_value, check.form_version = shown, record.version
        check.changed_at, check.changed_by, check.changed_to = None, "", ""
        check.save()
        audit.record(
            "verify", username=actor.username, object_type="verification", object_id=check.pk,
            participant=participant.screening_number, site=participant.site.code,
            item=row.item_oid, old=old, new=f"{VERIFIED} {shown}",
            context={"event": record.visit.event_oid, "form": record.form_oid,
                     "record": record.pk, "version": record.version},
        )  # fmt: skip
        count += 1
    return count


@service(Action.VERIFY_SOURCE, writes=Writes.CLINICAL)
def verify_source(
    actor: Actor, screening_number: str, event_oid: str, *, form_oid: str | None = None,
    items: Collection[str] | None = None, repeat: int = 0, visit_repeat: int = 0,
) -> int:  # fmt: skip
    """Verify items of a form, a whole form record (``items=None``) or a whole visit
    (``form_oid=None``) at their current values; returns how many items became verified.

    Values already verified and unchanged are left as they are (no new audit row).
    """
    participant = participant_for(actor, screening_number, Action.VERIFY_SOURCE, lock=True)
    protocol = active_protocol()[1].protocol
    visit = _visit(participant, protocol, event_oid, visit_repeat, actor)
    blinded = actor.blinded_at(participant.site.code)
    hidden_forms = intervention_forms(protocol) if blinded else set()
    rows = _with_checks(ItemValue.objects.filter(form_record__visit=visit)).select_related(
        "form_record__visit"
    )
    if form_oid is None:
        rows = rows.exclude(form_record__form_oid__in=sorted(hidden_forms))
    else:
        record = visit.forms.filter(form_oid=form_oid, repeat=repeat).first()
        if record is None or form_oid in hidden_forms:
            raise NotFound(Problem("verification.not_found", what=form_oid,
                                   participant=screening_number))  # fmt: skip
        rows = rows.filter(form_record=record)
        if items is not None:
            if not items:
                raise ValidationFailed({"form": Problem("verification.nothing_chosen")})
            rows = rows.filter(item_oid__in=sorted(items))
    rows = list(rows.order_by("form_record__form_oid", "form_record__repeat", "item_oid"))
    if not rows:
        raise ValidationFailed({"form": Problem("verification.nothing_entered")})
    return _verify_rows(actor, participant, rows)


def reset_changed(actor: Actor, participant: Participant, record: FormRecord,
                  changed: Collection[str], *, protocol: Protocol) -> None:  # fmt: skip
    """Mark the verified items among ``changed`` as changed after verification (save path).

    Runs inside the save's service, so the audit rows join its transaction.
    """
    if not changed:
        return
    checks = (
        SourceVerification.objects.filter(
            item_value__form_record=record, item_value__item_oid__in=sorted(changed)
        )
        .select_related("item_value")
        .order_by("id")
    )
    now = timezone.now()
    blinded_form = record.form_oid in intervention_forms(protocol)
    for check in checks:
        row = check.item_value
        check.changed_at, check.changed_by, check.changed_to = now, actor.username, value_shown(row)
        check.save(update_fields=["changed_at", "changed_by", "changed_to"])
        audit.record(
            "verify_reset", username=actor.username, object_type="verification",
            object_id=check.pk, participant=participant.screening_number,
            site=participant.site.code, item=row.item_oid,
            old=f"{VERIFIED} {check.verified_value}", new=f"{CHANGED} {check.changed_to}",
            blinded_content=blinded_form,
            context={"event": record.visit.event_oid, "form": record.form_oid,
                     "record": record.pk, "version": record.version},
        )  # fmt: skip
