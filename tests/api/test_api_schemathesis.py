"""schemathesis runs the OpenAPI document against a live server, as a blinded user (the
coordinator) and an unblinded one (the cell-therapy team): no server error, and every answer
has a documented status, content type and shape. Bounded: few examples per operation, a fixed
seed and 30 s of generation a user, in the SQLite pass only (the document does not depend
on the database; the PostgreSQL pass runs the permission table and the blinding walk)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hepatrial.edc.demo_trial import DemoLoader, active_allocation_list
from hepatrial.edc.protocols import active_protocol
from hepatrial.simulate import simulate_trial
from tests.api.conftest import token_for
from tests.conftest import unavailable

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,"
CHECKS += "response_schema_conformance"


def _schemathesis() -> str:
    found = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    if not Path(found).exists():
        unavailable("schemathesis is not installed (a dev dependency: make install)")
    return found


@pytest.mark.sqlite_only  # once per `make test`: the document and the code are the same in both
@pytest.mark.parametrize("username", ["coordinator", "celltherapy"])
def test_the_document_holds_for_every_operation(trial, live_server, username, tmp_path):
    protocol = active_protocol()[1].protocol
    records = simulate_trial(protocol, 3, 5, allocation=active_allocation_list(protocol))
    DemoLoader(records, progress=lambda m: None).run()
    token = token_for(username)
    result = subprocess.run(
        [_schemathesis(), "run", f"{live_server.url}/api/v1/openapi.json",
         "-H", f"Authorization: Bearer {token}", "--checks", CHECKS,
         "--max-examples", "5", "--seed", "1", "--workers", "1", "--max-time", "30",
         "--phases", "examples,coverage,fuzzing", "--generation-database", "none",
         "--request-timeout", "20", "--no-color"],
        capture_output=True, text=True, timeout=240, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
