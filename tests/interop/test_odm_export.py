"""ODM 1.3.2 from the captured data: valid, every OID resolved, blinded, refused where ADaM is."""

from __future__ import annotations

import pytest
from lxml import etree

from hepatrial.cli import main
from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.models import AuditEvent
from hepatrial.edc.odm_export import export_odm, export_to_path
from hepatrial.edc.roles import Role
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.lock import lock_database
from hepatrial.interop.odm import NS, unresolved_references
from hepatrial.progress import Progress
from tests.edc.conftest import E as Entered
from tests.edc.test_export import ARM_WORDS
from tests.interop.odm_schema import schema_errors

Q = f"{{{NS}}}"


def _export(trial, tmp_path, name="trial.xml", role=Role.STATISTICIAN, **options):
    path = tmp_path / name
    export_to_path(trial[role], path, **options)
    return path


@pytest.mark.parametrize("with_audit", [False, True], ids=["snapshot", "transactional"])
def test_the_export_is_valid_odm_with_every_reference_resolved(trial, followed, tmp_path,
                                                               with_audit):  # fmt: skip
    save_form(trial.coordinator, followed[0], "BL", "F.LAB", {"I.ALT": Entered("50", "U/L")},
              base_version=1, reason="transcription error")  # fmt: skip
    path = _export(trial, tmp_path, with_audit=with_audit)
    assert schema_errors(path) == []
    assert unresolved_references(str(path)) == []
    root = etree.parse(str(path)).getroot()
    assert root.get("FileType") == ("Transactional" if with_audit else "Snapshot")
    langs = {
        t.get("{http://www.w3.org/XML/1998/namespace}lang") for t in root.iter(Q + "TranslatedText")
    }
    assert langs == {"en", "zh"}
    alt = [
        d
        for d in root.iter(Q + "ItemData")
        if d.get("ItemOID") == "I.ALT"
        and d.getparent().getparent().getparent().get("StudyEventOID") == "BL"
        and d.getparent().getparent().getparent().getparent().get("SubjectKey") == followed[0]
    ]
    assert [d.get("Value") for d in alt] == (["45", "50"] if with_audit else ["50"])
    assert alt[-1].find(f"{Q}MeasurementUnitRef").get("MeasurementUnitOID") == "MU.U_L"
    if with_audit:
        change = alt[-1].find(Q + "AuditRecord")
        assert alt[-1].get("TransactionType") == "Update"
        assert change.findtext(Q + "ReasonForChange") == "transcription error"
        assert change.find(Q + "UserRef").get("UserOID") == "USR.coordinator"
        assert change.find(Q + "LocationRef").get("LocationOID") == "LOC.SY"
        assert change.findtext(Q + "DateTimeStamp").endswith("Z")
        assert root.find(f"{Q}ClinicalData/{Q}AuditRecords") is not None
    assert AuditEvent.objects.filter(action="export", object_id="odm").count() == 1


def test_missing_values_carry_their_reason_as_an_odm_flag(trial, followed, tmp_path):
    number = followed[1]
    not_done = {"I.ALP": Entered(status="not_done")}
    save_form(trial.coordinator, number, "W1", "F.LAB", not_done, base_version=1, reason="lost")
    root = etree.parse(str(_export(trial, tmp_path))).getroot()
    subject = next(s for s in root.iter(Q + "SubjectData") if s.get("SubjectKey") == number)
    alp = next(d for e in subject if e.get("StudyEventOID") == "W1"
               for d in e.iter(Q + "ItemData") if d.get("ItemOID") == "I.ALP")  # fmt: skip
    assert alp.get("IsNull") == "Yes" and alp.get("Value") is None
    assert alp.findtext(f"{Q}Annotation/{Q}Flag/{Q}FlagValue") == "not_done"


def test_derived_scores_name_their_method(trial, followed, tmp_path):
    root = etree.parse(str(_export(trial, tmp_path))).getroot()
    refs = {r.get("ItemOID"): r.get("MethodOID") for r in root.iter(Q + "ItemRef")
            if r.get("MethodOID")}  # fmt: skip
    assert refs["D.MELD"] == "MT.D.MELD"
    methods = {m.get("OID") for m in root.iter(Q + "MethodDef")}
    assert set(refs.values()) <= methods
    scores = [d.get("Value") for d in root.iter(Q + "ItemData") if d.get("ItemOID") == "D.CPCLASS"]
    assert set(scores) >= {"B"}


def test_the_blinded_export_has_no_arm_and_no_infusion_content(trial, followed, tmp_path):
    text = _export(trial, tmp_path, with_audit=True).read_text("utf-8")
    for word in (*ARM_WORDS, "F.INF", "I.INF", "INF1", "INF2", "HP.ARM"):
        assert word not in text, word
    lock_database(trial[Role.ADMINISTRATOR], "final analysis")
    unblinded = _export(trial, tmp_path, "unblinded.xml", blinded=False)
    text = unblinded.read_text("utf-8")
    assert "F.INF" in text and "INF1" in text and "HP.ARM" in text
    assert schema_errors(unblinded) == []
    assert unresolved_references(str(unblinded)) == []


def test_roles_without_export_are_refused_and_unblinded_needs_a_lock(trial, followed, tmp_path):
    for role in (Role.COORDINATOR, Role.MONITOR, Role.CELL_THERAPY, Role.DSMB):
        with pytest.raises(NotAllowed):
            export_odm(trial[role], (tmp_path / "x.xml").open("wb"))
    with pytest.raises(NotAllowed, match="locked database"):
        export_odm(trial[Role.STATISTICIAN], (tmp_path / "x.xml").open("wb"), blinded=False)
    assert main(["export", "odm", "--out", str(tmp_path / "y.xml"), "--as", "coordinator"]) == 1
    assert not (tmp_path / "y.xml").exists()


def _clinical(path) -> list[bytes]:
    """Each SubjectData of a file, canonical, for comparing the data of two exports."""
    root = etree.parse(str(path)).getroot()
    return [etree.tostring(s, method="c14n") for s in root.iter(Q + "SubjectData")]


def _empty_the_trial() -> None:
    """What a fresh database with the protocol installed has: no participant and no data."""
    from hepatrial.edc import models as m

    m.AllocationSlot.objects.update(participant=None, allocated_at=None)
    for model in (m.QueryMessage, m.Query, m.SourceVerification, m.Signature, m.RecordLock,
                  m.Submission, m.ItemValue, m.FormRecord, m.DerivedValue, m.Deviation,
                  m.Visit, m.Consent, m.EligibilityAssessment, m.Participant):  # fmt: skip
        model.objects.all().delete()


def test_an_export_imported_into_an_empty_trial_exports_the_same_data(trial, followed, tmp_path,
                                                                      capsys):  # fmt: skip
    first = tmp_path / "first.xml"
    assert main(["export", "odm", "--out", str(first), "--as", "statistician"]) == 0
    _empty_the_trial()
    assert main(["import", "odm", str(first), "--as", "coordinator"]) == 0
    assert "6 participants imported" in capsys.readouterr().out
    second = tmp_path / "second.xml"
    assert main(["export", "odm", "--out", str(second), "--as", "statistician"]) == 0
    assert _clinical(second) == _clinical(first)
    assert len(_clinical(first)) == 6
    assert main(["import", "odm", str(first), "--as", "coordinator"]) == 1
    assert "already in the database" in capsys.readouterr().err
    imported = AuditEvent.objects.filter(reason__startswith="imported from ODM file first.xml")
    assert imported.filter(object_type="itemvalue").exists()


class Recorded(Progress):
    def __init__(self):
        self.stages, self.steps = [], 0

    def start(self, what, total=None, unit="it"):
        self.stages.append((what, total))

    def advance(self, steps=1):
        self.steps += steps


def test_the_export_reports_its_progress_participant_by_participant(trial, followed, tmp_path):
    seen = Recorded()
    count = export_to_path(trial[Role.STATISTICIAN], tmp_path / "trial.xml", progress=seen)
    assert seen.stages == [("ODM", count)] and seen.steps == count > 0
