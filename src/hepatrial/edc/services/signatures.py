"""Electronic signatures of a visit or a whole casebook (21 CFR 11.50, 11.70, 11.200).

The investigator signs by re-entering their password (checked against their own account: the
signer is always the signed-in user, so nobody can sign for someone else). A signature records
the printed name, the time (UTC), the meaning (a code of :data:`MEANINGS`, read in either
language) and the SHA-256 of the signed content: the canonical JSON (:func:`signed_content`) of
every item value with its unit and status, every visit date and status and every derived
value of the visit or casebook, in a stable order.

A later change voids the signature: the save path marks it void, naming who changed what and
when (:func:`void_after_change`), and :func:`signature_still_valid` recomputes the hash, so a
change by any other path shows too. Signing again adds a new signature; the void one stays.

Blinding: the content is what the signer may see. A blinded signer (the investigator is
blinded) signs without the intervention forms and visits (``scope="blinded"``); so a change of
an infusion record neither shows in nor voids their signature.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hepatrial.edc import audit
from hepatrial.edc.errors import NotFound, PreconditionFailed, ValidationFailed
from hepatrial.edc.models import (
    DerivedValue,
    FormRecord,
    ItemValue,
    Participant,
    Signature,
    User,
    Visit,
)
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.boundary import Writes, service
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.schedule import intervention_codes, intervention_forms
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol.model import Protocol

MESSAGES.update({
    "signature.wrong_password": gettext_noop(
        "the password does not match: nothing was signed"
    ),
    "signature.password_required": gettext_noop("enter your password to sign"),
    "signature.unknown_meaning": gettext_noop("choose what your signature means"),
    "signature.nothing_to_sign": gettext_noop("nothing is entered here yet to sign"),
    "signature.visit_not_found": gettext_noop("visit %(event)s not found for %(participant)s"),
})  # fmt: skip

BLINDED, UNBLINDED = "blinded", "unblinded"

MEANINGS = {
    "casebook_approved": _("I approve the data of this casebook as accurate and complete."),
    "visit_approved": _("I approve the data of this visit as accurate and complete."),
    "reviewed": _("I have reviewed these data."),
}
"""Meaning code → the statement the signer makes, in the reader's language (11.50(a)(3))."""
CASEBOOK_MEANINGS = ("casebook_approved", "reviewed")
VISIT_MEANINGS = ("visit_approved", "reviewed")


class WrongPassword(ValidationFailed):
    """The re-entered password is not the signer's: nothing was signed (audited)."""


def _number(value: float | None) -> str | None:
    return None if value is None else repr(float(value))


def signed_content(participant: Participant, visit: Visit | None, scope: str) -> dict:
    """What a signature covers, as plain data in a stable order.

    ``visit=None``: the casebook, every visit of the participant. With ``scope="blinded"`` the
    intervention visits and forms are left out.
    """
    protocol = active_protocol()[1].protocol
    hidden_events = intervention_codes(protocol) if scope == BLINDED else set()
    hidden_forms = intervention_forms(protocol) if scope == BLINDED else set()
    visits = Visit.objects.filter(participant=participant)
    if visit is not None:
        visits = visits.filter(pk=visit.pk)
    visits = [v for v in visits if v.event_oid not in hidden_events]
    records = FormRecord.objects.filter(visit__in=visits).exclude(form_oid__in=sorted(hidden_forms))
    values: dict[int, list[dict]] = {}
    for row in ItemValue.objects.filter(form_record__in=records).order_by("item_oid"):
        values.setdefault(row.form_record_id, []).append({
            "item": row.item_oid, "status": row.status, "text": row.text,
            "unit": row.unit_entered, "number": _number(row.number),
            "normalized": row.normalized_text, "canonical_unit": row.canonical_unit,
        })  # fmt: skip
    forms: dict[int, list[dict]] = {}
    for record in records.order_by("form_oid", "repeat"):
        forms.setdefault(record.visit_id, []).append(
            {"form": record.form_oid, "repeat": record.repeat, "items": values.get(record.pk, [])}
        )
    derived: dict[int, list[dict]] = {}
    for row in DerivedValue.objects.filter(visit__in=visits).order_by("item_oid"):
        derived.setdefault(row.visit_id, []).append({
            "item": row.item_oid, "number": _number(row.number), "text": row.text,
            "formula": row.formula_version,
        })  # fmt: skip
    return {
        "participant": participant.screening_number,
        "scope": scope,
        "visits": [
            {
                "event": v.event_oid,
                "repeat": v.repeat,
                "visit_date": v.visit_date.isoformat() if v.visit_date else None,
                "status": v.status,
                "forms": forms.get(v.pk, []),
                "derived": derived.get(v.pk, []),
            }  # fmt: skip
            for v in sorted(visits, key=lambda v: (v.event_oid, v.repeat))
        ],
    }


def canonical_json(content: dict) -> str:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(content: dict) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def signature_still_valid(signature: Signature) -> bool:
    """Not voided, and the signed content still hashes to what was signed."""
    if signature.voided_at is not None:
        return False
    content = signed_content(signature.participant, signature.visit, signature.scope)
    return content_hash(content) == signature.content_hash


def _scope(actor: Actor, participant: Participant) -> str:
    return UNBLINDED if actor.can(Action.VIEW_ARM, participant.site.code) else BLINDED


def _target_visit(actor: Actor, participant: Participant, protocol: Protocol,
                  event_oid: str | None, visit_repeat: int) -> Visit | None:  # fmt: skip
    if event_oid is None:
        return None
    visit = Visit.objects.filter(
        participant=participant, event_oid=event_oid, repeat=visit_repeat
    ).first()
    hidden = event_oid in intervention_codes(protocol)
    if visit is None or (hidden and _scope(actor, participant) == BLINDED):
        raise NotFound(Problem("signature.visit_not_found", event=event_oid,
                               participant=participant.screening_number))  # fmt: skip
    return visit


def printed_name(user: User) -> str:
    return user.get_full_name().strip() or user.get_username()


def _where(visit: Visit | None) -> dict:
    return {"event": visit.event_oid, "visit_repeat": visit.repeat} if visit else {}


@service(Action.SIGN, writes=Writes.CLINICAL)
def _sign(actor: Actor, screening_number: str, password: str, meaning: str,
          event_oid: str | None, visit_repeat: int) -> Signature:  # fmt: skip
    participant = participant_for(actor, screening_number, Action.SIGN, lock=True)
    protocol = active_protocol()[1].protocol
    visit = _target_visit(actor, participant, protocol, event_oid, visit_repeat)
    allowed = VISIT_MEANINGS if visit is not None else CASEBOOK_MEANINGS
    if meaning not in allowed:
        raise ValidationFailed({"meaning": Problem("signature.unknown_meaning")})
    if not password:
        raise ValidationFailed({"password": Problem("signature.password_required")})
    user = User.objects.get(pk=actor.user_id)
    if not user.is_active or not user.check_password(password):
        raise WrongPassword({"password": Problem("signature.wrong_password")})
    scope = _scope(actor, participant)
    content = signed_content(participant, visit, scope)
    if not any(v["forms"] for v in content["visits"]):
        raise PreconditionFailed(Problem("signature.nothing_to_sign"))
    signature = Signature.objects.create(
        participant=participant, visit=visit, signer=user, printed_name=printed_name(user),
        signed_at=timezone.now(), meaning=meaning, scope=scope,
        content_hash=content_hash(content),
    )  # fmt: skip
    audit.record(
        "sign", username=actor.username, object_type="signature", object_id=signature.pk,
        participant=participant.screening_number, site=participant.site.code,
        item=event_oid or "casebook", new=f"{signature.printed_name}: {meaning}",
        blinded_content=scope == UNBLINDED,
        context=_where(visit) | {"meaning": meaning, "hash": signature.content_hash,
                                 "scope": scope},
    )  # fmt: skip
    return signature


@service(Action.SIGN, writes=Writes.ADMINISTRATION)
def _refused(actor: Actor, screening_number: str, event_oid: str | None) -> None:
    """The audit row of a refused signature; kept although the signature itself rolled back."""
    participant = participant_for(actor, screening_number, Action.SIGN)
    audit.record(
        "sign_failed", username=actor.username, object_type="signature",
        participant=participant.screening_number, site=participant.site.code,
        item=event_oid or "casebook", new="wrong password",
    )  # fmt: skip


def sign(actor: Actor, screening_number: str, password: str, meaning: str, *,
         event_oid: str | None = None, visit_repeat: int = 0) -> Signature:  # fmt: skip
    """Sign a visit (``event_oid``) or the whole casebook, re-entering the password.

    A wrong password signs nothing and raises :class:`WrongPassword` with field ``password``;
    the refusal is audited (``sign_failed``).
    """
    try:
        return _sign(actor, screening_number, password, meaning, event_oid, visit_repeat)
    except WrongPassword:
        _refused(actor, screening_number, event_oid)
        raise


def void_after_change(actor: Actor, participant: Participant, visit: Visit, record: FormRecord,
                      changed: list[str], *, protocol: Protocol) -> None:  # fmt: skip
    """Void the signatures whose content a saved change touched (save path, same transaction).

    ``changed`` lists the item OIDs changed; empty when only the visit date changed.
    """
    hidden = (record.form_oid in intervention_forms(protocol)
              or visit.event_oid in intervention_codes(protocol))  # fmt: skip
    signatures = Signature.objects.filter(
        Q(visit=visit) | Q(visit=None), participant=participant, voided_at=None
    ).select_related("visit")
    what = {"event": visit.event_oid, "visit_repeat": visit.repeat, "form": record.form_oid,
            "items": sorted(changed), "visit_date": not changed}  # fmt: skip
    now = timezone.now()
    for signature in signatures:
        if hidden and signature.scope == BLINDED:
            continue
        signature.voided_at, signature.voided_by, signature.void_context = now, actor.username, what
        signature.save(update_fields=["voided_at", "voided_by", "void_context"])
        audit.record(
            "sign_void", username=actor.username, object_type="signature",
            object_id=signature.pk, participant=participant.screening_number,
            site=participant.site.code, item=signature.visit.event_oid if signature.visit
            else "casebook", old="signed", new="void", blinded_content=hidden,
            context={"event": visit.event_oid, "form": record.form_oid, "items": sorted(changed)},
        )  # fmt: skip


@dataclass(frozen=True)
class SignatureView:
    """One signature as a page or export shows it (the manifest of 11.50)."""

    pk: int
    event_oid: str
    """Empty for the casebook."""
    visit_repeat: int
    printed_name: str
    username: str
    signed_at: dt.datetime
    meaning: str
    content_hash: str
    valid: bool
    voided_at: dt.datetime | None = None
    voided_by: str = ""
    void_context: dict = field(default_factory=dict)


def _view(signature: Signature) -> SignatureView:
    return SignatureView(
        signature.pk, signature.visit.event_oid if signature.visit else "",
        signature.visit.repeat if signature.visit else 0, signature.printed_name,
        signature.signer.get_username(), signature.signed_at, signature.meaning,
        signature.content_hash, signature_still_valid(signature), signature.voided_at,
        signature.voided_by, signature.void_context,
    )  # fmt: skip


def visible_signatures(actor: Actor, participant: Participant) -> list[SignatureView]:
    """Every signature of ``participant`` that ``actor`` may see, oldest first.

    A blinded reader does not see a signature whose content covered the intervention data.
    """
    rows = participant.signatures.select_related("visit", "signer", "participant")
    if _scope(actor, participant) == BLINDED:
        rows = rows.filter(scope=BLINDED)
    return [_view(s) for s in rows]


def signatures_for(actor: Actor, screening_number: str) -> list[SignatureView]:
    participant = participant_for(actor, screening_number, Action.VIEW_PARTICIPANTS)
    return visible_signatures(actor, participant)


def current(signatures: list[SignatureView], event_oid: str = "",
            visit_repeat: int = 0) -> SignatureView | None:  # fmt: skip
    """The latest signature of the casebook (``event_oid=""``) or of one visit."""
    mine = [s for s in signatures if (s.event_oid, s.visit_repeat) == (event_oid, visit_repeat)]
    return mine[-1] if mine else None


SIGNATURE_COLUMNS = ["STUDYID", "USUBJID", "SITEID", "SIGSCOPE", "VISIT", "SIGNER", "SIGNAME",
                     "SIGDTC", "SIGMEAN", "SIGHASH", "SIGSTAT", "VOIDDTC", "VOIDBY"]  # fmt: skip


def signature_rows(sites: list[str], *, blinded: bool) -> list[dict]:
    """The signatures of randomized participants of ``sites``, one row each, for the export.

    A blinded export keeps only signatures of blinded content, so nothing tells the arms apart.
    """
    protocol = active_protocol()[1].protocol
    study = protocol.study.registry_id
    rows = (
        Signature.objects.filter(participant__site__code__in=sites)
        .exclude(participant__randomization_date=None)
        .select_related("participant__site", "visit", "signer")
    )
    if blinded:
        rows = rows.filter(scope=BLINDED)
    found = []
    for s in rows.order_by("participant__screening_number", "signed_at", "id"):
        valid = signature_still_valid(s)
        found.append({
            "STUDYID": study, "USUBJID": f"{study}-{s.participant.screening_number}",
            "SITEID": s.participant.site.code, "SIGSCOPE": "VISIT" if s.visit else "CASEBOOK",
            "VISIT": s.visit.event_oid if s.visit else "", "SIGNER": s.signer.get_username(),
            "SIGNAME": s.printed_name,
            "SIGDTC": s.signed_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
            "SIGMEAN": str(MEANINGS[s.meaning]) if s.meaning in MEANINGS else s.meaning,
            "SIGHASH": s.content_hash, "SIGSTAT": "VALID" if valid else "VOID",
            "VOIDDTC": s.voided_at.astimezone(dt.UTC).isoformat(timespec="seconds")
            if s.voided_at else "",
            "VOIDBY": s.voided_by,
        })  # fmt: skip
    return found


def write_signatures(sites: list[str], path, *, blinded: bool) -> int:
    """Write ``signatures.csv`` of an export (columns :data:`SIGNATURE_COLUMNS`); returns rows."""
    import pandas as pd

    rows = signature_rows(sites, blinded=blinded)
    pd.DataFrame(rows, columns=SIGNATURE_COLUMNS).to_csv(path, index=False)
    return len(rows)
