"""What the screening and enrolment pages show: sites, the checklist, consent, randomization.

Read only: the writes are :mod:`~hepatrial.edc.services.participants` and
:mod:`~hepatrial.edc.services.allocation`. Each function finds the participant the way its write
does (another site's participant is not found, a role that may not take the step is refused), so
a page never offers a step that its service would refuse to that user. Labels are protocol
:class:`Label` objects; the web picks the language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hepatrial.edc.models import Participant, ParticipantStatus, Site
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.allocation import arm_of
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.reconsent import open_reconsent
from hepatrial.protocol.model import Label

S = ParticipantStatus

END_STATUSES = (S.COMPLETED, S.WITHDRAWN, S.DIED, S.TRANSPLANTED, S.LOST)
"""The ends of participation, in the order a form offers them."""

NEXT_STEP = {
    S.SCREENED: Action.ASSESS_ELIGIBILITY,
    S.ELIGIBLE: Action.RECORD_CONSENT,
    S.CONSENTED: Action.RANDOMIZE,
    S.RANDOMIZED: Action.END_PARTICIPATION,
    S.ON_STUDY: Action.END_PARTICIPATION,
}
"""A participant's status → the enrolment step that comes next (none after a screen failure or
the end of participation)."""

CHECKLIST_OPEN = (S.SCREENED, S.ELIGIBLE, S.SCREEN_FAILED, S.CONSENTED)
"""Statuses in which the eligibility checklist can still be filled in or corrected."""


def _same(text: str) -> Label:
    """A code or a name the protocol does not label, shown as it is in every language."""
    return Label(en=text, zh=text)


def status_of(text: str) -> S | None:
    """The status a page was given, as a code or as its English name ("Screen failed")."""
    for status in S:
        if text in (status.value, status.label):
            return status
    return None


@dataclass(frozen=True)
class SiteChoice:
    code: str
    name: Label


def screening_sites(actor: Actor) -> list[SiteChoice]:
    """The sites where ``actor`` may screen, named as the protocol names them."""
    named = {s.code: s.name for s in active_protocol()[1].protocol.study.sites}
    sites = Site.objects.filter(code__in=actor.sites_for(Action.SCREEN)).order_by("code")
    return [SiteChoice(s.code, named.get(s.code) or _site_name(s)) for s in sites]


def _site_name(site: Site) -> Label:
    if not site.name:
        return _same(site.code)
    return Label(en=site.name, zh=site.name_zh or site.name)


@dataclass(frozen=True)
class Criterion:
    oid: str
    kind: str
    label: Label
    qualifying_answer: str
    answer: str
    """The saved answer, ``"yes"``, ``"no"`` or ``""``."""


@dataclass(frozen=True)
class Checklist:
    screening_number: str
    status: str
    criteria: list[Criterion]
    saved: bool
    """A checklist is on file: changing it needs a reason."""
    failed: list[Label]

    @property
    def inclusion(self) -> list[Criterion]:
        return [c for c in self.criteria if c.kind == "inclusion"]

    @property
    def exclusion(self) -> list[Criterion]:
        return [c for c in self.criteria if c.kind == "exclusion"]

    @property
    def open(self) -> bool:
        return self.status in CHECKLIST_OPEN


def criterion_labels(oids: list[str]) -> list[Label]:
    """The protocol's labels of eligibility criteria; an unknown OID is shown as itself."""
    labels = {c.oid: c.label for c in active_protocol()[1].protocol.eligibility}
    return [labels.get(oid) or _same(oid) for oid in oids]


def checklist(actor: Actor, screening_number: str) -> Checklist:
    """The protocol's criteria with the participant's saved answers, if any."""
    participant = participant_for(actor, screening_number, Action.ASSESS_ELIGIBILITY)
    saved = getattr(participant, "eligibility", None)
    answers = saved.answers if saved else {}
    criteria = [
        Criterion(c.oid, c.kind, c.label, c.qualifying_answer, answers.get(c.oid, ""))
        for c in active_protocol()[1].protocol.eligibility
    ]
    return Checklist(
        screening_number,
        participant.status,
        criteria,
        saved is not None,
        criterion_labels(list(participant.failed_criteria)),
    )


@dataclass(frozen=True)
class ConsentOnFile:
    document_version: str
    signed_at: dt.datetime


@dataclass(frozen=True)
class ConsentStep:
    screening_number: str
    status: str
    screened_on: dt.date
    consents: list[ConsentOnFile]
    reconsent: str = ""
    """The consent document version an amendment asks the participant to sign, if any."""


def consent_step(actor: Actor, screening_number: str) -> ConsentStep:
    participant = participant_for(actor, screening_number, Action.RECORD_CONSENT)
    consents = [
        ConsentOnFile(c.document_version, c.signed_at)
        for c in participant.consents.order_by("signed_at")
    ]
    reconsent = open_reconsent(participant)
    return ConsentStep(screening_number, participant.status, participant.screened_on, consents,
                       reconsent.document_version if reconsent else "")  # fmt: skip


@dataclass(frozen=True)
class StratumPart:
    factor: Label
    level: Label


@dataclass(frozen=True)
class ArmShown:
    code: str
    label: Label


@dataclass(frozen=True)
class RandomizationStep:
    screening_number: str
    status: str
    may_randomize: bool
    randomization_number: str
    stratum: list[StratumPart]
    randomization_date: dt.date | None
    arm: ArmShown | None
    """Only for a user who may see the arm at this site; ``None`` for everyone else."""


def _stratum(code: str) -> list[StratumPart]:
    """``CPCLASS=B`` as the protocol's labels of each factor and level."""
    factors = {f.code: f for f in active_protocol()[1].protocol.randomization.strata}
    parts = []
    for pair in filter(None, code.split(";")):
        factor_code, _, level_code = pair.partition("=")
        factor = factors.get(factor_code)
        levels = {lv.code: lv.label for lv in factor.levels} if factor else {}
        parts.append(
            StratumPart(
                factor.label if factor else _same(factor_code),
                levels.get(level_code) or _same(level_code or pair),
            )
        )
    return parts


def randomization_step(actor: Actor, screening_number: str) -> RandomizationStep:
    """The participant's randomization as far as ``actor`` may see it (the arm only if unblinded).

    Anyone who may see the participant may see that they are randomized, their number, stratum
    and day 0; ``may_randomize`` says whether this user may randomize them.
    """
    participant: Participant = participant_for(actor, screening_number, Action.VIEW_PARTICIPANTS)
    arm_code = arm_of(actor, participant)
    arms = {a.code: a.label for a in active_protocol()[1].protocol.arms}
    return RandomizationStep(
        screening_number,
        participant.status,
        actor.can(Action.RANDOMIZE, participant.site.code),
        participant.randomization_number,
        _stratum(participant.stratum),
        participant.randomization_date,
        ArmShown(arm_code, arms.get(arm_code) or _same(arm_code)) if arm_code else None,
    )


@dataclass(frozen=True)
class EndStep:
    screening_number: str
    status: str
    randomization_date: dt.date | None
    ended_on: dt.date | None
    end_reason: str
    choices: tuple[str, ...] = tuple(s.value for s in END_STATUSES)

    @property
    def open(self) -> bool:
        return self.status in (S.RANDOMIZED, S.ON_STUDY)


def end_step(actor: Actor, screening_number: str) -> EndStep:
    participant = participant_for(actor, screening_number, Action.END_PARTICIPATION)
    return EndStep(
        screening_number,
        participant.status,
        participant.randomization_date,
        participant.ended_on,
        participant.end_reason,
    )
