"""Fill the database with a simulated trial, entered through the same services as real data.

Every screening, eligibility checklist, consent, form, randomization, infusion, adverse event
and end of study goes through the services, so the demo exercises validation, unit
conversion, derived scores, deviations and the audit trail exactly as coordinators would.

The simulator decides each participant's outcomes knowing the arm it gave them. It takes those
arms from the trial's active allocation list — the one `hepatrial init --demo-accounts`
generated from ``var/randomization_seed`` — slot by slot in each stratum in randomization
order, which is the order the demo then randomizes in; so each participant gets the arm the
simulation gave them and `hepatrial allocation verify --seed-file var/randomization_seed`
passes on the demo trial. The forms come from the protocol: no trial's item, form or visit is
named here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from pathlib import Path

from django.utils import timezone

from hepatrial.edc.demo_accounts import DEMO_USERNAMES
from hepatrial.edc.demo_list import ensure_demo_list
from hepatrial.edc.errors import ServiceError
from hepatrial.edc.models import Participant, User
from hepatrial.edc.permissions import actor_for
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.roles import Role as UserRole
from hepatrial.edc.services import participants as svc
from hepatrial.edc.services.allocation import randomize
from hepatrial.edc.services.forms import save_form
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.progress import SILENT, Progress
from hepatrial.protocol.model import Protocol
from hepatrial.protocol.roles import Role, meaning
from hepatrial.protocol.values import EnteredValue
from hepatrial.randomization.blocks import ListEntry, RandomizationList
from hepatrial.simulate.parameters import SimulationParameters, parameters_for
from hepatrial.simulate.records import FormRecord, ParticipantRecord, TrialRecords, VisitRecord
from hepatrial.simulate.trial import TrialMap, simulate_trial

MESSAGES.update({
    "demo.accounts_missing": gettext_noop(
        "the demo accounts are missing: run `hepatrial init --demo-accounts` first"
    ),
    "demo.not_empty": gettext_noop(
        "the database already has participants: demo data goes into an empty trial only"
    ),
})  # fmt: skip


class DemoAccountsMissing(ServiceError):
    """The demo enters data as the demo coordinator and cell-therapy accounts."""


def _entered(items: dict, missing: dict | None = None) -> dict[str, EnteredValue]:
    values = {oid: EnteredValue(text, unit) for oid, (text, unit) in items.items()}
    for oid in missing or {}:
        values[oid] = EnteredValue(status="not_done")
    return values


def _aware(text: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(text))


def demo_actors() -> tuple[object, object]:
    """The demo coordinator and cell-therapy actors, or :class:`DemoAccountsMissing`."""
    names = (DEMO_USERNAMES[UserRole.COORDINATOR], DEMO_USERNAMES[UserRole.CELL_THERAPY])
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    if len(users) < len(names):
        raise DemoAccountsMissing(Problem("demo.accounts_missing"))
    return tuple(actor_for(users[name]) for name in names)


def active_allocation_list(protocol: Protocol) -> RandomizationList:
    """The trial's active list (made from ``var/randomization_seed`` if there is none yet)."""
    active = ensure_demo_list(protocol)
    slots = active.slots.order_by("stratum", "sequence")
    return RandomizationList(
        entries=tuple(
            ListEntry(s.stratum, s.sequence, s.block, s.block_size, s.arm) for s in slots
        ),  # fmt: skip
        method=active.method,
        seed_fingerprint=active.seed_fingerprint,
        parameters=active.parameters,
    )


def simulation_parameters() -> SimulationParameters:
    """The parameters in the file beside the active protocol's file, when it is there."""
    source = active_protocol()[0].source
    return parameters_for(source if source and Path(source).is_file() else None)


def simulate_demo(
    n_participants: int, seed: int, params: SimulationParameters | None = None
) -> TrialRecords:
    """A simulated trial of the active protocol whose arms are the active list's slots."""
    demo_actors()
    protocol = active_protocol()[1].protocol
    params = params if params is not None else simulation_parameters()
    rlist = active_allocation_list(protocol)
    return simulate_trial(protocol, n_participants, seed, params, allocation=rlist)


class DemoLoader:
    def __init__(self, records: TrialRecords, progress: Callable[[str], None] = print):
        self.records = records
        self.progress = progress
        self.coordinator, self.cell_team = demo_actors()
        self.protocol = active_protocol()[1].protocol
        self.where = TrialMap.of(self.protocol)
        self.numbers: dict[str, str] = {}

    def run(self, bar: Progress = SILENT) -> None:
        if Participant.objects.exists():
            raise ServiceError(Problem("demo.not_empty"))
        bar.start("screening", len(self.records.participants), "participants")
        for record in self.records.participants:
            self._screen(record)
            bar.advance()
        randomized = sorted(self.records.randomized, key=lambda r: r.randomization_date)
        bar.start("visits", len(randomized), "participants")
        for record in randomized:
            self._follow(record)
            bar.advance()
        bar.close()
        self.progress(f"loaded {len(self.records.participants)} screened, "
                      f"{len(randomized)} randomized participants")  # fmt: skip

    def _screen(self, record: ParticipantRecord) -> None:
        c = self.coordinator
        on = dt.date.fromisoformat(record.screening_date)
        number = svc.screen(c, record.site_code, on).screening_number
        self.numbers[record.screening_number] = number
        svc.assess_eligibility(c, number, record.eligibility)
        if record.failed_criteria or not record.consent_datetime:
            return
        consent = f"ICF v{self.protocol.study.protocol_version}"
        svc.record_consent(c, number, consent, _aware(record.consent_datetime))
        screening = record.screening_visit
        for form in self.where.demographic_forms:
            oids = {item.oid for item in form.items}
            values = {k: v for k, v in record.demographics.items() if k in oids}
            if values:
                self._save(number, screening.event_oid, form.oid, _entered(values), on)
                on = None
        self._visit_forms(number, screening, on=on)

    def _save(self, number, event, form, values, visit_date=None, actor=None, repeat=0):
        everything = set(values)
        save_form(actor or self.coordinator, number, event, form, values, base_version=0,
                  visit_date=visit_date, confirmed=everything, repeat=repeat)  # fmt: skip

    def _visit_forms(self, number: str, visit: VisitRecord, on: dt.date | None) -> None:
        for form in self.where.forms_at.get(visit.event_oid, []):
            oids = {item.oid for item in form.items}
            items = {k: v for k, v in visit.items.items() if k in oids}
            missing = {k: v for k, v in visit.missing.items() if k in oids}
            if items or missing:
                self._save(number, visit.event_oid, form.oid, _entered(items, missing), on)
                on = None

    def _event_of(self, form: FormRecord) -> str:
        """The event a form outside the visit grid is recorded at (the event log, end of study)."""
        return self.protocol.form(form.form_oid).events[0]

    def _follow(self, record: ParticipantRecord) -> None:
        """Randomize, then enter what happened in date order, as a coordinator would: an event
        logged before the visit that finds its signs (a worse ascites) raises no query."""
        number = self.numbers[record.screening_number]
        randomize(self.coordinator, number, on=dt.date.fromisoformat(record.randomization_date))
        start = self.where.item(Role.INFUSION_START)
        onset = {Role.AE_START: self.where.item(Role.AE_START),
                 Role.DECOMPENSATION_ONSET: self.where.item(Role.DECOMPENSATION_ONSET)}  # fmt: skip
        steps: list[tuple[str, int, Callable[[], None]]] = []
        for visit in record.visits:
            on = dt.date.fromisoformat(visit.visit_date)
            steps.append((visit.visit_date, 1, partial(self._visit_forms, number, visit, on)))
        for infusion in record.infusions:
            given = None
            if start is not None and start.oid in infusion.items:
                given = _aware(infusion.items[start.oid][0]).date()
            save = partial(self._save, number, infusion.intervention, infusion.form_oid,
                           _entered(infusion.items), given, actor=self.cell_team)  # fmt: skip
            steps.append((given.isoformat() if given else record.randomization_date, 2, save))
        for role, forms in ((Role.AE_START, record.adverse_events),
                            (Role.DECOMPENSATION_ONSET, record.decompensations)):  # fmt: skip
            dated = onset[role]
            for form in forms:
                when = form.items.get(dated.oid, ("",))[0] if dated else ""
                save = partial(self._save, number, self._event_of(form), form.form_oid,
                               _entered(form.items), repeat=None)  # fmt: skip
                steps.append((when or record.randomization_date, 0, save))
        for _, _, step in sorted(steps, key=lambda s: (s[0], s[1])):
            step()
        for form in (record.death, record.transplant):
            if form is not None:
                self._save(number, self._event_of(form), form.form_oid, _entered(form.items))
        if record.end_of_study is not None:
            self._end(number, record.end_of_study)

    def _end(self, number: str, form: FormRecord) -> None:
        self._save(number, self._event_of(form), form.form_oid, _entered(form.items))
        w = self.where
        status_item = w.item(Role.END_OF_STUDY_STATUS)
        date_item = w.item(Role.END_OF_STUDY_DATE)
        reason_item = w.item(Role.END_OF_STUDY_REASON)
        if status_item is None or date_item is None:
            return
        status = meaning(status_item, form.items[status_item.oid][0])
        ended = dt.date.fromisoformat(form.items[date_item.oid][0])
        reason = status
        if reason_item is not None and form.items.get(reason_item.oid, ("",))[0]:
            reason = form.items[reason_item.oid][0]
        svc.end_participation(self.coordinator, number, status, ended, reason)
