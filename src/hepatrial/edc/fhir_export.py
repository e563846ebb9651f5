"""``hepatrial export fhir``: the database side of :mod:`hepatrial.interop.fhir`.

Who may export, and what a blinded bundle leaves out, are those of the ADaM export
(:func:`hepatrial.edc.export.export_sites`); the participants are read as the analysis
derivation reads them (:func:`hepatrial.edc.export.participant_data`, five queries) plus one
query for their visits. The bundle passes :func:`hepatrial.interop.fhir.check_bundle` before
anything is written; the export itself is audited.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from hepatrial.edc import audit
from hepatrial.edc.export import export_sites, participant_data, randomized_participants
from hepatrial.edc.models import Site, Visit
from hepatrial.edc.permissions import Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.interop.fhir import VisitRecord, build_bundle, check_bundle


class BundleCheckFailed(Exception):
    """The bundle failed our own checks; ``problems`` name the resource and path of each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} problems in the FHIR bundle, the first: {problems[0]}")


def fhir_bundle(actor: Actor, *, blinded: bool = True) -> tuple[dict, int]:
    """The checked bundle of the actor's sites and its number of participants; audited.

    Refused (NotAllowed) exactly where the ADaM export is; :class:`BundleCheckFailed` when the
    bundle fails our checks (then no audit row: nothing left the database).
    """
    sites = export_sites(actor, blinded=blinded)
    version, loaded = active_protocol()
    protocol = loaded.protocol
    people, slots, codes = randomized_participants(sites, protocol)
    numbers = {p.pk: p.screening_number for p in people}
    visits: dict[str, list[VisitRecord]] = defaultdict(list)
    for v in Visit.objects.filter(participant__in=people).order_by(
        "participant_id", "target_date", "visit_date", "event_oid", "repeat"
    ):
        visits[numbers[v.participant_id]].append(
            VisitRecord(v.event_oid, v.repeat, v.status, v.visit_date, v.target_date)
        )
    site_rows = Site.objects.filter(code__in=sites).order_by("code")
    bundle = build_bundle(
        participant_data(people, slots), protocol, arm_codes=codes if blinded else None,
        visits=visits, sites=[(s.code, s.name) for s in site_rows],
    )  # fmt: skip
    problems = check_bundle(bundle, protocol, blinded=blinded)
    if problems:
        raise BundleCheckFailed(problems)
    audit.record(
        "export", username=actor.username, object_type="export", object_id="fhir",
        new=f"{len(people)} participants", context={
            "blinded": blinded, "sites": sites, "protocol": version.content_hash,
            "resources": len(bundle["entry"]),
        },
    )  # fmt: skip
    return bundle, len(people)


def export_to_path(actor: Actor, path: Path, *, blinded: bool = True) -> tuple[int, int]:
    """Write the bundle as JSON beside ``path`` and rename, so a failed export leaves no file.

    Returns the number of participants and of resources.
    """
    bundle, count = fhir_bundle(actor, blinded=blinded)
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            json.dump(bundle, out, ensure_ascii=False, indent=1)
            out.write("\n")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return count, len(bundle["entry"])
