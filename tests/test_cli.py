"""The `hepatrial` console script, run as users run it: a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hepatrial.protocol import default_protocol_path

SHIPPED = default_protocol_path()


def hepatrial(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hepatrial.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_protocol_check_accepts_the_shipped_protocol():
    result = hepatrial("protocol", "check", str(SHIPPED))
    assert result.returncode == 0, result.stderr
    assert "OK (NCT06242405, hash " in result.stdout


def test_protocol_check_rejects_a_broken_file_with_located_messages(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text(
        SHIPPED.read_text(encoding="utf-8").replace("[µmol/L, mg/dL]", "[µmol/L, mg/dl]", 1)
    )
    result = hepatrial("protocol", "check", str(bad))
    assert result.returncode == 1
    assert "forms[1].items[3].units[1]: 'mg/dl' is not one of µmol/L, mg/dL" in result.stderr
    assert f"{bad}:" in result.stderr and "1 problem" in result.stderr


def test_protocol_show_prints_the_schedule_table():
    result = hepatrial("protocol", "show", str(SHIPPED))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    w24 = next(line for line in lines if line.startswith("W24 "))
    assert w24.split()[:2] == ["W24", "Week"]
    assert "168" in w24 and "±7" in w24 and "161 to 175" in w24
    assert any(line.startswith("DOUBLE  INF2") and "28" in line for line in lines)
    assert "Endpoints:" in result.stdout and "CPA_W24" in result.stdout


def test_no_command_prints_help():
    result = hepatrial()
    assert result.returncode == 2
    assert "protocol" in result.stdout
