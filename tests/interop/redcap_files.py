"""Where the shared REDCap projects are: ../shared/redcap/ beside the repository root."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import unavailable

REDCAP = Path(__file__).resolve().parents[2].parent / "shared" / "redcap"


def redcap_file(name: str) -> Path:
    path = REDCAP / name
    if not path.exists():
        unavailable(f"{path} is not here (the shared REDCap projects sit beside the repository)")
    return path
