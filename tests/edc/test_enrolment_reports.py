import pytest

from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.roles import Role
from hepatrial.edc.services import participants
from hepatrial.edc.services.allocation import emergency_unblind
from hepatrial.edc.services.enrolment import allocation_balance, enrolment_summary
from tests.edc.conftest import CLINICAL_C, QUALIFYING

ARMS = {"SINGLE", "DOUBLE"}


@pytest.fixture
def enrolled(trial):
    for _ in range(3):
        trial.randomized(days_ago=20)
    trial.randomized(days_ago=10, clinical=CLINICAL_C)
    failure = trial.screen()
    answers = {**QUALIFYING, "IE.EXC01": "yes"}
    participants.assess_eligibility(trial.coordinator, failure.screening_number, answers)
    return trial


def test_the_blinded_summary_counts_without_arms(enrolled):
    summary = enrolment_summary(enrolled[Role.STATISTICIAN])
    assert (summary.screened, summary.screen_failed, summary.randomized) == (5, 1, 4)
    assert summary.by_stratum == {"CPCLASS=B": 3, "CPCLASS=C": 1}
    assert summary.failed_criteria == {"IE.EXC01": 1}
    assert "SINGLE" not in repr(summary) and "DOUBLE" not in repr(summary)


def test_emergency_unblinded_participants_are_listed(enrolled):
    assert enrolment_summary(enrolled.coordinator).emergency_unblinded == []
    emergency_unblind(enrolled[Role.INVESTIGATOR], "SY-0001", "anaphylaxis")
    assert enrolment_summary(enrolled.coordinator).emergency_unblinded == ["SY-0001"]


def test_allocation_balance_is_for_unblinded_roles_only(enrolled):
    balance = allocation_balance(enrolled[Role.CELL_THERAPY])
    assert sum(balance["CPCLASS=B"].values()) == 3 and set(balance["CPCLASS=B"]) <= ARMS
    assert allocation_balance(enrolled[Role.DSMB]) == balance
    for role in (Role.COORDINATOR, Role.STATISTICIAN, Role.OUTCOME_ASSESSOR, Role.MONITOR,
                 Role.INVESTIGATOR, Role.ADMINISTRATOR):  # fmt: skip
        with pytest.raises(NotAllowed):
            allocation_balance(enrolled[role])
