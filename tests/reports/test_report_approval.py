"""The approval on the cover: an approved copy that names the hashes signed, checked by verify.

The signature (the database's audit row, made by ``hepatrial report approve``) binds
``report.pdf`` and ``stamp.json``; these tests build ``approval.json`` as the approval command
writes it, without a database (tests/edc/test_report_signoff.py runs the command itself).
"""

from __future__ import annotations

import json
import subprocess

import pytest

from hepatrial.analysis.datasets import read_adam, write_adam
from hepatrial.analysis.synthetic import synthetic_adam
from hepatrial.protocol import default_protocol_path, load_protocol
from hepatrial.reports import build_report
from hepatrial.reports.approval import (
    APPROVED_HTML,
    APPROVED_PDF,
    approved_html,
    audit_row_hash,
    write_approved_copy,
)
from hepatrial.reports.stamp import APPROVAL, approval_binding, verify

STATEMENT = (
    "I have reviewed this statistical report and approve it as the analysis of record of "
    "the data and analysis plan named in its stamp."
)


def _approve(folder) -> dict:
    approval = {
        "username": "statistician", "full_name": "Li Wei", "role": "statistician",
        "meaning": "approved", "statement": STATEMENT, "signed_at": "2026-12-01T09:30:00+00:00",
        **approval_binding(folder), "report_version": "1",
        "audit": {"at": "2026-12-01T09:30:00.123456+00:00", "previous_hash": "ab" * 32},
    }  # fmt: skip
    approval["audit"]["hash"] = audit_row_hash(approval)
    (folder / APPROVAL).write_text(json.dumps(approval), encoding="utf-8")
    approval["approved_copy"] = write_approved_copy(folder, approval)
    (folder / APPROVAL).write_text(json.dumps(approval), encoding="utf-8")
    return approval


@pytest.fixture(scope="module")
def approved(tmp_path_factory):
    root = tmp_path_factory.mktemp("approved")
    write_adam(synthetic_adam(40), root / "adam")
    protocol = load_protocol(default_protocol_path())
    report = build_report(read_adam(root / "adam"), seed=5, protocol=protocol,
                          data_files=sorted((root / "adam").glob("*.csv")))  # fmt: skip
    report.write(root / "report")
    return root, _approve(root / "report")


def _failed(folder) -> dict[str, str]:
    return {c.what: c.detail for c in verify(folder) if not c.ok}


def test_the_approved_cover_shows_who_when_the_meaning_and_the_hashes_signed(approved):
    root, approval = approved
    folder = root / "report"
    text = subprocess.run(["pdftotext", str(folder / APPROVED_PDF), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    cover = text[: text.index("Contents")]
    for words in ("Approval (electronic signature)", "Li Wei (statistician), trial statistician",
                  "2026-12-01 09:30:00+00:00", "approved: I have reviewed this statistical report",
                  "not this copy's own bytes"):  # fmt: skip
        assert words in " ".join(cover.split()), words
    flat = "".join(cover.split())
    assert approval["report_pdf_sha256"] in flat and approval["stamp_sha256"] in flat
    assert "Approval (electronic signature)" not in (folder / "report.html").read_text()


def test_verify_passes_on_the_approved_report(approved):
    root, _ = approved
    checks = {c.what: c for c in verify(root / "report")}
    assert all(c.ok for c in checks.values()), [c for c in checks.values() if not c.ok]
    assert {"approval", "approval record", "approved copy"} <= set(checks)
    checklist = (root / "report" / "consort-checklist.csv").read_text()
    assert checklist.count("\n") == 43 and "report consort-checklist.csv" in checks


def test_verify_fails_after_a_dataset_row_changes(approved, tmp_path):
    root, _ = approved
    adsl = root / "adam" / "adsl.csv"
    before = adsl.read_text()
    lines = before.splitlines()
    lines[1] = lines[1].replace(",Y,", ",N,", 1)
    adsl.write_text("\n".join(lines) + "\n")
    try:
        assert "dataset adsl.csv" in _failed(root / "report")
    finally:
        adsl.write_text(before)
    assert _failed(root / "report") == {}


@pytest.mark.parametrize(
    ("field", "value", "check"),
    [
        ("full_name", "Someone Else", "approved copy"),
        ("username", "admin", "approval record"),
        ("meaning", "reviewed", "approval record"),
        ("signed_at", "2026-12-24T09:30:00+00:00", "approval record"),
        ("report_pdf_sha256", "0" * 64, "approval"),
        ("stamp_sha256", "0" * 64, "approval"),
    ],
)
def test_verify_fails_after_the_approval_is_tampered(approved, field, value, check):
    root, approval = approved
    folder = root / "report"
    path = folder / APPROVAL
    original = path.read_text()
    path.write_text(json.dumps({**approval, field: value}), encoding="utf-8")
    try:
        failed = _failed(folder)
    finally:
        path.write_text(original)
    assert check in failed
    assert "approved copy" in failed  # its cover no longer shows what approval.json says


def test_verify_fails_when_the_approved_copy_is_edited(approved):
    root, _ = approved
    copy = root / "report" / APPROVED_HTML
    original = copy.read_text()
    copy.write_text(original.replace("Li Wei", "Li Wen"))
    try:
        assert "approved copy" in _failed(root / "report")
    finally:
        copy.write_text(original)


def test_the_approval_block_is_in_chinese_in_a_chinese_report(approved):
    root, approval = approved
    html = approved_html((root / "report" / "report.html").read_text(), approval, "zh-hans")
    for words in ("批准（电子签名）", "Li Wei（statistician），试验统计师", "签名绑定于",
                  "批准：本人已审阅本统计分析报告", "而非本副本自身的字节"):  # fmt: skip
        assert words in html, words
