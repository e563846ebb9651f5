"""Re-deriving the stored scores under the current formula versions and score settings.

When a score's formula version changes (or the protocol names another Child-Pugh table), the
scores already stored were computed the old way. :func:`recompute_scores` recomputes every
visit's derived items from the values on file, each visit in its own audited transaction with
ONE audit record listing the old and new value and version of every item that changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from hepatrial.edc import audit
from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.models import Participant, Visit
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.services.boundary import RecordLocked, Writes, service
from hepatrial.edc.services.derive import DerivedChange, apply_changes, visit_changes
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol.model import Protocol

MESSAGES.update({
    "derive.recompute_administrator_only": gettext_noop(
        "only an administrator may recompute the stored scores"
    ),
})  # fmt: skip


@dataclass(frozen=True)
class RecomputeSummary:
    visits: int
    """Visits looked at."""
    visits_changed: int
    """Visits with at least one derived item rewritten (value or formula version)."""
    values_changed: int
    """Derived items whose value (not only the version) changed."""
    class_changed: tuple[str, ...]
    """Screening numbers of the participants with a visit whose Child-Pugh class changed."""
    locked: int = 0
    """Visits left as they are because their casebook or visit is locked."""


def recompute_scores(actor: Actor, protocol: Protocol) -> RecomputeSummary:
    """Recompute every stored score at the actor's sites; one audited change per visit."""
    sites = actor.sites_for(Action.RECOMPUTE_SCORES)
    if not sites:
        raise NotAllowed(Problem("derive.recompute_administrator_only"))
    class_items = {d.oid for d in protocol.derived_items if d.score == "child_pugh_class"}
    visits = (
        Visit.objects.filter(participant__site__code__in=sites)
        .select_related("participant__site")
        .order_by("participant__screening_number", "pk")
    )
    looked_at = visits_changed = values_changed = locked = 0
    class_changed: set[str] = set()
    for visit in visits:
        looked_at += 1
        try:
            changes = _recompute_visit(actor, visit.participant, visit, protocol)
        except RecordLocked:
            locked += 1
            continue
        if not changes:
            continue
        visits_changed += 1
        moved = [c for c in changes if c.was != c.now]
        values_changed += len(moved)
        if any(c.item_oid in class_items for c in moved):
            class_changed.add(visit.participant.screening_number)
    return RecomputeSummary(
        looked_at, visits_changed, values_changed, tuple(sorted(class_changed)), locked
    )


@service(Action.RECOMPUTE_SCORES, writes=Writes.CLINICAL)
def _recompute_visit(
    actor: Actor, participant: Participant, visit: Visit, protocol: Protocol
) -> list[DerivedChange]:
    _, changes = visit_changes(participant, visit, protocol)
    if not changes:
        return []
    apply_changes(visit, changes)
    audit.record(
        "recompute", username=actor.username, object_type="visit", object_id=visit.pk,
        participant=participant.screening_number, site=participant.site.code,
        item="derived scores",
        old="; ".join(f"{c.item_oid}={c.was} ({c.old_version or '-'})" for c in changes),
        new="; ".join(f"{c.item_oid}={c.now} ({c.fields['formula_version']})" for c in changes),
        context={"event": visit.event_oid, "items": {
            c.item_oid: {"old": c.was, "new": c.now, "old_formula": c.old_version,
                         "formula": c.fields["formula_version"]} for c in changes}},
    )  # fmt: skip
    return changes
