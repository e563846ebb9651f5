"""Roles and sites are enforced in the services; blinded roles never receive an arm."""

from __future__ import annotations

from pathlib import Path

import pytest

from hepatrial.edc.errors import NotAllowed, NotFound
from hepatrial.edc.models import Notice
from hepatrial.edc.permissions import PERMISSIONS, Action, permission_table_markdown
from hepatrial.edc.roles import Role, is_blinded
from hepatrial.edc.services.allocation import arm_of, emergency_unblind, randomize
from hepatrial.edc.services.enrolment import notices_for
from hepatrial.edc.services.forms import save_form
from tests.edc.conftest import LABS_CLASS_B

ROLES_DOC = Path(__file__).resolve().parents[2] / "docs" / "roles.md"


def test_another_sites_participant_is_not_found(trial, other_site):
    participant, _ = trial.randomized()
    with pytest.raises(NotFound, match=f"participant {participant.screening_number} not found"):
        save_form(other_site, participant.screening_number, "W1", "F.LAB", LABS_CLASS_B,
                  base_version=0, visit_date=trial.days_ago(1))  # fmt: skip
    with pytest.raises(NotFound):
        randomize(other_site, participant.screening_number)


def test_roles_without_data_entry_are_refused(trial):
    participant, _ = trial.randomized()
    for role in (Role.MONITOR, Role.STATISTICIAN, Role.DSMB, Role.ADMINISTRATOR):
        # Roles that may not view participants are not even told the participant exists.
        refusal = NotFound if role in (Role.STATISTICIAN, Role.DSMB) else NotAllowed
        with pytest.raises(refusal):
            save_form(trial[role], participant.screening_number, "W1", "F.LAB", LABS_CLASS_B,
                      base_version=0, visit_date=trial.days_ago(1))  # fmt: skip


def test_only_unblinded_roles_receive_the_arm(trial):
    participant, _ = trial.randomized()
    for role in Role:
        arm = arm_of(trial[role], participant)
        if role == Role.CELL_THERAPY:
            assert arm in {"SINGLE", "DOUBLE"}
        else:
            assert arm is None, f"{role} received the arm"


def test_blinded_roles_are_the_ones_the_protocol_masks():
    assert is_blinded(Role.OUTCOME_ASSESSOR) and is_blinded(Role.STATISTICIAN)
    assert not is_blinded(Role.CELL_THERAPY) and not is_blinded(Role.DSMB)


def test_emergency_unblinding_needs_a_reason_and_tells_administrators(trial):
    participant, _ = trial.randomized()
    investigator = trial[Role.INVESTIGATOR]
    with pytest.raises(Exception, match="a reason is required"):
        emergency_unblind(investigator, participant.screening_number, " ")
    arm = emergency_unblind(investigator, participant.screening_number, "anaphylaxis, ICU")
    participant.refresh_from_db()
    assert arm in {"SINGLE", "DOUBLE"} and participant.emergency_unblinded
    notice = Notice.objects.get()
    assert notice.role == Role.ADMINISTRATOR and "anaphylaxis" in notice.message
    assert notices_for(trial[Role.ADMINISTRATOR]) == [notice]
    assert notices_for(trial.coordinator) == []
    with pytest.raises(NotAllowed):
        emergency_unblind(trial.coordinator, participant.screening_number, "curious")


def test_every_action_has_a_row_in_the_permission_table():
    assert set(PERMISSIONS) == set(Action)


def test_docs_show_the_permission_table_from_the_code():
    assert permission_table_markdown() in ROLES_DOC.read_text(encoding="utf-8")
