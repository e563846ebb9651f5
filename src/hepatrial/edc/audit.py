"""The append-only, hash-chained audit trail.

Every row's hash is SHA-256 over its own content and the previous row's hash, so changing,
deleting or reordering any row breaks the chain from that row on. Appends lock the single
:class:`AuditHead` row, which serializes writers on the chain (on SQLite the IMMEDIATE
transaction already does); without that lock two concurrent transactions could both chain to
the same previous hash and fork the trail.

Write services run under :func:`batched` (their boundary,
:func:`hepatrial.edc.services.boundary.service`, opens it): the rows they record are kept aside
and appended together when the service finishes, just before its transaction commits. The head
row is then locked once per service call and only for those last moments, instead of from the
first change to the commit, which is what lets concurrent writers overlap.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connection, transaction
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


_pending: ContextVar[list[AuditEvent] | None] = ContextVar("pending_audit", default=None)


def _text(value: object) -> str:
    return "" if value is None else str(value)


@contextmanager
def batched() -> Iterator[None]:
    """Keep the audit rows recorded inside aside and append them together at the end."""
    if _pending.get() is not None:
        yield
        return
    token = _pending.set([])
    try:
        yield
        _append(_pending.get())
    finally:
        _pending.reset(token)


def current_batch() -> list[AuditEvent] | None:
    """The rows the running service has recorded so far; ``None`` outside a service.

    A new list for each service run, so its identity also tells one service run from the next.
    """
    return _pending.get()


def _append(events: list[AuditEvent]) -> None:
    """Chain ``events`` onto the trail: lock the head, hash, insert, move the head.

    Everything but the two hashes is turned into database values before the head is locked,
    and the rows go in as one plain ``INSERT`` per batch, so that the head, which every writer
    of the trial waits for, is held for the hashing and three short statements only.
    """
    if not events:
        return
    fields = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    chained = {"previous_hash", "hash"}
    prepared = [
        {f.attname: f.get_db_prep_save(getattr(event, f.attname), connection)
         for f in fields if f.attname not in chained}
        for event in events
    ]  # fmt: skip
    # Inside a service's transaction no savepoint of its own: if this fails, so does the service.
    with transaction.atomic(savepoint=False):
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None:  # the first record ever
            AuditHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS})
            head = AuditHead.objects.select_for_update().get(pk=1)
        previous = head.last_hash
        for event, values in zip(events, prepared, strict=True):
            event.previous_hash = previous
            event.hash = compute_hash(event)
            values["previous_hash"], values["hash"] = event.previous_hash, event.hash
            previous = event.hash
        _insert(events, fields, prepared)
        head.last_hash = previous
        head.count += len(events)
        head.save(update_fields=["last_hash", "count"])


def _insert(events: list[AuditEvent], fields: list, prepared: list[dict]) -> None:
    """Insert the rows in batches the database takes; give each event its id."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    size = max(1, connection.ops.bulk_batch_size(fields, events))
    with connection.cursor() as cursor:
        for start in range(0, len(events), size):
            batch = prepared[start : start + size]
            cursor.execute(
                f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) "
                f"VALUES {', '.join([row] * len(batch))} RETURNING {quote('id')}",
                [values[f.attname] for values in batch for f in fields],
            )
            # Ids grow in the order the rows were given.
            ids = sorted(pk for (pk,) in cursor.fetchall())
            for event, pk in zip(events[start : start + size], ids, strict=True):
                event.pk = pk
                event._state.adding, event._state.db = False, connection.alias


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
    """Record one audit row in the transaction that makes the change it records.

    Inside a service the row is appended when the service ends; otherwise at once.
    """
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
    )
    pending = _pending.get()
    if pending is None:
        _append([event])
    else:
        pending.append(event)
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
