"""Fixtures of the analysis tests: R reference values, synthetic datasets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hepatrial.analysis.synthetic import synthetic_adam

STRICT = os.environ.get("HEPATRIAL_STRICT", "") == "1"
R_SCRIPT = Path(__file__).with_name("r_reference.R")


@pytest.fixture(scope="session")
def r_reference(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run ``r_reference.R`` once: exports survival::pbc/pbcseq and R's results as JSON.

    Without Rscript (or its packages survival, cmprsk, nlme, jsonlite) the tests that need it
    skip, except in strict mode (HEPATRIAL_STRICT=1, as in CI), where they fail.
    """
    rscript = shutil.which("Rscript")
    if rscript is None:
        reason = (
            "Rscript not installed (Debian: r-base-core r-cran-survival r-cran-cmprsk "
            "r-cran-nlme r-cran-jsonlite)"
        )
        if STRICT:
            pytest.fail(f"strict mode: {reason}", pytrace=False)
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("r_reference")
    proc = subprocess.run(
        [rscript, "--vanilla", str(R_SCRIPT), str(out)], capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        reason = f"R reference script failed: {proc.stderr.strip()[-500:]}"
        if STRICT or "there is no package" not in proc.stderr:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    data = json.loads((out / "reference.json").read_text())
    data["_dir"] = str(out)
    return data


@pytest.fixture(scope="session")
def trial92():
    """Synthetic NCT06242405-shaped datasets, 92 participants."""
    return synthetic_adam(92, seed=7)
