"""Checking a written report against its data: ``stamp.json`` and ``approval.json``.

``stamp.json`` (written with the report, :meth:`hepatrial.reports.render.Report.write`) holds
the SHA-256 of every dataset read, of the analysis plan file, the protocol's content hash and
the SHA-256 of ``report.html`` and ``report.pdf``. ``approval.json`` (the statistician's
sign-off) holds the SHA-256 of ``report.pdf`` and of ``stamp.json`` it approved, and the
approved copy's (:mod:`hepatrial.reports.approval`). Verifying recomputes each one from the
files as they are now; nothing here needs the database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

STAMP = "stamp.json"
APPROVAL = "approval.json"
APPROVAL_CHECKS = ("approval", "approval record", "approved copy")
"""The checks of ``approval.json`` (the others are of the report and its data)."""


@dataclass(frozen=True)
class Check:
    what: str
    ok: bool
    detail: str


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _file(what: str, path: Path, expected: str) -> Check:
    if not path.exists():
        return Check(what, False, f"{path} is missing")
    actual = sha256(path)
    if actual != expected:
        return Check(what, False, f"{path} has SHA-256 {actual[:16]}…, the report {expected[:16]}…")
    return Check(what, True, f"{path} SHA-256 {actual[:16]}…")


def approval_binding(folder: Path) -> dict[str, str]:
    """What an approval is bound to: the PDF and the stamp, by SHA-256."""
    return {"report_pdf_sha256": sha256(folder / "report.pdf"),
            "stamp_sha256": sha256(folder / STAMP)}  # fmt: skip


def verify(folder: Path) -> list[Check]:
    """Every hash of the report's stamp (and approval, if any), recomputed; one check each."""
    from hepatrial.protocol import load_protocol

    stamp_file = folder / STAMP
    if not stamp_file.exists():
        return [Check("stamp", False, f"{stamp_file} is missing: not a report folder")]
    stamp = json.loads(stamp_file.read_text(encoding="utf-8"))
    checks = [_file(f"dataset {Path(p).name}", Path(p), h) for p, h in stamp["datasets"].items()]
    plan = stamp.get("plan") or {}
    if plan.get("file"):
        checks.append(_file("analysis plan", Path(plan["file"]), plan["file_sha256"]))
    protocol = stamp.get("protocol")
    if protocol and protocol.get("file"):
        path = Path(protocol["file"])
        try:
            actual = load_protocol(path).content_hash
        except (OSError, ValueError) as exc:
            checks.append(Check("protocol", False, f"{path}: {exc}"))
        else:
            expected = protocol["content_hash"]
            ok = actual == expected
            detail = f"{path} content hash {actual[:16]}…"
            checks.append(
                Check("protocol", ok, detail if ok else f"{detail}, the report {expected[:16]}…")
            )
    for name, expected in stamp["report"].items():
        checks.append(_file(f"report {name}", folder / name, expected))
    approval_file = folder / APPROVAL
    if approval_file.exists():
        from hepatrial.reports.approval import approval_checks

        approval = json.loads(approval_file.read_text(encoding="utf-8"))
        checks += [Check(*check) for check in approval_checks(folder, approval)]
    return checks
