import argparse
import json

from hepatrial.analysis.datasets import read_adam
from hepatrial.simulate import TrialRecords
from hepatrial.simulate.cli import register


def _parser():
    parser = argparse.ArgumentParser(prog="hepatrial")
    register(parser.add_subparsers(dest="command"))
    return parser


def test_power_prints_assumptions_results_and_what_justifies_92(tmp_path, capsys):
    plot = tmp_path / "power.png"
    args = _parser().parse_args(["power", "--n-sim", "2000", "--plot", str(plot)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    for text in ("Assumptions", "analytic power", "simulated power", "What justifies n = 92"):
        assert text in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_power_accepts_an_effect_instead_of_p1(capsys):
    args = _parser().parse_args(["power", "--p0", "0.1", "--effect", "0.3", "--n-sim", "1000"])
    assert args.func(args) == 0
    assert "0.400" in capsys.readouterr().out


def test_simulate_writes_analysis_datasets_and_records(tmp_path, capsys):
    out, rec = tmp_path / "adam", tmp_path / "records.json"
    args = _parser().parse_args(
        [
            "simulate",
            "--participants",
            "20",
            "--seed",
            "3",
            "--adam-out",
            str(out),
            "--records-out",
            str(rec),
        ]  # fmt: skip
    )
    assert args.func(args) == 0
    assert len(read_adam(out).adsl) == 20
    records = TrialRecords.from_json(rec.read_text(encoding="utf-8"))
    assert len(records.randomized) == 20
    assert json.loads(capsys.readouterr().out.split("\nAnalysis")[0])["randomized"] == 20
