"""Re-consent: a participant on study asked to sign the consent document an amendment brought.

An amendment that changes ``study.consent_version`` opens one :class:`Reconsent` per
participant on study whose latest consent is another version
(:func:`ask_for_reconsent`); recording consent with that version closes it
(:func:`close_reconsent`, called by :func:`hepatrial.edc.services.participants.record_consent`).
Pages read the open ones with :func:`open_reconsent` and :func:`reconsent_list`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.models import Consent, Participant, ParticipantStatus, ProtocolVersion, Reconsent
from hepatrial.edc.permissions import Action, Actor
from hepatrial.problems import MESSAGES, Problem, gettext_noop

MESSAGES.update({
    "consent.reconsent_version": gettext_noop(
        "%(participant)s is asked to consent again to version %(version)s: record that version"
    ),
})  # fmt: skip


ON_STUDY = (ParticipantStatus.CONSENTED, ParticipantStatus.RANDOMIZED, ParticipantStatus.ON_STUDY)
"""Participants whose consent covers the study from now on: a new document asks them again."""


def open_reconsent(participant: Participant) -> Reconsent | None:
    return participant.reconsents.filter(consent=None).first()


def _audit(actor: Actor, participant: Participant, reconsent: Reconsent, action: str,
           **fields) -> None:  # fmt: skip
    audit.record(action, username=actor.username, object_type="reconsent",
                 object_id=reconsent.pk, participant=participant.screening_number,
                 site=participant.site.code, item="reconsent", **fields)  # fmt: skip


def ask_for_reconsent(
    actor: Actor, document_version: str, version: ProtocolVersion,
    participants: Iterable[Participant],
) -> list[str]:  # fmt: skip
    """Open a re-consent for each participant whose latest consent is not ``document_version``
    (inside the amendment's service); return their screening numbers."""
    asked = []
    for participant in participants:
        latest = participant.consents.order_by("-signed_at", "-pk").first()
        if latest is not None and latest.document_version == document_version:
            continue
        reconsent = open_reconsent(participant)
        if reconsent is not None:
            old = reconsent.document_version
            if old == document_version:
                continue
            reconsent.document_version, reconsent.protocol_version = document_version, version
            reconsent.save(update_fields=["document_version", "protocol_version"])
        else:
            old = latest.document_version if latest else ""
            reconsent = Reconsent.objects.create(
                participant=participant, document_version=document_version,
                protocol_version=version, requested_at=timezone.now(),
            )  # fmt: skip
        _audit(actor, participant, reconsent, "reconsent", old=old, new=document_version,
               context={"protocol": version.content_hash})  # fmt: skip
        asked.append(participant.screening_number)
    return asked


def reconsent_problem(participant: Participant, reconsent: Reconsent, version: str) -> dict:
    """The field error for a consent recorded with another version than the one asked for."""
    if version.strip() == reconsent.document_version:
        return {}
    return {"document_version": Problem("consent.reconsent_version",
                                         participant=participant.screening_number,
                                         version=reconsent.document_version)}  # fmt: skip


def close_reconsent(actor: Actor, participant: Participant, reconsent: Reconsent,
                    consent: Consent) -> None:  # fmt: skip
    reconsent.consent = consent
    reconsent.save(update_fields=["consent"])
    _audit(actor, participant, reconsent, "change", old="asked",
           new=f"consented {consent.document_version}")  # fmt: skip


@dataclass(frozen=True)
class ReconsentRow:
    screening_number: str
    site: str
    status: str
    document_version: str
    requested_at: object
    signed_version: str
    """The version of the participant's latest consent on file."""


def reconsent_list(actor: Actor) -> list[ReconsentRow]:
    """The participants asked to consent again, at the sites where the actor sees participants."""
    sites = actor.sites_for(Action.VIEW_PARTICIPANTS)
    rows = (
        Reconsent.objects.filter(
            consent=None, participant__site__code__in=sites, participant__status__in=ON_STUDY
        )  # fmt: skip
        .select_related("participant__site")
        .order_by("participant__screening_number")
    )
    result = []
    for row in rows:
        latest = row.participant.consents.order_by("-signed_at", "-pk").first()
        result.append(ReconsentRow(
            row.participant.screening_number, row.participant.site.code, row.participant.status,
            row.document_version, row.requested_at, latest.document_version if latest else "",
        ))  # fmt: skip
    return result
