"""What an item *is*, so code finds items by meaning and never by a trial's OID.

A protocol marks an item with ``role: death_date`` (or, for laboratory values, with its CDISC
LBTESTCD code, ``codes: [{system: CDISC, code: BILI}]``); the export, the analysis datasets, the
simulator and the queries look items up through :func:`item_with_role` and
:func:`item_with_code`. A choice item whose role has a fixed vocabulary (the type of a
decompensation, the status at the end of study, the relationship of an adverse event) maps each
of its codes to one of that vocabulary's meanings: by default the code itself, or the choice's
``meaning:`` when the trial codes it differently.

Each role may be given to one item per protocol; :mod:`hepatrial.protocol.checks` says where
a role is repeated, unknown, on an item of the wrong type, or where a choice means nothing the
role knows.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hepatrial.protocol.model import Form, Item, Protocol


class Role(StrEnum):
    """The items the analysis datasets and the simulator need, by their meaning."""

    AGE = "age"
    SEX = "sex"
    ETIOLOGY = "etiology"
    BODY_WEIGHT = "body_weight"
    BODY_HEIGHT = "body_height"
    DEATH_DATE = "death_date"
    DEATH_CAUSE = "death_cause"
    TRANSPLANT_DATE = "transplant_date"
    END_OF_STUDY_DATE = "end_of_study_date"
    END_OF_STUDY_STATUS = "end_of_study_status"
    END_OF_STUDY_REASON = "end_of_study_reason"
    DECOMPENSATION_TYPE = "decompensation_type"
    DECOMPENSATION_ONSET = "decompensation_onset"
    DECOMPENSATION_SEVERITY = "decompensation_severity"
    DECOMPENSATION_HOSPITALIZED = "decompensation_hospitalized"
    AE_TERM = "ae_term"
    AE_START = "ae_start"
    AE_END = "ae_end"
    AE_GRADE = "ae_grade"
    AE_SERIOUS = "ae_serious"
    AE_RELATIONSHIP = "ae_relationship"
    INFUSION_START = "infusion_start"
    INFUSION_REACTION = "infusion_reaction"
    INFUSION_REACTION_TEXT = "infusion_reaction_text"


DATE_ROLES = frozenset({
    Role.DEATH_DATE, Role.TRANSPLANT_DATE, Role.END_OF_STUDY_DATE, Role.DECOMPENSATION_ONSET,
    Role.AE_START, Role.AE_END,
})  # fmt: skip
"""Roles whose item must be a date (or a datetime: :data:`DATETIME_ROLES`)."""

DATETIME_ROLES = frozenset({Role.INFUSION_START})
BOOLEAN_ROLES = frozenset(
    {Role.AE_SERIOUS, Role.INFUSION_REACTION, Role.DECOMPENSATION_HOSPITALIZED}
)
NUMERIC_ROLES = frozenset({Role.AGE, Role.BODY_WEIGHT, Role.BODY_HEIGHT})

MEANINGS: dict[Role, frozenset[str]] = {
    Role.DECOMPENSATION_TYPE: frozenset({"gi_bleeding", "ascites", "hepatic_encephalopathy"}),
    Role.END_OF_STUDY_STATUS: frozenset({"completed", "withdrawn", "lost", "died", "transplanted"}),
    Role.AE_RELATIONSHIP: frozenset({"unrelated", "unlikely", "possible", "probable", "definite"}),
    Role.AE_GRADE: frozenset({"1", "2", "3", "4", "5"}),
    Role.SEX: frozenset({"M", "F", "U"}),
}
"""The vocabulary of each coded role: what every choice of its item must mean."""

DECOMPENSATION_PARAMS = {
    "gi_bleeding": "GIBLEED",
    "ascites": "ASCITES",
    "hepatic_encephalopathy": "HE",
}
"""ADTTE parameter of the first event of each kind of decompensation (docs/datasets.md)."""


def item_with_role(protocol: Protocol, role: Role | str) -> Item | None:
    """The item the protocol gives ``role``, or None when the trial does not collect it."""
    return next((i for f in protocol.forms for i in f.items if i.role == role), None)


def item_with_code(protocol: Protocol, system: str, code: str) -> Item | None:
    """The item carrying ``code`` of ``system`` (``"CDISC"``, ``"BILI"``), or None."""
    for form in protocol.forms:
        for item in form.items:
            if any(c.system == system and c.code == code for c in item.codes):
                return item
    return None


def form_of(protocol: Protocol, item_oid: str) -> Form:
    """The form an item belongs to."""
    return next(f for f in protocol.forms if any(i.oid == item_oid for i in f.items))


def meaning(item: Item, code: str) -> str:
    """What the choice ``code`` of ``item`` means in its role's vocabulary."""
    for choice in item.choices:
        if choice.code == code:
            return choice.meaning or choice.code
    return code


def code_for(item: Item, wanted: str) -> str | None:
    """The choice code of ``item`` that means ``wanted``; None when no choice does."""
    return next((c.code for c in item.choices if (c.meaning or c.code) == wanted), None)
