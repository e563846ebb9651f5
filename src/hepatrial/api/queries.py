"""Data queries: the inbox (``/queries``), a participant's queries, one thread, and raising,
answering, closing and reopening (``/participants/{n}/queries…``).

Thin callers of :mod:`hepatrial.edc.services.queries`, as the pages in ``web/queries.py``: the
service decides who reads which query (a query on an infusion form or an arm's own visit is
not found, and not counted, for a blinded reader) and who may do what.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema

from hepatrial.api import reads
from hepatrial.api.schemas import WRITE_ERRORS, ItemProblem, LabelOut, responses
from hepatrial.edc.permissions import actor_for
from hepatrial.edc.services.queries import (
    QueryRow,
    answer_query,
    close_query,
    participant_queries,
    query_thread,
    raise_query,
    reopen_query,
)
from hepatrial.problems import Problem
from hepatrial.protocol.model import Label
from hepatrial.web.errors import problem_text

router = Router()
QueryId = Annotated[int, Path(ge=1, le=2**31 - 1)]
THREAD = "/participants/{screening_number}/queries/{query_id}"


class MessageOut(Schema):
    at: dt.datetime
    username: str
    action: str = Field(description="raise, answer, close, reopen, auto_close, auto_reopen")
    text: str


class QueryOut(Schema):
    id: int
    screening_number: str
    site: str
    event_oid: str = Field(description="Empty for a query on the whole participant.")
    visit_repeat: int
    event_label: LabelOut | None
    form_oid: str
    form_repeat: int
    form_label: LabelOut | None
    item_oid: str
    item_label: LabelOut | None
    kind: str = Field(description="manual or automatic")
    rule: str = Field(description="The automatic rule; empty for a manual query.")
    problem: ItemProblem | None = Field(description="An automatic query as a problem code.")
    text: str = Field(description="The question, or an automatic query in the caller's language.")
    state: str = Field(description="open, answered or closed")
    raised_by: str
    raised_at: dt.datetime
    updated_at: dt.datetime


class ThreadOut(QueryOut):
    messages: list[MessageOut]


class InboxOut(Schema):
    items: list[QueryOut]
    total: int = Field(description="Every query that matches, over all pages.")
    page: int
    pages: int
    states: list[str] = Field(description="The states listed (the role's default if not asked).")


def _label(value: Label | str) -> dict | None:
    if not value:
        return None
    if isinstance(value, str):
        return {"en": value, "zh": value}
    return {"en": value.en, "zh": value.zh}


def _problem(problem: Problem | None) -> dict | None:
    if problem is None:
        return None
    return {"code": problem.code, "params": problem.to_json()["params"],
            "detail": problem_text(problem)}  # fmt: skip


def _query(row: QueryRow) -> dict:
    return {
        "id": row.id, "screening_number": row.screening_number, "site": row.site,
        "event_oid": row.event_oid, "visit_repeat": row.visit_repeat,
        "event_label": _label(row.event_label), "form_oid": row.form_oid,
        "form_repeat": row.form_repeat, "form_label": _label(row.form_label),
        "item_oid": row.item_oid, "item_label": _label(row.item_label), "kind": row.kind,
        "rule": row.rule, "problem": _problem(row.problem),
        "text": problem_text(row.problem) if row.problem is not None else row.text,
        "state": row.state, "raised_by": row.raised_by, "raised_at": row.raised_at,
        "updated_at": row.updated_at,
    }  # fmt: skip


def _thread(row: QueryRow) -> dict:
    messages = [{"at": m.at, "username": m.username, "action": m.action, "text": m.text}
                for m in row.messages]  # fmt: skip
    return _query(row) | {"messages": messages}


class InboxQuery(Schema):
    site: str = Field("", max_length=32)
    participant: str = Field("", max_length=32, description="A screening number or its start.")
    state: list[Literal["open", "answered", "closed", "all"]] = Field(
        [], description="Repeat for several; all for every state; none: the role's default."
    )
    page: int = Field(1, ge=1, le=100000)
    limit: int = Field(50, ge=1, le=500)


@router.get("/queries", response=responses(InboxOut), operation_id="query_inbox",
            summary="The caller's data queries, filtered, newest change first")  # fmt: skip
def query_inbox(request: HttpRequest, filters: Query[InboxQuery]):
    wanted = set(filters.state)
    states = None if not wanted else () if "all" in wanted else tuple(sorted(wanted))
    found = reads.query_page(actor_for(request.auth), site=filters.site,
                             participant=filters.participant.strip(), states=states,
                             page=filters.page, limit=filters.limit)  # fmt: skip
    return {"items": [_query(r) for r in found.rows], "total": found.total,
            "page": filters.page, "pages": -(-found.total // filters.limit),
            "states": list(found.states)}  # fmt: skip


@router.get("/participants/{screening_number}/queries", response=responses(list[QueryOut]),
            operation_id="participant_queries", summary="A participant's queries")  # fmt: skip
def participant_queries_op(request: HttpRequest, screening_number: str):
    return [_query(r) for r in participant_queries(actor_for(request.auth), screening_number)]


@router.get(THREAD, response=responses(ThreadOut), operation_id="query_thread",
            summary="One query with its messages, oldest first")  # fmt: skip
def query_thread_op(request: HttpRequest, screening_number: str, query_id: QueryId):
    return _thread(query_thread(actor_for(request.auth), screening_number, query_id))


class RaiseIn(Schema):
    text: str = Field(description="The question.")
    event_oid: str = Field("", max_length=64, description="Empty: the whole participant.")
    visit_repeat: int = Field(0, ge=0, le=10000)
    form_oid: str = Field("", max_length=64)
    form_repeat: int = Field(0, ge=0, le=10000)
    item_oid: str = Field("", max_length=64)


@router.post("/participants/{screening_number}/queries",
             response=responses(ThreadOut, code=201, errors=WRITE_ERRORS),
             operation_id="query_raise",
             summary="Raise a query on a participant, visit, form or item (monitor)")  # fmt: skip
def query_raise(request: HttpRequest, screening_number: str, body: RaiseIn):
    actor = actor_for(request.auth)
    query = raise_query(actor, screening_number, body.text, event_oid=body.event_oid,
                        visit_repeat=body.visit_repeat, form_oid=body.form_oid,
                        form_repeat=body.form_repeat, item_oid=body.item_oid)  # fmt: skip
    return 201, _thread(query_thread(actor, screening_number, query.pk))


class StepIn(Schema):
    text: str = Field("", description="The answer, or why it is closed or reopened.")


def _step(request: HttpRequest, step, screening_number: str, query_id: int, text: str) -> dict:
    actor = actor_for(request.auth)
    step(actor, screening_number, query_id, text)
    return _thread(query_thread(actor, screening_number, query_id))


@router.post(THREAD + "/answer", response=responses(ThreadOut, errors=WRITE_ERRORS),
             operation_id="query_answer",
             summary="Answer an open query (the roles that enter data)")  # fmt: skip
def query_answer(request: HttpRequest, screening_number: str, query_id: QueryId, body: StepIn):
    return _step(request, answer_query, screening_number, query_id, body.text)


@router.post(THREAD + "/close", response=responses(ThreadOut, errors=WRITE_ERRORS),
             operation_id="query_close", summary="Close a query (monitor)")  # fmt: skip
def query_close(request: HttpRequest, screening_number: str, query_id: QueryId, body: StepIn):
    return _step(request, close_query, screening_number, query_id, body.text)


@router.post(THREAD + "/reopen", response=responses(ThreadOut, errors=WRITE_ERRORS),
             operation_id="query_reopen",
             summary="Reopen a closed query, saying why (monitor)")  # fmt: skip
def query_reopen(request: HttpRequest, screening_number: str, query_id: QueryId, body: StepIn):
    return _step(request, reopen_query, screening_number, query_id, body.text)
