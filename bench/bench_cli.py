"""Start-up time of `hepatrial --help` beside `python -c "import django; django.setup()"`.

Each command runs in a fresh interpreter, ``RUNS`` times; the median is printed with the ratio
(aim: at most 1.5× Django's own set-up with the project's settings).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 7
COMMANDS = {
    "hepatrial --help": [sys.executable, "-m", "hepatrial.cli", "--help"],
    "hepatrial protocol check": [sys.executable, "-m", "hepatrial.cli", "protocol", "check",
                                 "protocols/nct06242405.yaml"],
    "django.setup()": [sys.executable, "-c", "import django; django.setup()"],
}  # fmt: skip


def median_seconds(command: list[str], env: dict) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="hepatrial.settings")
    env.setdefault("HEPATRIAL_VAR_DIR", tempfile.mkdtemp(prefix="hepatrial-bench-"))
    env.pop("DATABASE_URL", None)
    figures = {name: median_seconds(command, env) for name, command in COMMANDS.items()}
    base = figures["django.setup()"]
    for name, seconds in figures.items():
        print(f"{name:28s} {seconds * 1000:7.0f} ms  ({seconds / base:.2f}× django.setup)")


if __name__ == "__main__":
    main()
