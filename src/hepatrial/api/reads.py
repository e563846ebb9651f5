"""Reads the API needs that the services do not offer in this shape; each applies the same
rules as the service it sits beside (sites, blinding) by going through that service first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.models import DerivedValue
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.listing import ParticipantFilter, matching
from hepatrial.edc.services.queries import QueryRow, default_states, inbox_queries, query_row
from hepatrial.edc.services.views import ParticipantRow, participant_detail, rows_for
from hepatrial.problems import Problem


@dataclass(frozen=True)
class ParticipantSlice:
    rows: list[ParticipantRow]
    next_cursor: str | None
    show_arm: bool


def participant_slice(
    actor: Actor, wanted: ParticipantFilter, after: str = "", limit: int = 50,
    today: dt.date | None = None,
) -> ParticipantSlice:  # fmt: skip
    """Participants after screening number ``after`` (a cursor), filtered as
    :func:`hepatrial.edc.services.listing.participant_page` filters its pages."""
    today = today or timezone.localdate()
    _, people = matching(actor, wanted, today)
    if after:
        people = people.filter(screening_number__gt=after)
    shown = list(people.select_related("site").order_by("screening_number")[: limit + 1])
    more = len(shown) > limit
    shown = shown[:limit]
    return ParticipantSlice(
        rows_for(actor, shown, today),
        shown[-1].screening_number if more and shown else None,
        bool(actor.sites_for(Action.VIEW_ARM)),
    )


@dataclass(frozen=True)
class DerivedOnFile:
    event_oid: str
    visit_repeat: int
    visit_date: dt.date | None
    item_oid: str
    number: float | None
    text: str
    formula_version: str
    computed_at: dt.datetime


def derived_values(actor: Actor, screening_number: str) -> list[DerivedOnFile]:
    """The scores on file at the visits :func:`participant_detail` shows this actor."""
    detail = participant_detail(actor, screening_number)
    shown = {v.event_oid for v in detail.visits}
    rows = (
        DerivedValue.objects.filter(visit__participant__screening_number=screening_number,
                                    visit__event_oid__in=shown)
        .select_related("visit")
        .order_by("visit__target_date", "visit__event_oid", "visit__repeat", "item_oid")
    )  # fmt: skip
    return [
        DerivedOnFile(r.visit.event_oid, r.visit.repeat, r.visit.visit_date, r.item_oid,
                      r.number, r.text, r.formula_version, r.computed_at)
        for r in rows
    ]  # fmt: skip


@dataclass(frozen=True)
class QueryPage:
    rows: list[QueryRow]
    total: int
    states: tuple[str, ...]


def query_page(
    actor: Actor, *, site: str = "", participant: str = "", states: tuple[str, ...] | None = None,
    page: int = 1, limit: int = 50,
) -> QueryPage:  # fmt: skip
    """One page of :func:`hepatrial.edc.services.queries.query_inbox` (which lists its first
    rows only): the same readable queries, filters and order, ``limit`` rows a page."""
    if not actor.sites_for(Action.VIEW_PARTICIPANTS):
        raise NotAllowed(Problem("listing.no_access"))
    protocol = active_protocol()[1].protocol
    states = default_states(actor) if states is None else states
    found = inbox_queries(actor, site=site, participant=participant, states=states)
    start = (page - 1) * limit
    rows = [query_row(q, protocol) for q in found[start : start + limit]]
    return QueryPage(rows, found.count(), tuple(states))
