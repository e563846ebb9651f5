"""Cross-item rules from the protocol, e.g. a death date not before randomization."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping

from hepatrial.edc.models import ItemValue, Participant
from hepatrial.edc.services.values import ValueRow, latest_value, stored_value
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol.checks import RANDOMIZATION_DATE
from hepatrial.protocol.model import Comparison, Form, Protocol
from hepatrial.protocol.values import CheckedValue

MESSAGES.update({
    "rule.broken": gettext_noop("%(message)s (%(left)s %(comparison)s %(right)s fails)"),
})  # fmt: skip
"""``message`` is the rule's protocol label; ``comparison`` one of ``<``, ``<=``, ``>``, ``>=``."""

OPERATORS = {
    Comparison.BEFORE: operator.lt,
    Comparison.NOT_AFTER: operator.le,
    Comparison.AFTER: operator.gt,
    Comparison.NOT_BEFORE: operator.ge,
}


def check_rules(
    protocol: Protocol,
    participant: Participant,
    form: Form,
    checked: dict[str, CheckedValue],
    existing: Mapping[str, ItemValue | ValueRow],
    latest: Callable[[str], ItemValue | ValueRow | None] | None = None,
) -> dict[str, Problem]:
    """Errors, by item OID, for every rule touching this form that the new values break.

    ``latest``: the participant's most recent value of an item, when the caller holds the
    participant's values (else :func:`latest_value`)."""
    in_form = {item.oid for item in form.items}

    def value_of(oid: str) -> object:
        if oid == RANDOMIZATION_DATE:
            return participant.randomization_date
        if oid in checked:
            return checked[oid].comparable() if not checked[oid].is_missing else None
        if oid in existing:
            return stored_value(existing[oid])
        if oid in in_form:
            return None
        row = latest(oid) if latest else latest_value(participant, oid)
        return stored_value(row) if row else None

    errors = {}
    for rule in protocol.rules:
        if rule.item not in in_form and rule.other not in in_form:
            continue
        left, right = value_of(rule.item), value_of(rule.other)
        if left is None or right is None:
            continue
        if not OPERATORS[rule.comparison](left, right):
            where = rule.item if rule.item in in_form else rule.other
            errors[where] = Problem("rule.broken", rule=rule.code, message=rule.message, left=left,
                                    comparison=rule.comparison.value, right=right)  # fmt: skip
    return errors
