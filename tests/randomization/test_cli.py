"""The `randomization` subcommands, run in-process through ``register``."""

from __future__ import annotations

import argparse
import json
import os

import pytest

from hepatrial.randomization import (
    AllocationRecord,
    Arm,
    Factor,
    MinimizationDesign,
    allocations_to_csv,
    minimize_sequence,
    read_list_csv,
)
from hepatrial.randomization.cli import main, register

TRIAL_ARGS = ["--arms", "SINGLE:1", "DOUBLE:1", "--block-sizes", "2", "4"]


@pytest.fixture
def seed_file(tmp_path):
    path = tmp_path / "seed.hex"
    assert main(["randomization", "new-seed", "--out", str(path)]) == 0
    return path


@pytest.fixture
def list_file(tmp_path, seed_file):
    path = tmp_path / "list.csv"
    code = main(
        ["randomization", "generate", *TRIAL_ARGS, "--strata", "CPCLASS=B,C"]
        + ["--per-stratum", "46", "--seed-file", str(seed_file), "--out", str(path)]
    )
    assert code == 0
    return path


def write_log(path, records) -> str:
    path.write_text(allocations_to_csv(records), encoding="utf-8")
    return str(path)


def test_register_adds_the_randomization_command_with_its_actions():
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["randomization", "verify", "--list", "l", "--seed-file", "s"])
    assert args.func.__name__ == "run_verify"


def test_new_seed_is_private_and_never_overwritten(seed_file, capsys):
    assert oct(os.stat(seed_file).st_mode & 0o777) == "0o600"
    assert len(seed_file.read_text().strip()) == 64
    assert main(["randomization", "new-seed", "--out", str(seed_file)]) == 2
    assert "never overwritten" in capsys.readouterr().err


def test_generate_writes_a_list_that_verifies(list_file, seed_file, capsys):
    assert len(read_list_csv(str(list_file)).entries) >= 92
    capsys.readouterr()
    assert (
        main(["randomization", "verify", "--list", str(list_file), "--seed-file", str(seed_file)])
        == 0
    )
    assert capsys.readouterr().out.startswith("OK: ")


def test_verify_accepts_honest_allocations_and_names_the_first_mismatch(
    tmp_path, list_file, seed_file, capsys
):
    randomization_list = read_list_csv(str(list_file))
    records = [
        AllocationRecord(e.stratum, e.sequence, e.arm)
        for e in randomization_list.stratum_entries("CPCLASS=C")[:10]
    ]
    base = ["randomization", "verify", "--list", str(list_file), "--seed-file", str(seed_file)]
    assert main([*base, "--allocations", write_log(tmp_path / "ok.csv", records)]) == 0
    assert "OK: 10 allocations checked" in capsys.readouterr().out
    del records[3]
    assert main([*base, "--allocations", write_log(tmp_path / "bad.csv", records)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("MISMATCH allocation 4: stratum CPCLASS=C: sequence 5 used but")


def test_verify_refuses_another_seed(tmp_path, list_file, capsys):
    other = tmp_path / "other.hex"
    main(["randomization", "new-seed", "--out", str(other)])
    code = main(["randomization", "verify", "--list", str(list_file), "--seed-file", str(other)])
    assert code == 1
    assert "seed does not match" in capsys.readouterr().err


def test_verify_replays_minimization_from_a_design_file(tmp_path, seed_file, capsys):
    design = MinimizationDesign(
        arms=(Arm("SINGLE"), Arm("DOUBLE")), factors=(Factor("CPCLASS", ("B", "C")),)
    )
    design_file = tmp_path / "design.json"
    design_file.write_text(json.dumps(design.to_dict()), encoding="utf-8")
    seed = bytes.fromhex(seed_file.read_text())
    decisions = minimize_sequence(design, seed, [("B",), ("C",), ("C",), ("B",)])
    records = [AllocationRecord(d.stratum, d.participant, d.arm, d.levels) for d in decisions]
    log = write_log(tmp_path / "log.csv", records)
    args = ["randomization", "verify", "--design", str(design_file), "--seed-file", str(seed_file)]
    assert main([*args, "--allocations", log]) == 0


def test_import_check_accepts_a_good_list_and_rejects_a_bad_one(tmp_path, list_file, capsys):
    args = ["randomization", "import-check", *TRIAL_ARGS, "--strata", "CPCLASS=B,C"]
    assert main([*args, "--list", str(list_file)]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("stratum,sequence,arm\nCPCLASS=B,1,TRIPLE\n", encoding="utf-8")
    assert main([*args, "--list", str(bad)]) == 1
    assert "row 2: unknown arm 'TRIPLE'" in capsys.readouterr().err


def test_generate_reports_an_impossible_design(tmp_path, seed_file, capsys):
    code = main(
        ["randomization", "generate", "--arms", "A:2", "B:1", "--block-sizes", "4"]
        + ["--per-stratum", "10", "--seed-file", str(seed_file), "--out", str(tmp_path / "x")]
    )
    assert code == 2
    assert "block size 4 is not a multiple of 3" in capsys.readouterr().err


def test_a_malformed_seed_file_is_reported(tmp_path, capsys):
    seed = tmp_path / "seed.hex"
    seed.write_text("not hex", encoding="ascii")
    code = main(
        ["randomization", "generate", *TRIAL_ARGS, "--per-stratum", "4"]
        + ["--seed-file", str(seed), "--out", str(tmp_path / "x.csv")]
    )
    assert code == 2
    assert "hexadecimal" in capsys.readouterr().err
