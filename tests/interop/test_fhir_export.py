"""FHIR R5 from the captured data: re-parses, passes our checks, blinded, refused where ADaM is."""

from __future__ import annotations

import json

import pytest
from fhir.resources.bundle import Bundle

from hepatrial.cli import main
from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.fhir_export import fhir_bundle
from hepatrial.edc.models import AuditEvent
from hepatrial.edc.roles import Role
from hepatrial.edc.services.lock import lock_database
from hepatrial.interop.fhir import LOINC, check_bundle
from hepatrial.protocol import default_protocol_path, load_protocol
from tests.edc.test_export import ARM_WORDS

PROTOCOL = load_protocol(default_protocol_path()).protocol


def _resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_blinded_export_reparses_passes_our_checks_and_names_no_arm(trial, followed, tmp_path):
    out = tmp_path / "trial.fhir.json"
    assert main(["export", "fhir", "--out", str(out), "--as", "statistician"]) == 0
    text = out.read_text("utf-8")
    parsed = Bundle.model_validate_json(text)
    assert parsed.type == "collection"
    bundle = json.loads(text)
    assert check_bundle(bundle, PROTOCOL, blinded=True) == []
    assert not [w for w in ARM_WORDS if w in text]
    assert "INF1" not in text and "INF2" not in text
    subjects = _resources(bundle, "ResearchSubject")
    assert sorted(s["identifier"][0]["value"] for s in subjects) == sorted(followed)
    assert all("assignedComparisonGroup" not in s for s in subjects)
    assert [e["code"]["text"] for e in _resources(bundle, "AdverseEvent")] == ["Fever"]
    export = AuditEvent.objects.get(action="export", object_id="fhir")
    assert (export.username, export.new_value) == ("statistician", "6 participants")


def test_the_export_holds_each_visit_lab_value_and_score(trial, followed):
    bundle, count = fhir_bundle(trial[Role.STATISTICIAN])
    assert count == 6
    encounters = _resources(bundle, "Encounter")
    done = [e for e in encounters if e["status"] == "completed"]
    assert {e["type"][0]["coding"][0]["code"] for e in done} >= {"SCR", "BL", "W1", "W24"}
    alt = [o for o in _resources(bundle, "Observation")
           if o["code"]["coding"][0] == {"system": LOINC, "code": "1742-6",
                                         "display": "Alanine aminotransferase (ALT)"}]  # fmt: skip
    assert {o["valueQuantity"]["value"] for o in alt} == {45}
    assert {o["valueQuantity"]["code"] for o in alt} == {"U/L"}
    per_person = {o["subject"]["reference"] for o in alt}
    assert len(per_person) == 6
    bilirubin = [o for o in _resources(bundle, "Observation")
                 if o["code"]["coding"][0]["code"] == "1975-2"]  # fmt: skip
    assert {o["valueQuantity"]["code"] for o in bilirubin} == {"umol/L"}
    meld = [o for o in _resources(bundle, "Observation")
            if o["code"]["coding"][0]["code"] == "44760-7"]  # fmt: skip
    assert meld and all(o.get("encounter") and o.get("derivedFrom") for o in meld)
    died = [s for s in _resources(bundle, "ResearchSubject")
            if s["progress"][-1].get("reason", {}).get("text") == "Died"]  # fmt: skip
    assert len(died) == 1
    assert all(set(p) == {"resourceType", "id", "meta", "identifier", "gender"}
               for p in _resources(bundle, "Patient"))  # fmt: skip


def test_the_unblinded_export_needs_a_lock_and_then_says_each_arm(trial, followed, tmp_path):
    out = tmp_path / "unblinded.json"
    with pytest.raises(NotAllowed, match="locked database"):
        fhir_bundle(trial[Role.STATISTICIAN], blinded=False)
    argv = ["export", "fhir", "--out", str(out), "--as", "statistician", "--unblinded"]
    assert main(argv) == 1
    assert not out.exists()
    lock_database(trial[Role.ADMINISTRATOR], "final analysis")
    assert main(argv) == 0
    bundle = json.loads(out.read_text("utf-8"))
    assert check_bundle(bundle, PROTOCOL, blinded=False) == []
    Bundle.model_validate_json(out.read_text("utf-8"))
    groups = {s["assignedComparisonGroup"] for s in _resources(bundle, "ResearchSubject")}
    assert groups == {"SINGLE", "DOUBLE"}
    assert all(s["actualComparisonGroup"] == s["assignedComparisonGroup"]
               for s in _resources(bundle, "ResearchSubject"))  # fmt: skip
    terms = sorted(e["code"]["text"] for e in _resources(bundle, "AdverseEvent"))
    assert terms == ["Fever", "fever and chills"]
    export = AuditEvent.objects.get(action="export", object_id="fhir")
    assert export.context["blinded"] is False


def test_roles_without_export_are_refused(trial, followed, tmp_path):
    for role in (Role.COORDINATOR, Role.MONITOR, Role.CELL_THERAPY, Role.DSMB):
        with pytest.raises(NotAllowed):
            fhir_bundle(trial[role])
    out = tmp_path / "x.json"
    assert main(["export", "fhir", "--out", str(out), "--as", "coordinator"]) == 1
    assert not out.exists()
    assert not AuditEvent.objects.filter(action="export", object_id="fhir").exists()


def test_the_export_reads_its_rows_in_a_number_of_queries_that_does_not_grow_with_the_trial(
    trial, followed
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.edc.conftest import CLINICAL_B, LABS_CLASS_B
    from tests.edc.test_export import visit

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            fhir_bundle(trial[Role.STATISTICIAN])
        return len(captured.captured_queries)

    six = queries()
    for _ in range(3):
        participant, _ = trial.randomized(days_ago=30)
        visit(trial, participant.screening_number, "BL", LABS_CLASS_B, CLINICAL_B)
    assert queries() == six
