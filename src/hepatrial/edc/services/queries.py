"""Data queries: raised, answered, closed and reopened, by people or by the protocol's rules.

A query sits on a participant's visit, form (and its repeat) or item; every place below the
participant is optional. States: open → answered → closed, and closed → open again (reopened).

- **Manual** queries are raised by the monitor (``raise_query``) with a question, answered by the
  people who enter the data (``answer_query``) and closed or reopened by the monitor.
- **Automatic** queries come from rules evaluated by :func:`update_automatic_queries`, which
  ``save_form`` calls after every save that changed something. It recomputes, for the whole
  participant, which rule conditions hold now and reconciles them with the automatic queries on
  file: a new condition raises a query, a condition that no longer holds closes its query, and a
  condition that comes back after its query closed itself reopens it. A query closed by the
  monitor stays closed (the monitor accepted the data). The database keeps one automatic query
  per rule and place, so evaluating twice never raises twice.

The rules read the protocol, never a trial's item codes: the ascites item is the ``ascites``
input of a Child-Pugh score, a decompensation event is a choice item of an ``incidence``
endpoint with a choice coded like that input (its record's date item dates it), MELD inputs are
those a MELD-family score requires.

Blinding: a query on an infusion form or an arm's intervention visit is ``blinded``; every read
here leaves it out for a reader blinded at its site (not found, not counted).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.errors import NotFound, PreconditionFailed, ValidationFailed
from hepatrial.edc.models import (
    Participant,
    Query,
    QueryMessage,
    Visit,
)
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.boundary import Writes, service
from hepatrial.edc.services.casebook import Casebook, RecordRow
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.schedule import (
    event_label,
    intervention_codes,
    intervention_forms,
    out_of_window,
    timed_events,
)
from hepatrial.edc.services.values import ValueRow, stored_value
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol.model import DataType, EndpointKind, Form, Item, Label, Protocol
from hepatrial.scores import SCORES

State, Kind = Query.State, Query.Kind

MESSAGES.update({
    "query.plausible_range": gettext_noop(
        "%(item)s is %(value)s, outside the usual range, confirmed at entry: check it against "
        "the source"
    ),
    "query.required_missing": gettext_noop(
        "%(form)s is not entered although %(event)s is done"
    ),
    "query.required_item_missing": gettext_noop(
        "%(item)s is required but has no value although %(event)s is done"
    ),
    "query.visit_out_of_window": gettext_noop(
        "%(event)s was done on %(on)s, outside its window (%(start)s to %(end)s): confirm the "
        "date"
    ),
    "query.ascites_worse": gettext_noop(
        "ascites worse than at %(previous)s (%(before)s → %(now)s) but no decompensation event "
        "of ascites is recorded between the two visits"
    ),
    "query.meld_inputs_missing": gettext_noop(
        "the MELD score cannot be computed at %(event)s: %(items)s missing"
    ),
    "query.not_found": gettext_noop("query %(query)s not found"),
    "query.place_not_found": gettext_noop("%(place)s is not on file for %(participant)s"),
    "query.text_required": gettext_noop("write the question"),
    "query.answer_required": gettext_noop("write the answer"),
    "query.reopen_reason_required": gettext_noop("say why the query is reopened"),
    "query.not_open": gettext_noop("only an open query can be answered; this one is %(state)s"),
    "query.already_closed": gettext_noop("this query is already closed"),
    "query.not_closed": gettext_noop("only a closed query can be reopened"),
})  # fmt: skip

RULES = ("plausible_range", "required_missing", "visit_out_of_window", "ascites_worse",
         "meld_inputs_missing")  # fmt: skip
"""The automatic rules, by code (``required_missing`` also names a missing item)."""
MELD_SCORES = ("meld", "meld_na", "meld3")
CHILD_PUGH_SCORES = ("child_pugh_points", "child_pugh_class")
ASCITES = "ascites"
"""The Child-Pugh input naming ascites, and the choice code of an ascites decompensation."""
MISSING_FORM_GRACE = dt.timedelta(days=7)
"""How long after a visit's date its other forms may still be entered before a missing one is
queried: a visit's forms are typed over a few days (laboratory results come later), and a
query for every form not yet typed would drown the real ones. A required item left empty in a
form already saved is queried at once."""


# --- reading ------------------------------------------------------------------------------------


def visible_queries(actor: Actor) -> Q:
    """The queries ``actor`` may read: sites where they view participants, blinded ones only
    where they are unblinded."""
    sites = actor.sites_for(Action.VIEW_PARTICIPANTS)
    unblinded = [site for site in sites if not actor.blinded_at(site)]
    return Q(participant__site__code__in=sites) & (
        Q(blinded=False) | Q(participant__site__code__in=unblinded)
    )


def query_problem(query: Query) -> Problem | None:
    """An automatic query's text as a problem, to render in the reader's language."""
    if query.kind != Kind.AUTOMATIC:
        return None
    code = query.rule if query.rule != "required_missing" or not query.item_oid else (
        "required_item_missing")  # fmt: skip
    try:
        return Problem.from_json({"code": f"query.{code}", "params": query.params})
    except (KeyError, TypeError, ValueError):
        return Problem("message", text=query.text)


@dataclass(frozen=True)
class QueryRow:
    id: int
    screening_number: str
    site: str
    event_oid: str
    visit_repeat: int
    event_label: Label | str
    form_oid: str
    form_label: Label | str
    form_repeat: int
    item_oid: str
    item_label: Label | str
    kind: str
    rule: str
    problem: Problem | None
    text: str
    state: str
    raised_by: str
    raised_at: dt.datetime
    updated_at: dt.datetime
    messages: list[QueryMessage] = field(default_factory=list)


def query_row(query: Query, protocol: Protocol, messages: list[QueryMessage] = ()) -> QueryRow:
    visit = query.visit
    event_oid = visit.event_oid if visit else ""
    form = next((f for f in protocol.forms if f.oid == query.form_oid), None)
    item = protocol.items().get(query.item_oid)
    return QueryRow(
        query.pk, query.participant.screening_number, query.participant.site.code, event_oid,
        visit.repeat if visit else 0, event_label(protocol, event_oid) if visit else "",
        query.form_oid, form.label if form else query.form_oid, query.form_repeat,
        query.item_oid, item.label if item else query.item_oid, query.kind, query.rule,
        query_problem(query), query.text, query.state, query.raised_by, query.raised_at,
        query.updated_at, list(messages),
    )  # fmt: skip


INBOX_LIMIT = 200
"""Rows an inbox lists at most; the count covers everything that matches."""


@dataclass(frozen=True)
class Inbox:
    rows: list[QueryRow]
    count: int
    states: tuple[str, ...]
    sites: list[str]


def default_states(actor: Actor) -> tuple[str, ...]:
    """What a role's inbox shows first: the monitor reviews open and answered queries, the
    people who enter data answer open ones."""
    if actor.sites_for(Action.CLOSE_QUERY):
        return (State.OPEN, State.ANSWERED)
    if actor.sites_for(Action.ANSWER_QUERY):
        return (State.OPEN,)
    return (State.OPEN, State.ANSWERED)


def inbox_queries(actor: Actor, *, site: str, participant: str, states: tuple[str, ...]):
    """The queries of an inbox, newest change first, as a queryset to slice into pages."""
    found = Query.objects.filter(visible_queries(actor))
    if site:
        found = found.filter(participant__site__code=site)
    if participant:
        found = found.filter(participant__screening_number__istartswith=participant)
    if states:
        found = found.filter(state__in=states)
    return found.select_related("participant__site", "visit")


def query_inbox(
    actor: Actor, *, site: str = "", participant: str = "", states: tuple[str, ...] | None = None
) -> Inbox:
    """The queries ``actor`` may read, newest change first, filtered by site, participant
    (a screening number or its beginning) and states (``None``: :func:`default_states`)."""
    protocol = active_protocol()[1].protocol
    states = default_states(actor) if states is None else states
    found = inbox_queries(actor, site=site, participant=participant, states=states)
    rows = [query_row(q, protocol) for q in found[:INBOX_LIMIT]]
    return Inbox(rows, found.count(), tuple(states), actor.sites_for(Action.VIEW_PARTICIPANTS))


def participant_queries(actor: Actor, screening_number: str) -> list[QueryRow]:
    """Every query on the participant that ``actor`` may read (NotFound like the participant)."""
    protocol = active_protocol()[1].protocol
    participant = participant_for(actor, screening_number, Action.VIEW_PARTICIPANTS)
    found = Query.objects.filter(visible_queries(actor), participant=participant)
    return [query_row(q, protocol) for q in found.select_related("participant__site", "visit")]


def query_counts(queries: list[QueryRow]) -> dict[str, int]:
    counts = {state: 0 for state in State.values}
    for query in queries:
        counts[query.state] += 1
    return counts


@dataclass(frozen=True)
class SiteQueryCount:
    site: str
    open: int
    answered: int
    closed: int


def site_query_counts(actor: Actor) -> list[SiteQueryCount]:
    """Queries per state at each site ``actor`` views participants at (blinded ones left out
    where the actor is blinded)."""
    counted = {
        row["participant__site__code"]: row
        for row in Query.objects.filter(visible_queries(actor))
        .values("participant__site__code")
        .annotate(
            open=Count("id", filter=Q(state=State.OPEN)),
            answered=Count("id", filter=Q(state=State.ANSWERED)),
            closed=Count("id", filter=Q(state=State.CLOSED)),
        )
    }
    empty = {"open": 0, "answered": 0, "closed": 0}
    return [
        SiteQueryCount(site, counted.get(site, empty)["open"], counted.get(site, empty)["answered"],
                       counted.get(site, empty)["closed"])
        for site in actor.sites_for(Action.VIEW_PARTICIPANTS)
    ]  # fmt: skip


def _find(actor: Actor, participant: Participant, query_id: object, *, lock: bool = False):
    found = Query.objects.filter(visible_queries(actor), participant=participant)
    if lock:
        found = found.select_for_update()
    query = found.filter(pk=int(query_id)).first() if str(query_id).isdigit() else None
    if query is None:
        raise NotFound(Problem("query.not_found", query=query_id))
    return query


def query_thread(actor: Actor, screening_number: str, query_id: object) -> QueryRow:
    """One query with its messages, oldest first; NotFound when ``actor`` may not read it."""
    protocol = active_protocol()[1].protocol
    participant = participant_for(actor, screening_number, Action.VIEW_PARTICIPANTS)
    query = _find(actor, participant, query_id)
    return query_row(query, protocol, list(query.messages.all()))


def open_queries_on_form(
    actor: Actor, screening_number: str, event_oid: str, visit_repeat: int, form_oid: str,
    form_repeat: int | None,
) -> list[QueryRow]:  # fmt: skip
    """The open and answered queries on a visit, on this form of it, or on its items."""
    protocol = active_protocol()[1].protocol
    try:
        participant = participant_for(actor, screening_number, Action.VIEW_PARTICIPANTS)
    except NotFound:
        return []
    on_visit = Q(form_oid="") | Q(form_oid=form_oid, form_repeat=form_repeat or 0)
    found = Query.objects.filter(
        visible_queries(actor), on_visit, participant=participant, visit__event_oid=event_oid,
        visit__repeat=visit_repeat, state__in=(State.OPEN, State.ANSWERED),
    ).select_related("participant__site", "visit")  # fmt: skip
    return [query_row(q, protocol) for q in found]


# --- writing ------------------------------------------------------------------------------------


def _audit(actor: Actor, query: Query, action: str, old: str, text: str) -> None:
    visit = query.visit
    audit.record(
        action, username=actor.username, object_type="query", object_id=query.pk,
        participant=query.participant.screening_number, site=query.participant.site.code,
        item=query.item_oid, old=old, new=query.state, reason=text,
        blinded_content=query.blinded,
        context={"kind": query.kind, "rule": query.rule, "event": visit.event_oid if visit else "",
                 "form": query.form_oid, "repeat": query.form_repeat,
                 **({"text": query.text} if query.kind == Kind.AUTOMATIC else {})},
    )  # fmt: skip


def _step(actor: Actor, query: Query, action: str, state: str, text: str = "") -> Query:
    """Move ``query`` to ``state``: its thread gets a message and the audit trail a row."""
    old, now = query.state, timezone.now()
    query.state, query.updated_at = state, now
    query.save(update_fields=["state", "updated_at"])
    QueryMessage.objects.create(query=query, at=now, username=actor.username, action=action,
                                text=text)  # fmt: skip
    _audit(actor, query, action, old, text)
    return query


def _place(
    participant: Participant, protocol: Protocol, event_oid: str, visit_repeat: int,
    form_oid: str, item_oid: str, blinded: bool,
) -> tuple[Visit | None, Form | None]:  # fmt: skip
    """The visit and form a query is raised on, as the raiser may see them."""

    def missing(place: str) -> NotFound:
        return NotFound(Problem("query.place_not_found", place=place,
                                participant=participant.screening_number))  # fmt: skip

    if not event_oid:
        if form_oid or item_oid:
            raise missing(form_oid or item_oid)
        return None, None
    hidden = intervention_codes(protocol) | intervention_forms(protocol)
    if blinded and (event_oid in hidden or form_oid in hidden):
        raise missing(event_oid)
    visit = Visit.objects.filter(participant=participant, event_oid=event_oid,
                                 repeat=visit_repeat).first()  # fmt: skip
    if visit is None:
        raise missing(event_oid)
    if not form_oid:
        if item_oid:
            raise missing(item_oid)
        return visit, None
    form = next((f for f in protocol.forms if f.oid == form_oid), None)
    at_visit = form is not None and (
        event_oid in form.events
        or (form_oid in intervention_forms(protocol) and event_oid in intervention_codes(protocol))
    )
    if not at_visit:
        raise missing(form_oid)
    if item_oid and item_oid not in {i.oid for i in form.items}:
        raise missing(item_oid)
    return visit, form


@service(Action.RAISE_QUERY, writes=Writes.CLINICAL)
def raise_query(
    actor: Actor, screening_number: str, text: str, *, event_oid: str = "",
    visit_repeat: int = 0, form_oid: str = "", form_repeat: int = 0, item_oid: str = "",
) -> Query:  # fmt: skip
    """Raise a manual query on the participant, or one of its visits, forms or items."""
    protocol = active_protocol()[1].protocol
    participant = participant_for(actor, screening_number, Action.RAISE_QUERY, lock=True)
    blinded_actor = actor.blinded_at(participant.site.code)
    visit, form = _place(participant, protocol, event_oid, visit_repeat, form_oid, item_oid,
                         blinded_actor)  # fmt: skip
    if not text.strip():
        raise ValidationFailed({"text": Problem("query.text_required")})
    hidden = intervention_codes(protocol) | intervention_forms(protocol)
    now = timezone.now()
    query = Query.objects.create(
        participant=participant, visit=visit, form_oid=form.oid if form else "",
        form_repeat=form_repeat if form else 0, item_oid=item_oid, kind=Kind.MANUAL,
        text=text.strip(), raised_by=actor.username, raised_at=now, updated_at=now,
        blinded=event_oid in hidden or form_oid in hidden,
    )  # fmt: skip
    QueryMessage.objects.create(query=query, at=now, username=actor.username, action="raise",
                                text=query.text)  # fmt: skip
    _audit(actor, query, "raise", "", query.text)
    return query


@service(Action.ANSWER_QUERY, writes=Writes.CLINICAL)
def answer_query(actor: Actor, screening_number: str, query_id: object, text: str) -> Query:
    """Answer an open query (what was checked, what was corrected)."""
    participant = participant_for(actor, screening_number, Action.ANSWER_QUERY, lock=True)
    query = _find(actor, participant, query_id, lock=True)
    if query.state != State.OPEN:
        raise PreconditionFailed(Problem("query.not_open", state=State(query.state)))
    if not text.strip():
        raise ValidationFailed({"text": Problem("query.answer_required")})
    return _step(actor, query, "answer", State.ANSWERED, text.strip())


@service(Action.CLOSE_QUERY, writes=Writes.CLINICAL)
def close_query(actor: Actor, screening_number: str, query_id: object, text: str = "") -> Query:
    """Close an open or answered query; ``text`` says why, when there is something to say."""
    participant = participant_for(actor, screening_number, Action.CLOSE_QUERY, lock=True)
    query = _find(actor, participant, query_id, lock=True)
    if query.state == State.CLOSED:
        raise PreconditionFailed(Problem("query.already_closed"))
    return _step(actor, query, "close", State.CLOSED, text.strip())


@service(Action.CLOSE_QUERY, writes=Writes.CLINICAL)
def reopen_query(actor: Actor, screening_number: str, query_id: object, text: str) -> Query:
    """Reopen a closed query, saying why."""
    participant = participant_for(actor, screening_number, Action.CLOSE_QUERY, lock=True)
    query = _find(actor, participant, query_id, lock=True)
    if query.state != State.CLOSED:
        raise PreconditionFailed(Problem("query.not_closed"))
    if not text.strip():
        raise ValidationFailed({"text": Problem("query.reopen_reason_required")})
    return _step(actor, query, "reopen", State.OPEN, text.strip())


# --- automatic queries --------------------------------------------------------------------------

Place = tuple[str, int | None, str, int, str]
"""An automatic query's identity: rule, visit id, form OID, form repeat, item OID."""


@dataclass(frozen=True)
class Condition:
    problem: Problem
    visit: Visit
    blinded: bool


@dataclass
class _Data:
    """Everything the rules read about one participant: its casebook and the protocol."""

    protocol: Protocol
    visits: list[Visit]
    records: dict[tuple[int, str, int], RecordRow]
    values: dict[tuple[int, str, int], dict[str, ValueRow]]
    out_of_window: set[int]
    today: dt.date

    @classmethod
    def of(cls, casebook: Casebook, protocol: Protocol) -> _Data:
        return cls(protocol, casebook.visits, casebook.records, casebook.values,
                   casebook.out_of_window, casebook.today)  # fmt: skip


def _shown(row: ValueRow) -> str:
    return f"{row.text} {row.unit_entered}".strip()


def _plausible_range(data: _Data, hidden: set[str]) -> dict[Place, Condition]:
    items = data.protocol.items()
    by_id = {v.pk: v for v in data.visits}
    found = {}
    for (visit_id, form_oid, repeat), rows in data.values.items():
        for oid, row in rows.items():
            if row.status != "value" or not row.warnings or oid not in items:
                continue
            problem = Problem("query.plausible_range", item=items[oid].label, value=_shown(row))
            visit = by_id[visit_id]
            found[("plausible_range", visit_id, form_oid, repeat, oid)] = Condition(
                problem, visit, form_oid in hidden or visit.event_oid in hidden
            )
    return found


def _required_missing(data: _Data) -> dict[Place, Condition]:
    protocol, timed = data.protocol, timed_events(data.protocol)
    hidden = intervention_codes(protocol)
    found = {}
    for visit in data.visits:
        if visit.status != Visit.Status.DONE or visit.event_oid not in timed - hidden:
            continue
        event = event_label(protocol, visit.event_oid)
        for form in protocol.forms:
            required = [i for i in form.items if i.required]
            if visit.event_oid not in form.events or form.repeating or not required:
                continue
            if (visit.pk, form.oid, 0) not in data.records:
                if visit.visit_date and data.today - visit.visit_date < MISSING_FORM_GRACE:
                    continue
                problem = Problem("query.required_missing", form=form.label, event=event)
                found[("required_missing", visit.pk, form.oid, 0, "")] = Condition(
                    problem, visit, False
                )
                continue
            saved = data.values.get((visit.pk, form.oid, 0), {})
            for item in required:
                if item.oid not in saved:
                    problem = Problem("query.required_item_missing", item=item.label,
                                      event=event)  # fmt: skip
                    found[("required_missing", visit.pk, form.oid, 0, item.oid)] = Condition(
                        problem, visit, False
                    )
    return found


def _visit_out_of_window(data: _Data, hidden: set[str]) -> dict[Place, Condition]:
    found = {}
    for visit in data.visits:
        if visit.pk not in data.out_of_window or visit.visit_date is None:
            continue
        if out_of_window(visit, visit.visit_date) is None:
            continue
        problem = Problem("query.visit_out_of_window",
                          event=event_label(data.protocol, visit.event_oid), on=visit.visit_date,
                          start=visit.window_start, end=visit.window_end)  # fmt: skip
        found[("visit_out_of_window", visit.pk, "", 0, "")] = Condition(
            problem, visit, visit.event_oid in hidden
        )
    return found


def _score_input(protocol: Protocol, scores: tuple[str, ...], argument: str) -> Item | None:
    items = protocol.items()
    for derived in protocol.derived_items:
        if derived.score in scores and argument in derived.inputs:
            return items.get(derived.inputs[argument])
    return None


def _form_of(protocol: Protocol, item_oid: str) -> Form:
    return next(f for f in protocol.forms if item_oid in {i.oid for i in f.items})


def _decompensation_item(protocol: Protocol) -> tuple[Item, Item | None] | None:
    """The choice item recording decompensation events of ascites, and its record's date item."""
    items = protocol.items()
    for endpoint in protocol.analysis.endpoints:
        if endpoint.kind != EndpointKind.INCIDENCE:
            continue
        for oid in endpoint.items:
            item = items.get(oid)
            if item is None or ASCITES not in {c.code for c in item.choices}:
                continue
            form = _form_of(protocol, oid)
            dated = next((i for i in form.items if i.data_type == DataType.DATE), None)
            return item, dated
    return None


def _ascites_worse(data: _Data) -> dict[Place, Condition]:
    protocol = data.protocol
    ascites, decompensation = _score_input(protocol, CHILD_PUGH_SCORES, ASCITES), None
    if ascites is None or ascites.data_type != DataType.CHOICE:
        return {}
    decompensation = _decompensation_item(protocol)
    if decompensation is None:
        return {}
    event_item, date_item = decompensation
    grades = [c.code for c in ascites.choices]
    labels = {c.code: c.label for c in ascites.choices}
    form = _form_of(protocol, ascites.oid)
    onsets: list[dt.date | None] = []
    for rows in data.values.values():
        row = rows.get(event_item.oid)
        if row is not None and stored_value(row) == ASCITES:
            dated = rows.get(date_item.oid) if date_item else None
            onset = stored_value(dated) if dated is not None else None
            onsets.append(onset if isinstance(onset, dt.date) else None)
    graded = []
    for visit in data.visits:
        row = data.values.get((visit.pk, form.oid, 0), {}).get(ascites.oid)
        grade = stored_value(row) if row is not None else None
        if visit.visit_date and grade in grades:
            graded.append((visit.visit_date, visit, grade))
    graded.sort(key=lambda g: (g[0], g[1].pk))
    found = {}
    for (before_on, before, was), (on, visit, now) in zip(graded, graded[1:]):
        if grades.index(now) <= grades.index(was):
            continue
        if any(onset is None or before_on < onset <= on for onset in onsets):
            continue
        problem = Problem("query.ascites_worse", previous=event_label(protocol, before.event_oid),
                          before=labels[was], now=labels[now])  # fmt: skip
        found[("ascites_worse", visit.pk, form.oid, 0, ascites.oid)] = Condition(
            problem, visit, False
        )
    return found


def _meld_inputs_missing(data: _Data) -> dict[Place, Condition]:
    protocol, timed = data.protocol, timed_events(data.protocol)
    items = protocol.items()
    melds = [d for d in protocol.derived_items if d.score in MELD_SCORES]
    found = {}
    for visit in data.visits:
        if visit.status != Visit.Status.DONE or visit.event_oid not in timed:
            continue
        missing: dict[str, Item] = {}
        for derived in melds:
            for argument, oid in derived.inputs.items():
                if argument not in SCORES[derived.score].required:
                    continue
                form = _form_of(protocol, oid)
                entered = (visit.pk, form.oid, 0) in data.records
                if visit.event_oid not in form.events or not entered:
                    continue  # not collected here, or the whole form is missing (its own query)
                row = data.values.get((visit.pk, form.oid, 0), {}).get(oid)
                if row is None or row.status != "value":
                    missing[oid] = items[oid]
        if missing:
            problem = Problem("query.meld_inputs_missing",
                              event=event_label(protocol, visit.event_oid),
                              items=[i.label for i in missing.values()])  # fmt: skip
            found[("meld_inputs_missing", visit.pk, "", 0, "")] = Condition(problem, visit, False)
    return found


def automatic_conditions(
    participant: Participant, protocol: Protocol, casebook: Casebook | None = None
) -> dict[Place, Condition]:
    """Every automatic-query condition that holds for the participant now, by place.

    ``casebook``: the participant's casebook as it is now, when the caller holds it.
    """
    data = _Data.of(casebook or Casebook.load(participant), protocol)
    hidden = intervention_codes(protocol) | intervention_forms(protocol)
    return (
        _plausible_range(data, hidden) | _required_missing(data)
        | _visit_out_of_window(data, hidden) | _ascites_worse(data) | _meld_inputs_missing(data)
    )  # fmt: skip


def _place_of(query: Query) -> Place:
    return (query.rule, query.visit_id, query.form_oid, query.form_repeat, query.item_oid)


def update_automatic_queries(
    actor: Actor, participant: Participant, protocol: Protocol, casebook: Casebook | None = None
) -> None:
    """Raise, close and reopen the participant's automatic queries to match its data now.

    Runs inside the calling service's transaction (``save_form``, which passes the casebook it
    holds); ``actor`` is who made the change, named in the thread and the audit trail.
    """
    casebook = casebook or Casebook.load(participant)
    conditions = automatic_conditions(participant, protocol, casebook)
    visits = {visit.pk: visit for visit in casebook.visits}
    on_file = {}
    for query in Query.objects.select_for_update().filter(
        participant=participant, kind=Kind.AUTOMATIC
    ):
        query.participant = participant  # both held already: not read again with each query
        if query.visit_id in visits:
            query.visit = visits[query.visit_id]
        on_file[_place_of(query)] = query
    now = timezone.now()
    for place, condition in conditions.items():
        query = on_file.get(place)
        if query is None:
            rule, _, form_oid, form_repeat, item_oid = place
            query = Query.objects.create(
                participant=participant, visit=condition.visit, form_oid=form_oid,
                form_repeat=form_repeat, item_oid=item_oid, kind=Kind.AUTOMATIC, rule=rule,
                params=condition.problem.to_json()["params"], text=str(condition.problem),
                blinded=condition.blinded, raised_by=actor.username, raised_at=now,
                updated_at=now,
            )  # fmt: skip
            QueryMessage.objects.create(query=query, at=now, username=actor.username,
                                        action="raise")  # fmt: skip
            _audit(actor, query, "raise", "", "")
        elif query.state == State.CLOSED and _closed_by_itself(query):
            _step(actor, query, "auto_reopen", State.OPEN)
    for place, query in on_file.items():
        if place not in conditions and query.state != State.CLOSED:
            _step(actor, query, "auto_close", State.CLOSED)


@service(Action.RAISE_QUERY, writes=Writes.CLINICAL)
def refresh_automatic_queries(actor: Actor, screening_number: str) -> None:
    """Bring one participant's automatic queries up to date without a save: what the passage of
    time alone changes (a form still missing once its grace period is over). Run for every
    participant by ``hepatrial queries refresh`` (daily, from a timer)."""
    participant = participant_for(actor, screening_number, Action.RAISE_QUERY, lock=True)
    update_automatic_queries(actor, participant, active_protocol()[1].protocol)


def participants_to_refresh(actor: Actor) -> list[str]:
    """Screening numbers of the randomized participants at the sites where ``actor`` raises
    queries, in order."""
    return list(
        Participant.objects.filter(
            site__code__in=actor.sites_for(Action.RAISE_QUERY), randomization_date__isnull=False
        )
        .order_by("screening_number")
        .values_list("screening_number", flat=True)
    )


def _closed_by_itself(query: Query) -> bool:
    last = query.messages.order_by("-at", "-id").first()
    return last is not None and last.action == "auto_close"
