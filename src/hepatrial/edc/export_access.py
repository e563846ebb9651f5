"""Who may take data out, and which sites' data: the one rule every export applies.

Apart from :mod:`hepatrial.edc.export` so that the exports that need no data frames (ODM,
REDCap) and the pages that only ask whether a download is allowed do not import pandas.
"""

from __future__ import annotations

from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.roles import Role
from hepatrial.edc.services.lock import current_lock
from hepatrial.problems import MESSAGES, Problem, gettext_noop

MESSAGES.update({
    "export.not_allowed": gettext_noop("your role does not include exporting analysis datasets"),
    "export.unblinded_not_allowed": gettext_noop(
        "your role does not include exporting unblinded analysis datasets"
    ),
    "export.report_not_allowed": gettext_noop(
        "your role does not include exporting an unblinded report"
    ),
    "export.needs_lock": gettext_noop(
        "unblinded output needs a locked database (an administrator runs `hepatrial lock`), "
        "except the data-safety board's aggregate report"
    ),
})  # fmt: skip
REFUSED = {Action.EXPORT_BLINDED: "export.not_allowed",
           Action.EXPORT_UNBLINDED: "export.unblinded_not_allowed",
           Action.REPORT_UNBLINDED: "export.report_not_allowed"}  # fmt: skip
"""The refusal of :func:`export_sites` for a role without the action."""


def export_sites(actor: Actor, *, blinded: bool, report_only: bool = False) -> list[str]:
    """Sites whose data the actor may take out this way; refuses with the reason otherwise.

    Unblinded datasets need a locked database; an unblinded report (aggregate only) is also
    open to the data-safety board before the lock.
    """
    if blinded:
        action = Action.EXPORT_BLINDED
    else:
        action = Action.REPORT_UNBLINDED if report_only else Action.EXPORT_UNBLINDED
    sites = actor.sites_for(action)
    if not sites:
        raise NotAllowed(Problem(REFUSED[action]))
    board = all(actor.roles[s] == Role.DSMB for s in sites)
    if not blinded and not (report_only and board) and current_lock() is None:
        raise NotAllowed(Problem("export.needs_lock"))
    return sites
