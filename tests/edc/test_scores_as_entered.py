"""Capture scores each lab value in the unit it was entered in, as the scalar functions do, and
`hepatrial derive --recompute` re-derives stored scores with one audit record per visit."""

from __future__ import annotations

import pytest

from hepatrial.cli import main
from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.models import AuditEvent, DerivedValue
from hepatrial.edc.roles import Role
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.preview import preview_scores
from hepatrial.edc.services.recompute import recompute_scores
from hepatrial.protocol.values import EnteredValue as E
from hepatrial.scores import child_pugh_points, meld
from tests.edc.conftest import LABS_CLASS_B, PROTOCOL

SI = {
    **LABS_CLASS_B,
    "I.TBIL": E("34.2", "µmol/L"),
    "I.ALB": E("30", "g/L"),
    "I.CREAT": E("176.8", "µmol/L"),
}
CONVENTIONAL = {
    **LABS_CLASS_B,
    "I.TBIL": E("2.0", "mg/dL"),
    "I.ALB": E("3.0", "g/dL"),
    "I.CREAT": E("2.0", "mg/dL"),
}
"""The same patient: bilirubin 2, albumin 2, INR 1.8 2 points; with mild ascites, 9: class B."""


def stored(participant, event="W1") -> dict[str, object]:
    rows = DerivedValue.objects.filter(visit__participant=participant, visit__event_oid=event)
    return {row.item_oid: row.text or row.number for row in rows}


def with_labs(trial, labs):
    participant, _ = trial.randomized(days_ago=10)
    number = participant.screening_number
    save_form(
        trial.coordinator, number, "W1", "F.LAB", labs, base_version=0, visit_date=trial.days_ago(3)
    )
    save_form(
        trial.coordinator,
        number,
        "W1",
        "F.CLIN",
        {"I.ASCITES": E("mild"), "I.HEGRADE": E("0"), "I.DIALYSIS": E("no")},
        base_version=0,
    )
    return participant


def test_the_same_patient_in_si_and_conventional_units_gets_the_same_stored_scores(trial):
    si, conventional = with_labs(trial, SI), with_labs(trial, CONVENTIONAL)
    assert stored(si) == stored(conventional)
    assert stored(si)["D.CPSCORE"] == 9 and stored(si)["D.CPCLASS"] == "B"
    cp = DerivedValue.objects.get(
        visit__participant=si, visit__event_oid="W1", item_oid="D.CPSCORE"
    )
    assert (cp.inputs["inputs"]["bilirubin"], cp.inputs["units"]["bilirubin"]) == (34.2, "µmol/L")
    scalar = child_pugh_points(
        bilirubin=34.2,
        bilirubin_unit="µmol/L",
        albumin=30,
        albumin_unit="g/L",
        inr=1.8,
        ascites="mild",
        encephalopathy=0,
    )
    assert scalar == 9
    assert stored(si)["D.MELD"] == meld(
        bilirubin=2.0, bilirubin_unit="mg/dL", creatinine=2.0, creatinine_unit="mg/dL", inr=1.8
    )


def test_the_live_preview_scores_values_as_typed_like_the_save(trial):
    participant = with_labs(trial, SI)
    shown = {
        s.derived.oid: s.value
        for s in preview_scores(
            trial.coordinator, participant.screening_number, "W1", "F.LAB", CONVENTIONAL
        )
    }
    assert shown["D.CPSCORE"] == stored(participant)["D.CPSCORE"] == 9
    assert shown["D.MELD"] == stored(participant)["D.MELD"]


def as_version_1(participant) -> None:
    """What v1 stored for 34.2 µmol/L: 1 bilirubin point (1.9995 mg/dL), so 8 points, B."""
    rows = DerivedValue.objects.filter(visit__participant=participant, visit__event_oid="W1")
    rows.filter(item_oid="D.CPSCORE").update(number=6, formula_version="child-pugh-pugh-1973")
    rows.filter(item_oid="D.CPCLASS").update(text="A", formula_version="child-pugh-pugh-1973")
    rows.filter(item_oid="D.MELD").update(formula_version="meld-optn-2016")


def test_recompute_rewrites_old_scores_with_one_audit_record_per_visit(trial):
    participant = with_labs(trial, SI)
    as_version_1(participant)
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    summary = recompute_scores(trial[Role.ADMINISTRATOR], PROTOCOL)
    assert summary.class_changed == (participant.screening_number,)
    assert (summary.visits_changed, summary.values_changed) == (1, 2)
    assert stored(participant)["D.CPCLASS"] == "B" and stored(participant)["D.CPSCORE"] == 9
    [record] = AuditEvent.objects.filter(pk__gt=before)
    assert (record.action, record.object_type, record.username) == ("recompute", "visit", "admin")
    assert "D.CPCLASS=A (child-pugh-pugh-1973)" in record.old_value
    assert "D.CPCLASS=B (child-pugh-table-v2)" in record.new_value
    assert record.context["items"]["D.MELD"]["old_formula"] == "meld-optn-2016"
    assert recompute_scores(trial[Role.ADMINISTRATOR], PROTOCOL).visits_changed == 0


def test_only_an_administrator_may_recompute(trial):
    with pytest.raises(NotAllowed):
        recompute_scores(trial.coordinator, PROTOCOL)


def test_the_command_reports_how_many_participants_changed_class(trial, capsys):
    as_version_1(with_labs(trial, SI))
    assert main(["derive", "--recompute", "--as", "admin"]) == 0
    out = capsys.readouterr().out
    assert "1 participant changed Child-Pugh class" in out
