"""What a saved change does to the reviews of the data already made.

Called once by the save path (:func:`hepatrial.edc.services.forms.save_form`), inside its
transaction, after the values, the visit date and the derived scores are written: a verified
value that changed is marked changed after verification, and every signature whose content the
change touched is voided, each with its audit row.
"""

from __future__ import annotations

from collections.abc import Collection

from hepatrial.edc.models import FormRecord, Participant, Visit
from hepatrial.edc.permissions import Actor
from hepatrial.edc.services.signatures import void_after_change
from hepatrial.edc.services.verification import reset_changed
from hepatrial.protocol.model import Protocol


def after_change_saved(
    actor: Actor, participant: Participant, visit: Visit, record: FormRecord, changed: list[str],
    *, protocol: Protocol, replaced: Collection[str],
) -> None:  # fmt: skip
    """``changed``: the item OIDs whose values changed (empty: only the visit date did);
    ``replaced``: those of them that had a value before (only those can have been verified)."""
    reset_changed(actor, participant, record, replaced, protocol=protocol)
    void_after_change(actor, participant, visit, record, changed, protocol=protocol)
