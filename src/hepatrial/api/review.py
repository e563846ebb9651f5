"""Source-data verification and electronic signatures: a participant's progress, a form's item
states, verifying items, a form or a visit (the monitor); a participant's signatures and signing
a visit or the casebook with the password re-entered (the investigator).

Thin callers of :mod:`hepatrial.edc.services.verification` and
:mod:`hepatrial.edc.services.signatures`, as the pages in ``web/sign.py``. A form's states are
read through :func:`~hepatrial.edc.services.preview.form_view` first, so an infusion form or an
arm's own visit is not found for a blinded reader; the progress counts and the signatures are
those a blinded reader may see (the services leave the rest out).

The password of a signature is only passed to :func:`~hepatrial.edc.services.signatures.sign`:
it is never written anywhere nor sent back; a wrong one is 403 and audited by the service.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from hepatrial.api.schemas import WRITE_ERRORS, responses
from hepatrial.edc.models import FormRecord
from hepatrial.edc.permissions import Action, actor_for
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.preview import form_view
from hepatrial.edc.services.signatures import (
    MEANINGS,
    SignatureView,
    sign,
    signatures_for,
)
from hepatrial.edc.services.verification import (
    ItemState,
    changed_after_verification,
    item_states,
    participant_progress,
    verify_source,
)

router = Router()
PARTICIPANT = "/{screening_number}"
FORM = "/{screening_number}/visits/{event_oid}/forms/{form_oid}"
REPEAT = Query(0, ge=0, le=10000)


class ItemStateOut(Schema):
    item_oid: str
    state: str = Field(description="verified, changed (since it was verified) or unverified")
    value: str = Field(description="The value now, as the audit trail writes it.")
    verified_by: str
    verified_at: dt.datetime | None
    verified_value: str
    form_version: int = Field(description="The form's version when it was verified.")
    changed_by: str
    changed_at: dt.datetime | None


class FormVerificationOut(Schema):
    items: list[ItemStateOut]
    verified: int
    entered: int


class ChangedOut(Schema):
    event_oid: str
    visit_repeat: int
    form_oid: str
    state: ItemStateOut


class ParticipantVerificationOut(Schema):
    verified: int = Field(description="Items verified and unchanged since.")
    entered: int
    percent: int
    changed: list[ChangedOut] = Field(description="Values changed after they were verified.")


class VerifiedOut(Schema):
    verified: int = Field(description="Items that became verified (0: all already were).")


def _state(state: ItemState) -> dict:
    return vars(state).copy()


@router.get(PARTICIPANT + "/verification", response=responses(ParticipantVerificationOut),
            operation_id="participant_verification",
            summary="Source verification progress and values changed after it")  # fmt: skip
def participant_verification(request: HttpRequest, screening_number: str):
    participant = participant_for(actor_for(request.auth), screening_number,
                                  Action.VIEW_PARTICIPANTS)  # fmt: skip
    progress = participant_progress(participant)
    changed = [
        {"event_oid": visit.event_oid, "visit_repeat": visit.repeat, "form_oid": form,
         "state": _state(state)}
        for visit, form, state in changed_after_verification(participant)
    ]  # fmt: skip
    return {"verified": progress.verified, "entered": progress.entered,
            "percent": progress.percent, "changed": changed}  # fmt: skip


@router.get(FORM + "/verification", response=responses(FormVerificationOut),
            operation_id="form_verification",
            summary="Each entered item's verification state on a form record")  # fmt: skip
def form_verification(
    request: HttpRequest, screening_number: str, event_oid: str, form_oid: str,
    repeat: int = REPEAT, visit: int = REPEAT,
):  # fmt: skip
    view = form_view(actor_for(request.auth), screening_number, event_oid, form_oid,
                     repeat=repeat, visit_repeat=visit)  # fmt: skip
    record = FormRecord.objects.filter(
        visit__participant__screening_number=screening_number, visit__event_oid=event_oid,
        visit__repeat=visit, form_oid=view.form.oid, repeat=repeat,
    ).first()  # fmt: skip
    states = item_states(record) if record is not None else {}
    order = [item.oid for item in view.form.items if item.oid in states]
    items = [_state(states[oid]) for oid in order]
    return {"items": items, "entered": len(items),
            "verified": sum(1 for i in items if i["state"] == "verified")}  # fmt: skip


class VerifyIn(Schema):
    items: list[str] | None = Field(
        None, description="The item OIDs to verify; null (or left out): the whole form record."
    )


@router.post(FORM + "/verify", response=responses(VerifiedOut, errors=WRITE_ERRORS),
             operation_id="form_verify",
             summary="Verify items of a form record, or all of it (monitor)")  # fmt: skip
def form_verify(
    request: HttpRequest, screening_number: str, event_oid: str, form_oid: str, body: VerifyIn,
    repeat: int = REPEAT, visit: int = REPEAT,
):  # fmt: skip
    count = verify_source(actor_for(request.auth), screening_number, event_oid,
                          form_oid=form_oid, items=body.items, repeat=repeat,
                          visit_repeat=visit)  # fmt: skip
    return {"verified": count}


@router.post(PARTICIPANT + "/visits/{event_oid}/verify",
             response=responses(VerifiedOut, errors=WRITE_ERRORS), operation_id="visit_verify",
             summary="Verify every entered value of a visit (monitor)")  # fmt: skip
def visit_verify(request: HttpRequest, screening_number: str, event_oid: str,
                 visit: int = REPEAT):  # fmt: skip
    count = verify_source(actor_for(request.auth), screening_number, event_oid,
                          visit_repeat=visit)  # fmt: skip
    return {"verified": count}


class SignatureOut(Schema):
    id: int
    event_oid: str = Field(description="Empty for the casebook.")
    visit_repeat: int
    printed_name: str
    username: str
    signed_at: dt.datetime
    meaning: str = Field(description="casebook_approved, visit_approved or reviewed")
    meaning_text: str = Field(description="The statement signed, in the caller's language.")
    content_hash: str = Field(description="SHA-256 of the signed content.")
    valid: bool = Field(description="Not void, and the content still hashes to what was signed.")
    voided_at: dt.datetime | None
    voided_by: str
    void_context: dict[str, Any] = Field(description="What change voided it.")


def _signature(s: SignatureView) -> dict:
    return {
        "id": s.pk, "event_oid": s.event_oid, "visit_repeat": s.visit_repeat,
        "printed_name": s.printed_name, "username": s.username, "signed_at": s.signed_at,
        "meaning": s.meaning, "meaning_text": str(MEANINGS.get(s.meaning, s.meaning)),
        "content_hash": s.content_hash, "valid": s.valid, "voided_at": s.voided_at,
        "voided_by": s.voided_by, "void_context": s.void_context or {},
    }  # fmt: skip


@router.get(PARTICIPANT + "/signatures", response=responses(list[SignatureOut]),
            operation_id="participant_signatures",
            summary="A participant's signatures, oldest first, valid or void")  # fmt: skip
def participant_signatures(request: HttpRequest, screening_number: str):
    return [_signature(s) for s in signatures_for(actor_for(request.auth), screening_number)]


class SignIn(Schema):
    password: str = Field(
        description="The signer's own password, re-entered; never echoed.",
        json_schema_extra={"format": "password", "writeOnly": True},
    )
    meaning: str = Field(description="casebook_approved or reviewed for the casebook, "
                         "visit_approved or reviewed for a visit")  # fmt: skip
    event_oid: str = Field("", max_length=64, description="The visit; empty: the casebook.")
    visit_repeat: int = Field(0, ge=0, le=10000)


@router.post(PARTICIPANT + "/signatures",
             response=responses(SignatureOut, code=201, errors=WRITE_ERRORS),
             operation_id="sign",
             summary="Sign a visit or the casebook with the password (investigator)")  # fmt: skip
def sign_op(request: HttpRequest, screening_number: str, body: SignIn):
    actor = actor_for(request.auth)
    signature = sign(actor, screening_number, body.password, body.meaning,
                     event_oid=body.event_oid or None, visit_repeat=body.visit_repeat)  # fmt: skip
    shown = next(s for s in signatures_for(actor, screening_number) if s.pk == signature.pk)
    return 201, _signature(shown)
