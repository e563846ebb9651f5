"""A simulated trial entered through the services matches the simulator's own datasets."""

from __future__ import annotations

import pandas as pd
import pytest

from hepatrial.edc.audit import verify_chain
from hepatrial.edc.demo_trial import DemoAccountsMissing, DemoLoader, simulate_demo
from hepatrial.edc.errors import ServiceError
from hepatrial.edc.export import assemble_datasets, build_datasets
from hepatrial.edc.models import AllocationSlot, Participant, ParticipantStatus, User
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.roles import Role
from hepatrial.edc.services.allocation import verify_allocations
from hepatrial.randomization.seedfile import read_seed_file
from hepatrial.simulate.adam import to_adam


@pytest.fixture
def loaded(trial):
    records = simulate_demo(12, 5)
    DemoLoader(records, progress=lambda message: None).run()
    return records, active_protocol()[1].protocol


def test_every_screened_person_is_loaded_with_the_simulated_arm(loaded):
    records, _ = loaded
    assert Participant.objects.count() == len(records.participants)
    failed = sum(1 for r in records.participants if r.failed_criteria)
    assert Participant.objects.filter(status=ParticipantStatus.SCREEN_FAILED).count() == failed
    for record in records.randomized:
        slot = AllocationSlot.objects.get(participant__screening_number=record.screening_number)
        assert slot.arm == record.arm
    assert verify_chain().intact


def test_the_database_export_agrees_with_the_simulators_datasets(trial, loaded):
    records, protocol = loaded
    simulated = to_adam(records, protocol).adlb
    exported = build_datasets(trial[Role.STATISTICIAN]).datasets.adlb
    key = ["USUBJID", "PARAMCD", "AVISIT"]

    def analysed(frame: pd.DataFrame) -> pd.DataFrame:
        rows = frame[
            (frame["ANL01FL"] == "Y") & frame["PARAMCD"].isin(["ALT", "BILI", "MELD", "CPCLASS"])
        ]
        return rows[[*key, "AVAL"]].sort_values(key).reset_index(drop=True)

    both = analysed(simulated).merge(analysed(exported), on=key, suffixes=("_sim", "_db"))
    assert len(both) > 50
    assert (both["AVAL_sim"] - both["AVAL_db"]).abs().max() < 1e-6


def test_demo_data_goes_into_an_empty_trial_only(loaded):
    records, _ = loaded
    with pytest.raises(ServiceError, match="already has participants"):
        DemoLoader(records, progress=lambda message: None).run()


def test_the_demo_allocations_verify_against_the_trials_secret_seed(trial, settings):
    """The list `hepatrial init` made from var/randomization_seed is the one the demo used."""
    DemoLoader(simulate_demo(16, 3), progress=lambda message: None).run()
    result = verify_allocations(read_seed_file(str(settings.VAR_DIR / "randomization_seed")))
    assert result.ok, result.first_mismatch
    assert result.checked == 16


def test_one_derivation_gives_the_same_participants_and_events_from_both_sources(trial, loaded):
    """The simulator's records and the same trial read back from the database go through the
    one derivation (hepatrial.analysis.derive) and agree participant by participant."""
    records, protocol = loaded
    simulated = to_adam(records, protocol)
    exported = assemble_datasets(["SY"], blinded=False)[0].datasets
    columns = ["USUBJID", "ARMCD", "STRATAR", "SAFFL", "TRTSDT", "DTHDT", "LTXDT", "EOSSTT",
               "CPCLSBL", "AGE", "SEX"]  # fmt: skip
    pd.testing.assert_frame_equal(
        simulated.adsl[columns].sort_values("USUBJID").reset_index(drop=True),
        exported.adsl[columns].sort_values("USUBJID").reset_index(drop=True),
        check_dtype=False,
    )
    key = ["USUBJID", "PARAMCD"]
    tte = [d.adtte[[*key, "AVAL", "EVNTCD"]].sort_values(key).reset_index(drop=True)
           for d in (simulated, exported)]  # fmt: skip
    pd.testing.assert_frame_equal(*tte, check_dtype=False)
    assert len(simulated.adae) == len(exported.adae)


def test_the_demo_uses_the_simulation_file_beside_the_protocol(loaded):
    records, _ = loaded
    assert records.parameters["age_criterion"] == "IE.INC01"
    assert records.parameters["arm_effect_24w"] == {"DOUBLE": 0.35}


def test_the_demo_without_its_accounts_says_how_to_create_them(trial):
    User.objects.filter(username="coordinator").delete()
    with pytest.raises(DemoAccountsMissing, match="hepatrial init --demo-accounts"):
        simulate_demo(4, 1)
