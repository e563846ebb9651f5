"""The large exports on PostgreSQL at 10,000 participants: time and peak memory of each.

Three participants are entered through the services (screening, eligibility, consent,
randomization, five follow-up visits of labs and clinical items); the trial is then grown in
SQL by copying their rows (:func:`_trial.grow`) to 10,000 participants. Each export then runs
as the statistician through the real command line (``hepatrial export …``), one process each,
so its peak memory is the process's own high-water resident set (``VmHWM``, read as it exits:
``getrusage`` would count the benchmark's memory copied into the child before ``exec``), beside
that of a process that only starts Django (the baseline). Aims (issue 16): ODM with the audit trail
≤ 30 s and ≤ 300 MB; SDTM and ADaM ≤ 60 s each.

Run: ``PYTHONPATH=src python bench/bench_exports.py [--quick] [--participants N]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

import _trial  # noqa: E402

DATABASE = "hepatrial_bench_exports"
EXPORTS = (
    ("ODM 1.3.2 snapshot", ["odm", "--out", "{out}/trial.xml"], None),
    ("ODM 1.3.2 with audit trail", ["odm", "--audit", "--out", "{out}/trial.xml"], (30, 300)),
    ("SDTM (XPT and Dataset-JSON)", ["sdtm", "--out", "{out}/sdtm"], (60, None)),
    ("ADaM (CSV)", ["adam", "--out", "{out}/adam"], (60, None)),
)


PEAK = """
import atexit, os, runpy, sys
def peak():
    with open("/proc/self/status") as status, open(os.environ["BENCH_PEAK"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM")))
atexit.register(peak)
sys.argv = sys.argv[1:]
if len(sys.argv) > 1:
    runpy.run_module("hepatrial.cli", run_name="__main__")
else:
    import django
    os.environ["DJANGO_SETTINGS_MODULE"] = "hepatrial.settings"
    django.setup()
"""


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of ``hepatrial ARGV`` (nothing: Django's start)."""
    with tempfile.NamedTemporaryFile("r") as peak:
        start = time.perf_counter()
        argv = [sys.executable, "-c", PEAK, "hepatrial", *argv]
        done = subprocess.run(argv, env={**env, "BENCH_PEAK": peak.name}, capture_output=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"hepatrial {' '.join(argv)} failed:\n{done.stderr.decode()}")
        return seconds, int(peak.read()) / 1024


def size_of(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1,000 participants")
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true",
                        help=f"keep {DATABASE}; reuse it when it is as large")  # fmt: skip
    options, _ = parser.parse_known_args()
    total = 1_000 if options.quick else options.participants
    started = time.perf_counter()
    url = _trial.existing_database(DATABASE, total) if options.keep else None
    if url:
        _trial.setup_django(url)
        from hepatrial.edc.models import Participant

        grown = Participant.objects.count()
    else:
        url = _trial.fresh_database(DATABASE)
        _trial.setup_django(url)
        coordinator = _trial.load_trial()
        grown = _trial.grow(_trial.randomized_participants(coordinator), total)
    from hepatrial.edc.models import AuditEvent, ItemValue

    seconds = time.perf_counter() - started
    values, audit_rows = ItemValue.objects.count(), AuditEvent.objects.count()
    print(f"hepatrial exports at {grown} participants (PostgreSQL, blinded, as the statistician)")
    print(f"  {values} item values, {audit_rows} audit rows; built in {seconds:.1f} s")
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": "src"}
    _, baseline = run([], env)
    print(f"  baseline: a process that starts Django peaks at {baseline:.0f} MiB\n")
    print(f"  {'export':<30} {'seconds':>8} {'peak MiB':>9} {'output MiB':>11}  aim")
    for name, argv, aim in EXPORTS:
        with tempfile.TemporaryDirectory() as out:
            args = [a.format(out=out) for a in argv]
            seconds, peak = run(["export", *args, "--as", "statistician"], env)
            written = size_of(Path(args[args.index("--out") + 1]))
        aim_text = ""
        if aim:
            limit_s, limit_mb = aim
            met = seconds <= limit_s and (limit_mb is None or peak * 1.048576 <= limit_mb)
            shown = f"≤ {limit_s} s" + (f", ≤ {limit_mb} MB" if limit_mb else "")
            aim_text = f"{shown}: {'met' if met else 'NOT met'}"
        print(f"  {name:<30} {seconds:8.1f} {peak:9.0f} {written:11.1f}  {aim_text}")
    if not options.keep:
        _trial.drop_database(DATABASE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
