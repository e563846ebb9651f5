"""Screening, eligibility, consent and the end of participation."""

from __future__ import annotations

import datetime as dt

from django.db.models import Max
from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.errors import NotFound, PreconditionFailed, ValidationFailed
from hepatrial.edc.models import (
    Consent,
    EligibilityAssessment,
    Participant,
    ParticipantStatus,
    Site,
)
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.boundary import Writes, service
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.reconsent import close_reconsent, open_reconsent, reconsent_problem
from hepatrial.edc.services.schedule import create_visit
from hepatrial.problems import MESSAGES, Problem, gettext_noop

S = ParticipantStatus

MESSAGES.update({
    "site.not_found": gettext_noop("site %(site)s not found"),
    "eligibility.closed": gettext_noop(
        "%(participant)s is %(status)s: eligibility can no longer change"
    ),
    "eligibility.answer_required": gettext_noop("answer yes or no: %(criterion)s"),
    "eligibility.unknown_criteria": gettext_noop("unknown criteria %(criteria)s"),
    "eligibility.reason_required": gettext_noop(
        "a reason is required to change a saved eligibility checklist"
    ),
    "consent.requires_eligibility": gettext_noop(
        "%(participant)s is %(status)s: consent is recorded once eligibility is confirmed"
    ),
    "consent.version_required": gettext_noop("the consent document version is required"),
    "consent.long_before_screening": gettext_noop(
        "consent is dated long before screening; check the date"
    ),
    "participation.not_an_end": gettext_noop("'%(status)s' is not an end of participation"),
    "participation.not_on_study": gettext_noop(
        "%(participant)s is %(status)s: only a participant on study can end participation"
    ),
    "participation.end_before_randomization": gettext_noop(
        "the end date cannot be before randomization"
    ),
})  # fmt: skip
END_STATUSES = {S.COMPLETED, S.WITHDRAWN, S.DIED, S.TRANSPLANTED, S.LOST}


def _audit(actor: Actor, participant: Participant, action: str, **fields) -> None:
    where = {"object_type": "participant", "object_id": participant.pk}
    audit.record(
        action, username=actor.username, participant=participant.screening_number,
        site=participant.site.code, **(where | fields),
    )  # fmt: skip


def _set_status(actor: Actor, participant: Participant, status: S, reason: str = "") -> None:
    old = participant.status
    participant.status = status
    participant.save()
    _audit(actor, participant, "status", item="status", old=old, new=status, reason=reason)


@service(Action.SCREEN, writes=Writes.CLINICAL)
def screen(actor: Actor, site_code: str, screened_on: dt.date) -> Participant:
    """Register a person being screened and give them the next screening number of the site."""
    if site_code not in actor.roles:
        raise NotFound(Problem("site.not_found", site=site_code))
    actor.require(Action.SCREEN, site_code)
    if screened_on > timezone.localdate():
        raise ValidationFailed({"screened_on": Problem("date.in_future", date=screened_on)})
    version, loaded = active_protocol()
    site = Site.objects.select_for_update().get(code=site_code)
    sequence = (site.participants.aggregate(m=Max("sequence"))["m"] or 0) + 1
    participant = Participant.objects.create(
        site=site,
        sequence=sequence,
        screening_number=f"{site.code}-{sequence:04d}",
        status=S.SCREENED,
        protocol_version=version,
        screened_on=screened_on,
    )
    _audit(
        actor,
        participant,
        "create",
        new=participant.screening_number,
        context={"screened_on": screened_on.isoformat(), "protocol": version.content_hash},
    )
    screening = next((e for e in loaded.protocol.events if e.kind == "screening"), None)
    if screening is not None:  # a protocol imported from REDCap may have no screening event
        create_visit(actor, participant, screening.oid, target=screened_on)
    return participant


@service(Action.ASSESS_ELIGIBILITY, writes=Writes.CLINICAL)
def assess_eligibility(
    actor: Actor, screening_number: str, answers: dict[str, str], reason: str = ""
) -> Participant:
    """Record the checklist; the participant becomes eligible or a screen failure.

    Every criterion must be answered yes or no. Answers can be corrected, with a reason, until
    randomization; screen failures are kept for the CONSORT diagram.
    """
    participant = participant_for(actor, screening_number, Action.ASSESS_ELIGIBILITY, lock=True)
    if participant.status not in (S.SCREENED, S.ELIGIBLE, S.SCREEN_FAILED, S.CONSENTED):
        raise PreconditionFailed(Problem("eligibility.closed", participant=screening_number,
                                         status=S(participant.status)))  # fmt: skip
    criteria = active_protocol()[1].protocol.eligibility
    errors = {}
    normalized = {}
    for criterion in criteria:
        answer = str(answers.get(criterion.oid, "")).strip().lower()
        if answer not in ("yes", "no"):
            errors[criterion.oid] = Problem(
                "eligibility.answer_required", criterion=criterion.label
            )
        normalized[criterion.oid] = answer
    unknown = sorted(set(answers) - {c.oid for c in criteria})
    if unknown:
        errors["form"] = Problem("eligibility.unknown_criteria", criteria=unknown)
    existing = EligibilityAssessment.objects.filter(participant=participant).first()
    if existing and not reason.strip():
        errors["reason"] = Problem("eligibility.reason_required")
    if errors:
        raise ValidationFailed(errors)
    failed = [c.oid for c in criteria if normalized[c.oid] != c.qualifying_answer]
    eligible = not failed
    if existing:
        old, assessment = existing.answers, existing
        existing.answers, existing.eligible = normalized, eligible
        existing.assessed_by_id, existing.assessed_at = actor.user_id, timezone.now()
        existing.save()
    else:
        old = None
        assessment = EligibilityAssessment.objects.create(
            participant=participant, answers=normalized, eligible=eligible,
            assessed_by_id=actor.user_id, assessed_at=timezone.now(),
        )  # fmt: skip
    for oid, answer in normalized.items():
        before = (old or {}).get(oid)
        if before != answer:
            _audit(
                actor,
                participant,
                "change" if old else "create",
                item=oid,
                old=before,
                new=answer,
                reason=reason,
                object_type="eligibilityassessment",
                object_id=assessment.pk,
            )
    participant.failed_criteria = failed
    new_status = S.ELIGIBLE if eligible else S.SCREEN_FAILED
    if participant.status == S.CONSENTED and eligible:
        participant.save()
    elif participant.status != new_status:
        _set_status(actor, participant, new_status, reason)
    else:
        participant.save()
    return participant


@service(Action.RECORD_CONSENT, writes=Writes.CLINICAL)
def record_consent(
    actor: Actor, screening_number: str, document_version: str, signed_at: dt.datetime
) -> Consent:
    """Record consent of an eligible person, or the re-consent an amendment asked for (the
    participant keeps their status; the version must be the one asked for)."""
    participant = participant_for(actor, screening_number, Action.RECORD_CONSENT, lock=True)
    reconsent = open_reconsent(participant)
    if participant.status != S.ELIGIBLE and reconsent is None:
        raise PreconditionFailed(Problem("consent.requires_eligibility",
                                         participant=screening_number,
                                         status=S(participant.status)))  # fmt: skip
    errors = {}
    if not document_version.strip():
        errors["document_version"] = Problem("consent.version_required")
    if timezone.is_naive(signed_at):
        signed_at = timezone.make_aware(signed_at)
    if signed_at > timezone.now():
        errors["signed_at"] = Problem("date.in_future", date=timezone.localtime(signed_at))
    if timezone.localdate(signed_at) < participant.screened_on - dt.timedelta(days=30):
        errors["signed_at"] = Problem("consent.long_before_screening")
    if reconsent is not None:
        errors |= reconsent_problem(participant, reconsent, document_version)
    if errors:
        raise ValidationFailed(errors)
    consent = Consent.objects.create(
        participant=participant, document_version=document_version.strip(),
        signed_at=signed_at, taken_by_id=actor.user_id,
    )  # fmt: skip
    _audit(
        actor,
        participant,
        "create",
        object_type="consent",
        object_id=consent.pk,
        item="consent",
        new=f"{document_version} signed {signed_at.isoformat()}",
    )
    if reconsent is not None:
        close_reconsent(actor, participant, reconsent, consent)
    if participant.status == S.ELIGIBLE:
        _set_status(actor, participant, S.CONSENTED)
    return consent


@service(Action.END_PARTICIPATION, writes=Writes.CLINICAL)
def end_participation(
    actor: Actor, screening_number: str, status: str, ended_on: dt.date, reason: str
) -> Participant:
    """End a randomized participant's follow-up: completed, withdrawn, died, transplanted, lost."""
    participant = participant_for(actor, screening_number, Action.END_PARTICIPATION, lock=True)
    not_an_end = {"status": Problem("participation.not_an_end", status=status)}
    try:
        target = S(status)
    except ValueError:
        raise ValidationFailed(not_an_end) from None
    if target not in END_STATUSES:
        raise ValidationFailed(not_an_end)
    if participant.status not in (S.RANDOMIZED, S.ON_STUDY):
        raise PreconditionFailed(Problem("participation.not_on_study",
                                         participant=screening_number,
                                         status=S(participant.status)))  # fmt: skip
    errors = {}
    if participant.randomization_date and ended_on < participant.randomization_date:
        errors["ended_on"] = Problem("participation.end_before_randomization")
    if ended_on > timezone.localdate():
        errors["ended_on"] = Problem("date.in_future", date=ended_on)
    if target != S.COMPLETED and not reason.strip():
        errors["reason"] = Problem("reason.required")
    if errors:
        raise ValidationFailed(errors)
    participant.ended_on, participant.end_reason = ended_on, reason.strip()
    _set_status(actor, participant, target, reason)
    return participant
