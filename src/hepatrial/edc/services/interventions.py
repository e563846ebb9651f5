"""What an infusion record implies: the total dose given, and a deviation when the dose is off.

The total is ``dose per kg × body weight`` (for the shipped protocol: 10^6 cells/kg × kg =
10^6 cells), stored as the derived item ``TOTAL_DOSE`` of the intervention visit with its inputs.
A dose further than the protocol's tolerance from the planned amount is a protocol deviation.
The infusion date is the intervention visit's date, so an infusion outside its window is
recorded as a visit-window deviation by the form service.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from hepatrial.edc import audit
from hepatrial.edc.models import DerivedValue, ItemValue, Participant, Visit
from hepatrial.edc.permissions import Actor
from hepatrial.edc.services.schedule import record_deviation
from hepatrial.edc.services.values import ValueRow
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol.model import Intervention, Protocol

TOTAL_DOSE = "TOTAL_DOSE"
TOTAL_DOSE_VERSION = "dose-per-kg-times-weight-v1"

MESSAGES.update({
    "deviation.dose": gettext_noop(
        "%(intervention)s: dose %(dose)s %(unit)s given, protocol %(planned)s ± %(tolerance)s%%"
    ),
})  # fmt: skip


def intervention_for(protocol: Protocol, visit: Visit) -> Intervention | None:
    for arm in protocol.arms:
        for intervention in arm.interventions:
            if intervention.code == visit.event_oid:
                return intervention
    return None


def after_intervention_saved(
    actor: Actor, participant: Participant, visit: Visit, protocol: Protocol,
    at_visit: Iterable[ItemValue | ValueRow] | None = None,
) -> list[Problem]:  # fmt: skip
    """Update the total dose and return the deviations found (already recorded and audited).

    ``at_visit``: the visit's values as they are now, when the caller holds them.
    """
    intervention = intervention_for(protocol, visit)
    if intervention is None:
        return []
    if at_visit is None:
        at_visit = ItemValue.objects.filter(form_record__visit=visit, status="value")
    values = {row.item_oid: row.number for row in at_visit if row.status == "value"}
    dose = values.get(intervention.dose_item)
    if dose is None:
        return []
    weight = values.get(intervention.weight_item) if intervention.weight_item else None
    if intervention.dose.per_kg and weight is not None:
        _store_total(actor, participant, visit, dose * weight, dose, weight)
    planned = intervention.dose.amount
    allowed = planned * intervention.dose.tolerance_percent / 100
    if abs(dose - planned) <= allowed + 1e-9:
        return []
    deviation = Problem("deviation.dose", intervention=intervention.label, dose=float(dose),
                        unit=intervention.dose.unit, planned=float(planned),
                        tolerance=float(intervention.dose.tolerance_percent))  # fmt: skip
    return [record_deviation(actor, participant, visit, deviation, blinded=True)]


def _store_total(actor, participant, visit, total: float, dose: float, weight: float) -> None:
    inputs = {"dose_per_kg": dose, "body_weight": weight}
    row = DerivedValue.objects.filter(visit=visit, item_oid=TOTAL_DOSE).first()
    old = None if row is None else row.number
    if old is not None and abs(old - total) < 1e-9:
        return
    if row is None:
        row = DerivedValue.objects.create(
            visit=visit, item_oid=TOTAL_DOSE, number=total, inputs=inputs,
            formula_version=TOTAL_DOSE_VERSION, computed_at=timezone.now(),
        )  # fmt: skip
    else:
        row.number, row.inputs, row.computed_at = total, inputs, timezone.now()
        row.save(update_fields=["number", "inputs", "computed_at"])
    audit.record(
        "derive", username=actor.username, object_type="derivedvalue", object_id=row.pk,
        participant=participant.screening_number, site=participant.site.code,
        item=TOTAL_DOSE, old="" if old is None else f"{old:g}", new=f"{total:g}",
        blinded_content=True, context={"formula": TOTAL_DOSE_VERSION, **inputs},
    )  # fmt: skip
