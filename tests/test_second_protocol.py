"""The second shipped protocol goes the whole way, run as users run it: init, demo, export,
analysis, report — with nothing in hepatrial written for it but its protocol and simulation
files. Its OIDs differ from the first trial's, so code that still knows those fails here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hepatrial.protocol import load_protocol
from hepatrial.simulate import parameters_for, simulate_trial
from hepatrial.simulate.trial import summary

ROOT = Path(__file__).resolve().parents[1]
SISTER = ROOT / "protocols" / "sy-msc-dose.yaml"


def hepatrial(var: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "HEPATRIAL_PROTOCOL")}
    env["HEPATRIAL_VAR_DIR"] = str(var)
    return subprocess.run(
        [sys.executable, "-m", "hepatrial.cli", *args],
        capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip


def test_the_sister_protocol_is_valid_and_simulates_its_own_design():
    protocol = load_protocol(SISTER).protocol
    assert protocol.study.target_enrolment == 22
    assert [e.day for e in protocol.scheduled_events()] == [0, 7, 28, 56, 84, 168, 336]
    doses = {arm.code: [iv.dose.amount for iv in arm.interventions] for arm in protocol.arms}
    assert doses == {"LOW": [1.0], "HIGH": [3.0]}
    trial = simulate_trial(protocol, seed=4, params=parameters_for(SISTER))
    counts = summary(trial, protocol)
    assert counts["randomized"] == 22 and set(counts["by_arm"]) == {"LOW", "HIGH"}
    for p in trial.randomized:
        assert len(p.infusions) <= 1
        given = {iv.dose.amount for iv in protocol.arm(p.arm).interventions}
        for infusion in p.infusions:
            assert abs(float(infusion.items["EX.DOSE"][0]) - given.pop()) < 0.2
        assert {v.event_oid for v in p.visits} <= {e.oid for e in protocol.scheduled_events()}
    assert any(v.event_oid == "WK48" for p in trial.randomized for v in p.visits)


def test_demo_without_the_demo_accounts_says_what_to_run(tmp_path):
    assert hepatrial(tmp_path, "init", "--protocol", str(SISTER)).returncode == 0
    result = hepatrial(tmp_path, "demo")
    assert result.returncode == 2
    assert "hepatrial init --demo-accounts" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.sqlite_only
def test_the_sister_trial_goes_from_init_to_its_report(tmp_path):
    var = tmp_path / "var"
    var.mkdir()
    steps = [
        ("init", "--protocol", str(SISTER), "--demo-accounts"),
        ("demo", "--seed", "20240301"),
        ("allocation", "verify", "--seed-file", str(var / "randomization_seed")),
        ("export", "adam", "--out", str(tmp_path / "adam"), "--as", "statistician"),
        ("analyze", "--adam", str(tmp_path / "adam"), "--out", str(tmp_path / "report")),
    ]
    for step in steps:
        result = hepatrial(var, *step)
        assert result.returncode == 0, (step, result.stdout[-2000:], result.stderr[-4000:])
        if step[0] == "demo":
            assert "22 randomized participants" in result.stdout
    for name in ("adsl.csv", "adlb.csv", "adtte.csv", "adae.csv"):
        assert (tmp_path / "adam" / name).is_file()
    for name in ("results.json", "report.html", "report.pdf"):
        assert (tmp_path / "report" / name).is_file()
