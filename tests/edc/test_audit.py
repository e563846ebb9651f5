"""The audit trail: complete, chained, tamper-evident, append-only on PostgreSQL."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import post_save

from hepatrial.cli import main
from hepatrial.edc.audit import verify_chain
from hepatrial.edc.models import AuditEvent
from hepatrial.edc.roles import Role
from hepatrial.edc.services import participants
from hepatrial.edc.services.allocation import emergency_unblind
from hepatrial.edc.services.forms import save_form
from tests.edc.conftest import CLINICAL_B, LABS_CLASS_B
from tests.edc.conftest import E as Entered

NOT_AUDITED_THEMSELVES = {
    "auditevent": "the audit trail itself",
    "audithead": "the chain's head pointer",
    "formrecord": "a container: its values are audited one by one",
    "submission": "a replay guard, not data",
    "stratumcursor": "the list's position; the allocation it serves is audited",
    "notice": "a message; the unblinding it reports is audited",
    "querymessage": "a step of a query's thread; each step is audited as its query",
}


def _tamper(sql: str, params: list) -> None:
    """Change audit rows as someone with the database owner's rights could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE edc_auditevent DISABLE TRIGGER edc_auditevent_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE edc_auditevent ENABLE TRIGGER edc_auditevent_append_only")


def test_every_clinical_row_written_has_an_audit_record(trial):
    saved: set[tuple[str, int]] = set()

    def remember(sender, instance, **kwargs):
        saved.add((sender._meta.model_name, instance.pk))

    models = [m for m in apps.get_app_config("edc").get_models()]
    for model in models:
        post_save.connect(remember, sender=model, weak=False)
    try:
        participant, _ = trial.randomized(days_ago=20)
        number = participant.screening_number
        save_form(trial.coordinator, number, "W1", "F.LAB", LABS_CLASS_B, base_version=0,
                  visit_date=trial.days_ago(10))  # fmt: skip
        save_form(trial.coordinator, number, "W1", "F.CLIN", CLINICAL_B, base_version=0)
        save_form(trial.coordinator, number, "W1", "F.LAB", {"I.ALT": Entered("50", "U/L")},
                  base_version=1, reason="lab re-run")  # fmt: skip
        save_form(trial.coordinator, number, "UNS", "F.LAB", LABS_CLASS_B, base_version=0,
                  visit_date=trial.days_ago(5))  # fmt: skip
        emergency_unblind(trial[Role.INVESTIGATOR], number, "severe reaction")
        participants.end_participation(trial.coordinator, number, "lost", trial.days_ago(1),
                                       "no contact")  # fmt: skip
    finally:
        for model in models:
            post_save.disconnect(remember, sender=model)
    missing = sorted(
        (kind, pk) for kind, pk in saved
        if kind not in NOT_AUDITED_THEMSELVES
        and not AuditEvent.objects.filter(object_type=kind, object_id=str(pk)).exists()
    )  # fmt: skip
    assert saved and not missing, f"rows written without an audit record: {missing}"


def test_verify_names_the_first_tampered_record(trial, capsys):
    trial.randomized()
    assert verify_chain().intact
    target = AuditEvent.objects.filter(action="create", object_type="itemvalue").order_by("id")[3]
    _tamper("UPDATE edc_auditevent SET new_value = %s WHERE id = %s", ["999 U/L", target.id])
    check = verify_chain()
    assert check.first_broken_id == target.id
    assert check.problem == "its content does not match its hash"
    assert main(["audit", "verify"]) == 1
    assert f"audit trail broken at record {target.id}" in capsys.readouterr().err


def test_verify_notices_a_removed_record(trial):
    trial.randomized()
    rows = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    _tamper("DELETE FROM edc_auditevent WHERE id = %s", [rows[5]])
    check = verify_chain()
    assert check.first_broken_id == rows[6]
    assert "link to the previous record is broken" in check.problem


def test_verify_notices_records_removed_from_the_end(trial):
    trial.randomized()
    last = AuditEvent.objects.order_by("-id").first()
    _tamper("DELETE FROM edc_auditevent WHERE id = %s", [last.id])
    assert "records at the end were removed" in verify_chain().problem


@pytest.mark.postgres_only
def test_the_application_role_cannot_change_or_delete_audit_rows_on_postgresql(trial):
    trial.screen()
    row = AuditEvent.objects.first()
    for statement in ("UPDATE edc_auditevent SET reason = 'x' WHERE id = %s",
                      "DELETE FROM edc_auditevent WHERE id = %s"):  # fmt: skip
        with (
            pytest.raises(DatabaseError, match="audit records are append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [row.id])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).update(reason="rewritten")
    assert AuditEvent.objects.get(pk=row.pk).reason == ""


def test_blinded_content_is_marked_on_arm_revealing_records(trial):
    trial.randomized()
    randomization = AuditEvent.objects.get(action="randomize")
    assert randomization.blinded_content and randomization.new_value in {"SINGLE", "DOUBLE"}
    assert (
        not AuditEvent.objects.filter(action="create", object_type="participant")
        .get()
        .blinded_content
    )
