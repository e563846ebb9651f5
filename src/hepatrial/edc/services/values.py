"""Reading stored item values back as numbers, dates or codes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from hepatrial.edc.models import ItemValue, Participant


@dataclass(frozen=True, slots=True)
class ValueRow:
    """A stored item value as a reader that changes nothing needs it, without a model instance
    (read with ``values_list(*ValueRow.FIELDS)``)."""

    FIELDS: ClassVar[tuple[str, ...]] = ("id", "item_oid", "status", "text", "unit_entered",
                                         "number", "normalized_text", "warnings")  # fmt: skip
    id: int
    item_oid: str
    status: str
    text: str
    unit_entered: str
    number: float | None
    normalized_text: str
    warnings: list


def stored_value(row: ItemValue | ValueRow) -> object:
    """A stored value as rules and scores read it: number, date, or normalized text."""
    if row.status != "value":
        return None
    if row.number is not None:
        return row.number
    text = row.normalized_text
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            pass
    return text


def latest_value(participant: Participant, item_oid: str) -> ItemValue | None:
    """The participant's most recent stored value of an item, from any visit."""
    return (
        ItemValue.objects.filter(
            form_record__visit__participant=participant, item_oid=item_oid, status="value"
        )
        .order_by("-form_record__visit__visit_date", "-form_record__updated_at")
        .first()
    )
