"""Fixtures of the analysis tests: R reference values, synthetic datasets."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from hepatrial.analysis.synthetic import synthetic_adam
from tests.conftest import unavailable

R_SCRIPT = Path(__file__).with_name("r_reference.R")


def run_r(script: Path, out: Path, packages: str) -> dict:
    """Run an R script that writes ``reference.json`` into ``out``; its parsed content.

    Without Rscript or its packages the calling tests skip, except in strict mode
    (HEPATRIAL_STRICT=1, as in CI), where they fail.
    """
    rscript = shutil.which("Rscript")
    if rscript is None:
        unavailable(f"Rscript not installed (Debian: r-base-core {packages})")
    proc = subprocess.run(
        [rscript, "--vanilla", str(script), str(out)], capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        reason = f"{script.name} failed: {proc.stderr.strip()[-500:]}"
        if "there is no package" not in proc.stderr:
            pytest.fail(reason, pytrace=False)
        unavailable(reason)
    data = json.loads((out / "reference.json").read_text())
    data["_dir"] = str(out)
    return data


@pytest.fixture(scope="session")
def r_reference(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``r_reference.R`` once: survival::pbc/pbcseq as CSV and R's results as JSON."""
    return run_r(
        R_SCRIPT,
        tmp_path_factory.mktemp("r_reference"),
        "r-cran-survival r-cran-cmprsk r-cran-nlme r-cran-jsonlite",
    )


@pytest.fixture(scope="session")
def r_mice(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``r_mice.R`` once: multiple imputation of a binary outcome by mice on survival::pbc."""
    return run_r(
        R_SCRIPT.with_name("r_mice.R"),
        tmp_path_factory.mktemp("r_mice"),
        "r-cran-mice r-cran-survival r-cran-jsonlite",
    )


@pytest.fixture(scope="session")
def trial92():
    """Synthetic NCT06242405-shaped datasets, 92 participants."""
    return synthetic_adam(92, seed=7)
