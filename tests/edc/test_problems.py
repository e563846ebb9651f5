"""Services refuse with problem codes and parameters; the English text is what the CLI prints."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from hepatrial.edc.errors import (
    NotAllowed,
    NotFound,
    PreconditionFailed,
    StaleForm,
    ValidationFailed,
)
from hepatrial.edc.models import Notice, ParticipantStatus
from hepatrial.edc.permissions import ACTION_LABELS, Action
from hepatrial.edc.roles import Role
from hepatrial.edc.services import participants
from hepatrial.edc.services.allocation import emergency_unblind, randomize
from hepatrial.edc.services.enrolment import allocation_balance, notice_problem
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.lock import DatabaseLocked, lock_database, unlock_database
from hepatrial.problems import MESSAGES, Problem
from tests.edc.conftest import LABS_CLASS_B, QUALIFYING
from tests.edc.conftest import E as Entered


def test_a_role_that_may_not_act_is_named_with_the_action(trial):
    participant = trial.screen()
    with pytest.raises(NotAllowed) as caught:
        participants.assess_eligibility(trial[Role.MONITOR], participant.screening_number,
                                        QUALIFYING)  # fmt: skip
    problem = caught.value.problem
    assert problem.code == "permission.not_allowed"
    assert dict(problem.params) == {
        "role": Role.MONITOR, "action": Action.ASSESS_ELIGIBILITY, "site": "SY",
    }  # fmt: skip
    assert str(caught.value) == "as monitor at site SY you may not assess eligibility"


def test_every_action_has_a_label():
    assert set(ACTION_LABELS) == set(Action)


def test_another_sites_participant_is_not_found_by_code(trial, other_site):
    participant = trial.screen()
    with pytest.raises(NotFound) as caught:
        randomize(other_site, participant.screening_number)
    assert caught.value.problem.code == "participant.not_found"
    assert caught.value.problem.params == {"participant": participant.screening_number}


def test_consent_before_eligibility_names_the_status(trial):
    participant = trial.screen()
    with pytest.raises(PreconditionFailed) as caught:
        participants.record_consent(trial.coordinator, participant.screening_number, "v1",
                                    timezone.now())  # fmt: skip
    problem = caught.value.problem
    assert problem.code == "consent.requires_eligibility"
    assert problem.params["status"] == ParticipantStatus.SCREENED
    assert problem.startswith(f"{participant.screening_number} is screened: consent")


def test_field_errors_are_problems(trial):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationFailed) as caught:
        participants.screen(trial.coordinator, "SY", tomorrow)
    [(field, problem)] = caught.value.errors.items()
    assert (field, problem.code, problem.params) == ("screened_on", "date.in_future",
                                                     {"date": tomorrow})  # fmt: skip
    assert problem == f"{tomorrow} is in the future"


def test_an_unanswered_criterion_is_named_by_its_label(trial):
    participant = trial.screen()
    answers = {**QUALIFYING, "IE.EXC03": ""}
    with pytest.raises(ValidationFailed) as caught:
        participants.assess_eligibility(trial.coordinator, participant.screening_number, answers)
    problem = caught.value.errors["IE.EXC03"]
    assert problem.code == "eligibility.answer_required"
    assert problem.params["criterion"].zh and problem.endswith(problem.params["criterion"].en)


def test_a_missing_stratification_value_names_the_factor_label(trial):
    participant = trial.screen()
    number = participant.screening_number
    participants.assess_eligibility(trial.coordinator, number, QUALIFYING)
    participants.record_consent(trial.coordinator, number, "ICF v1.0", timezone.now())
    with pytest.raises(PreconditionFailed) as caught:
        randomize(trial.coordinator, number)
    problem = caught.value.problem
    assert problem.code == "randomization.stratum_data_missing"
    assert (problem.params["factor"].en, problem.params["participant"]) == (
        "Baseline Child-Pugh class", number,
    )  # fmt: skip


def test_bad_values_and_broken_rules_in_a_form_have_codes(trial):
    participant, _ = trial.randomized(days_ago=10)
    values = {**LABS_CLASS_B, "I.INR": Entered("25"), "I.ALT": Entered("2500", "U/L")}
    del values["I.PT"]
    with pytest.raises(ValidationFailed) as caught:
        save_form(trial.coordinator, participant.screening_number, "W1", "F.LAB", values,
                  base_version=0, visit_date=trial.days_ago(3))  # fmt: skip
    codes = {oid: p.code for oid, p in caught.value.errors.items()}
    assert codes == {"I.INR": "value.above_hard_range", "I.ALT": "value.outside_plausible_range",
                     "I.PT": "value.required"}  # fmt: skip
    death = {"I.DTHDT": Entered(str(trial.days_ago(20))), "I.DTHCAUS": Entered("liver failure")}
    with pytest.raises(ValidationFailed) as caught:
        save_form(trial.coordinator, participant.screening_number, "EOS", "F.DEATH", death,
                  base_version=0)  # fmt: skip
    rule = caught.value.errors["I.DTHDT"]
    assert (rule.code, rule.params["rule"], rule.params["comparison"]) == (
        "rule.broken", "DEATH_AFTER_RAND", ">=",
    )  # fmt: skip
    assert rule.params["left"] == trial.days_ago(20)
    assert rule.params["message"].zh == "死亡日期不能早于随机化日期"


def test_a_stale_form_lists_each_change_as_a_problem(trial):
    participant, _ = trial.randomized(days_ago=10)
    number = participant.screening_number
    save_form(trial.coordinator, number, "W1", "F.LAB", LABS_CLASS_B, base_version=0,
              visit_date=trial.days_ago(3))  # fmt: skip
    save_form(trial[Role.OUTCOME_ASSESSOR], number, "W1", "F.LAB",
              {"I.ALT": Entered("52", "U/L")}, base_version=1, reason="re-read")  # fmt: skip
    with pytest.raises(StaleForm) as caught:
        save_form(trial.coordinator, number, "W1", "F.LAB", {"I.AST": Entered("70", "U/L")},
                  base_version=1, reason="typo")  # fmt: skip
    stale = caught.value
    assert stale.problem.code == "form.stale"
    assert (stale.problem.params["base_version"], stale.problem.params["current_version"]) == (1, 2)
    assert stale.problem.params["event"].en == "Week 1"
    [change] = stale.changes
    assert change.code == "form.item_changed"
    assert {k: change.params[k] for k in ("item", "old", "new", "user")} == {
        "item": "I.ALT", "old": "45 U/L", "new": "52 U/L", "user": "assessor",
    }  # fmt: skip
    assert isinstance(change.params["at"], dt.datetime)
    assert change in str(stale)


def test_a_locked_database_says_when_by_whom_and_why(trial):
    admin = trial[Role.ADMINISTRATOR]
    with pytest.raises(NotAllowed) as caught:
        lock_database(trial.coordinator, "final analysis")
    assert caught.value.problem.code == "database.lock_administrator_only"
    with pytest.raises(ValidationFailed) as caught:
        lock_database(admin, " ")
    assert caught.value.errors["reason"].code == "database.lock_reason_required"
    lock_database(admin, "final analysis")
    with pytest.raises(DatabaseLocked) as caught:
        trial.screen()
    problem = caught.value.problem
    assert problem.code == "database.locked"
    assert (problem.params["user"], problem.params["reason"]) == ("admin", "final analysis")
    assert problem.params["on"] == timezone.localdate()
    unlock_database(admin, "query resolution")


def test_balance_is_refused_to_blinded_roles_by_code(trial):
    with pytest.raises(NotAllowed) as caught:
        allocation_balance(trial.coordinator)
    assert caught.value.problem.code == "permission.balance_unblinded_only"


def test_an_unblinding_notice_keeps_its_code_and_parameters(trial):
    participant, _ = trial.randomized()
    emergency_unblind(trial[Role.INVESTIGATOR], participant.screening_number, "anaphylaxis")
    notice = Notice.objects.get()
    problem = notice_problem(notice)
    assert problem.code == notice.code == "notice.emergency_unblinding"
    assert problem == notice.message
    assert (problem.params["user"], problem.params["participant"]) == (
        "investigator", participant.screening_number,
    )  # fmt: skip
    assert problem.params["reason"] == "anaphylaxis"
    assert isinstance(problem.params["at"], dt.datetime)


def test_a_notice_without_a_code_reads_as_its_message(trial):
    notice = Notice(role=Role.ADMINISTRATOR, message="an older notice")
    assert notice_problem(notice) == "an older notice"


def test_every_code_renders_its_english_template():
    for code, template in MESSAGES.items():
        names = {part.split(")")[0] for part in template.split("%(")[1:]}
        assert Problem(code, **dict.fromkeys(names, "x")).code == code
