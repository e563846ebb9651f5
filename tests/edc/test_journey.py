"""A participant from screening to the end of follow-up, through the services only."""

from __future__ import annotations

import datetime as dt

import pytest

from hepatrial.edc.audit import verify_chain
from hepatrial.edc.models import DerivedValue, Deviation, ParticipantStatus, Visit
from hepatrial.edc.roles import Role
from hepatrial.edc.services import participants
from hepatrial.edc.services.allocation import arm_of
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.schedule import deviation_problem, visit_status
from tests.edc.conftest import CLINICAL_B, LABS_CLASS_B, QUALIFYING, VITALS
from tests.edc.conftest import E as Entered

S = ParticipantStatus


def test_screening_numbers_count_up_per_site(trial):
    first, second = trial.screen(), trial.screen()
    assert (first.screening_number, second.screening_number) == ("SY-0001", "SY-0002")
    assert first.status == S.SCREENED


def test_eligible_participant_consents_and_is_randomized_into_a_stratum(trial):
    participant, allocated = trial.randomized()
    assert participant.status == S.RANDOMIZED
    assert allocated.stratum == "CPCLASS=B"
    assert (
        allocated.randomization_number.startswith("R")
        and "-B-001" in allocated.randomization_number
    )
    assert allocated.arm is None, "a coordinator is blinded and must not receive the arm"
    assert arm_of(trial[Role.CELL_THERAPY], participant) in {"SINGLE", "DOUBLE"}


def test_child_pugh_c_goes_to_stratum_c(trial):
    _, allocated = trial.randomized(clinical={**CLINICAL_B, "I.ASCITES": Entered("moderate_severe"),
                                              "I.HEGRADE": Entered("3")})  # fmt: skip
    assert allocated.stratum == "CPCLASS=C"


def test_schedule_follows_the_protocol_and_the_arm(trial):
    participant, _ = trial.randomized(days_ago=30)
    day0 = participant.randomization_date
    visits = {v.event_oid: v for v in Visit.objects.filter(participant=participant)}
    assert visits["W24"].target_date == day0 + dt.timedelta(days=168)
    assert (visits["W4"].window_start, visits["W4"].window_end) == (
        day0 + dt.timedelta(days=25), day0 + dt.timedelta(days=31),
    )  # fmt: skip
    arm = arm_of(trial[Role.CELL_THERAPY], participant)
    assert ("INF2" in visits) == (arm == "DOUBLE")
    assert "INF1" in visits
    today = trial.days_ago(0)
    assert visit_status(visits["W1"], today) == "overdue"
    assert visit_status(visits["W4"], today) == "due"
    assert visit_status(visits["W24"], today) == "upcoming"


def test_derived_scores_follow_their_inputs(trial):
    participant, _ = trial.randomized(days_ago=10)
    number = participant.screening_number
    result = save_form(trial.coordinator, number, "W1", "F.LAB", LABS_CLASS_B, base_version=0,
                       visit_date=trial.days_ago(3))  # fmt: skip
    assert result.derived["D.MELD"] == 17
    save_form(trial.coordinator, number, "W1", "F.CLIN", CLINICAL_B, base_version=0)
    cp = DerivedValue.objects.get(visit__participant=participant, visit__event_oid="W1",
                                  item_oid="D.CPCLASS")  # fmt: skip
    assert (cp.text, cp.formula_version) == ("B", "child-pugh-table-v2")
    assert cp.inputs["inputs"]["bilirubin"] == 49.6
    changed = save_form(
        trial.coordinator,
        number,
        "W1",
        "F.LAB",
        {"I.TBIL": Entered("3.5", "mg/dL")},
        base_version=1,
        reason="transcription error",
    )
    meld = DerivedValue.objects.get(visit__participant=participant, visit__event_oid="W1",
                                    item_oid="D.MELD")  # fmt: skip
    assert changed.derived["D.MELD"] == meld.number == 18
    assert (meld.inputs["inputs"]["bilirubin"], meld.inputs["units"]["bilirubin"]) == (3.5, "mg/dL")


def test_first_infusion_puts_the_participant_on_study(trial):
    participant, _ = trial.randomized(days_ago=5)
    save_form(trial[Role.CELL_THERAPY], participant.screening_number, "INF1", "F.INF",
              infusion_values(trial, 5), base_version=0, visit_date=trial.days_ago(5))  # fmt: skip
    participant.refresh_from_db()
    assert participant.status == S.ON_STUDY


def test_follow_up_ends_and_the_audit_trail_holds(trial):
    participant, _ = trial.randomized(days_ago=40)
    participants.end_participation(trial.coordinator, participant.screening_number, "withdrawn",
                                   trial.days_ago(1), "moved to another city")  # fmt: skip
    participant.refresh_from_db()
    assert (participant.status, participant.end_reason) == (S.WITHDRAWN, "moved to another city")
    check = verify_chain()
    assert check.intact and check.checked > 50


def test_screen_failures_are_kept_with_the_criteria_that_failed(trial):
    participant = trial.screen()
    answers = {**QUALIFYING, "IE.EXC05": "yes", "IE.INC01": "no"}
    participants.assess_eligibility(trial.coordinator, participant.screening_number, answers)
    participant.refresh_from_db()
    assert participant.status == S.SCREEN_FAILED
    assert participant.failed_criteria == ["IE.INC01", "IE.EXC05"]


def infusion_values(trial, day: int, dose: str = "1.0", weight: str = "68") -> dict:
    return {
        "I.INFDTC": Entered(f"{trial.days_ago(day)} 09:30"), "I.INFWT": Entered(weight, "kg"),
        "I.INFDOSE": Entered(dose), "I.INFLOT": Entered("UC-2024-017"),
        "I.INFVIAB": Entered("95"), "I.INFREACT": Entered("no"), **VITALS,
    }  # fmt: skip


def test_an_infusion_records_its_total_dose_and_a_deviation_when_the_dose_is_off(trial):
    participant, _ = trial.randomized(days_ago=5)
    team = trial[Role.CELL_THERAPY]
    result = save_form(team, participant.screening_number, "INF1", "F.INF",
                       infusion_values(trial, 5, dose="1.3", weight="70"), base_version=0,
                       visit_date=trial.days_ago(5))  # fmt: skip
    total = DerivedValue.objects.get(visit__participant=participant, item_oid="TOTAL_DOSE")
    assert total.number == pytest.approx(91.0)
    assert total.inputs == {"dose_per_kg": 1.3, "body_weight": 70.0}
    [deviation] = result.deviations
    assert deviation == "UC-MSC infusion 1: dose 1.3 10^6 cells/kg given, protocol 1 ± 10%"
    assert deviation.code == "deviation.dose"
    assert deviation.params["intervention"].en == "UC-MSC infusion 1"
    assert (deviation.params["dose"], deviation.params["planned"]) == (1.3, 1.0)
    assert deviation.params["unit"] == "10^6 cells/kg"
    stored = Deviation.objects.get(participant=participant)
    assert (stored.kind, stored.description) == ("dose", deviation)
    assert deviation_problem(stored) == deviation
    assert deviation_problem(stored).params["intervention"].zh == "第1次脐带间充质干细胞输注"


def test_a_second_infusion_outside_its_window_is_a_deviation(trial):
    team = trial[Role.CELL_THERAPY]
    while True:
        participant, _ = trial.randomized(days_ago=40)
        if arm_of(team, participant) == "DOUBLE":
            break
    values = infusion_values(trial, 5)
    result = save_form(team, participant.screening_number, "INF2", "F.INF", values,
                       base_version=0, visit_date=trial.days_ago(5))  # fmt: skip
    [deviation] = result.deviations
    assert (
        deviation
        == f"UC-MSC infusion 2 done on {trial.days_ago(5)}, 4 day(s) after its window closed"
    )
    assert deviation.code == "deviation.visit_out_of_window"
    assert (deviation.params["on"], deviation.params["days"]) == (trial.days_ago(5), 4)
    assert deviation.params["side"] == "after"
    stored = Deviation.objects.get(participant=participant)
    assert stored.params["side"] == "after" and stored.params["days"] == 4
    assert stored.params["event"] == {"en": "UC-MSC infusion 2", "zh": "第2次脐带间充质干细胞输注"}
    again = deviation_problem(stored)
    assert (again, dict(again.params)) == (deviation, dict(deviation.params))
