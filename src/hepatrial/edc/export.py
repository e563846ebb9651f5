"""Analysis datasets (ADSL, ADLB, ADTTE, ADAE) built from the captured data.

The column rules are those of :mod:`hepatrial.analysis.datasets` (docs/datasets.md); visits
are assigned with its window rules from the protocol's schedule, so the analysis reads the
export exactly as it reads any other folder of datasets.

Blinding: every export is blinded unless the caller asks otherwise and may see arms. A blinded
export codes the arms as ``X`` and ``Y`` by a mapping derived from the list's secret seed
fingerprint and the site, which is never printed; and it leaves out what would tell the arms
apart (number of infusions, date of the last infusion, actual arm, infusion-visit records,
infusion reactions).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd
from django.conf import settings

from hepatrial.analysis.datasets import AdamDatasets
from hepatrial.analysis.derive import (
    DerivedEntry,
    FormEntry,
    ParticipantData,
    Value,
    derive_adam,
)
from hepatrial.analysis.plan import AnalysisPlan
from hepatrial.edc import audit
from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.export_access import export_sites
from hepatrial.edc.models import (
    AllocationSlot,
    DerivedValue,
    Deviation,
    ItemValue,
    Participant,
    ParticipantStatus,
    ProtocolVersion,
)
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.roles import is_blinded
from hepatrial.edc.services.lock import current_lock
from hepatrial.progress import SILENT, Progress
from hepatrial.protocol.model import Protocol

S = ParticipantStatus


@dataclass(frozen=True)
class Export:
    datasets: AdamDatasets
    blinded: bool
    plan: AnalysisPlan
    """The analysis plan of the protocol, with the arms as this export names them."""
    sites: list[str]
    """The sites whose participants the export holds (what the actor may take out)."""


def plan_for(protocol: Protocol, arm_names: dict[str, str], labels: dict[str, str]):
    """The protocol's analysis plan (:meth:`AnalysisPlan.from_protocol`) for these arm names."""
    return AnalysisPlan.from_protocol(protocol, arm_names, labels)


def _arm_codes(arms: list[str], salt: str) -> dict[str, str]:
    """Arm → X/Y… by a keyed hash, so the coding cannot be read off the arm codes' order."""
    key = (settings.SECRET_KEY + salt).encode()
    ordered = sorted(arms, key=lambda a: hmac.new(key, a.encode(), hashlib.sha256).hexdigest())
    return {arm: chr(ord("X") + i) if i < 3 else f"G{i}" for i, arm in enumerate(ordered)}


def screening_frame(sites: list[str]) -> pd.DataFrame:
    """One row per screened person for the CONSORT diagram; no arm, nothing clinical."""
    _, loaded = active_protocol()
    labels = {c.oid: c.label.en.replace(";", ",") for c in loaded.protocol.eligibility}
    rows = []
    people = Participant.objects.filter(site__code__in=sites).select_related("site")
    for p in people.order_by("screening_number"):
        if p.randomization_date:
            status = "randomized"
        elif p.status == S.SCREEN_FAILED:
            status = "screen_failed"
        elif p.status == S.WITHDRAWN:
            status = "declined"
        else:
            status = "pending"
        failed = list(p.failed_criteria or []) if status == "screen_failed" else []
        rows.append({
            "SCRNUM": p.screening_number, "SITEID": p.site.code,
            "SCREENDT": p.screened_on.isoformat(), "SCRSTAT": status,
            "FAILCRIT": ";".join(failed), "FAILLBL": ";".join(labels.get(c, c) for c in failed),
            "USUBJID": f"{loaded.protocol.study.registry_id}-{p.screening_number}"
            if p.randomization_date else "",
        })  # fmt: skip
    return pd.DataFrame(rows, columns=SCREENING_COLUMNS)


SCREENING_COLUMNS = ["SCRNUM", "SITEID", "SCREENDT", "SCRSTAT", "FAILCRIT", "FAILLBL", "USUBJID"]


def build_datasets(
    actor: Actor, *, blinded: bool = True, report_only: bool = False,
    progress: Progress = SILENT,
) -> Export:  # fmt: skip
    """The four datasets for the participants of the actor's sites; writes an export audit row.

    ``report_only`` marks datasets that feed a report in memory and are never written out.
    """
    sites = export_sites(actor, blinded=blinded, report_only=report_only)
    export, version, people = assemble_datasets(sites, blinded=blinded, progress=progress)
    audit.record(
        "export", username=actor.username, object_type="export", object_id="adam",
        new=f"{people} participants", context={
            "blinded": blinded, "sites": sites, "protocol": version.content_hash,
            "report_only": report_only,
        },
    )  # fmt: skip
    return export


def randomized_participants(
    sites: list[str], protocol: Protocol
) -> tuple[list[Participant], dict[int, AllocationSlot], dict[str, str]]:
    """The randomized participants of ``sites``, their allocation slots by participant id, and
    the blinded coding of the arms (arm → X/Y), in two queries: what every export starts from."""
    people = list(
        Participant.objects.filter(site__code__in=sites)
        .exclude(randomization_date=None)
        .select_related("site")
        .order_by("screening_number")
    )
    slots = {
        s.participant_id: s
        for s in AllocationSlot.objects.filter(participant__in=people).select_related(
            "allocation_list"
        )
    }
    fingerprint = next(iter(slots.values())).allocation_list.seed_fingerprint if slots else ""
    codes = _arm_codes([a.code for a in protocol.arms], fingerprint)
    return people, slots, codes


def assemble_datasets(
    sites: list[str], *, blinded: bool, progress: Progress = SILENT
) -> tuple[Export, ProtocolVersion, int]:
    """The datasets of ``sites``' participants, read only: no permission check, no audit row.

    For :func:`build_datasets`, and for the backup's check that a restored database exports
    the same datasets (hepatrial.edc.backup). Returns the export, the protocol version and the
    number of participants. ``progress`` sees two steps: reading, deriving.
    """
    version, loaded = active_protocol()
    protocol = loaded.protocol
    progress.start("ADaM", 2, "steps")
    people, slots, codes = randomized_participants(sites, protocol)
    records = participant_data(people, slots)
    progress.advance()
    datasets = derive_adam(records, protocol, arm_codes=codes if blinded else None)
    progress.advance()
    if blinded:
        plan = plan_for(protocol, codes, {a: f"Arm {c}" for a, c in codes.items()})
        plan = dataclasses.replace(plan, arms=tuple(sorted(plan.arms)))
    else:
        plan = plan_for(protocol, {a.code: a.code for a in protocol.arms},
                        {a.code: a.label.en for a in protocol.arms})  # fmt: skip
    return Export(datasets, blinded, plan, sites), version, len(people)


def participant_data(people: list[Participant], slots: dict) -> list[ParticipantData]:
    """The participants as :func:`derive_adam` reads them, in five queries whatever their number."""
    forms: dict[int, list[FormEntry]] = defaultdict(list)
    entries: dict[int, FormEntry] = {}
    # Tuples, not model instances: at 10,000 participants building instances was most of the time.
    values = (
        ItemValue.objects.filter(form_record__visit__participant__in=people, status="value")
        .order_by("form_record_id", "pk")
        .values_list(
            "form_record_id",
            "form_record__visit__participant_id",
            "form_record__visit__event_oid",
            "form_record__form_oid",
            "form_record__visit__visit_date",
            "item_oid",
            "normalized_text",
            "number",
            "text",
        )  # fmt: skip
    )
    names: dict[str, str] = {}  # one string per OID and event, not one per row
    for row in values.iterator(chunk_size=5000):
        record, participant, event, form, visit_date, oid, normalized, number, text = row
        entry = entries.get(record)
        if entry is None:
            event, form = names.setdefault(event, event), names.setdefault(form, form)
            entry = entries[record] = FormEntry(event, form, visit_date, {})
            forms[participant].append(entry)
        entry.values[names.setdefault(oid, oid)] = Value(normalized, number, text)
    derived: dict[int, list[DerivedEntry]] = defaultdict(list)
    rows = DerivedValue.objects.filter(visit__participant__in=people)
    for participant, event, on, oid, number, text in rows.order_by(
        "visit__visit_date", "pk"
    ).values_list(
        "visit__participant_id", "visit__event_oid", "visit__visit_date", "item_oid", "number",
        "text",
    ).iterator(chunk_size=5000):  # fmt: skip
        event, oid = names.setdefault(event, event), names.setdefault(oid, oid)
        derived[participant].append(DerivedEntry(event, on, oid, number, text))
    deviating = set(
        Deviation.objects.filter(participant__in=people).values_list("participant_id", flat=True)
    )
    return [
        ParticipantData(
            subject=p.screening_number,
            site=p.site.code,
            randomization_date=p.randomization_date,
            arm=slots[p.pk].arm,
            stratum=p.stratum.split("=")[-1] if p.stratum else "",
            status=p.status,
            ended_on=p.ended_on,
            emergency_unblinded=p.emergency_unblinded,
            major_deviation=p.pk in deviating,
            forms=forms[p.pk],
            derived=derived[p.pk],
        )  # fmt: skip
        for p in people
    ]


# --- provenance beside the datasets (statistical report, issue 18) ---


def provenance(*, blinded: bool) -> tuple[str, dict]:
    """The protocol text the export ran under and the data's state, for ``provenance.json``.

    The report reads them to name the trial, the protocol version and hash, the data cut-off
    (the lock's time when locked, else the export's) and who locked the database, and why.
    """
    version, loaded = active_protocol()
    lock = current_lock()
    now = dt.datetime.now(dt.UTC)
    state = (
        {"locked": True, "locked_by": lock.locked_by, "reason": lock.reason,
         "locked_at": lock.locked_at.isoformat(timespec="seconds")}
        if lock else {"locked": False}
    )  # fmt: skip
    cut_off = lock.locked_at if lock else now
    return version.text, {
        "protocol": {
            "file": "protocol.yaml", "content_hash": version.content_hash,
            "version": version.version, "registry_id": version.registry_id,
        },
        "exported_at": now.isoformat(timespec="seconds"),
        "data_cut_off": cut_off.date().isoformat(),
        "database_lock": state,
        "blinded": blinded,
    }  # fmt: skip


def board_datasets(actor: Actor, *, closed: bool) -> Export:
    """The datasets of a data-safety board report, in memory only; writes an export audit row.

    The closed report (by arm) goes only to a role that is not blinded and may produce an
    unblinded report (the board); the open one (arms pooled) is built from blinded datasets,
    for anyone who may export blinded data or produce an unblinded report.
    """
    unblinded = actor.sites_for(Action.REPORT_UNBLINDED)
    if closed:
        sites = [s for s in unblinded if not is_blinded(actor.roles[s])]
        if not sites:
            raise NotAllowed("the closed report is for the data-safety board only")
    else:
        sites = sorted(set(unblinded) | set(actor.sites_for(Action.EXPORT_BLINDED)))
        if not sites:
            raise NotAllowed("your role does not include the data-safety board's open report")
    export, version, people = assemble_datasets(sites, blinded=not closed)
    audit.record(
        "export", username=actor.username, object_type="export", object_id="board",
        new=f"{people} participants", context={
            "board_report": "closed" if closed else "open", "sites": sites,
            "protocol": version.content_hash,
        },
    )  # fmt: skip
    return export
