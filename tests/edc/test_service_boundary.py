"""The boundary of a write service is declared where it is defined, and the declaration holds."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import hepatrial.edc.services as services_package
from hepatrial.edc import audit
from hepatrial.edc.models import AuditEvent, Participant
from hepatrial.edc.permissions import Action, UndeclaredAction
from hepatrial.edc.roles import Role
from hepatrial.edc.services import accounts, participants
from hepatrial.edc.services.boundary import DatabaseLocked, Writes, service
from hepatrial.edc.services.lock import lock_database, unlock_database
from hepatrial.edc.services.lookup import participant_for


def declared_services() -> dict[str, object]:
    found = {}
    for module_info in pkgutil.iter_modules(services_package.__path__):
        module = importlib.import_module(f"{services_package.__name__}.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if hasattr(function, "writes") and function.__module__ == module.__name__:
                found[f"{module_info.name}.{name}"] = function
    return found


def test_every_write_service_declares_what_it_writes_and_which_actions_it_checks():
    found = declared_services()
    for name in ("forms.save_form", "participants.screen", "allocation.randomize",
                 "lock.lock_database", "accounts.add_user"):  # fmt: skip
        assert name in found
    assert found["forms.save_form"].writes is Writes.CLINICAL
    assert found["forms.save_form"].actions == {Action.ENTER_DATA, Action.ENTER_INTERVENTION}
    assert found["lock.lock_database"].writes is Writes.ADMINISTRATION


def test_no_module_outside_the_boundary_opens_its_own_audited_transaction():
    for module_info in pkgutil.iter_modules(services_package.__path__):
        source = inspect.getsource(
            importlib.import_module(f"{services_package.__name__}.{module_info.name}")
        )
        assert "audit.audited" not in source, module_info.name


def test_a_service_checking_an_action_it_does_not_declare_fails_and_writes_nothing(trial):
    participant = trial.screen()
    before = AuditEvent.objects.count()

    @service(Action.ENTER_DATA, writes=Writes.CLINICAL)
    def sneaky(actor, number):
        found = participant_for(actor, number, Action.RANDOMIZE, lock=True)
        audit.record("change", username=actor.username, participant=number)
        return found

    with pytest.raises(UndeclaredAction):
        sneaky(trial.coordinator, participant.screening_number)
    assert AuditEvent.objects.count() == before


def test_the_database_lock_is_checked_before_the_service_looks_anything_up(trial):
    admin = trial[Role.ADMINISTRATOR]
    lock_database(admin, "final analysis")
    try:
        with pytest.raises(DatabaseLocked):
            participants.assess_eligibility(trial.coordinator, "SY-9999", {})
        with pytest.raises(DatabaseLocked):
            participants.screen(trial.coordinator, "SY", trial.days_ago(1))
        assert not Participant.objects.exists()
        site = accounts.add_site(admin, "AS", "Anshan")
        assert site.code == "AS"
    finally:
        unlock_database(admin, "test over")


def test_a_failing_service_leaves_no_change_and_no_audit_row(trial):
    participant = trial.screen()
    before = AuditEvent.objects.count()

    @service(Action.END_PARTICIPATION, writes=Writes.CLINICAL)
    def half_done(actor, number):
        found = participant_for(actor, number, Action.END_PARTICIPATION, lock=True)
        found.end_reason = "half"
        found.save()
        audit.record("change", username=actor.username, participant=number)
        raise RuntimeError("the server fails after the first write")

    with pytest.raises(RuntimeError):
        half_done(trial.coordinator, participant.screening_number)
    assert Participant.objects.get(pk=participant.pk).end_reason == ""
    assert AuditEvent.objects.count() == before
