"""``hepatrial export sdtm``: the database side of :mod:`hepatrial.interop.sdtm`.

Who may export, and the blinding, are those of the ADaM export
(:func:`hepatrial.edc.export.export_sites`, the same arm coding): a blinded export needs the
permission to export analysis datasets; an unblinded one a locked database too. The
participants are read as the ADaM export reads them (:func:`participant_data`, five queries)
plus two queries for what SDTM needs besides (consent dates; the unit each value was typed in
and the repeat of each visit), so the number of queries does not grow with the trial.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db.models import Max
from django.utils import timezone

import hepatrial
from hepatrial.edc import audit
from hepatrial.edc.export import export_sites, participant_data, randomized_participants
from hepatrial.edc.models import AuditEvent, Consent, ItemValue, Participant
from hepatrial.edc.permissions import Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.interop.sdtm import FormDetail, SubjectFacts, build_sdtm
from hepatrial.interop.sdtm_files import FileInfo, write_all
from hepatrial.progress import SILENT, Progress

FORMATS = {"xpt": ("xpt",), "json": ("json",), "both": ("xpt", "json")}


@dataclass(frozen=True)
class SdtmExport:
    counts: dict[str, int]
    """Rows per dataset."""
    files: list[Path]
    blinded: bool
    participants: int


def subject_facts(people: Sequence[Participant]) -> dict[str, SubjectFacts]:
    """Consent and screening dates, end reason, and per form (in :func:`participant_data`'s
    order) the visit's repeat and the units typed."""
    consents: dict[int, object] = {}
    for participant_id, signed in (
        Consent.objects.filter(participant__in=people)
        .order_by("signed_at")
        .values_list("participant_id", "signed_at")
    ):
        consents.setdefault(participant_id, timezone.localdate(signed))
    details: dict[int, list[FormDetail]] = defaultdict(list)
    current: dict[int, int] = {}
    rows = (
        ItemValue.objects.filter(form_record__visit__participant__in=people, status="value")
        .order_by("form_record_id", "pk")
        .values_list("form_record_id", "form_record__visit__participant_id",
                     "form_record__visit__repeat", "item_oid", "unit_entered")
    )  # fmt: skip
    for record, participant_id, repeat, item, unit in rows:
        if current.get(participant_id) != record:
            current[participant_id] = record
            details[participant_id].append(FormDetail(repeat, {}))
        if unit:
            details[participant_id][-1].units[item] = unit
    return {
        p.screening_number: SubjectFacts(
            consented_on=consents.get(p.pk),
            screened_on=p.screened_on,
            end_reason=p.end_reason,
            forms=details[p.pk],
        )
        for p in people
    }


def export_sdtm(
    actor: Actor, out: Path, *, blinded: bool = True, formats: Sequence[str] = ("xpt", "json"),
    progress: Progress = SILENT,
) -> SdtmExport:  # fmt: skip
    """Write the SDTM datasets of the actor's sites into ``out``; writes an export audit row.

    Refused (NotAllowed) exactly where the ADaM export is; a dataset that SAS transport v5
    cannot hold stops the export before any file is written (TransportLimitError).
    """
    sites = export_sites(actor, blinded=blinded)
    version, loaded = active_protocol()
    protocol = loaded.protocol
    progress.start("SDTM", 3, "steps")
    people, slots, codes = randomized_participants(sites, protocol)
    records, facts = participant_data(people, slots), subject_facts(people)
    progress.advance()
    datasets = build_sdtm(protocol, records, facts=facts, arm_codes=codes if blinded else None)
    progress.advance()
    last = AuditEvent.objects.filter(site__in=sites).aggregate(last=Max("at"))["last"]
    info = FileInfo(
        study=protocol.study.registry_id, created=timezone.now(),
        source_version=hepatrial.__version__, last_modified=last,
        metadata_version=f"MDV.SDTM.{version.content_hash[:12]}",
    )  # fmt: skip
    files = write_all(datasets, out, info, blinded=blinded, formats=formats)
    progress.advance()
    progress.close()
    counts = {d.name: len(d.rows) for d in datasets}
    audit.record(
        "export", username=actor.username, object_type="export", object_id="sdtm",
        new=f"{len(people)} participants", context={
            "blinded": blinded, "sites": sites, "protocol": version.content_hash,
            "formats": list(formats), "datasets": counts,
        },
    )  # fmt: skip
    return SdtmExport(counts, files, blinded, len(people))
