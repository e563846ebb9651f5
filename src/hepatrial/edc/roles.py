"""The roles of a trial and what each may see. One table, read by services, views and docs."""

from __future__ import annotations

from enum import StrEnum


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
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMINISTRATOR: "Administrator",
    Role.INVESTIGATOR: "Investigator",
    Role.COORDINATOR: "Research coordinator",
    Role.CELL_THERAPY: "Cell-therapy team (unblinded)",
    Role.OUTCOME_ASSESSOR: "Outcome assessor (blinded)",
    Role.MONITOR: "Monitor",
    Role.STATISTICIAN: "Statistician (blinded)",
    Role.DSMB: "Data-safety board (unblinded, aggregate only)",
}

UNBLINDED_ROLES = frozenset({Role.CELL_THERAPY, Role.DSMB})
"""Roles that may see a participant's arm. Every other role is blinded by default."""


def is_blinded(role: Role | str) -> bool:
    return Role(role) not in UNBLINDED_ROLES
