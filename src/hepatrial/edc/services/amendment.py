"""Amending the protocol: the amended file becomes the active protocol version.

:func:`review_amendment` (read only) lists the changes (:mod:`hepatrial.protocol.amendment`)
and, for each change that could orphan or reinterpret recorded data, counts those data. A
change with data is refused, saying how many and what to name, unless the migration names it.
:func:`amend_protocol` does the same in one transaction and, when nothing is refused, installs
the new version, applies the migration to the stored values (each value changed is audited),
schedules visits added to the schedule for the participants on study, asks for re-consent when
the consent document changed, and audits the amendment itself: both hashes, the diff, the
migration and the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hepatrial.edc import audit
from hepatrial.edc.errors import NotAllowed, PreconditionFailed, ValidationFailed
from hepatrial.edc.models import (
    AllocationSlot,
    EligibilityAssessment,
    FormRecord,
    ItemValue,
    Participant,
    ParticipantStatus,
    ProtocolVersion,
    Visit,
)
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol, install_protocol
from hepatrial.edc.services.boundary import Writes, service
from hepatrial.edc.services.reconsent import ON_STUDY, ask_for_reconsent
from hepatrial.edc.services.schedule import create_visit
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol import LoadedProtocol
from hepatrial.protocol.amendment import (
    Change,
    Check,
    DataCheck,
    Effect,
    Migration,
    MigrationStep,
    diff_protocols,
)
from hepatrial.protocol.model import EventKind, Item, Protocol
from hepatrial.protocol.values import EnteredValue, InvalidValue, ValueStatus, check_value

S = ParticipantStatus

MESSAGES.update({
    "amendment.administrator_only": gettext_noop("only an administrator may amend the protocol"),
    "amendment.reason_required": gettext_noop("say why the protocol is amended"),
    "amendment.nothing_changes": gettext_noop(
        "the amended protocol is the active one (hash %(hash)s): nothing to apply"
    ),
    "amendment.never": gettext_noop("%(change)s; this cannot be applied as an amendment"),
    "amendment.refused": gettext_noop(
        "%(change)s, but %(found)s; to apply it, a migration must name %(change_code)s at %(path)s"
    ),
    "amendment.refused_plural": gettext_noop("the amendment is refused: %(problems)s"),
    "amendment.found.item_values": gettext_noop("%(count)s values are recorded for it"),
    "amendment.found.choice_values": gettext_noop(
        "%(count)s values are recorded with this code"
    ),
    "amendment.found.unit_values": gettext_noop("%(count)s values were entered in %(unit)s"),
    "amendment.found.form_records": gettext_noop("%(count)s of its forms are on file"),
    "amendment.found.form_repeats": gettext_noop("%(count)s repeated records are on file"),
    "amendment.found.event_records": gettext_noop("%(count)s forms are on file at that visit"),
    "amendment.found.event_repeats": gettext_noop("%(count)s repeated visits are on file"),
    "amendment.found.randomized": gettext_noop(
        "%(count)s participants are already randomized"
    ),
    "amendment.found.arm_allocations": gettext_noop(
        "%(count)s participants are allocated to it"
    ),
    "amendment.found.eligibility_answers": gettext_noop(
        "%(count)s eligibility checklists answer it"
    ),
    "amendment.found.site_participants": gettext_noop("%(count)s participants are at that site"),
    "amendment.migration.not_a_change": gettext_noop(
        "the migration names %(change_code)s at %(path)s, which this amendment does not change"
    ),
    "amendment.migration.cannot_map": gettext_noop(
        "the migration of %(change_code)s at %(path)s maps choice codes, which only a removed or "
        "redefined choice can do"
    ),
    "amendment.migration.not_a_choice": gettext_noop(
        "the migration maps %(old)s to %(new)s, which is not a choice of %(item)s in the "
        "amended protocol"
    ),
    "amendment.migration.cannot_move": gettext_noop(
        "the migration of %(change_code)s at %(path)s moves values, which only a removed or moved "
        "item can do"
    ),
    "amendment.migration.not_an_item": gettext_noop(
        "the migration moves the values of %(item)s to %(target)s, which is not an item of "
        "the amended protocol"
    ),
    "amendment.migration.cannot_recheck": gettext_noop(
        "the migration of %(change_code)s at %(path)s rechecks values, which only a change of an "
        "item kept in the protocol can do"
    ),
    "amendment.migration.values_refused": gettext_noop(
        "after the migration, %(count)s values of %(item)s do not pass the amended protocol's "
        "checks, e.g. %(example)s"
    ),
    "amendment.migration.target_taken": gettext_noop(
        "%(count)s values of %(target)s are already on file where the values of %(item)s "
        "would move"
    ),
})  # fmt: skip

SECTION_LABELS = {
    "study": _("Study"), "site": _("Sites"), "arm": _("Arms"),
    "intervention": _("Interventions"), "randomization": _("Randomization"),
    "stratum": _("Stratification"), "criterion": _("Eligibility"), "event": _("Visits"),
    "form": _("Forms"), "item": _("Items"), "choice": _("Code lists"),
    "derived": _("Derived items"), "scores": _("Score settings"), "rule": _("Rules"),
    "analysis": _("Analysis plan"),
}  # fmt: skip
"""The heading of each section of a printed diff."""
MAP_CODES = {"choice.removed", "choice.meaning"}
MOVE_CODES = {"item.removed", "item.moved"}


class AmendmentRefused(PreconditionFailed):
    """Nothing was installed; ``problems`` gives each reason, ``review`` the whole diff."""

    def __init__(self, problems: list[Problem], review: AmendmentReview | None = None):
        self.problems = problems
        self.review = review
        super().__init__(
            problems[0]
            if len(problems) == 1
            else Problem("amendment.refused_plural", problems=problems)  # fmt: skip
        )


@dataclass(frozen=True)
class AmendmentReview:
    active: ProtocolVersion
    old: LoadedProtocol
    new: LoadedProtocol
    changes: list[Change]
    found: dict[tuple[str, str], int]
    """For each ``data`` change (by code and path): how much recorded data it touches."""
    refusals: list[Problem]
    migration: Migration

    @property
    def refused(self) -> bool:
        return bool(self.refusals)

    def accepted(self, change: Change) -> MigrationStep | None:
        return self.migration.step(change)


@dataclass(frozen=True)
class AmendmentResult:
    review: AmendmentReview
    version: ProtocolVersion
    values_migrated: int = 0
    visits_planned: int = 0
    reconsent: list[str] = field(default_factory=list)
    """Screening numbers of the participants asked to consent again."""


def _count(check: DataCheck) -> int:
    values = ItemValue.objects.filter(item_oid=check.item)
    kind = check.check
    if kind is Check.ITEM_VALUES:
        return values.count()
    if kind is Check.CHOICE_VALUES:
        return values.filter(status=ValueStatus.VALUE, normalized_text=check.value).count()
    if kind is Check.UNIT_VALUES:
        return values.filter(unit_entered=check.value).count()
    records = FormRecord.objects.filter(version__gt=0)
    if kind is Check.FORM_RECORDS:
        records = records.filter(form_oid=check.form)
        return (records.filter(visit__event_oid=check.event) if check.event else records).count()
    if kind is Check.FORM_REPEATS:
        return records.filter(form_oid=check.form, repeat__gt=0).count()
    if kind is Check.EVENT_RECORDS:
        return records.filter(visit__event_oid=check.event).count()
    if kind is Check.EVENT_REPEATS:
        return Visit.objects.filter(event_oid=check.event, repeat__gt=0).count()
    if kind is Check.RANDOMIZED:
        return Participant.objects.exclude(randomization_date=None).count()
    if kind is Check.ARM_ALLOCATIONS:
        return AllocationSlot.objects.filter(arm=check.value, participant__isnull=False).count()
    if kind is Check.ELIGIBILITY_ANSWERS:
        return EligibilityAssessment.objects.filter(answers__has_key=check.value).count()
    if kind is Check.SITE_PARTICIPANTS:
        return Participant.objects.filter(site__code=check.value).count()
    raise ValueError(f"unknown data check {kind}")


def _found(change: Change, count: int) -> Problem:
    check = change.data
    unit = {"unit": check.value} if check.check is Check.UNIT_VALUES else {}
    return Problem(f"amendment.found.{check.check.value}", count=count, **unit)


def _step_problems(step: MigrationStep, change: Change | None, new: Protocol) -> list[Problem]:
    where = {"change_code": step.code, "path": step.path}
    if change is None:
        return [Problem("amendment.migration.not_a_change", **where)]
    problems = []
    item_oid = change.params.get("item")
    items = new.items()
    if step.map:
        if change.code not in MAP_CODES:
            problems.append(Problem("amendment.migration.cannot_map", **where))
        else:
            codes = {c.code for c in items[item_oid].choices} if item_oid in items else set()
            problems += [Problem("amendment.migration.not_a_choice", old=old, new=target,
                                 item=item_oid)
                         for old, target in step.map.items() if target not in codes]  # fmt: skip
    if step.move_to:
        if change.code not in MOVE_CODES:
            problems.append(Problem("amendment.migration.cannot_move", **where))
        elif step.move_to not in items:
            problems.append(Problem("amendment.migration.not_an_item", item=item_oid,
                                    target=step.move_to))  # fmt: skip
    if step.recheck and (change.section != "item" or item_oid not in items):
        problems.append(Problem("amendment.migration.cannot_recheck", **where))
    return problems


def _require(actor: Actor) -> None:
    if not actor.sites_for(Action.AMEND_PROTOCOL):
        raise NotAllowed(Problem("amendment.administrator_only"))


def review_amendment(
    actor: Actor, loaded: LoadedProtocol, migration: Migration | None = None
) -> AmendmentReview:
    """What installing ``loaded`` would change, and why it would be refused (nothing written)."""
    _require(actor)
    migration = migration or Migration()
    active, old = active_protocol()
    if loaded.content_hash == active.content_hash:
        problem = Problem("amendment.nothing_changes", hash=active.content_hash[:12])
        return AmendmentReview(active, old, loaded, [], {}, [problem], migration)
    changes = diff_protocols(old.protocol, loaded.protocol)
    by_key = {c.key: c for c in changes}
    refusals: list[Problem] = []
    for step in migration.steps:
        refusals += _step_problems(step, by_key.get(step.key), loaded.protocol)
    found: dict[tuple[str, str], int] = {}
    for change in changes:
        if change.effect is Effect.NEVER:
            refusals.append(Problem("amendment.never", change=change.problem()))
        if change.effect is not Effect.DATA:
            continue
        found[change.key] = count = _count(change.data)
        if count and migration.step(change) is None:
            refusals.append(Problem("amendment.refused", change=change.problem(),
                                    found=_found(change, count), change_code=change.code,
                                    path=change.path))  # fmt: skip
    return AmendmentReview(active, old, loaded, changes, found, refusals, migration)


@service(Action.AMEND_PROTOCOL, writes=Writes.CLINICAL)
def amend_protocol(
    actor: Actor, loaded: LoadedProtocol, *, reason: str, migration: Migration | None = None
) -> AmendmentResult:
    """Install ``loaded`` as the active protocol, or raise :class:`AmendmentRefused`."""
    _require(actor)
    if not reason.strip():
        raise ValidationFailed({"reason": Problem("amendment.reason_required")})
    review = review_amendment(actor, loaded, migration)
    if review.refused:
        raise AmendmentRefused(review.refusals, review)
    version = install_protocol(loaded)
    migrated, refusals = 0, []
    for step in review.migration.steps:
        change = next(c for c in review.changes if c.key == step.key)
        done, problems = _migrate(actor, step, change, loaded.protocol, version, reason)
        migrated, refusals = migrated + done, refusals + problems
    if refusals:
        raise AmendmentRefused(refusals, review)
    planned = _plan_added_visits(actor, review)
    reconsent = []
    study_change = {c.code: c for c in review.changes if c.section == "study"}
    if "study.consent_version" in study_change and loaded.protocol.study.consent_version:
        reconsent = ask_for_reconsent(actor, loaded.protocol.study.consent_version, version,
                                      Participant.objects.filter(status__in=ON_STUDY))  # fmt: skip
    audit.record(
        "amend", username=actor.username, object_type="protocolversion", object_id=version.pk,
        item=loaded.protocol.study.registry_id, old=review.active.content_hash,
        new=version.content_hash, reason=reason.strip(),
        context={
            "from": {"version": review.active.version, "hash": review.active.content_hash},
            "to": {"version": version.version, "hash": version.content_hash,
                   "source": loaded.source},
            "changes": [c.to_json() | {"found": review.found.get(c.key)}
                        for c in review.changes],
            "migration": review.migration.to_json(),
            "values_migrated": migrated, "visits_planned": planned,
            "reconsent": reconsent,
        },
    )  # fmt: skip
    return AmendmentResult(review, version, migrated, planned, reconsent)


def _shown(row: ItemValue) -> str:
    if row.status != ValueStatus.VALUE:
        return f"({row.status})"
    return f"{row.text} {row.unit_entered}" if row.unit_entered else row.text


def _audit_value(actor: Actor, row: ItemValue, old_item: str, old: str, record: FormRecord,
                 step: MigrationStep, reason: str) -> None:  # fmt: skip
    participant = record.visit.participant
    audit.record(
        "change", username=actor.username, object_type="itemvalue", object_id=row.pk,
        participant=participant.screening_number, site=participant.site.code, item=row.item_oid,
        old=old, new=_shown(row), reason=f"{reason.strip()} ({step.reason})",
        context={"form": record.form_oid, "event": record.visit.event_oid, "record": record.pk,
                 "version": record.version, "amendment": {"code": step.code, "path": step.path},
                 **({"moved_from": old_item} if old_item != row.item_oid else {})},
    )  # fmt: skip


def _touch(record: FormRecord, version: ProtocolVersion, touched: dict[int, FormRecord]) -> None:
    """A record whose values the migration changed: one new version, now under the amendment."""
    if record.pk in touched:
        return
    record.version += 1
    record.protocol_version, record.protocol_hash = version, version.content_hash
    record.updated_at = timezone.now()
    record.save(update_fields=["version", "protocol_version", "protocol_hash", "updated_at"])
    touched[record.pk] = record


def _rows(item_oid: str) -> Iterable[ItemValue]:
    return (
        ItemValue.objects.filter(item_oid=item_oid)
        .select_related("form_record__visit__participant__site")
        .order_by("pk")
    )


def _migrate(
    actor: Actor, step: MigrationStep, change: Change, new: Protocol, version: ProtocolVersion,
    reason: str,
) -> tuple[int, list[Problem]]:  # fmt: skip
    """Apply one accepted change to the stored values: map codes, move or recheck values."""
    item_oid = change.params.get("item")
    touched: dict[int, FormRecord] = {}
    if step.map:
        rows = [r for r in _rows(item_oid) if r.status == ValueStatus.VALUE
                and r.normalized_text in step.map]  # fmt: skip
        for row in rows:
            old = _shown(row)
            row.text = row.normalized_text = step.map[row.normalized_text]
            row.save(update_fields=["text", "normalized_text"])
            _touch(row.form_record, version, touched)
            _audit_value(actor, row, item_oid, old, row.form_record, step, reason)
        return len(rows), []
    if step.move_to:
        return _move(actor, step, item_oid, new, version, reason, touched)
    if step.recheck:
        return _recheck(actor, step, new.items()[item_oid], version, reason, touched)
    return 0, []


def _checked(item: Item, row: ItemValue):
    entered = EnteredValue(row.text, row.unit_entered or None, ValueStatus(row.status))
    return check_value(item, entered)


def _apply(row: ItemValue, value) -> bool:
    fields = {"number": value.number, "normalized_text": value.normalized_text or "",
              "canonical_unit": value.canonical_unit or "", "item_oid": value.item_oid}  # fmt: skip
    changed = [name for name, new in fields.items() if getattr(row, name) != new]
    for name in changed:
        setattr(row, name, fields[name])
    return bool(changed)


def _refused(item: Item, failures: list[tuple[ItemValue, Problem]]) -> list[Problem]:
    row, problem = failures[0]
    return [Problem("amendment.migration.values_refused", count=len(failures), item=item.oid,
                    example=problem)]  # fmt: skip


def _recheck(
    actor: Actor, step: MigrationStep, item: Item, version: ProtocolVersion, reason: str,
    touched: dict[int, FormRecord],
) -> tuple[int, list[Problem]]:  # fmt: skip
    failures, changed = [], 0
    for row in _rows(item.oid):
        try:
            value = _checked(item, row)
        except InvalidValue as exc:
            failures.append((row, exc.problem))
            continue
        old = _shown(row)
        if _apply(row, value):
            row.save()
            _touch(row.form_record, version, touched)
            _audit_value(actor, row, item.oid, old, row.form_record, step, reason)
            changed += 1
    return changed, _refused(item, failures) if failures else []


def _move(
    actor: Actor, step: MigrationStep, item_oid: str, new: Protocol, version: ProtocolVersion,
    reason: str, touched: dict[int, FormRecord],
) -> tuple[int, list[Problem]]:  # fmt: skip
    """The values of ``item_oid`` become values of ``step.move_to``, in the record of its form
    at the same visit (and record number), checked under its definition."""
    target = new.items()[step.move_to]
    target_form = next(f for f in new.forms if any(i.oid == target.oid for i in f.items))
    failures, taken, moved = [], 0, 0
    for row in _rows(item_oid):
        source = row.form_record
        try:
            value = _checked(target, row)
        except InvalidValue as exc:
            failures.append((row, exc.problem))
            continue
        record, _ = FormRecord.objects.get_or_create(
            visit=source.visit, form_oid=target_form.oid, repeat=source.repeat,
            defaults={"protocol_hash": version.content_hash, "protocol_version": version},
        )  # fmt: skip
        if record.values.filter(item_oid=target.oid).exclude(pk=row.pk).exists():
            taken += 1
            continue
        old = _shown(row)
        _apply(row, value)
        row.form_record = record
        row.save()
        _touch(source, version, touched)
        _touch(record, version, touched)
        _audit_value(actor, row, item_oid, old, record, step, reason)
        moved += 1
    problems = _refused(target, failures) if failures else []
    if taken:
        problems.append(Problem("amendment.migration.target_taken", count=taken,
                                target=target.oid, item=item_oid))  # fmt: skip
    return moved, problems


def _plan_added_visits(actor: Actor, review: AmendmentReview) -> int:
    """Schedule each visit the amendment adds for the participants randomized and on study."""
    added = [review.new.protocol.event(c.params["event"]) for c in review.changes
             if c.code == "event.added"]  # fmt: skip
    added = [e for e in added if e.kind == EventKind.SCHEDULED]
    if not added:
        return 0
    planned = 0
    slots = AllocationSlot.objects.filter(
        participant__status__in=(S.RANDOMIZED, S.ON_STUDY)
    ).select_related("participant__site")
    for slot in slots:
        participant, day0 = slot.participant, slot.participant.randomization_date
        for event in added:
            if day0 is None or (event.arms and slot.arm not in event.arms):
                continue
            if Visit.objects.filter(participant=participant, event_oid=event.oid).exists():
                continue
            target = day0 + dt.timedelta(days=event.day)
            create_visit(actor, participant, event.oid, target=target,
                         before=event.window.before, after=event.window.after)  # fmt: skip
            planned += 1
    return planned
