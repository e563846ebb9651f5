"""``hepatrial report approve DIR --as USER``: the terminal side of the report approval."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path


def approve_from_cli(folder: Path, username: str, *, password_stdin: bool) -> int:
    from hepatrial.edc.errors import NotAllowed
    from hepatrial.edc.models import User
    from hepatrial.edc.permissions import actor_for
    from hepatrial.edc.services.report_approval import approve_report, refuse_wrong_password
    from hepatrial.reports.stamp import APPROVAL, STAMP, approval_binding, verify

    if not (folder / STAMP).exists() or not (folder / "report.pdf").exists():
        print(f"{folder}: no report.pdf and stamp.json here", file=sys.stderr)
        return 2
    changed = [c for c in verify(folder) if not c.ok and c.what != "approval"]
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
    (folder / APPROVAL).write_text(json.dumps(approval, indent=2) + "\n", encoding="utf-8")
    print(
        f"report approved by {approval['username']} at {approval['signed_at']} "
        f"(report.pdf SHA-256 {approval['report_pdf_sha256'][:16]}…); written to "
        f"{folder / APPROVAL}"
    )
    return 0
