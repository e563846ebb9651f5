"""Every validation rule refuses with a message that says what is wrong, and saves nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from hepatrial.edc.errors import NotAllowed, PreconditionFailed, ValidationFailed
from hepatrial.edc.models import AuditEvent, ItemValue
from hepatrial.edc.roles import Role
from hepatrial.edc.services import participants
from hepatrial.edc.services.allocation import randomize
from hepatrial.edc.services.forms import save_form
from hepatrial.problems import Problem
from hepatrial.web.errors import problem_text
from tests.edc.conftest import LABS_CLASS_B, QUALIFYING
from tests.edc.conftest import E as Entered


@pytest.fixture
def on_study(trial):
    participant, _ = trial.randomized(days_ago=10)
    return participant.screening_number


def refused(trial, number, values, *, event="W1", form="F.LAB", **kwargs) -> dict[str, str]:
    before = AuditEvent.objects.count()
    kwargs.setdefault("visit_date", trial.days_ago(3))
    with pytest.raises(ValidationFailed) as caught:
        save_form(trial.coordinator, number, event, form, values, base_version=0, **kwargs)
    assert AuditEvent.objects.count() == before, "a refused save must write nothing"
    return caught.value.errors


def test_text_where_a_number_is_expected(trial, on_study):
    errors = refused(trial, on_study, {**LABS_CLASS_B, "I.ALT": Entered("4o", "U/L")})
    assert errors == {"I.ALT": "'4o' is not a number"}


def test_unit_missing_where_the_item_has_several(trial, on_study):
    errors = refused(trial, on_study, {**LABS_CLASS_B, "I.TBIL": Entered("49.6")})
    assert errors == {"I.TBIL": "unit missing: choose one of µmol/L, mg/dL"}


def test_wrong_unit(trial, on_study):
    errors = refused(trial, on_study, {**LABS_CLASS_B, "I.ALB": Entered("29", "mg/dL")})
    assert errors == {"I.ALB": "'mg/dL' is not one of g/L, g/dL"}


def test_impossible_value_is_rejected(trial, on_study):
    errors = refused(trial, on_study, {**LABS_CLASS_B, "I.INR": Entered("25")})
    assert errors == {"I.INR": "25 1 is above the highest possible value 20 1"}


def test_impossible_value_in_another_unit_is_judged_in_the_canonical_unit(trial, on_study):
    errors = refused(trial, on_study, {**LABS_CLASS_B, "I.ALB": Entered("0.3", "g/dL")})
    assert errors == {"I.ALB": "3 g/L is below the lowest possible value 5 g/L"}


def test_unusual_value_needs_confirmation_then_saves(trial, on_study):
    unusual = {**LABS_CLASS_B, "I.ALT": Entered("2500", "U/L")}
    errors = refused(trial, on_study, unusual)
    assert errors == {
        "I.ALT": "2500 U/L is outside the usual range 3–2000 U/L: confirm it is correct"
    }
    result = save_form(trial.coordinator, on_study, "W1", "F.LAB", unusual, base_version=0,
                       visit_date=trial.days_ago(3), confirmed={"I.ALT"})  # fmt: skip
    assert result.form_version == 1
    saved = ItemValue.objects.get(item_oid="I.ALT", form_record__visit__event_oid="W1")
    [warning] = saved.warnings
    assert str(Problem.from_json(warning)) == (
        "2500 U/L is outside the usual range 3–2000 U/L: confirm it is correct"
    )
    with translation.override("zh-hans"):
        assert "2500" in problem_text(Problem.from_json(warning))
        assert problem_text(Problem.from_json(warning)).isascii() is False


def test_required_item_missing(trial, on_study):
    labs = dict(LABS_CLASS_B)
    del labs["I.PT"]
    errors = refused(trial, on_study, labs)
    assert errors == {
        "I.PT": "required: enter a value or mark it not done, not applicable or unknown"
    }


def test_missing_with_a_reason_is_accepted_and_keeps_no_value(trial, on_study):
    labs = {**LABS_CLASS_B, "I.PT": Entered(status="not_done")}
    save_form(trial.coordinator, on_study, "W1", "F.LAB", labs, base_version=0,
              visit_date=trial.days_ago(3))  # fmt: skip
    pt = ItemValue.objects.get(item_oid="I.PT", form_record__visit__event_oid="W1")
    assert (pt.status, pt.text, pt.number) == ("not_done", "", None)


def test_what_the_user_typed_is_kept_beside_the_normalized_value(trial, on_study):
    labs = {**LABS_CLASS_B, "I.TBIL": Entered("２．９", "mg/dL")}
    save_form(trial.coordinator, on_study, "W1", "F.LAB", labs, base_version=0,
              visit_date=trial.days_ago(3))  # fmt: skip
    bilirubin = ItemValue.objects.get(item_oid="I.TBIL", form_record__visit__event_oid="W1")
    assert (bilirubin.text, bilirubin.unit_entered, bilirubin.canonical_unit) == (
        "2.9", "mg/dL", "µmol/L",
    )  # fmt: skip
    assert bilirubin.number == pytest.approx(2.9 * 17.1039, rel=1e-4)


def test_death_before_randomization_breaks_a_cross_item_rule(trial, on_study):
    too_early = (trial.days_ago(20)).isoformat()
    death = {"I.DTHDT": Entered(too_early), "I.DTHCAUS": Entered("liver failure")}
    errors = refused(trial, on_study, death, event="EOS", form="F.DEATH", visit_date=None)
    assert errors["I.DTHDT"].startswith("The date of death cannot be before randomization")


def test_adverse_event_ending_before_it_starts(trial, on_study):
    values = {
        "I.AETERM": Entered("fever"), "I.AESTDT": Entered(str(trial.days_ago(2))),
        "I.AEENDT": Entered(str(trial.days_ago(4))), "I.AEGRADE": Entered("1"),
        "I.AESER": Entered("no"), "I.AEREL": Entered("possible"),
    }  # fmt: skip
    errors = refused(trial, on_study, values, event="LOG", form="F.AE", visit_date=None,
                     repeat=None)  # fmt: skip
    assert "An adverse event cannot end before it starts" in errors["I.AEENDT"]


def test_visit_date_in_the_future(trial, on_study):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    errors = refused(trial, on_study, LABS_CLASS_B, visit_date=tomorrow)
    assert errors == {"visit_date": f"{tomorrow} is in the future"}


def test_visit_date_required_on_first_save(trial, on_study):
    errors = refused(trial, on_study, LABS_CLASS_B, visit_date=None)
    assert errors == {"visit_date": "the visit date is required"}


def test_unknown_item_and_form_not_collected_at_the_visit(trial, on_study):
    errors = refused(trial, on_study, {**LABS_CLASS_B, "I.GGT": Entered("40", "U/L")})
    assert errors == {"I.GGT": "I.GGT is not an item of F.LAB"}
    errors = refused(trial, on_study, {"I.AGE": Entered("50")}, form="F.DM")
    assert errors == {"form": "F.DM is not collected at W1"}


def test_changing_saved_data_needs_a_reason(trial, on_study):
    save_form(trial.coordinator, on_study, "W1", "F.LAB", LABS_CLASS_B, base_version=0,
              visit_date=trial.days_ago(3))  # fmt: skip
    with pytest.raises(ValidationFailed) as caught:
        save_form(trial.coordinator, on_study, "W1", "F.LAB", {"I.ALT": Entered("50", "U/L")},
                  base_version=1)  # fmt: skip
    assert caught.value.errors == {"reason": "a reason is required to change data already saved"}
    save_form(trial.coordinator, on_study, "W1", "F.LAB", {"I.ALT": Entered("50", "U/L")},
              base_version=1, reason="lab re-run")  # fmt: skip
    change = AuditEvent.objects.filter(item="I.ALT", action="change").get()
    assert (change.old_value, change.new_value, change.reason) == ("45 U/L", "50 U/L", "lab re-run")


def test_no_randomization_before_eligibility_and_consent(trial):
    participant = trial.screen()
    with pytest.raises(PreconditionFailed, match="needs confirmed eligibility and dated consent"):
        randomize(trial.coordinator, participant.screening_number)
    participants.assess_eligibility(trial.coordinator, participant.screening_number, QUALIFYING)
    with pytest.raises(PreconditionFailed, match="needs confirmed eligibility and dated consent"):
        randomize(trial.coordinator, participant.screening_number)


def test_no_randomization_without_stratification_data(trial):
    participant = trial.screen()
    number = participant.screening_number
    participants.assess_eligibility(trial.coordinator, number, QUALIFYING)
    participants.record_consent(trial.coordinator, number, "ICF v1.0", timezone.now())
    with pytest.raises(PreconditionFailed, match="Baseline Child-Pugh class is missing"):
        randomize(trial.coordinator, number)


def test_a_screen_failure_cannot_consent(trial):
    participant = trial.screen()
    answers = {**QUALIFYING, "IE.EXC09": "yes"}
    participants.assess_eligibility(trial.coordinator, participant.screening_number, answers)
    with pytest.raises(PreconditionFailed, match="screen failed"):
        participants.record_consent(trial.coordinator, participant.screening_number, "v1",
                                    timezone.now())  # fmt: skip


def test_unanswered_eligibility_criterion(trial):
    participant = trial.screen()
    answers = dict(QUALIFYING)
    del answers["IE.EXC03"]
    with pytest.raises(ValidationFailed) as caught:
        participants.assess_eligibility(trial.coordinator, participant.screening_number, answers)
    assert list(caught.value.errors) == ["IE.EXC03"]


def test_follow_up_forms_wait_for_randomization(trial):
    participant = trial.screen()
    with pytest.raises(PreconditionFailed, match="not randomized yet"):
        save_form(trial.coordinator, participant.screening_number, "W1", "F.LAB", LABS_CLASS_B,
                  base_version=0, visit_date=trial.days_ago(1))  # fmt: skip


def test_blinded_roles_cannot_enter_infusion_records(trial, on_study):
    with pytest.raises(NotAllowed):
        save_form(trial.coordinator, on_study, "INF1", "F.INF", {}, base_version=0)
    with pytest.raises(NotAllowed):
        save_form(trial[Role.MONITOR], on_study, "W1", "F.LAB", LABS_CLASS_B, base_version=0)
