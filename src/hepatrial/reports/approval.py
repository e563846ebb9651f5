"""The statistician's approval on the report's cover, and how it is checked. No Django.

A PDF cannot hold its own hash, so the signature cannot be bound to the very file that shows
it. What the statistician signs (``hepatrial report approve``) is therefore the report as
rendered, ``report.pdf``, together with its ``stamp.json`` (which binds the report's files to
the datasets, plan and protocol by SHA-256): the audit row records the PDF's SHA-256 as its
object and the stamp's in its context, and ``approval.json`` holds both with the signer, time
and meaning. After signing, the approved copy is made: ``report-approved.html`` is
``report.html`` with an approval block added to its cover (who, when, the meaning and the
statement signed, the two hashes signed, the audit row's hash), and ``report-approved.pdf`` is
its rendering. The approved copy names the hashes of the bytes signed; it is not itself what
was signed, and its cover says so.

:func:`approval_checks` (part of ``hepatrial report verify``) checks, from the files alone, that
the approval is bound to the report and stamp as they are now, that ``approval.json`` is
exactly the audit row it names (the row's hash recomputed from its fields), and that the
approved copy is ``report.html`` plus the block made from ``approval.json``, byte for byte, and
the PDF rendered from it. Whether that audit row exists in the trial's hash-chained trail needs
the database (``hepatrial report verify DIR --audit``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from hepatrial.reports import i18n
from hepatrial.reports.i18n import tr
from hepatrial.reports.numbers import ESC, table

APPROVED_HTML = "report-approved.html"
APPROVED_PDF = "report-approved.pdf"
AUDIT_ACTION = "report_approved"
COVER_END = "<nav class='toc'>"
"""The approval block goes just before the table of contents, that is at the end of the cover."""


def _audit_fields(approval: dict[str, Any]) -> dict[str, Any]:
    """The audit row's hashed fields as ``approval.json`` carries them.

    The same content and canonical JSON as :func:`hepatrial.edc.audit.compute_hash`; the
    sign-off test compares this recomputation with the database's row so the two cannot drift.
    """
    audit = approval.get("audit") or {}
    return {
        "username": approval.get("username", ""),
        "action": AUDIT_ACTION,
        "object_type": "report",
        "object_id": approval.get("report_pdf_sha256", ""),
        "participant": "",
        "site": "",
        "item": "",
        "old_value": "",
        "new_value": approval.get("meaning", ""),
        "reason": "",
        "context": {
            "stamp_sha256": approval.get("stamp_sha256", ""),
            "report_version": approval.get("report_version", ""),
        },
        "blinded_content": False,
        "previous_hash": audit.get("previous_hash", ""),
        "at": audit.get("at", ""),
    }


def signing_time(audit_at: str) -> str:
    """The time of signing shown and kept in ``approval.json``: the audit row's, to the second."""
    head, _, zone = audit_at.partition("+")
    return head.split(".")[0] + ("+" + zone if zone else "")


def audit_row_hash(approval: dict[str, Any]) -> str:
    """SHA-256 of the audit row that ``approval.json`` says recorded this approval."""
    canonical = json.dumps(
        _audit_fields(approval), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def approval_block(approval: dict[str, Any]) -> str:
    """The cover's approval block in the current language."""
    name = approval.get("full_name") or approval["username"]
    when = approval["signed_at"].replace("T", " ")
    rows = [
        (tr("Approved by"), tr("{name} ({username}), trial statistician", name=name,
                               username=approval["username"])),
        (tr("Signed at"), when),
        (tr("Meaning of the signature"),
         tr("{meaning}: {statement}", meaning=tr(approval["meaning"]),
            statement=tr(approval["statement"]))),
        (tr("Signature bound to"),
         tr("report.pdf SHA-256 {pdf}; stamp.json SHA-256 {stamp}",
            pdf=approval["report_pdf_sha256"], stamp=approval["stamp_sha256"])),
        (tr("Audit record"), tr("SHA-256 {hash}", hash=(approval.get("audit") or {}).get("hash"))),
    ]  # fmt: skip
    note = tr(
        "This approved copy is report.pdf with this block added after signing: the signature "
        "binds report.pdf and stamp.json by the SHA-256 above, not this copy's own bytes. "
        "hepatrial report verify checks both against the report folder."
    )
    return (
        f"<div class='approval'><h3>{ESC(tr('Approval (electronic signature)'))}</h3>"
        + table([tr("Item"), tr("Value")], [[ESC(k), ESC(v)] for k, v in rows])
        + f"<p class='note'>{ESC(note)}</p></div>"
    )


def approved_html(report_html: str, approval: dict[str, Any], language: str) -> str:
    """``report.html`` with the approval block at the end of its cover."""
    if COVER_END not in report_html:
        raise ValueError("report.html has no table of contents after its cover")
    with i18n.language(language):
        block = approval_block(approval)
    return report_html.replace(COVER_END, block + COVER_END, 1)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_approved_copy(folder: Path, approval: dict[str, Any]) -> dict[str, str]:
    """``report-approved.html`` and ``.pdf`` in ``folder``; returns their SHA-256 by name."""
    from weasyprint import HTML

    from hepatrial.reports.render import _svg_style_notes

    logging.getLogger("weasyprint").addFilter(_svg_style_notes)
    stamp = json.loads((folder / "stamp.json").read_text(encoding="utf-8"))
    html = approved_html(
        (folder / "report.html").read_text(encoding="utf-8"), approval, stamp.get("language", "en")
    )
    (folder / APPROVED_HTML).write_text(html, encoding="utf-8")
    HTML(string=html).write_pdf(folder / APPROVED_PDF)
    return {name: _sha256((folder / name).read_bytes()) for name in (APPROVED_HTML, APPROVED_PDF)}


def approval_checks(folder: Path, approval: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """(what, ok, detail) for the approval's binding, its audit row and the approved copy."""
    out = []
    pdf, stamp = folder / "report.pdf", folder / "stamp.json"
    now = {
        "report_pdf_sha256": _sha256(pdf.read_bytes()) if pdf.exists() else None,
        "stamp_sha256": _sha256(stamp.read_bytes()) if stamp.exists() else None,
    }
    bound = all(now[k] == approval.get(k) for k in now)
    who = (
        f"approved by {approval.get('full_name') or approval.get('username')} "
        f"({approval.get('username')}) at {approval.get('signed_at')}"
    )
    out.append((
        "approval", bound,
        who + ("" if bound else "; the report or its stamp changed after the approval"),
    ))  # fmt: skip
    audit = approval.get("audit") or {}
    recomputed = audit_row_hash(approval)
    same = (
        bool(audit.get("hash"))
        and recomputed == audit["hash"]
        and approval.get("signed_at") == signing_time(audit.get("at", ""))
    )
    out.append((
        "approval record", same,
        f"audit row {str(audit.get('hash'))[:16]}…" if same else
        "approval.json does not match the audit row it names (its signer, time, meaning, "
        "version or hashes were changed)",
    ))  # fmt: skip
    copy = approval.get("approved_copy") or {}
    html_file, pdf_file = folder / APPROVED_HTML, folder / APPROVED_PDF
    if not html_file.exists() or not pdf_file.exists():
        out.append(("approved copy", False, f"{APPROVED_HTML} or {APPROVED_PDF} is missing"))
        return out
    language = json.loads(stamp.read_text(encoding="utf-8")).get("language", "en") if (
        stamp.exists()) else "en"  # fmt: skip
    try:
        expected = approved_html(
            (folder / "report.html").read_text(encoding="utf-8"), approval, language
        )
    except (OSError, KeyError, ValueError) as exc:
        out.append(("approved copy", False, f"cannot rebuild the approved cover: {exc}"))
        return out
    html_ok = html_file.read_text(encoding="utf-8") == expected
    pdf_ok = _sha256(pdf_file.read_bytes()) == copy.get(APPROVED_PDF)
    detail = f"{APPROVED_HTML} is report.html with this approval on its cover; {APPROVED_PDF} " \
        "is its rendering"  # fmt: skip
    if not html_ok:
        detail = f"{APPROVED_HTML} is not report.html with the approval of approval.json"
    elif not pdf_ok:
        detail = f"{APPROVED_PDF} is not the rendering recorded in approval.json"
    out.append(("approved copy", html_ok and pdf_ok, detail))
    return out
