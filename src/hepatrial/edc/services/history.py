"""Reading the audit trail: an item's history and the filtered trail, as plain data.

Who reads what is decided here, once, for the pages, the CSV and any later API:

- **Sites.** A reader sees the rows of the sites where they hold ``view_audit``. Rows of no site
  (sign-in, database lock) are shown when the person who acted works at one of those sites.
- **Blinding.** A row with ``blinded_content`` (an allocation, an unblinding, an intervention
  visit, an infusion form's values, a dose) is left out entirely for a reader who is blinded at
  its site: even without its values, its existence tells the arm (only the double arm has a
  second infusion visit). Rows about an intervention visit or an infusion form's items are left
  out too, whatever their flag says, so a service that forgets the flag does not unblind anyone.
  Counts are taken after these rules, so they tell nothing either.

Every filter runs in the database; pages are cut by id (a cursor), so a page of the newest rows
costs the same with a hundred rows or a hundred thousand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from hepatrial.edc.errors import NotAllowed, NotFound
from hepatrial.edc.models import AuditEvent, FormRecord, Membership
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.schedule import intervention_codes, intervention_forms
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol.model import Label, Protocol

MESSAGES.update(
    {
        "history.not_allowed": gettext_noop("Your role does not include reading the audit trail."),
        "history.not_found": gettext_noop("No such item of this participant."),
    }
)

PAGE_SIZE = 50
COUNT_LIMIT = 1000
"""Counting stops here: a page says "more than 1,000" rather than read a whole long trail."""


@dataclass(frozen=True)
class AuditRow:
    """One audit record as a reader may see it. ``at`` is aware; pages show it in local time."""

    id: int
    at: dt.datetime
    username: str
    action: str
    site: str
    participant: str
    event: str
    form: str
    item: str
    old_value: str
    new_value: str
    reason: str


@dataclass(frozen=True)
class AuditFilter:
    """What the reader asked for; empty fields do not filter. Dates are local, both inclusive."""

    username: str = ""
    participant: str = ""
    form: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@dataclass(frozen=True)
class AuditPage:
    """One page of the filtered trail, newest first; ``older``/``newer`` are cursors or None.

    ``total`` is exact up to :data:`COUNT_LIMIT`; ``more`` says the trail holds more than that.
    """

    rows: list[AuditRow]
    total: int
    more: bool
    older: int | None
    newer: int | None


@dataclass(frozen=True)
class ItemHistory:
    participant: str
    event: str
    form: str
    item: str
    rows: list[AuditRow]


def _row(event: AuditEvent) -> AuditRow:
    context = event.context or {}
    return AuditRow(
        id=event.id,
        at=event.at,
        username=event.username,
        action=event.action,
        site=event.site,
        participant=event.participant,
        event=str(context.get("event", "")),
        form=str(context.get("form", "")),
        item=event.item,
        old_value=event.old_value,
        new_value=event.new_value,
        reason=event.reason,
    )


def _hidden(protocol: Protocol) -> Q:
    """Rows about intervention visits or infusion forms, whatever their ``blinded_content``."""
    events = sorted(intervention_codes(protocol))
    forms = sorted(intervention_forms(protocol))
    items = sorted({i.oid for f in protocol.forms if f.oid in forms for i in f.items})
    # has_key first: a row without the key must stay visible, not vanish in SQL's NULL logic
    return (
        Q(blinded_content=True)
        | Q(item__in=events + items)
        | Q(context__has_key="event", context__event__in=events)
        | Q(context__has_key="form", context__form__in=forms)
    )


def visible_rows(actor: Actor) -> QuerySet[AuditEvent]:
    """Every audit row ``actor`` may read (see the module docstring); NotAllowed if none."""
    sites = actor.sites_for(Action.VIEW_AUDIT)
    if not sites:
        raise NotAllowed(Problem("history.not_allowed"))
    protocol = active_protocol()[1].protocol
    unblinded = [s for s in sites if not actor.blinded_at(s)]
    blinded = [s for s in sites if actor.blinded_at(s)]
    colleagues = Membership.objects.filter(site__code__in=sites).values("user__username")
    readable = Q(site__in=unblinded) | (Q(site__in=blinded) & ~_hidden(protocol))
    trial_wide = Q(site="", username__in=colleagues)
    if blinded:
        trial_wide &= ~_hidden(protocol)
    return AuditEvent.objects.filter(readable | trial_wide)


def _filtered(actor: Actor, wanted: AuditFilter) -> QuerySet[AuditEvent]:
    rows = visible_rows(actor)
    if wanted.username:
        rows = rows.filter(username=wanted.username.strip())
    if wanted.participant:
        rows = rows.filter(participant=wanted.participant.strip())
    if wanted.form:
        protocol = active_protocol()[1].protocol
        form = next((f for f in protocol.forms if f.oid == wanted.form), None)
        items = [i.oid for i in form.items] if form else []
        rows = rows.filter(item__in=items, context__form=wanted.form)
    zone = timezone.get_current_timezone()
    if wanted.date_from:
        start = dt.datetime.combine(wanted.date_from, dt.time.min, zone)
        rows = rows.filter(at__gte=start)
    if wanted.date_to:
        end = dt.datetime.combine(wanted.date_to + dt.timedelta(days=1), dt.time.min, zone)
        rows = rows.filter(at__lt=end)
    return rows


def audit_page(
    actor: Actor,
    wanted: AuditFilter,
    *,
    older_than: int | None = None,
    newer_than: int | None = None,
    size: int = PAGE_SIZE,
) -> AuditPage:
    """A page of the filtered trail, newest first, cut by id after ``older_than`` or before
    ``newer_than`` (the ids the previous page gave as its cursors)."""
    rows = _filtered(actor, wanted)
    total = rows[: COUNT_LIMIT + 1].count()
    if newer_than is not None:
        chunk = list(rows.filter(id__gt=newer_than).order_by("id")[: size + 1])
        more_newer = len(chunk) > size
        chunk = list(reversed(chunk[:size]))
        more_older = bool(chunk) and rows.filter(id__lt=chunk[-1].id).exists()
    else:
        page = rows.filter(id__lt=older_than) if older_than is not None else rows
        chunk = list(page.order_by("-id")[: size + 1])
        more_older = len(chunk) > size
        chunk = chunk[:size]
        more_newer = (
            older_than is not None and bool(chunk) and rows.filter(id__gt=chunk[0].id).exists()
        )
    return AuditPage(
        rows=[_row(e) for e in chunk],
        total=min(total, COUNT_LIMIT),
        more=total > COUNT_LIMIT,
        older=chunk[-1].id if chunk and more_older else None,
        newer=chunk[0].id if chunk and more_newer else None,
    )


def audit_rows(actor: Actor, wanted: AuditFilter, chunk_size: int = 2000) -> Iterator[AuditRow]:
    """Every filtered row, oldest first, read in chunks: the CSV download streams these."""
    rows = _filtered(actor, wanted).order_by("id")
    for event in rows.iterator(chunk_size=chunk_size):
        yield _row(event)


def item_history(
    actor: Actor,
    screening_number: str,
    event_oid: str,
    form_oid: str,
    item_oid: str,
    *,
    repeat: int | None = None,
    visit_repeat: int = 0,
) -> ItemHistory:
    """Every saved change of one item at one visit, oldest first.

    ``repeat`` picks one record of a repeating form and ``visit_repeat`` one occurrence of a
    repeating visit; without ``repeat``, every record of the form at that visit is included.
    An item a blinded reader may not know of is not found.
    """
    participant = participant_for(actor, screening_number, Action.VIEW_AUDIT)
    protocol = active_protocol()[1].protocol
    form = next((f for f in protocol.forms if f.oid == form_oid), None)
    if form is None or item_oid not in {i.oid for i in form.items}:
        raise NotFound(Problem("history.not_found"))
    site = participant.site.code
    hidden = form_oid in intervention_forms(protocol) or event_oid in intervention_codes(protocol)
    if not hidden and event_oid not in form.events:
        raise NotFound(Problem("history.not_found"))
    if hidden and actor.blinded_at(site):
        raise NotFound(Problem("history.not_found"))
    rows = visible_rows(actor).filter(
        participant=screening_number,
        item=item_oid,
        object_type="itemvalue",
        context__event=event_oid,
        context__form=form_oid,
    )
    records = FormRecord.objects.filter(
        visit__participant=participant, visit__event_oid=event_oid, visit__repeat=visit_repeat,
        form_oid=form_oid,
    )  # fmt: skip
    if repeat is not None:
        records = records.filter(repeat=repeat)
    rows = rows.filter(context__record__in=list(records.values_list("pk", flat=True)))
    return ItemHistory(
        participant=screening_number,
        event=event_oid,
        form=form_oid,
        item=item_oid,
        rows=[_row(e) for e in rows.order_by("id")],
    )


def filterable_forms(actor: Actor) -> list[tuple[str, Label]]:
    """The forms a reader may filter the trail by: infusion forms only for unblinded readers.

    NotAllowed for a user who may read no audit trail, so a page can ask this first."""
    protocol = active_protocol()[1].protocol
    sites = actor.sites_for(Action.VIEW_AUDIT)
    if not sites:
        raise NotAllowed(Problem("history.not_allowed"))
    unblinded = bool(sites) and not any(actor.blinded_at(s) for s in sites)
    hidden = set() if unblinded else intervention_forms(protocol)
    return [(f.oid, f.label) for f in protocol.forms if f.oid not in hidden]
