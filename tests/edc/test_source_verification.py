"""Source-data verification by the monitor: per item, form and visit; reset by a later change."""

from __future__ import annotations

import pytest

from hepatrial.edc.errors import NotAllowed, NotFound, ValidationFailed
from hepatrial.edc.models import AuditEvent, FormRecord, Participant
from hepatrial.edc.roles import Role
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.verification import (
    CHANGED,
    UNVERIFIED,
    VERIFIED,
    changed_after_verification,
    item_states,
    participant_progress,
    site_progress,
    verify_source,
)
from hepatrial.protocol.values import EnteredValue as E
from tests.edc.conftest import LABS_CLASS_B
from tests.edc.test_journey import infusion_values


def _labs(participant) -> FormRecord:
    return FormRecord.objects.get(visit__participant=participant, visit__event_oid="SCR",
                                  form_oid="F.LAB")  # fmt: skip


def test_the_monitor_verifies_one_item_then_the_form_with_who_when_and_which_value(trial):
    p = trial.consented()
    monitor = trial[Role.MONITOR]
    assert verify_source(monitor, p.screening_number, "SCR", form_oid="F.LAB",
                         items=["I.TBIL"]) == 1  # fmt: skip
    states = item_states(_labs(p))
    assert states["I.TBIL"].state == VERIFIED
    assert states["I.TBIL"].verified_by == "monitor"
    assert states["I.TBIL"].verified_value == "49.6 µmol/L"
    assert states["I.TBIL"].form_version == 1
    assert states["I.ALB"].state == UNVERIFIED

    rest = verify_source(monitor, p.screening_number, "SCR", form_oid="F.LAB")
    assert rest == len(LABS_CLASS_B) - 1
    assert {s.state for s in item_states(_labs(p)).values()} == {VERIFIED}
    rows = AuditEvent.objects.filter(object_type="verification", action="verify")
    assert rows.count() == len(LABS_CLASS_B)
    assert rows.get(item="I.TBIL").new_value == "verified 49.6 µmol/L"


def test_verifying_a_visit_covers_every_form_and_counts_progress(trial):
    p = trial.consented()
    entered = participant_progress(p).entered
    assert entered > len(LABS_CLASS_B) and participant_progress(p).verified == 0
    verify_source(trial[Role.MONITOR], p.screening_number, "SCR")
    progress = participant_progress(p)
    assert progress.verified == progress.entered == entered and progress.percent == 100
    assert site_progress(trial[Role.MONITOR])["SY"].verified == entered


def test_a_change_after_verification_resets_it_and_says_who_changed_what(trial):
    p = trial.consented()
    monitor = trial[Role.MONITOR]
    verify_source(monitor, p.screening_number, "SCR", form_oid="F.LAB")
    save_form(trial.coordinator, p.screening_number, "SCR", "F.LAB",
              {"I.TBIL": E("43.2", "µmol/L")}, base_version=1, reason="digits swapped")  # fmt: skip
    state = item_states(_labs(p))["I.TBIL"]
    assert state.state == CHANGED
    assert (state.verified_value, state.value) == ("49.6 µmol/L", "43.2 µmol/L")
    assert state.changed_by == "coordinator" and state.changed_at is not None
    assert item_states(_labs(p))["I.ALB"].state == VERIFIED
    [(visit, form, changed)] = changed_after_verification(p)
    assert (visit.event_oid, form, changed.item_oid) == ("SCR", "F.LAB", "I.TBIL")
    assert participant_progress(p).verified == len(LABS_CLASS_B) - 1
    reset = AuditEvent.objects.get(action="verify_reset")
    assert (reset.old_value, reset.new_value) == ("verified 49.6 µmol/L", "changed 43.2 µmol/L")

    verify_source(monitor, p.screening_number, "SCR", form_oid="F.LAB", items=["I.TBIL"])
    assert item_states(_labs(p))["I.TBIL"].state == VERIFIED
    assert not changed_after_verification(p)


def test_verifying_again_without_a_change_writes_nothing(trial):
    p = trial.consented()
    monitor = trial[Role.MONITOR]
    verify_source(monitor, p.screening_number, "SCR", form_oid="F.LAB")
    before = AuditEvent.objects.count()
    assert verify_source(monitor, p.screening_number, "SCR", form_oid="F.LAB") == 0
    assert AuditEvent.objects.count() == before


def test_only_the_monitor_of_the_site_verifies(trial, other_site):
    p = trial.consented()
    for role in (Role.INVESTIGATOR, Role.COORDINATOR, Role.ADMINISTRATOR):
        with pytest.raises(NotAllowed):
            verify_source(trial[role], p.screening_number, "SCR")
    with pytest.raises(NotFound):
        verify_source(trial[Role.STATISTICIAN], p.screening_number, "SCR")
    with pytest.raises(NotFound):
        verify_source(other_site, p.screening_number, "SCR")
    assert not AuditEvent.objects.filter(object_type="verification").exists()


def test_nothing_chosen_or_nothing_entered_is_refused_with_a_reason(trial):
    p = trial.consented()
    monitor = trial[Role.MONITOR]
    with pytest.raises(ValidationFailed) as refused:
        verify_source(monitor, p.screening_number, "SCR", form_oid="F.LAB", items=[])
    assert refused.value.errors["form"].code == "verification.nothing_chosen"
    p2, _ = trial.randomized()
    with pytest.raises(ValidationFailed) as empty:
        verify_source(monitor, p2.screening_number, "W4")
    assert empty.value.errors["form"].code == "verification.nothing_entered"


def test_the_blinded_monitor_neither_verifies_nor_counts_infusion_records(trial):
    p, _ = trial.randomized(days_ago=5)
    number = p.screening_number
    before = participant_progress(Participant.objects.get(pk=p.pk)).entered
    save_form(trial[Role.CELL_THERAPY], number, "INF1", "F.INF", infusion_values(trial, 5),
              base_version=0, visit_date=trial.days_ago(5))  # fmt: skip
    assert participant_progress(p).entered == before
    assert site_progress(trial[Role.MONITOR])["SY"].entered == before
    monitor = trial[Role.MONITOR]
    with pytest.raises(NotFound):
        verify_source(monitor, number, "INF1")
    with pytest.raises(NotFound):
        verify_source(monitor, number, "INF1", form_oid="F.INF")
