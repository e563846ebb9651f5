"""The append-only, hash-chained audit trail.

Every row's hash is SHA-256 over its own content and the previous row's hash, so changing,
deleting or reordering any row breaks the chain from that row on. Appends lock the single
:class:`AuditHead` row, which serializes writers on the chain (on SQLite the IMMEDIATE
transaction already does); without that lock two concurrent transactions could both chain to
the same previous hash and fork the trail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from hepatrial.edc.models import AuditEvent, AuditHead

GENESIS = "0" * 64
HASHED_FIELDS = (
    "username", "action", "object_type", "object_id", "participant", "site", "item",
    "old_value", "new_value", "reason", "context", "blinded_content", "previous_hash",
)  # fmt: skip


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def compute_hash(event: AuditEvent) -> str:
    content = {name: getattr(event, name) for name in HASHED_FIELDS}
    content["at"] = _timestamp(event.at)
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _text(value: object) -> str:
    return "" if value is None else str(value)


def record(
    action: str,
    *,
    username: str = "",
    object_type: str = "",
    object_id: object = "",
    participant: str = "",
    site: str = "",
    item: str = "",
    old: object = None,
    new: object = None,
    reason: str = "",
    context: dict | None = None,
    blinded_content: bool = False,
) -> AuditEvent:
    """Append one audit row; call inside the transaction that makes the change it records."""
    with transaction.atomic():
        AuditHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS})
        head = AuditHead.objects.select_for_update().get(pk=1)
        event = AuditEvent(
            at=timezone.now(),
            username=username,
            action=action,
            object_type=object_type,
            object_id=_text(object_id),
            participant=participant,
            site=site,
            item=item,
            old_value=_text(old),
            new_value=_text(new),
            reason=reason,
            context=context or {},
            blinded_content=blinded_content,
            previous_hash=head.last_hash,
        )
        event.hash = compute_hash(event)
        event.save()
        head.last_hash = event.hash
        head.count += 1
        head.save(update_fields=["last_hash", "count"])
    return event


@dataclass(frozen=True)
class ChainCheck:
    checked: int
    first_broken_id: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.first_broken_id is None and not self.problem


def verify_chain(batch: int = 5000) -> ChainCheck:
    """Recompute the chain; name the first record whose content or link does not match."""
    previous = GENESIS
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch):
        if event.previous_hash != previous:
            return ChainCheck(
                checked,
                event.id,
                "its link to the previous record is broken "
                "(a record before it was changed, removed or reordered)",
            )
        if compute_hash(event) != event.hash:
            return ChainCheck(checked, event.id, "its content does not match its hash")
        previous = event.hash
        checked += 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.last_hash != previous or head.count != checked):
        return ChainCheck(
            checked,
            None,
            f"the chain ends after {checked} records but {head.count} were written: "
            "records at the end were removed",
        )
    return ChainCheck(checked)
