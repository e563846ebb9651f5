"""Shapes shared by every area of the API: labels, problems, the error responses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema


class LabelOut(Schema):
    en: str
    zh: str


class ItemProblem(Schema):
    code: str
    params: dict[str, Any]
    detail: str


class ProblemOut(Schema):
    """RFC 9457 problem details with hepatrial's problem code and parameters."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    params: dict[str, Any]
    errors: dict[str, ItemProblem] | None = None
    """Per field (item OID, ``form``, ``reason``, ``visit_date``…) on 422."""
    current_version: int | None = None
    """On a stale save (409): the form's version now."""
    changes: list[ItemProblem] | None = None
    """On a stale save (409): what changed since the version the client started from."""


READ_ERRORS = (401, 403, 404, 422)
WRITE_ERRORS = (400, 401, 403, 404, 409, 422, 423)
"""400: a body that is not JSON at all; 422: JSON of the wrong shape or values refused."""


def responses(ok: Any, *, code: int = 200, errors: tuple[int, ...] = READ_ERRORS) -> dict:
    """``{200: ok, 401: ProblemOut, …}`` for an operation's ``response=``."""
    return {code: ok, **dict.fromkeys(errors, ProblemOut)}


def label(value) -> dict:
    return {"en": value.en, "zh": value.zh}


class LockOut(Schema):
    """An open casebook, visit or form lock: nothing under it changes until it is unlocked."""

    level: str = Field(description="casebook, visit or form")
    event_oid: str = Field(description="Empty for the casebook.")
    visit_repeat: int
    form_oid: str = Field(description="Empty for the casebook or a visit.")
    repeat: int
    locked_at: dt.datetime
    locked_by: str
    reason: str
    detail: str = Field(description="What the lock says, in the caller's language.")


def lock_out(lock, screening_number: str) -> dict:
    """A :class:`~hepatrial.edc.models.RecordLock` as :class:`LockOut`."""
    from hepatrial.edc.services.lock_check import lock_problem
    from hepatrial.web.errors import problem_text

    return {
        "level": lock.level, "event_oid": lock.visit.event_oid if lock.visit else "",
        "visit_repeat": lock.visit.repeat if lock.visit else 0,
        "form_oid": lock.form_record.form_oid if lock.form_record else "",
        "repeat": lock.form_record.repeat if lock.form_record else 0,
        "locked_at": lock.locked_at, "locked_by": lock.locked_by, "reason": lock.reason,
        "detail": problem_text(lock_problem(lock, screening_number)),
    }  # fmt: skip
