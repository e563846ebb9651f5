"""``/participants/{n}/visits/{event}/forms/{form}``: read a form with its values, save it.

Reading goes through :func:`~hepatrial.edc.services.preview.form_view` (the visit form page's
read: an infusion form or an arm-only visit is not found for anyone who may not enter it);
saving through :func:`~hepatrial.edc.services.forms.save_form`, the one write path. The form's
version is its ETag; a save names the version it started from (``If-Match`` or
``base_version``) and a stale one is 409 with what changed. ``Idempotency-Key`` becomes the
save's submission id: the same key twice saves once and answers ``replayed``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import HttpRequest, HttpResponse
from ninja import Field, Header, Router, Schema

from hepatrial.api.schemas import (
    WRITE_ERRORS,
    ItemProblem,
    LabelOut,
    LockOut,
    label,
    lock_out,
    responses,
)
from hepatrial.edc.errors import ValidationFailed
from hepatrial.edc.models import FormRecord, ItemValue
from hepatrial.edc.permissions import actor_for
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.preview import form_view, saved_repeat
from hepatrial.problems import Problem
from hepatrial.protocol.values import EnteredValue, ValueStatus
from hepatrial.web.errors import problem_text

router = Router()
PATH = "/{screening_number}/visits/{event_oid}/forms/{form_oid}"


class ValueOut(Schema):
    text: str = Field(description="As typed.")
    unit: str = Field(description="The unit as typed (empty for none).")
    status: str = Field(description="value, not_done, not_applicable or unknown")
    number: float | None = Field(description="The value in the canonical unit.")
    canonical_unit: str
    normalized: str = Field(description="A choice code, true/false, an ISO date…")
    warnings: list[dict] = Field(description="Unusual-value warnings confirmed at entry.")


class ScoreOut(Schema):
    oid: str
    label: LabelOut
    value: float | str | None


class RecordSummaryOut(Schema):
    repeat: int
    version: int


class FormRead(Schema):
    screening_number: str
    event_oid: str
    event_label: LabelOut
    form_oid: str
    form_label: LabelOut
    repeat: int | None = Field(description="The record of a repeating form; null for a new one.")
    visit_repeat: int
    version: int
    visit_date: dt.date | None
    window_start: dt.date | None
    window_end: dt.date | None
    can_edit: bool
    values: dict[str, ValueOut]
    scores: list[ScoreOut]
    records: list[RecordSummaryOut]
    lock: LockOut | None = Field(
        description="The open lock covering the form (its casebook's, visit's or own); "
        "saving is 423 while it holds."
    )


def _repeats(repeat: str, visit: int) -> tuple[int | None, int]:
    if not (repeat.isdigit() or repeat == "new") or visit < 0:
        raise ValidationFailed({"repeat": Problem("api.bad_repeat")})
    return (None if repeat == "new" else int(repeat)), visit


def _values(view) -> dict[str, dict]:
    if view.repeat is None or not view.values:
        return {}
    record = FormRecord.objects.get(
        visit__participant__screening_number=view.screening_number,
        visit__event_oid=view.event_oid, visit__repeat=view.visit_repeat,
        form_oid=view.form.oid, repeat=view.repeat,
    )  # fmt: skip
    return {
        v.item_oid: {"text": v.text, "unit": v.unit_entered, "status": v.status,
                     "number": v.number, "canonical_unit": v.canonical_unit,
                     "normalized": v.normalized_text, "warnings": _warnings(v.warnings)}
        for v in ItemValue.objects.filter(form_record=record).order_by("item_oid")
    }  # fmt: skip


def _warnings(stored: list) -> list[dict]:
    """Each confirmed warning as code, parameters and text in the request's language; a row
    saved before warnings kept their code has only its English text."""
    shown = []
    for warning in stored or []:
        if isinstance(warning, dict):
            try:
                problem = Problem.from_json(warning)
            except (KeyError, TypeError, ValueError):
                problem = None
            if problem is not None:
                data = problem.to_json()
                shown.append({"code": data["code"], "params": data["params"],
                              "detail": problem_text(problem)})  # fmt: skip
                continue
        shown.append({"code": "", "params": {}, "detail": str(warning)})
    return shown


@router.get(PATH, response=responses(FormRead), operation_id="form_read",
            summary="A form with its values; the ETag is its version")  # fmt: skip
def form_read(request: HttpRequest, response: HttpResponse, screening_number: str,
              event_oid: str, form_oid: str, repeat: str = "0", visit: int = 0):  # fmt: skip
    record, visit_repeat = _repeats(repeat, visit)
    view = form_view(actor_for(request.auth), screening_number, event_oid, form_oid,
                     repeat=record, visit_repeat=visit_repeat)  # fmt: skip
    response["ETag"] = f'"{view.version}"'
    return {
        "screening_number": view.screening_number, "event_oid": view.event_oid,
        "event_label": label(view.event_label), "form_oid": view.form.oid,
        "form_label": label(view.form.label), "repeat": view.repeat,
        "visit_repeat": view.visit_repeat, "version": view.version,
        "visit_date": view.visit_date, "window_start": view.window_start,
        "window_end": view.window_end, "can_edit": view.can_edit, "values": _values(view),
        "scores": [{"oid": s.derived.oid, "label": label(s.derived.label), "value": s.value}
                   for s in view.scores],
        "records": [{"repeat": r.repeat, "version": r.version} for r in view.records],
        "lock": lock_out(view.lock, view.screening_number) if view.lock else None,
    }  # fmt: skip


class ValueIn(Schema):
    text: str = ""
    unit: str | None = None
    status: ValueStatus = ValueStatus.VALUE


class FormSave(Schema):
    values: dict[str, ValueIn] = Field(description="Item OID → value; items left out keep theirs.")
    base_version: int | None = Field(None, description="Instead of If-Match.")
    visit_date: dt.date | None = None
    reason: str = Field("", description="Required to change data already saved.")
    confirmed: list[str] = Field([], description="Items whose unusual value is confirmed.")


class SaveOut(Schema):
    version: int
    repeat: int | None
    changed: list[str]
    deviations: list[ItemProblem]
    derived: dict[str, float | str | None]
    replayed: bool


def _base_version(if_match: str | None, body: FormSave) -> int:
    if body.base_version is not None:
        return body.base_version
    tag = (if_match or "").strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise ValidationFailed({"base_version": Problem("api.version_required")})
    return int(tag)


@router.put(PATH, response=responses(SaveOut, errors=WRITE_ERRORS), operation_id="form_save",
            summary="Save a form through the one write path")  # fmt: skip
def form_save(
    request: HttpRequest, response: HttpResponse, screening_number: str, event_oid: str,
    form_oid: str, body: FormSave, repeat: str = "0", visit: int = 0,
    if_match: str | None = Header(None, alias="If-Match"),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=40),
):  # fmt: skip
    actor = actor_for(request.auth)
    record, visit_repeat = _repeats(repeat, visit)
    base = _base_version(if_match, body)
    submission = f"api-{actor.user_id}-{idempotency_key or uuid.uuid4().hex}"
    values = {oid: EnteredValue(v.text.strip(), v.unit or None, v.status)
              for oid, v in body.values.items()}  # fmt: skip
    result = save_form(
        actor, screening_number, event_oid, form_oid, values, base_version=base,
        visit_date=body.visit_date, reason=body.reason, confirmed=body.confirmed,
        repeat=record, visit_repeat=visit_repeat, submission_id=submission,
    )  # fmt: skip
    if record is None:
        record = saved_repeat(actor, submission)
    response["ETag"] = f'"{result.form_version}"'
    return {
        "version": result.form_version, "repeat": record, "changed": result.changed,
        "deviations": [{"code": d.code, "params": d.to_json()["params"],
                        "detail": problem_text(d)} for d in result.deviations],
        "derived": {k: v if isinstance(v, float | str) or v is None else str(v)
                    for k, v in result.derived.items()},
        "replayed": result.replayed,
    }  # fmt: skip
