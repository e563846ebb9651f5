"""``/audit``: the audit trail for the roles that may read it, filtered, newest first, paged
by cursor. Which rows a reader sees (sites, blinding) is :mod:`hepatrial.edc.services.history`."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from hepatrial.api.schemas import responses
from hepatrial.edc.permissions import actor_for
from hepatrial.edc.services.history import AuditFilter, audit_page

router = Router()


class AuditRowOut(Schema):
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


class AuditPageOut(Schema):
    items: list[AuditRowOut]
    total: int = Field(description="Exact up to 1000; see more.")
    more: bool
    older: int | None = Field(description="Pass as ?older_than= for the next (older) page.")
    newer: int | None = Field(description="Pass as ?newer_than= for the previous page.")


class AuditQuery(Schema):
    username: str = ""
    participant: str = ""
    form: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    older_than: int | None = Field(None, ge=0)
    newer_than: int | None = Field(None, ge=0)
    limit: int = Field(50, ge=1, le=500)


@router.get("", response=responses(AuditPageOut), operation_id="audit_trail",
            summary="The audit trail (administrator, monitor)")  # fmt: skip
def audit_trail(request: HttpRequest, filters: Query[AuditQuery]):
    wanted = AuditFilter(filters.username, filters.participant, filters.form,
                         filters.date_from, filters.date_to)  # fmt: skip
    page = audit_page(actor_for(request.auth), wanted, older_than=filters.older_than,
                      newer_than=filters.newer_than, size=filters.limit)  # fmt: skip
    return {"items": [vars(r) for r in page.rows], "total": page.total, "more": page.more,
            "older": page.older, "newer": page.newer}  # fmt: skip
