"""With the database or a casebook, visit or form locked, no code path changes a clinical row:
raw SQL, ``QuerySet.update()``, ``bulk_create()``, ``save()`` and ``delete()`` are refused by the
database itself (PostgreSQL and SQLite); accounts and the audit trail go on; unlocking restores
writes."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from hepatrial.edc import audit
from hepatrial.edc.lock_triggers import DATABASE_REFUSED, GUARDED, RECORD_REFUSED
from hepatrial.edc.models import (
    AuditEvent,
    DerivedValue,
    FormRecord,
    ItemValue,
    Participant,
    StratumCursor,
    User,
    Visit,
)
from hepatrial.edc.roles import Role
from hepatrial.edc.services.boundary import DatabaseLocked, RecordLocked, Writes, service
from hepatrial.edc.services.lock import lock_database, unlock_database
from hepatrial.edc.services.record_lock import lock_record, unlock_record


def refused(write, message: str) -> None:
    with pytest.raises(DatabaseError, match=message), transaction.atomic():
        write()


def _paths(participant: Participant) -> dict[str, object]:
    """One write of each kind on the rows under ``participant``'s screening visit."""
    value = ItemValue.objects.filter(
        form_record__visit__participant=participant, form_record__form_oid="F.LAB"
    ).first()
    record = value.form_record
    table = ItemValue._meta.db_table

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET text = '1' WHERE id = %s", [value.pk])

    def save():
        value.text = "2"
        value.save()

    return {
        "raw SQL": raw,
        "update()": lambda: ItemValue.objects.filter(pk=value.pk).update(text="3"),
        "bulk_create()": lambda: ItemValue.objects.bulk_create(
            [ItemValue(form_record=record, item_oid="I.NEW", status="value", text="4")]
        ),
        "save()": save,
        "delete()": lambda: ItemValue.objects.filter(pk=value.pk).delete(),
        "visit update()": lambda: Visit.objects.filter(pk=record.visit_id).update(repeat=9),
        "derived delete()": lambda: DerivedValue.objects.filter(visit=record.visit).delete(),
    }


def test_every_path_is_refused_while_the_database_is_locked_and_allowed_after(trial):
    p = trial.consented()
    admin = trial[Role.ADMINISTRATOR]
    lock_database(admin, "final analysis")
    for write in _paths(p).values():
        refused(write, DATABASE_REFUSED)
    refused(lambda: Participant.objects.filter(pk=p.pk).update(end_reason="x"), DATABASE_REFUSED)
    refused(lambda: StratumCursor.objects.update(next_sequence=1), DATABASE_REFUSED)
    User.objects.create_user("new-user", password="a-long-password-9")  # accounts go on
    with transaction.atomic(), audit.batched():
        audit.record("note", username="test")  # so does the audit trail
    assert AuditEvent.objects.filter(action="note").exists()
    unlock_database(admin, "query")
    for write in _paths(p).values():
        write()


@pytest.mark.parametrize("level", ["casebook", "visit", "form"])
def test_every_path_under_a_locked_record_is_refused_and_others_are_not(trial, level):
    p, other = trial.consented(), trial.consented()
    where = {"casebook": {}, "visit": {"event_oid": "SCR"},
             "form": {"event_oid": "SCR", "form_oid": "F.LAB"}}[level]  # fmt: skip
    monitor = trial[Role.MONITOR]
    lock_record(monitor, p.screening_number, "reviewed", **where)
    paths = _paths(p)
    if level == "form":  # the visit row and its scores are not the form's
        paths.pop("visit update()")
        paths.pop("derived delete()")
        FormRecord.objects.filter(visit__participant=p, form_oid="F.DM").update(version=5)
        refused(lambda: FormRecord.objects.filter(visit__participant=p, form_oid="F.LAB")
                .update(version=5), RECORD_REFUSED)  # fmt: skip
    for write in paths.values():
        refused(write, RECORD_REFUSED)
    for write in _paths(other).values():  # another casebook is not locked
        write()
    unlock_record(monitor, p.screening_number, "query raised", **where)
    for write in _paths(p).values():
        write()


def test_a_casebook_lock_refuses_the_participant_row_itself(trial):
    p = trial.consented()
    lock_record(trial[Role.ADMINISTRATOR], p.screening_number, "complete")
    refused(lambda: Participant.objects.filter(pk=p.pk).update(end_reason="x"), RECORD_REFUSED)
    refused(lambda: Participant.objects.get(pk=p.pk).save(), RECORD_REFUSED)


def test_a_trigger_refusal_reaching_a_service_is_the_locked_problem(trial):
    p = trial.consented()
    admin = trial[Role.ADMINISTRATOR]

    @service(writes=Writes.CLINICAL)
    def careless(pk):  # writes without finding the participant through participant_for
        Participant.objects.filter(pk=pk).update(end_reason="x")

    lock_record(admin, p.screening_number, "complete")
    with pytest.raises(RecordLocked) as caught:
        careless(p.pk)
    assert caught.value.problem.code == "lock.record_refused"
    unlock_record(admin, p.screening_number, "late result")

    @service(writes=Writes.ADMINISTRATION)
    def administrative(pk):  # not refused by the boundary, only by the trigger
        Participant.objects.filter(pk=pk).update(end_reason="x")

    lock_database(admin, "final analysis")
    with pytest.raises(DatabaseLocked) as caught:
        administrative(p.pk)
    assert caught.value.problem.code == "database.locked"
    assert caught.value.problem.params["reason"] == "final analysis"
    unlock_database(admin, "query")


def test_every_guarded_table_has_its_trigger_and_no_admin_site_bypasses_them(db):
    assert "django.contrib.admin" not in settings.INSTALLED_APPS
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names = {row[0] for row in cursor.fetchall()}
    for guard in GUARDED:
        assert any(n.startswith(f"{guard.model._meta.db_table}_lock") for n in names), guard
