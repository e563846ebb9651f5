"""Fill the database with a simulated trial, entered through the same services as real data.

Every screening, eligibility checklist, consent, form, randomization, infusion, adverse event
and end of study goes through the services, so the demo exercises validation, unit
conversion, derived scores, deviations and the audit trail exactly as coordinators would.

The simulator decides each participant's outcomes knowing the arm it gave them. So that the
demo keeps that arm effect, its allocation list is the sequence of arms the simulation used,
per stratum and in randomization order, completed to whole balanced blocks and validated like
any externally generated list before it is loaded. It has no seed, so `hepatrial allocation
verify` does not apply to the demo's list.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from django.utils import timezone

from hepatrial.edc.errors import ServiceError
from hepatrial.edc.models import Participant, User
from hepatrial.edc.permissions import actor_for
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services import participants as svc
from hepatrial.edc.services.allocation import design_for, load_list, randomize, stratum_of
from hepatrial.edc.services.forms import save_form
from hepatrial.protocol.values import EnteredValue
from hepatrial.randomization.listfile import import_list_csv
from hepatrial.simulate.records import FormRecord, ParticipantRecord, TrialRecords, VisitRecord

EOS_STATUS = {"completed": "completed", "withdrawn": "withdrawn", "lost": "lost",
              "died": "died", "transplanted": "transplanted"}  # fmt: skip


def _entered(items: dict, missing: dict | None = None) -> dict[str, EnteredValue]:
    values = {oid: EnteredValue(text, unit) for oid, (text, unit) in items.items()}
    for oid in missing or {}:
        values[oid] = EnteredValue(status="not_done")
    return values


def _aware(text: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(text))


class DemoLoader:
    def __init__(self, records: TrialRecords, progress: Callable[[str], None] = print):
        self.records = records
        self.progress = progress
        self.coordinator = actor_for(User.objects.get(username="coordinator"))
        self.cell_team = actor_for(User.objects.get(username="celltherapy"))
        self.numbers: dict[str, str] = {}

    def run(self) -> None:
        if Participant.objects.exists():
            raise ServiceError("the database already has participants: demo data goes into "
                               "an empty trial only")  # fmt: skip
        for record in self.records.participants:
            self._screen(record)
        randomized = sorted(self.records.randomized, key=lambda r: r.randomization_date)
        self._load_simulated_list(randomized)
        for record in randomized:
            self._follow(record)
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
        svc.record_consent(c, number, "ICF v1.0", _aware(record.consent_datetime))
        screening = record.screening_visit
        self._save(number, "SCR", "F.DM", _entered(record.demographics), on)
        self._visit_forms(number, screening, on=None)

    def _save(self, number, event, form, values, visit_date=None, actor=None, repeat=0):
        everything = set(values)
        save_form(actor or self.coordinator, number, event, form, values, base_version=0,
                  visit_date=visit_date, confirmed=everything, repeat=repeat)  # fmt: skip

    def _visit_forms(self, number: str, visit: VisitRecord, on: dt.date | None) -> None:
        protocol = active_protocol()[1].protocol
        for form_oid in ("F.LAB", "F.CLIN"):
            oids = {item.oid for item in protocol.form(form_oid).items}
            items = {k: v for k, v in visit.items.items() if k in oids}
            missing = {k: v for k, v in visit.missing.items() if k in oids}
            if items or missing:
                self._save(number, visit.event_oid, form_oid, _entered(items, missing), on)
                on = None

    def _load_simulated_list(self, randomized: list[ParticipantRecord]) -> None:
        protocol = active_protocol()[1].protocol
        design = design_for(protocol, per_stratum=1)
        arms_by_stratum: dict[str, list[str]] = defaultdict(list)
        for record in randomized:
            number = self.numbers[record.screening_number]
            participant = Participant.objects.get(screening_number=number)
            arms_by_stratum[stratum_of(participant, protocol)].append(record.arm)
        lines = ["stratum,sequence,arm"]
        ratios = {a.code: a.ratio for a in design.arms}
        smallest = min(design.block_sizes) // design.ratio_total
        one_block = [code for code, ratio in ratios.items() for _ in range(ratio * smallest)]
        for stratum in design.strata():
            arms = _complete_blocks(arms_by_stratum.get(stratum, []), ratios) or one_block
            lines += [f"{stratum},{i},{arm}" for i, arm in enumerate(arms, start=1)]
        rlist = import_list_csv("\n".join(lines) + "\n", design.arms, design.strata(),
                                design.block_sizes)  # fmt: skip
        load_list(rlist, operator="hepatrial demo (the simulation's own allocations)")

    def _follow(self, record: ParticipantRecord) -> None:
        number = self.numbers[record.screening_number]
        randomize(self.coordinator, number, on=dt.date.fromisoformat(record.randomization_date))
        for visit in record.visits:
            self._visit_forms(number, visit, dt.date.fromisoformat(visit.visit_date))
        for infusion in record.infusions:
            given = _aware(infusion.items["I.INFDTC"][0]).date()
            self._save(number, infusion.intervention, "F.INF", _entered(infusion.items), given,
                       actor=self.cell_team)  # fmt: skip
        for form in record.adverse_events + record.decompensations:
            self._save(number, "LOG", form.form_oid, _entered(form.items), repeat=None)
        for form in (record.death, record.transplant):
            if form is not None:
                self._save(number, "EOS", form.form_oid, _entered(form.items))
        if record.end_of_study is not None:
            self._end(number, record.end_of_study)

    def _end(self, number: str, form: FormRecord) -> None:
        self._save(number, "EOS", "F.EOS", _entered(form.items))
        status = form.items["I.EOSSTAT"][0]
        ended = dt.date.fromisoformat(form.items["I.EOSDT"][0])
        reason = form.items.get("I.EOSREAS", ("",))[0] or status
        svc.end_participation(self.coordinator, number, EOS_STATUS[status], ended, reason)


def _complete_blocks(arms: list[str], ratios: dict[str, int]) -> list[str]:
    """Append the arms that complete the last, partial block.

    Complete blocks are balanced, so topping every arm up to the same multiple of its ratio
    completes the partial one; the import then checks that every block has an allowed size.
    """
    multiple = max(-(-arms.count(code) // ratio) for code, ratio in ratios.items())
    return arms + [code for code, ratio in ratios.items()
                   for _ in range(multiple * ratio - arms.count(code))]  # fmt: skip
