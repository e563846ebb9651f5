"""Where the datasets come from: the protocol and data state that ``export adam`` wrote beside them.

``provenance.json`` names the protocol file written with it (``protocol.yaml``), its content
hash, the data cut-off and the database lock (who locked, when, why). The report reads them by
itself; a ``--protocol`` given on the command line must be the same protocol (same content
hash) unless the caller says it knowingly reports under another one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hepatrial.protocol import load_protocol
from hepatrial.protocol.loader import LoadedProtocol


class ProtocolMismatch(ValueError):
    """The protocol named on the command line is not the one the datasets were exported under."""


@dataclass(frozen=True)
class Provenance:
    protocol: LoadedProtocol | None = None
    protocol_file: Path | None = None
    state: dict[str, Any] = field(default_factory=dict)
    """provenance.json as written by the export; empty for datasets from elsewhere."""

    @property
    def lock(self) -> dict[str, Any]:
        return self.state.get("database_lock", {})


def read_provenance(
    folder: Path, protocol_file: str | None = None, *, allow_other_protocol: bool = False
) -> Provenance:
    """The protocol and data state for the datasets in ``folder``.

    Raises :class:`ProtocolMismatch` when ``protocol_file`` differs from the exported protocol
    (unless ``allow_other_protocol``), :class:`ValueError` when the exported protocol file no
    longer has the hash the export recorded.
    """
    beside = folder / "provenance.json"
    state = json.loads(beside.read_text(encoding="utf-8")) if beside.exists() else {}
    exported = None
    exported_file = None
    if state.get("protocol"):
        exported_file = folder / state["protocol"].get("file", "protocol.yaml")
        exported = load_protocol(exported_file)
        recorded = state["protocol"]["content_hash"]
        if exported.content_hash != recorded:
            raise ValueError(
                f"{exported_file}: content hash {exported.content_hash[:12]}… is not the "
                f"{recorded[:12]}… recorded in {beside}; the file was changed after the export"
            )
    if protocol_file is None:
        return Provenance(exported, exported_file, state)
    named = load_protocol(protocol_file)
    if exported is not None and named.content_hash != exported.content_hash:
        if not allow_other_protocol:
            raise ProtocolMismatch(
                f"--protocol {protocol_file} (content hash {named.content_hash[:12]}…) is not "
                f"the protocol these datasets were exported under ({exported_file}, "
                f"{exported.content_hash[:12]}…); pass --other-protocol to report under it "
                "anyway (the cover then says so)"
            )
        state = {**state, "other_protocol": True}
    return Provenance(named, Path(protocol_file), state)
