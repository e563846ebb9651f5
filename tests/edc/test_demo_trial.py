"""A simulated trial entered through the services matches the simulator's own datasets."""

from __future__ import annotations

import pandas as pd
import pytest

from hepatrial.edc.audit import verify_chain
from hepatrial.edc.demo_trial import DemoLoader, _complete_blocks
from hepatrial.edc.errors import ServiceError
from hepatrial.edc.export import assemble_datasets, build_datasets
from hepatrial.edc.models import AllocationSlot, Participant, ParticipantStatus
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.roles import Role
from hepatrial.simulate import simulate_trial
from hepatrial.simulate.adam import to_adam


@pytest.fixture
def loaded(trial):
    protocol = active_protocol()[1].protocol
    records = simulate_trial(protocol, n_participants=12, seed=5)
    DemoLoader(records, progress=lambda message: None).run()
    return records, protocol


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


def test_the_last_partial_block_is_completed_to_balance():
    assert _complete_blocks(["A", "B", "A"], {"A": 1, "B": 1}) == ["A", "B", "A", "B"]
    assert _complete_blocks(["A", "B", "A", "A"], {"A": 1, "B": 1}) == [
        "A",
        "B",
        "A",
        "A",
        "B",
        "B",
    ]
    assert _complete_blocks(["A", "B"], {"A": 1, "B": 1}) == ["A", "B"]


def test_a_stratum_nobody_was_randomized_into_still_gets_a_balanced_block(trial):
    protocol = active_protocol()[1].protocol
    DemoLoader(simulate_trial(protocol, n_participants=2, seed=1), progress=lambda m: None).run()
    strata = set(AllocationSlot.objects.values_list("stratum", flat=True))
    assert strata == {"CPCLASS=B", "CPCLASS=C"}


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
