"""Shapes shared by every area of the API: labels, problems, the error responses."""

from __future__ import annotations

from typing import Any

from ninja import Schema


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
