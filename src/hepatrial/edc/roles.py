"""The roles of a trial and what each may see. One table, read by services, views and docs."""

from __future__ import annotations

from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    INVESTIGATOR = "investigator"
    COORDINATOR = "coordinator"
    CELL_THERAPY = "cell_therapy"
    OUTCOME_ASSESSOR = "outcome_assessor"
    MONITOR = "monitor"
    STATISTICIAN = "statistician"
    DSMB = "dsmb"

    @property
    def label(self) -> Promise:
        """The role's name in the active language (``str()`` it, or use it in a template)."""
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, Promise] = {
    Role.ADMINISTRATOR: _("Administrator"),
    Role.INVESTIGATOR: _("Investigator"),
    Role.COORDINATOR: _("Research coordinator"),
    Role.CELL_THERAPY: _("Cell-therapy team (unblinded)"),
    Role.OUTCOME_ASSESSOR: _("Outcome assessor (blinded)"),
    Role.MONITOR: _("Monitor"),
    Role.STATISTICIAN: _("Statistician (blinded)"),
    Role.DSMB: _("Data-safety board (unblinded, aggregate only)"),
}

UNBLINDED_ROLES = frozenset({Role.CELL_THERAPY, Role.DSMB})
"""Roles that may see a participant's arm. Every other role is blinded by default."""


def is_blinded(role: Role | str) -> bool:
    return Role(role) not in UNBLINDED_ROLES
