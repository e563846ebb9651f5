"""Two people editing one form: the second save is refused and told what changed; nothing lost."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from hepatrial.edc.errors import StaleForm
from hepatrial.edc.models import AuditEvent, FormRecord, ItemValue
from hepatrial.edc.roles import Role
from hepatrial.edc.services.forms import save_form
from tests.edc.conftest import LABS_CLASS_B
from tests.edc.conftest import E as Entered


@pytest.fixture
def saved_w1(trial):
    participant, _ = trial.randomized(days_ago=10)
    number = participant.screening_number
    save_form(trial.coordinator, number, "W1", "F.LAB", LABS_CLASS_B, base_version=0,
              visit_date=trial.days_ago(3))  # fmt: skip
    return number


def test_a_save_from_a_stale_version_is_refused_with_what_changed(trial, saved_w1):
    assessor = trial[Role.OUTCOME_ASSESSOR]
    save_form(assessor, saved_w1, "W1", "F.LAB", {"I.ALT": Entered("52", "U/L")},
              base_version=1, reason="re-read the report")  # fmt: skip
    with pytest.raises(StaleForm) as caught:
        save_form(trial.coordinator, saved_w1, "W1", "F.LAB", {"I.AST": Entered("70", "U/L")},
                  base_version=1, reason="typo")  # fmt: skip
    stale = caught.value
    assert stale.current_version == 2
    assert len(stale.changes) == 1
    assert stale.changes[0].startswith("I.ALT changed from 45 U/L to 52 U/L by assessor at ")
    assert "nothing was saved" in str(stale)
    ast = ItemValue.objects.get(item_oid="I.AST", form_record__visit__event_oid="W1")
    assert ast.text == "60"


def test_the_same_submission_twice_has_the_effect_of_one(trial, saved_w1):
    change = {"I.ALT": Entered("47", "U/L")}
    first = save_form(trial.coordinator, saved_w1, "W1", "F.LAB", change, base_version=1,
                      reason="re-run", submission_id="tab-7f3a")  # fmt: skip
    again = save_form(trial.coordinator, saved_w1, "W1", "F.LAB", change, base_version=1,
                      reason="re-run", submission_id="tab-7f3a")  # fmt: skip
    assert (first.form_version, again.form_version, again.replayed) == (2, 2, True)
    assert AuditEvent.objects.filter(item="I.ALT", action="change").count() == 1


def test_saving_identical_values_again_changes_nothing(trial, saved_w1):
    before = AuditEvent.objects.count()
    result = save_form(trial.coordinator, saved_w1, "W1", "F.LAB", LABS_CLASS_B, base_version=1)
    assert (result.form_version, result.changed) == (1, [])
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_two_users_saving_at_the_same_moment_one_wins_one_is_told(trial, saved_w1):
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def edit(role: Role, value: str) -> None:
        try:
            barrier.wait()
            save_form(trial[role], saved_w1, "W1", "F.LAB", {"I.ALT": Entered(value, "U/L")},
                      base_version=1, reason="correction")  # fmt: skip
            outcomes[role] = "saved"
        except StaleForm as exc:
            outcomes[role] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=edit, args=(Role.COORDINATOR, "50")),
               threading.Thread(target=edit, args=(Role.OUTCOME_ASSESSOR, "55"))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(type(o).__name__ for o in outcomes.values()) == ["StaleForm", "str"]
    record = FormRecord.objects.get(visit__event_oid="W1", form_oid="F.LAB")
    assert record.version == 2
    assert AuditEvent.objects.filter(item="I.ALT", action="change").count() == 1
