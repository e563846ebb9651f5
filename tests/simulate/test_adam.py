"""Analysis datasets derived from the simulated records."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hepatrial.analysis.datasets import read_adam, write_adam
from hepatrial.analysis.run import run_analysis
from hepatrial.scores.units import BILIRUBIN_MG_DL_TO_UMOL_L
from hepatrial.simulate import SimulationParameters, simulate_trial, to_adam


def test_adam_output_passes_the_validator_and_round_trips(adam, tmp_path):
    write_adam(adam, tmp_path)
    back = read_adam(tmp_path)
    for name, df in adam.by_name().items():
        assert back.by_name()[name].shape[0] == df.shape[0], name
    assert set(back.adsl["ARMCD"]) == {"SINGLE", "DOUBLE"}
    assert set(back.adsl["STRATAR"]) <= {"B", "C"}
    params = set(back.adlb["PARAMCD"])
    assert {"MELD", "MELDNA", "MELD3", "CPSCORE", "CPCLASS", "ALBI", "BILI", "ALB"} <= params


def test_the_analysis_runs_on_the_simulated_datasets(adam, tmp_path):
    write_adam(adam, tmp_path)
    result = run_analysis(read_adam(tmp_path))
    primary = result["primary"]
    assert (
        primary["counts"]["SINGLE"]["randomized"] + primary["counts"]["DOUBLE"]["randomized"] == 92
    )
    assert -1 <= primary["risk_difference"]["estimate"] <= 1


def test_lab_values_entered_in_mg_dl_are_converted_to_canonical_units(trial, adam):
    lb = adam.adlb
    checked = 0
    for p in trial.randomized:
        for v in p.visits:
            text, unit = v.items.get("I.TBIL", (None, None))
            if unit != "mg/dL":
                continue
            usubjid = f"{trial.registry_id}-{p.screening_number}"
            rows = lb[(lb["USUBJID"] == usubjid) & (lb["PARAMCD"] == "BILI")
                      & (lb["ADY"] == v.study_day)]  # fmt: skip
            assert np.isclose(rows["AVAL"].iloc[0], float(text) * BILIRUBIN_MG_DL_TO_UMOL_L)
            checked += 1
    assert checked > 0


def test_week_24_analysis_record_and_time_to_event_agree_with_the_records(trial, adam):
    adsl = adam.adsl.set_index("USUBJID")
    tte = adam.adtte
    for p in trial.randomized:
        usubjid = f"{trial.registry_id}-{p.screening_number}"
        row = adsl.loc[usubjid]
        death = tte[(tte["USUBJID"] == usubjid) & (tte["PARAMCD"] == "DEATH")].iloc[0]
        assert (death["EVNTCD"] == 1) == (p.death is not None) == (row["DTHFL"] == "Y")
        assert row["SAFFL"] == ("Y" if p.infusions else "N")
    cp = adam.adlb[(adam.adlb["PARAMCD"] == "CPCLASS") & (adam.adlb["ANL01FL"] == "Y")]
    assert (cp["AVISITN"] == 168).sum() > 40
    assert cp.groupby(["USUBJID", "AVISITN"]).size().max() == 1


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 100_000), n=st.integers(2, 30))
def test_any_simulated_trial_gives_valid_analysis_datasets(protocol, tmp_path_factory, seed, n):
    params = SimulationParameters(no_infusion_probability=0.1, infusion2_missed_probability=0.2)
    records = simulate_trial(protocol, n, seed, params)
    folder = tmp_path_factory.mktemp("adam")
    write_adam(to_adam(records, protocol), folder)
    back = read_adam(folder)
    assert len(back.adsl) == n
    assert set(back.adtte.groupby("USUBJID").size()) == {7}
