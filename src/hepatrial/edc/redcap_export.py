"""``hepatrial export redcap``: the trial as a REDCap project (dictionary, events, records).

Blinded like every export: one arm for everyone, no intervention form (nor its items), no
event only some arms have. The same roles as for the analysis datasets may export
(statistician, administrator), for the participants of their sites; the export is audited.
The file formats are in :mod:`hepatrial.interop.redcap_export`.
"""

from __future__ import annotations

from pathlib import Path

from hepatrial.edc import audit
from hepatrial.edc.export_access import export_sites
from hepatrial.edc.models import ItemValue
from hepatrial.edc.permissions import Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.schedule import intervention_forms
from hepatrial.interop import redcap_export as rx


def instances(sites: list[str], protocol_items: set[str]) -> list[rx.FormInstance]:
    """Every form record of the sites' participants with its values, by participant and event."""
    rows = (
        ItemValue.objects.filter(form_record__visit__participant__site__code__in=sites)
        .select_related("form_record__visit__participant")
        .order_by("form_record__visit__participant__screening_number", "form_record__visit_id",
                  "form_record__form_oid", "form_record__repeat", "id")
    )  # fmt: skip
    out: dict[int, rx.FormInstance] = {}
    for value in rows.iterator(chunk_size=2000):
        record = value.form_record
        if value.item_oid not in protocol_items:
            continue
        instance = out.get(record.pk)
        if instance is None:
            visit = record.visit
            instance = out[record.pk] = rx.FormInstance(
                visit.participant.screening_number, visit.event_oid, visit.repeat,
                record.form_oid, record.repeat, [],
            )  # fmt: skip
        stored = rx.StoredValue(
            value.item_oid, value.status, value.text, value.unit_entered, value.normalized_text
        )
        instance.values.append(stored)
    return list(out.values())


def export_redcap(actor: Actor, out: str | Path) -> dict[str, int]:
    """Write the REDCap files into ``out``; returns what was written (fields, events, rows)."""
    sites = export_sites(actor, blinded=True)
    version, loaded = active_protocol()
    protocol = loaded.protocol
    project = rx.build_project(protocol, leave_out=intervention_forms(protocol))
    found = instances(sites, set(protocol.items()))
    records = rx.records_rows(project, found)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "data_dictionary.csv": rx.dictionary_csv(project),
        "events.csv": rx.events_csv(project),
        "arms.csv": rx.arms_csv("All participants (blinded)"),
        "instrument_designations.csv": rx.mapping_csv(project),
        "repeating_instruments.csv": rx.repeating_csv(project),
        "records.csv": rx._csv(records),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    participants = len({row[0] for row in records[1:]})
    audit.record(
        "export", username=actor.username, object_type="export", object_id="redcap",
        new=f"{participants} participants", context={
            "blinded": True, "sites": sites, "protocol": version.content_hash,
        },
    )  # fmt: skip
    return {"fields": len(project.dictionary), "events": len(project.events),
            "rows": len(records) - 1, "participants": participants}  # fmt: skip
