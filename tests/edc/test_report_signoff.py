"""From the database to a signed report: the export's protocol and lock state reach the cover,
the statistician approves the report's hash, and verify fails once a dataset row changes."""

from __future__ import annotations

import io
import json

import pytest

from hepatrial.cli import main
from hepatrial.edc.models import AuditEvent, User
from hepatrial.edc.roles import Role
from hepatrial.edc.services.lock import lock_database
from hepatrial.edc.services.report_approval import STATEMENT
from hepatrial.protocol import load_protocol
from hepatrial.reports.approval import audit_row_hash, write_approved_copy
from hepatrial.reports.zh_hans import ZH
from tests.edc.test_export import followed  # noqa: F401  (the fixture: six followed participants)

PASSWORD = "statistician-signs-2026"


@pytest.fixture
def statistician(trial):
    user = User.objects.get(username="statistician")
    user.first_name, user.last_name = "Li", "Wei"
    user.set_password(PASSWORD)
    user.save()
    return user


def _approve(folder, username, password, monkeypatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["report", "approve", str(folder), "--as", username, "--password-stdin"])


def test_exported_report_names_its_data_is_approved_and_stops_matching_after_a_change(
    trial,
    followed,  # noqa: F811  (the imported fixture)
    statistician,
    tmp_path,
    monkeypatch,
    capsys,
):
    lock_database(trial[Role.ADMINISTRATOR], "final analysis")
    adam, out = tmp_path / "adam", tmp_path / "report"
    assert main(["export", "adam", "--out", str(adam), "--as", "statistician"]) == 0
    state = json.loads((adam / "provenance.json").read_text())
    assert state["database_lock"]["locked_by"] == "admin"
    assert state["database_lock"]["reason"] == "final analysis"
    exported = load_protocol(adam / state["protocol"]["file"])
    assert exported.content_hash == state["protocol"]["content_hash"]
    assert main(["analyze", "--adam", str(adam), "--out", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert "NCT06242405" in html and "Effect of Different Frequencies" in html
    assert state["protocol"]["content_hash"] in html
    assert "locked by admin" in html and "final analysis" in html
    assert "Investigator signatures" in html and (adam / "signatures.csv").exists()
    assert "<clinical_results" in (out / "registry-results.xml").read_text()
    assert "registry-results.xml" in json.loads((out / "stamp.json").read_text())["report"]
    assert main(["report", "verify", str(out)]) == 0

    assert _approve(out, "statistician", "wrong", monkeypatch) == 1
    assert not (out / "approval.json").exists()
    assert _approve(out, "coordinator", "x", monkeypatch) == 1
    assert _approve(out, "statistician", PASSWORD, monkeypatch) == 0
    approval = json.loads((out / "approval.json").read_text())
    assert approval["username"] == "statistician" and approval["full_name"] == "Li Wei"
    actions = list(AuditEvent.objects.filter(object_type="report").values_list("action", flat=True))
    assert actions == ["report_approval_failed", "report_approved"]
    row = AuditEvent.objects.get(action="report_approved")
    assert approval["audit"]["hash"] == row.hash == audit_row_hash(approval)
    cover = (out / "report-approved.html").read_text()
    cover = cover[: cover.index("<nav class='toc'>")]
    assert "Li Wei (statistician), trial statistician" in cover and STATEMENT in cover
    assert approval["report_pdf_sha256"] in cover and approval["signed_at"][:10] in cover
    assert STATEMENT in ZH  # the approved copy of a Chinese report says it in Chinese
    capsys.readouterr()
    assert main(["report", "verify", str(out), "--audit"]) == 0
    printed = capsys.readouterr().out
    assert "approved by Li Wei (statistician)" in printed and "chain of" in printed

    forged = {**approval, "full_name": "Someone Else"}
    forged["approved_copy"] = write_approved_copy(out, forged)
    (out / "approval.json").write_text(json.dumps(forged))
    assert main(["report", "verify", str(out)]) == 0  # the files agree with one another ...
    assert main(["report", "verify", str(out), "--audit"]) == 1  # ... the trail does not
    assert "printed name 'Someone Else'" in capsys.readouterr().out
    approval["approved_copy"] = write_approved_copy(out, approval)
    (out / "approval.json").write_text(json.dumps(approval))

    adsl = adam / "adsl.csv"
    lines = adsl.read_text().splitlines()
    lines[1] = lines[1].replace(",Y,", ",N,", 1)
    adsl.write_text("\n".join(lines) + "\n")
    assert main(["report", "verify", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "CHANGED  dataset adsl.csv" in printed
    assert _approve(out, "statistician", PASSWORD, monkeypatch) == 1
