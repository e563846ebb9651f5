"""Casebook, visit and form locks: set and lifted with reasons by the lock_records roles; while
open, the services refuse with who locked what, when and why; unlocking restores writes."""

from __future__ import annotations

import pytest

from hepatrial.edc.errors import NotAllowed, NotFound, PreconditionFailed, ValidationFailed
from hepatrial.edc.models import AuditEvent, ItemValue, Visit
from hepatrial.edc.roles import Role
from hepatrial.edc.services import participants
from hepatrial.edc.services.boundary import DatabaseLocked, RecordLocked
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.lock import lock_database, unlock_database
from hepatrial.edc.services.record_lock import lock_record, unlock_record
from hepatrial.protocol.values import EnteredValue as E
from tests.edc.conftest import LABS_CLASS_B

CHANGED = {"I.TBIL": E("60", "µmol/L")}


def _labs(trial, number, **kwargs):
    return save_form(trial.coordinator, number, "SCR", "F.LAB", CHANGED, base_version=1,
                     reason="transcription error", **kwargs)  # fmt: skip


def test_a_locked_form_refuses_a_change_saying_when_who_and_why_and_unlocking_restores_it(trial):
    p = trial.consented()
    monitor = trial[Role.MONITOR]
    lock_record(monitor, p.screening_number, "source verified", event_oid="SCR", form_oid="F.LAB")
    with pytest.raises(RecordLocked) as caught:
        _labs(trial, p.screening_number)
    problem = caught.value.problem
    assert problem.code == "lock.form_locked"
    assert problem.params["user"] == monitor.username
    assert problem.params["reason"] == "source verified"
    assert ItemValue.objects.get(item_oid="I.TBIL").text == LABS_CLASS_B["I.TBIL"].text
    save_form(trial.coordinator, p.screening_number, "SCR", "F.DM", {"I.AGE": E("55")},
              base_version=1, reason="typo")  # other forms of the visit stay open  # fmt: skip
    unlock_record(monitor, p.screening_number, "query raised", event_oid="SCR", form_oid="F.LAB")
    assert _labs(trial, p.screening_number).changed == ["I.TBIL"]
    actions = list(AuditEvent.objects.filter(object_type="recordlock")
                   .values_list("action", "reason"))  # fmt: skip
    assert actions == [("record_lock", "source verified"), ("record_unlock", "query raised")]


def test_a_locked_visit_refuses_every_form_of_it(trial):
    p = trial.consented()
    lock_record(trial[Role.MONITOR], p.screening_number, "visit reviewed", event_oid="SCR")
    with pytest.raises(RecordLocked, match="visit reviewed") as caught:
        _labs(trial, p.screening_number)
    assert caught.value.problem.code == "lock.visit_locked"


def test_a_locked_casebook_refuses_every_write_service(trial):
    p = trial.consented()
    admin = trial[Role.ADMINISTRATOR]
    lock_record(admin, p.screening_number, "casebook complete")
    with pytest.raises(RecordLocked) as caught:
        _labs(trial, p.screening_number)
    assert caught.value.problem.code == "lock.casebook_locked"
    with pytest.raises(RecordLocked):
        participants.end_participation(trial.coordinator, p.screening_number, "withdrawn",
                                       trial.days_ago(1), "consent withdrawn")  # fmt: skip
    from hepatrial.edc.services.allocation import randomize

    with pytest.raises(RecordLocked):
        randomize(trial.coordinator, p.screening_number)
    unlock_record(admin, p.screening_number, "late lab result")
    randomize(trial.coordinator, p.screening_number)


def test_only_the_lock_records_roles_lock_with_a_reason_and_twice_is_refused(trial):
    p = trial.consented()
    with pytest.raises(NotAllowed):
        lock_record(trial.coordinator, p.screening_number, "mine")
    monitor = trial[Role.MONITOR]
    with pytest.raises(ValidationFailed) as caught:
        lock_record(monitor, p.screening_number, "  ")
    assert caught.value.errors["reason"].code == "lock.reason_required"
    lock_record(monitor, p.screening_number, "complete")
    with pytest.raises(PreconditionFailed):
        lock_record(monitor, p.screening_number, "again")
    with pytest.raises(ValidationFailed):
        unlock_record(monitor, p.screening_number, "")
    with pytest.raises(PreconditionFailed):
        unlock_record(monitor, p.screening_number, "no visit lock", event_oid="SCR")


def test_a_blinded_monitor_never_finds_an_intervention_visit_to_lock(trial):
    p, _ = trial.randomized()
    assert Visit.objects.filter(participant=p, event_oid="INF1").exists()
    with pytest.raises(NotFound):
        lock_record(trial[Role.MONITOR], p.screening_number, "x", event_oid="INF1")


def test_locks_are_refused_while_the_database_is_locked(trial):
    p = trial.consented()
    admin = trial[Role.ADMINISTRATOR]
    lock_database(admin, "final analysis")
    with pytest.raises(DatabaseLocked):
        lock_record(trial[Role.MONITOR], p.screening_number, "complete")
    unlock_database(admin, "query")
