"""``/participants``: the list (search, filters, cursor), one participant, and the enrolment
steps — screening, eligibility, consent, randomization, end of participation.

Every function calls the service the pages call. The arm is a field only a caller who may see
it receives (the key is absent for everyone else).
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from hepatrial.api import reads
from hepatrial.api.schemas import WRITE_ERRORS, LabelOut, label, responses
from hepatrial.edc.permissions import actor_for
from hepatrial.edc.services import enrolment_steps as steps
from hepatrial.edc.services.allocation import randomize
from hepatrial.edc.services.listing import ParticipantFilter
from hepatrial.edc.services.participants import (
    assess_eligibility,
    end_participation,
    record_consent,
    screen,
)
from hepatrial.edc.services.preview import data_entry
from hepatrial.edc.services.views import participant_detail

router = Router()
EXCLUDE = {"exclude_unset": True}


class NextVisitOut(Schema):
    event_oid: str
    label: LabelOut
    target_date: dt.date
    state: str


class ParticipantOut(Schema):
    screening_number: str
    site: str
    status: str
    screened_on: dt.date
    randomization_number: str
    randomization_date: dt.date | None
    stratum: str
    next_visit: NextVisitOut | None
    deviations: int
    emergency_unblinded: bool
    arm: str | None = Field(None, description="Only for a caller who may see the arm.")


class ParticipantListOut(Schema):
    items: list[ParticipantOut]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page."
    )


class RecordCountOut(Schema):
    form_oid: str
    label: LabelOut
    count: int


class VisitOut(Schema):
    event_oid: str
    label: LabelOut
    target_date: dt.date | None
    window_start: dt.date | None
    window_end: dt.date | None
    visit_date: dt.date | None
    status: str
    scores: dict[str, str]
    records: list[RecordCountOut]
    end_status: str


class DeviationOut(Schema):
    kind: str
    event: LabelOut | None
    visit_date: dt.date | None
    detected_at: dt.datetime
    description: str


class ParticipantDetailOut(ParticipantOut):
    visits: list[VisitOut]
    failed_criteria: list[str]
    deviation_list: list[DeviationOut]


def _row(row) -> dict:
    out = {
        "screening_number": row.screening_number, "site": row.site, "status": row.status,
        "screened_on": row.screened_on, "randomization_number": row.randomization_number,
        "randomization_date": row.randomization_date, "stratum": row.stratum,
        "next_visit": None, "deviations": row.deviations,
        "emergency_unblinded": row.emergency_unblinded,
    }  # fmt: skip
    if row.next_visit is not None:
        n = row.next_visit
        out["next_visit"] = {"event_oid": n.event_oid, "label": label(n.label),
                             "target_date": n.target_date, "state": n.state}  # fmt: skip
    if row.arm is not None:
        out["arm"] = row.arm
    return out


class ListQuery(Schema):
    q: str = Field("", description="Part of a screening or randomization number.")
    status: str = ""
    stratum: str = ""
    overdue: bool = False
    cursor: str = Field("", description="The next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=500)


@router.get("", response=responses(ParticipantListOut), operation_id="participants_list",
            summary="Participants the caller may see", **EXCLUDE)  # fmt: skip
def participants_list(request: HttpRequest, filters: Query[ListQuery]):
    actor = actor_for(request.auth)
    wanted = ParticipantFilter(filters.q, filters.status, filters.stratum, filters.overdue)
    page = reads.participant_slice(actor, wanted, filters.cursor, filters.limit)
    return {"items": [_row(r) for r in page.rows], "next_cursor": page.next_cursor}


class ScreenIn(Schema):
    site: str
    screened_on: dt.date


@router.post("", response=responses(ParticipantOut, code=201, errors=WRITE_ERRORS),
             operation_id="participant_screen", summary="Screen a person", **EXCLUDE)  # fmt: skip
def participant_screen(request: HttpRequest, body: ScreenIn):
    actor = actor_for(request.auth)
    participant = screen(actor, body.site, body.screened_on)
    return Status(201, _row(participant_detail(actor, participant.screening_number).row))


@router.get("/{screening_number}", response=responses(ParticipantDetailOut),
            operation_id="participant", summary="One participant", **EXCLUDE)  # fmt: skip
def participant(request: HttpRequest, screening_number: str):
    view = participant_detail(actor_for(request.auth), screening_number)
    return {
        **_row(view.row),
        "visits": [
            {"event_oid": v.event_oid, "label": label(v.label), "target_date": v.target_date,
             "window_start": v.window_start, "window_end": v.window_end,
             "visit_date": v.visit_date, "status": v.status, "scores": v.scores,
             "records": [{"form_oid": r.form_oid, "label": label(r.label), "count": r.count}
                         for r in v.records],
             "end_status": v.end_status}
            for v in view.visits
        ],
        "failed_criteria": view.failed_criteria,
        "deviation_list": [_deviation(d) for d in view.deviation_views],
    }  # fmt: skip


def _deviation(d) -> dict:
    return {"kind": d.kind, "event": label(d.event) if d.event else None,
            "visit_date": d.visit_date, "detected_at": d.detected_at,
            "description": d.description}  # fmt: skip


@router.get("/{screening_number}/deviations", response=responses(list[DeviationOut]),
            operation_id="participant_deviations", summary="Protocol deviations")  # fmt: skip
def participant_deviations(request: HttpRequest, screening_number: str):
    view = participant_detail(actor_for(request.auth), screening_number)
    return [_deviation(d) for d in view.deviation_views]


class DerivedOut(Schema):
    event_oid: str
    visit_repeat: int
    visit_date: dt.date | None
    item_oid: str
    number: float | None
    text: str
    formula_version: str
    computed_at: dt.datetime


@router.get("/{screening_number}/scores", response=responses(list[DerivedOut]),
            operation_id="participant_scores", summary="Derived scores on file")  # fmt: skip
def participant_scores(request: HttpRequest, screening_number: str):
    return [vars(d) for d in reads.derived_values(actor_for(request.auth), screening_number)]


class SavedValueOut(Schema):
    text: str
    unit: str
    status: str
    code: str


class RecordOut(Schema):
    repeat: int
    version: int
    values: dict[str, SavedValueOut]


class LogFormOut(Schema):
    form_oid: str
    label: LabelOut
    event_oid: str
    records: list[RecordOut]


def _record(record) -> dict:
    return {"repeat": record.repeat, "version": record.version,
            "values": {oid: vars(v) for oid, v in record.values.items()}}  # fmt: skip


@router.get("/{screening_number}/events", response=responses(list[LogFormOut]),
            operation_id="participant_events",
            summary="Adverse and decompensation events (the repeating log forms)")  # fmt: skip
def participant_events(request: HttpRequest, screening_number: str):
    actor = actor_for(request.auth)
    view = participant_detail(actor, screening_number)
    entry = data_entry(actor, screening_number, view.visits)
    return [
        {"form_oid": log.form.oid, "label": label(log.form.label), "event_oid": log.event_oid,
         "records": [_record(r) for r in log.records]}
        for log in entry.log_forms
    ]  # fmt: skip


class CriterionOut(Schema):
    oid: str
    kind: str
    label: LabelOut
    qualifying_answer: str
    answer: str


class ChecklistOut(Schema):
    screening_number: str
    status: str
    saved: bool
    open: bool
    criteria: list[CriterionOut]
    failed: list[LabelOut]


def _checklist(c) -> dict:
    return {
        "screening_number": c.screening_number, "status": c.status, "saved": c.saved,
        "open": c.open, "failed": [label(f) for f in c.failed],
        "criteria": [{"oid": x.oid, "kind": x.kind, "label": label(x.label),
                      "qualifying_answer": x.qualifying_answer, "answer": x.answer}
                     for x in c.criteria],
    }  # fmt: skip


@router.get("/{screening_number}/eligibility", response=responses(ChecklistOut),
            operation_id="eligibility", summary="The eligibility checklist")  # fmt: skip
def eligibility(request: HttpRequest, screening_number: str):
    return _checklist(steps.checklist(actor_for(request.auth), screening_number))


class EligibilityIn(Schema):
    answers: dict[str, str] = Field(description="Criterion OID → yes or no, every criterion.")
    reason: str = Field("", description="Required to change a saved checklist.")


@router.put(
    "/{screening_number}/eligibility",
    response=responses(ChecklistOut, errors=WRITE_ERRORS),
    operation_id="eligibility_assess",
    summary="Fill in or correct the checklist",
)
def eligibility_assess(request: HttpRequest, screening_number: str, body: EligibilityIn):
    actor = actor_for(request.auth)
    assess_eligibility(actor, screening_number, body.answers, reason=body.reason)
    return _checklist(steps.checklist(actor, screening_number))


class ConsentOnFileOut(Schema):
    document_version: str
    signed_at: dt.datetime


class ConsentOut(Schema):
    screening_number: str
    status: str
    screened_on: dt.date
    consents: list[ConsentOnFileOut]


def _consent(step) -> dict:
    return {
        "screening_number": step.screening_number,
        "status": step.status,
        "screened_on": step.screened_on,
        "consents": [vars(c) for c in step.consents],
    }


@router.get("/{screening_number}/consent", response=responses(ConsentOut),
            operation_id="consent", summary="Consents on file")  # fmt: skip
def consent(request: HttpRequest, screening_number: str):
    return _consent(steps.consent_step(actor_for(request.auth), screening_number))


class ConsentIn(Schema):
    document_version: str
    signed_at: dt.datetime


@router.post(
    "/{screening_number}/consent",
    response=responses(ConsentOut, code=201, errors=WRITE_ERRORS),
    operation_id="consent_record",
    summary="Record the informed consent",
)
def consent_record(request: HttpRequest, screening_number: str, body: ConsentIn):
    actor = actor_for(request.auth)
    record_consent(actor, screening_number, body.document_version, body.signed_at)
    return Status(201, _consent(steps.consent_step(actor, screening_number)))


class StratumPartOut(Schema):
    factor: LabelOut
    level: LabelOut


class ArmOut(Schema):
    code: str
    label: LabelOut


class RandomizationOut(Schema):
    screening_number: str
    status: str
    may_randomize: bool
    randomization_number: str
    randomization_date: dt.date | None
    stratum: list[StratumPartOut]
    arm: ArmOut | None = Field(None, description="Only for a caller who may see the arm.")


def _randomization(step) -> dict:
    out = {
        "screening_number": step.screening_number, "status": step.status,
        "may_randomize": step.may_randomize, "randomization_number": step.randomization_number,
        "randomization_date": step.randomization_date,
        "stratum": [{"factor": label(s.factor), "level": label(s.level)} for s in step.stratum],
    }  # fmt: skip
    if step.arm is not None:
        out["arm"] = {"code": step.arm.code, "label": label(step.arm.label)}
    return out


@router.get("/{screening_number}/randomization", response=responses(RandomizationOut),
            operation_id="randomization", summary="The randomization", **EXCLUDE)  # fmt: skip
def randomization(request: HttpRequest, screening_number: str):
    return _randomization(steps.randomization_step(actor_for(request.auth), screening_number))


@router.post(
    "/{screening_number}/randomization",
    response=responses(RandomizationOut, code=201, errors=WRITE_ERRORS),
    operation_id="randomize",
    summary="Randomize (once; a repeat is 409)",
    **EXCLUDE,
)
def randomize_participant(request: HttpRequest, screening_number: str):
    actor = actor_for(request.auth)
    randomize(actor, screening_number)
    return Status(201, _randomization(steps.randomization_step(actor, screening_number)))


class EndOut(Schema):
    screening_number: str
    status: str
    randomization_date: dt.date | None
    ended_on: dt.date | None
    end_reason: str
    open: bool
    choices: list[str]


def _end(step) -> dict:
    return {
        "screening_number": step.screening_number,
        "status": step.status,
        "randomization_date": step.randomization_date,
        "ended_on": step.ended_on,
        "end_reason": step.end_reason,
        "open": step.open,
        "choices": list(step.choices),
    }


@router.get("/{screening_number}/end", response=responses(EndOut),
            operation_id="end", summary="The end of participation")  # fmt: skip
def end(request: HttpRequest, screening_number: str):
    return _end(steps.end_step(actor_for(request.auth), screening_number))


class EndIn(Schema):
    status: str = Field(description="completed, withdrawn, died, transplanted or lost")
    ended_on: dt.date
    reason: str = ""


@router.post("/{screening_number}/end", response=responses(EndOut, errors=WRITE_ERRORS),
             operation_id="end_participation", summary="End the participation")  # fmt: skip
def end_participation_op(request: HttpRequest, screening_number: str, body: EndIn):
    actor = actor_for(request.auth)
    end_participation(actor, screening_number, body.status, body.ended_on, body.reason)
    return _end(steps.end_step(actor, screening_number))
