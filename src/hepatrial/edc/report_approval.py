"""``hepatrial report approve DIR --as USER``: the terminal side of the report approval.

After the service records the approval, ``approval.json`` gets the audit row's time, previous
hash and hash (so ``report verify`` can recompute the row from the file), and the approved copy
with the approval on its cover is rendered (:mod:`hepatrial.reports.approval`).
``report verify DIR --audit`` looks that row up in the hash-chained trail.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sys
from pathlib import Path


def approve_from_cli(folder: Path, username: str, *, password_stdin: bool) -> int:
    from hepatrial.edc.errors import NotAllowed
    from hepatrial.edc.models import AuditEvent, User
    from hepatrial.edc.permissions import actor_for
    from hepatrial.edc.services.report_approval import approve_report, refuse_wrong_password
    from hepatrial.reports.approval import signing_time, write_approved_copy
    from hepatrial.reports.stamp import APPROVAL, APPROVAL_CHECKS, STAMP, approval_binding, verify

    if not (folder / STAMP).exists() or not (folder / "report.pdf").exists():
        print(f"{folder}: no report.pdf and stamp.json here", file=sys.stderr)
        return 2
    changed = [c for c in verify(folder) if not c.ok and c.what not in APPROVAL_CHECKS]
    if changed:
        for check in changed:
            print(f"CHANGED  {check.what}: {check.detail}", file=sys.stderr)
        print("the report no longer matches its data: render it again first", file=sys.stderr)
        return 1
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        print(f"no active user {username!r}", file=sys.stderr)
        return 2
    actor = actor_for(user)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {username} (to approve the report): ")
    binding = approval_binding(folder)
    version = json.loads((folder / STAMP).read_text(encoding="utf-8")).get("report_version", "")
    try:
        approval = approve_report(
            actor, password, report_sha256=binding["report_pdf_sha256"],
            stamp_sha256=binding["stamp_sha256"], report_version=version,
        )  # fmt: skip
    except NotAllowed as exc:
        if exc.problem.code == "report.approve_wrong_password":
            refuse_wrong_password(actor, binding["report_pdf_sha256"])
        print(exc, file=sys.stderr)
        return 1
    row = (
        AuditEvent.objects.filter(
            action="report_approved", object_id=binding["report_pdf_sha256"], username=username
        )
        .order_by("-id")
        .first()
    )
    at = row.at.astimezone(dt.UTC).isoformat(timespec="microseconds")  # as the row's hash has it
    approval["audit"] = {"at": at, "previous_hash": row.previous_hash,
                         "hash": row.hash}  # fmt: skip
    approval["signed_at"] = signing_time(at)  # the time the trail records, to the second
    _write(folder / APPROVAL, approval)
    approval["approved_copy"] = write_approved_copy(folder, approval)
    _write(folder / APPROVAL, approval)
    print(
        f"report approved by {approval['username']} at {approval['signed_at']} "
        f"(report.pdf SHA-256 {approval['report_pdf_sha256'][:16]}…); written to "
        f"{folder / APPROVAL}; the approved copy with the approval on its cover: "
        f"{folder / 'report-approved.pdf'}"
    )
    return 0


def _write(path: Path, approval: dict) -> None:
    path.write_text(json.dumps(approval, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def audit_checks(folder: Path) -> list:
    """The approval's audit row in the database: present, the same content, the chain intact."""
    from hepatrial.edc.audit import compute_hash, verify_chain
    from hepatrial.edc.models import AuditEvent
    from hepatrial.reports.stamp import APPROVAL, Check

    path = folder / APPROVAL
    if not path.exists():
        return [Check("audit trail", False, f"{path} is missing: the report is not approved")]
    wanted = (json.loads(path.read_text(encoding="utf-8")).get("audit") or {}).get("hash")
    row = AuditEvent.objects.filter(hash=wanted).first() if wanted else None
    if row is None:
        return [Check("audit trail", False, "no audit row has the approval's hash")]
    if row.action != "report_approved" or compute_hash(row) != row.hash:
        return [Check("audit trail", False, f"audit row {row.id} is not this approval")]
    from hepatrial.edc.models import User

    approval = json.loads(path.read_text(encoding="utf-8"))
    user = User.objects.filter(username=row.username).first()
    printed = user.get_full_name() if user else ""
    if printed and approval.get("full_name") != printed:
        return [Check("audit trail", False, f"the printed name {approval.get('full_name')!r} is "
                      f"not {row.username}'s ({printed!r})")]  # fmt: skip
    chain = verify_chain()
    if not chain.intact:
        return [Check("audit trail", False, f"the audit trail is broken: {chain.problem}")]
    return [
        Check(
            "audit trail",
            True,
            f"audit row {row.id} by {row.username} at "
            f"{row.at.isoformat(timespec='seconds')}; chain of {chain.checked} rows intact",
        )
    ]
