"""The statistician's approval of a statistical report, bound to the report's SHA-256.

The approval is a record of who approved which bytes, when and with what meaning: the
statistician re-enters their password (a signing act distinct from having signed in), the
audit trail gets the row in the same transaction, and the caller writes ``approval.json``
beside the report. ``hepatrial report verify`` then checks that the PDF and its stamp still
have the approved hashes. Self-contained on purpose (the casebook signatures are another
module); docs/report.md says how it maps to 21 CFR 11.
"""

from __future__ import annotations

from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.models import User
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.roles import Role
from hepatrial.edc.services.boundary import Writes, service
from hepatrial.problems import MESSAGES, Problem, gettext_noop

MESSAGES.update({
    "report.approve_statistician_only": gettext_noop(
        "only the trial statistician may approve a statistical report"
    ),
    "report.approve_wrong_password": gettext_noop(
        "the password is not right: the report was not approved"
    ),
})  # fmt: skip

MEANING = "approved"
STATEMENT = (
    "I have reviewed this statistical report and approve it as the analysis of record of "
    "the data and analysis plan named in its stamp."
)


def refuse_wrong_password(actor: Actor, report_sha256: str) -> None:
    """Audit a failed approval attempt (outside any transaction that would roll it back)."""
    audit.record(
        "report_approval_failed", username=actor.username, object_type="report",
        object_id=report_sha256, reason="wrong password",
    )  # fmt: skip


@service(Action.APPROVE_REPORT, writes=Writes.ADMINISTRATION)
def approve_report(
    actor: Actor, password: str, *, report_sha256: str, stamp_sha256: str, report_version: str
) -> dict:
    """Record the approval; returns what ``approval.json`` holds.

    Allowed while the database is locked (a final report is approved after the lock).
    """
    if not actor.sites_for(Action.APPROVE_REPORT):
        raise NotAllowed(Problem("report.approve_statistician_only"))
    user = User.objects.get(pk=actor.user_id)
    if not user.check_password(password):
        raise NotAllowed(Problem("report.approve_wrong_password"))
    signed_at = timezone.now()
    event = audit.record(
        "report_approved", username=actor.username, object_type="report",
        object_id=report_sha256, new=MEANING,
        context={"stamp_sha256": stamp_sha256, "report_version": report_version},
    )  # fmt: skip
    return {
        "username": actor.username,
        "full_name": user.get_full_name(),
        "role": Role.STATISTICIAN.value,
        "meaning": MEANING,
        "statement": STATEMENT,
        "signed_at": signed_at.isoformat(timespec="seconds"),
        "report_pdf_sha256": report_sha256,
        "stamp_sha256": stamp_sha256,
        "report_version": report_version,
        "audit_event_at": event.at.isoformat(timespec="seconds"),
    }
