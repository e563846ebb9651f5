"""What an amended protocol changes, and which changes could alter the meaning of recorded data.

:func:`diff_protocols` compares the active protocol with its amendment and lists every change
as a :class:`Change`: a code (``item.removed``), the path it sits at
(``forms[F.LAB].items[I.ALP]``), the old and new value, and its :class:`Effect`:

- ``safe``: applies whatever is on file (a new form, a relabelled visit, an endpoint's method);
- ``data``: would orphan or reinterpret recorded values (an item or form removed, an item's
  canonical unit or data type changed, a choice removed or given another meaning, a stratum
  changed). Whether it may be applied depends on the database: the change names the
  :class:`DataCheck` to run, and if data exist, a :class:`Migration` must name the change;
- ``never``: cannot be an amendment at all (another registry id is another trial).

A migration (:func:`parse_migration`, a YAML file) accepts named changes, each with its reason
and, where it means something, what to do with the stored values: ``map`` old choice codes to
new ones, ``move_to`` another item, or ``recheck`` every value under the amended item (a new
canonical unit: values are normalized again from what was entered).

Pure domain code: no Django. The EDC runs the checks and applies the migration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import yaml

from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.protocol.model import Form, Item, Protocol, Randomization

MESSAGES.update({
    "amendment.study.registry_id": gettext_noop(
        "registry id %(old)s → %(new)s: that is another trial, not an amendment"
    ),
    "amendment.study.protocol_version": gettext_noop("protocol version %(old)s → %(new)s"),
    "amendment.study.consent_version": gettext_noop(
        "consent document version %(old)s → %(new)s: participants on study who signed "
        "another version are asked to consent again"
    ),
    "amendment.study.field": gettext_noop("study %(field)s changed"),
    "amendment.site.added": gettext_noop("site %(site)s added"),
    "amendment.site.removed": gettext_noop("site %(site)s removed"),
    "amendment.site.changed": gettext_noop("site %(site)s changed (%(fields)s)"),
    "amendment.arm.added": gettext_noop("arm %(arm)s added"),
    "amendment.arm.removed": gettext_noop("arm %(arm)s removed"),
    "amendment.arm.ratio": gettext_noop("arm %(arm)s: allocation ratio %(old)s → %(new)s"),
    "amendment.arm.changed": gettext_noop("arm %(arm)s changed (%(fields)s)"),
    "amendment.intervention.added": gettext_noop(
        "intervention %(intervention)s of arm %(arm)s added"
    ),
    "amendment.intervention.removed": gettext_noop(
        "intervention %(intervention)s of arm %(arm)s removed"
    ),
    "amendment.intervention.form": gettext_noop(
        "intervention %(intervention)s of arm %(arm)s: recorded on form %(old)s → %(new)s"
    ),
    "amendment.intervention.changed": gettext_noop(
        "intervention %(intervention)s of arm %(arm)s changed (%(fields)s)"
    ),
    "amendment.randomization.field": gettext_noop(
        "randomization %(field)s: %(old)s → %(new)s"
    ),
    "amendment.stratum.added": gettext_noop("stratification factor %(stratum)s added"),
    "amendment.stratum.removed": gettext_noop("stratification factor %(stratum)s removed"),
    "amendment.stratum.item": gettext_noop(
        "stratification factor %(stratum)s: reads item %(old)s → %(new)s"
    ),
    "amendment.stratum.levels": gettext_noop(
        "stratification factor %(stratum)s: levels or their values changed"
    ),
    "amendment.stratum.changed": gettext_noop(
        "stratification factor %(stratum)s changed (%(fields)s)"
    ),
    "amendment.criterion.added": gettext_noop("eligibility criterion %(criterion)s added"),
    "amendment.criterion.removed": gettext_noop("eligibility criterion %(criterion)s removed"),
    "amendment.criterion.qualifying_answer": gettext_noop(
        "eligibility criterion %(criterion)s: qualifying answer %(old)s → %(new)s"
    ),
    "amendment.criterion.changed": gettext_noop(
        "eligibility criterion %(criterion)s changed (%(fields)s)"
    ),
    "amendment.event.added": gettext_noop("visit %(event)s added"),
    "amendment.event.removed": gettext_noop("visit %(event)s removed"),
    "amendment.event.kind": gettext_noop("visit %(event)s: kind %(old)s → %(new)s"),
    "amendment.event.no_longer_repeats": gettext_noop("visit %(event)s no longer repeats"),
    "amendment.event.changed": gettext_noop("visit %(event)s changed (%(fields)s)"),
    "amendment.form.added": gettext_noop("form %(form)s added"),
    "amendment.form.removed": gettext_noop("form %(form)s removed"),
    "amendment.form.event_added": gettext_noop("form %(form)s now also collected at %(event)s"),
    "amendment.form.event_removed": gettext_noop(
        "form %(form)s no longer collected at %(event)s"
    ),
    "amendment.form.no_longer_repeats": gettext_noop("form %(form)s no longer repeats"),
    "amendment.form.changed": gettext_noop("form %(form)s changed (%(fields)s)"),
    "amendment.item.added": gettext_noop("item %(item)s added to form %(form)s"),
    "amendment.item.removed": gettext_noop("item %(item)s removed from form %(form)s"),
    "amendment.item.moved": gettext_noop("item %(item)s moved from form %(old)s to %(new)s"),
    "amendment.item.data_type": gettext_noop("item %(item)s: data type %(old)s → %(new)s"),
    "amendment.item.canonical_unit": gettext_noop(
        "item %(item)s: canonical unit %(old)s → %(new)s"
    ),
    "amendment.item.quantity": gettext_noop("item %(item)s: quantity %(old)s → %(new)s"),
    "amendment.item.unit_added": gettext_noop("item %(item)s: unit %(unit)s accepted"),
    "amendment.item.unit_removed": gettext_noop("item %(item)s: unit %(unit)s no longer accepted"),
    "amendment.item.role": gettext_noop("item %(item)s: role %(old)s → %(new)s"),
    "amendment.item.codes": gettext_noop("item %(item)s: codes %(old)s → %(new)s"),
    "amendment.item.changed": gettext_noop("item %(item)s changed (%(fields)s)"),
    "amendment.choice.added": gettext_noop("item %(item)s: choice %(choice)s added"),
    "amendment.choice.removed": gettext_noop("item %(item)s: choice %(choice)s removed"),
    "amendment.choice.meaning": gettext_noop(
        "item %(item)s: choice %(choice)s means %(old)s → %(new)s"
    ),
    "amendment.choice.changed": gettext_noop("item %(item)s: choice %(choice)s relabelled"),
    "amendment.derived.added": gettext_noop("derived item %(derived)s added"),
    "amendment.derived.removed": gettext_noop("derived item %(derived)s removed"),
    "amendment.derived.changed": gettext_noop(
        "derived item %(derived)s changed (%(fields)s): stored scores are recomputed by "
        "`hepatrial derive --recompute`"
    ),
    "amendment.scores.settings": gettext_noop(
        "score settings changed (%(fields)s): stored scores are recomputed by "
        "`hepatrial derive --recompute`"
    ),
    "amendment.rule.added": gettext_noop("rule %(rule)s added"),
    "amendment.rule.removed": gettext_noop("rule %(rule)s removed"),
    "amendment.rule.changed": gettext_noop("rule %(rule)s changed (%(fields)s)"),
    "amendment.analysis.added": gettext_noop("analysis plan: %(part)s %(entry)s added"),
    "amendment.analysis.removed": gettext_noop("analysis plan: %(part)s %(entry)s removed"),
    "amendment.analysis.changed": gettext_noop(
        "analysis plan: %(part)s %(entry)s changed (%(fields)s)"
    ),
    "amendment.analysis.alpha": gettext_noop("analysis plan: alpha %(old)s → %(new)s"),
    "migration.not_a_mapping": gettext_noop(
        "%(source)s: a migration is a mapping with a list of changes"
    ),
    "migration.entry_invalid": gettext_noop(
        "%(source)s: change %(number)s: %(problem)s"
    ),
    "migration.entry_needs": gettext_noop("code, path and reason are required"),
    "migration.unknown_key": gettext_noop("unknown key %(key)s"),
    "migration.map_not_codes": gettext_noop("map must map old codes to new codes"),
    "migration.yaml": gettext_noop("%(source)s: YAML syntax error: %(problem)s"),
})  # fmt: skip


class Effect(StrEnum):
    SAFE = "safe"
    """Applies whatever is on file."""
    DATA = "data"
    """Would orphan or reinterpret recorded data: applied only when there are none, or when a
    migration names the change."""
    NEVER = "never"
    """Cannot be an amendment (another trial)."""


class Check(StrEnum):
    """What to count in the database to know whether a ``data`` change touches recorded data."""

    ITEM_VALUES = "item_values"
    """Values recorded for ``item``."""
    CHOICE_VALUES = "choice_values"
    """Values of ``item`` recorded as the choice code ``value``."""
    UNIT_VALUES = "unit_values"
    """Values of ``item`` entered in the unit ``value``."""
    FORM_RECORDS = "form_records"
    """Records of ``form`` (at ``event`` when given)."""
    FORM_REPEATS = "form_repeats"
    """Second and later records of the repeating ``form``."""
    EVENT_RECORDS = "event_records"
    """Forms on file at the visits of ``event`` (an event or an intervention code)."""
    EVENT_REPEATS = "event_repeats"
    """Repeated visits of ``event``."""
    RANDOMIZED = "randomized"
    """Participants already randomized."""
    ARM_ALLOCATIONS = "arm_allocations"
    """Participants allocated to the arm ``value``."""
    ELIGIBILITY_ANSWERS = "eligibility_answers"
    """Eligibility checklists answering the criterion ``value``."""
    SITE_PARTICIPANTS = "site_participants"
    """Participants at the site ``value``."""


@dataclass(frozen=True)
class DataCheck:
    check: Check
    item: str | None = None
    form: str | None = None
    event: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class Change:
    code: str
    """``section.what``: ``item.removed``, ``choice.meaning``, ``study.consent_version``."""
    path: str
    """Where in the protocol, by OID and code: ``forms[F.LAB].items[I.ALP]``."""
    old: object = None
    new: object = None
    effect: Effect = Effect.SAFE
    data: DataCheck | None = None
    """For a ``data`` change: what to count to know whether data exist."""
    params: Mapping[str, object] = field(default_factory=dict)
    """The message's parameters besides ``old`` and ``new``."""

    @property
    def section(self) -> str:
        return self.code.split(".", 1)[0]

    @property
    def key(self) -> tuple[str, str]:
        return self.code, self.path

    def problem(self) -> Problem:
        """The change as a sentence in any language (code ``amendment.<code>``)."""
        return Problem(f"amendment.{self.code}", old=_shown(self.old), new=_shown(self.new),
                       **self.params)  # fmt: skip

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code, "path": self.path, "old": self.old, "new": self.new,
            "effect": self.effect.value,
        }  # fmt: skip


SECTIONS = ("study", "site", "arm", "intervention", "randomization", "stratum", "criterion",
            "event", "form", "item", "choice", "derived", "scores", "rule", "analysis")  # fmt: skip
"""The order in which a diff is printed, one group per section."""


def _shown(value: object) -> object:
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return [_shown(v) for v in value] or "—"
    return value


def _by(items: Iterable, key: str) -> dict:
    return {getattr(x, key): x for x in items}


def _dump(model) -> object:
    return model.model_dump(mode="json") if model is not None else None


def _changed_fields(old, new, skip: Iterable[str] = ()) -> list[str]:
    a, b = _dump(old), _dump(new)
    return sorted(name for name in a.keys() | b.keys()
                  if name not in skip and a.get(name) != b.get(name))  # fmt: skip


class _Diff:
    def __init__(self) -> None:
        self.changes: list[Change] = []

    def add(
        self, code: str, path: str, old: object = None, new: object = None, *,
        data: DataCheck | None = None, never: bool = False, **params: object,
    ) -> None:  # fmt: skip
        effect = Effect.NEVER if never else Effect.DATA if data else Effect.SAFE
        self.changes.append(Change(code, path, old, new, effect, data, params))

    def keyed(
        self, section: str, path: str, old: Mapping, new: Mapping, param: str,
        removed: Callable[[str], DataCheck | None] = lambda key: None,
        added: Callable[[str], DataCheck | None] = lambda key: None,
        compare: Callable[[str, str, object, object], None] | None = None,
    ) -> None:  # fmt: skip
        """Objects matched by their code or OID: added, removed, and each kept one compared."""
        for key in old.keys() - new.keys():
            self.add(f"{section}.removed", f"{path}[{key}]", key, None, data=removed(key),
                     **{param: key})  # fmt: skip
        for key in new.keys() - old.keys():
            self.add(f"{section}.added", f"{path}[{key}]", None, key, data=added(key),
                     **{param: key})  # fmt: skip
        for key in sorted(old.keys() & new.keys()):
            if old[key] == new[key]:
                continue
            where = f"{path}[{key}]"
            if compare is not None:
                compare(key, where, old[key], new[key])
            else:
                fields = _changed_fields(old[key], new[key])
                self.add(f"{section}.changed", where, fields=fields, **{param: key})


def _study(diff: _Diff, old: Protocol, new: Protocol) -> None:
    a, b = old.study, new.study
    if a.registry_id != b.registry_id:
        diff.add("study.registry_id", "study.registry_id", a.registry_id, b.registry_id,
                 never=True)  # fmt: skip
    for name in ("protocol_version", "consent_version"):
        if getattr(a, name) != getattr(b, name):
            diff.add(f"study.{name}", f"study.{name}", getattr(a, name), getattr(b, name))
    skip = {"registry_id", "protocol_version", "consent_version", "sites"}
    for name in _changed_fields(a, b, skip):
        diff.add("study.field", f"study.{name}", field=name)
    diff.keyed(
        "site",
        "study.sites",
        _by(a.sites, "code"),
        _by(b.sites, "code"),
        "site",
        removed=lambda code: DataCheck(Check.SITE_PARTICIPANTS, value=code),
    )


def _arms(diff: _Diff, old: Protocol, new: Protocol) -> None:
    randomized = DataCheck(Check.RANDOMIZED)

    def compare(code: str, where: str, a, b) -> None:
        if a.ratio != b.ratio:
            diff.add("arm.ratio", f"{where}.ratio", a.ratio, b.ratio, data=randomized, arm=code)
        fields = _changed_fields(a, b, {"ratio", "interventions"})
        if fields:
            diff.add("arm.changed", where, fields=fields, arm=code)

        def compare_intervention(icode: str, iwhere: str, x, y) -> None:
            if x.form != y.form:
                diff.add("intervention.form", f"{iwhere}.form", x.form, y.form, arm=code,
                         intervention=icode,
                         data=DataCheck(Check.EVENT_RECORDS, event=icode))  # fmt: skip
            fields = _changed_fields(x, y, {"form"})
            if fields:
                data = None
                if {"dose_item", "weight_item"} & set(fields):
                    data = DataCheck(Check.EVENT_RECORDS, event=icode)
                diff.add("intervention.changed", iwhere, fields=fields, data=data, arm=code,
                         intervention=icode)  # fmt: skip

        before, after = _by(a.interventions, "code"), _by(b.interventions, "code")
        for icode in before.keys() - after.keys():
            diff.add("intervention.removed", f"{where}.interventions[{icode}]", icode, None,
                     data=DataCheck(Check.EVENT_RECORDS, event=icode), arm=code,
                     intervention=icode)  # fmt: skip
        for icode in after.keys() - before.keys():
            diff.add("intervention.added", f"{where}.interventions[{icode}]", None, icode,
                     arm=code, intervention=icode)  # fmt: skip
        for icode in sorted(before.keys() & after.keys()):
            if before[icode] != after[icode]:
                compare_intervention(icode, f"{where}.interventions[{icode}]", before[icode],
                                     after[icode])  # fmt: skip

    diff.keyed(
        "arm", "arms", _by(old.arms, "code"), _by(new.arms, "code"), "arm",
        removed=lambda code: DataCheck(Check.ARM_ALLOCATIONS, value=code),
        added=lambda code: randomized, compare=compare,
    )  # fmt: skip


def _randomization(diff: _Diff, a: Randomization, b: Randomization) -> None:
    randomized = DataCheck(Check.RANDOMIZED)
    for name in ("method", "block_sizes", "minimization_probability"):
        if getattr(a, name) != getattr(b, name):
            diff.add("randomization.field", f"randomization.{name}", getattr(a, name),
                     getattr(b, name), data=randomized, field=name)  # fmt: skip

    def compare(code: str, where: str, x, y) -> None:
        if x.item != y.item:
            diff.add("stratum.item", f"{where}.item", x.item, y.item, data=randomized,
                     stratum=code)  # fmt: skip
        levels = lambda s: [(lv.code, sorted(lv.values)) for lv in s.levels]  # noqa: E731
        if levels(x) != levels(y):
            diff.add("stratum.levels", f"{where}.levels",
                     [f"{c}: {', '.join(v)}" for c, v in levels(x)],
                     [f"{c}: {', '.join(v)}" for c, v in levels(y)],
                     data=randomized, stratum=code)  # fmt: skip
        elif x.levels != y.levels:
            diff.add("stratum.changed", f"{where}.levels", fields=["levels"], stratum=code)
        if x.label != y.label:
            diff.add("stratum.changed", f"{where}.label", fields=["label"], stratum=code)

    diff.keyed(
        "stratum", "randomization.strata", _by(a.strata, "code"), _by(b.strata, "code"),
        "stratum", removed=lambda code: randomized, added=lambda code: randomized,
        compare=compare,
    )  # fmt: skip


def _eligibility(diff: _Diff, old: Protocol, new: Protocol) -> None:
    def answers(oid: str) -> DataCheck:
        return DataCheck(Check.ELIGIBILITY_ANSWERS, value=oid)

    def compare(oid: str, where: str, a, b) -> None:
        if a.qualifying_answer != b.qualifying_answer:
            diff.add("criterion.qualifying_answer", f"{where}.qualifying_answer",
                     a.qualifying_answer, b.qualifying_answer, data=answers(oid),
                     criterion=oid)  # fmt: skip
        fields = _changed_fields(a, b, {"qualifying_answer"})
        if fields:
            diff.add("criterion.changed", where, fields=fields, criterion=oid)

    diff.keyed("criterion", "eligibility", _by(old.eligibility, "oid"),
               _by(new.eligibility, "oid"), "criterion", removed=answers,
               compare=compare)  # fmt: skip


def _events(diff: _Diff, old: Protocol, new: Protocol) -> None:
    def records(oid: str) -> DataCheck:
        return DataCheck(Check.EVENT_RECORDS, event=oid)

    def compare(oid: str, where: str, a, b) -> None:
        if a.kind != b.kind:
            diff.add("event.kind", f"{where}.kind", a.kind.value, b.kind.value,
                     data=records(oid), event=oid)  # fmt: skip
        if a.repeats and not b.repeats:
            diff.add("event.no_longer_repeats", f"{where}.repeats", True, False,
                     data=DataCheck(Check.EVENT_REPEATS, event=oid), event=oid)  # fmt: skip
        fields = _changed_fields(a, b, {"kind", "repeats"})
        if fields:
            diff.add("event.changed", where, fields=fields, event=oid)

    diff.keyed("event", "events", _by(old.events, "oid"), _by(new.events, "oid"), "event",
               removed=records, compare=compare)  # fmt: skip


def _forms(diff: _Diff, old: Protocol, new: Protocol) -> None:
    def compare(oid: str, where: str, a: Form, b: Form) -> None:
        for event in sorted(set(a.events) - set(b.events)):
            records = DataCheck(Check.FORM_RECORDS, form=oid, event=event)
            diff.add("form.event_removed", f"{where}.events[{event}]", event, None, form=oid,
                     event=event, data=records)  # fmt: skip
        for event in sorted(set(b.events) - set(a.events)):
            diff.add("form.event_added", f"{where}.events[{event}]", None, event, form=oid,
                     event=event)  # fmt: skip
        if a.repeating and not b.repeating:
            diff.add("form.no_longer_repeats", f"{where}.repeating", True, False, form=oid,
                     data=DataCheck(Check.FORM_REPEATS, form=oid))  # fmt: skip
        fields = _changed_fields(a, b, {"events", "repeating", "items"})
        if b.repeating and not a.repeating:
            fields.append("repeating")
        if fields:
            diff.add("form.changed", where, fields=fields, form=oid)

    diff.keyed("form", "forms", _by(old.forms, "oid"), _by(new.forms, "oid"), "form",
               removed=lambda oid: DataCheck(Check.FORM_RECORDS, form=oid),
               compare=compare)  # fmt: skip
    _items(diff, old, new)


def _item_forms(protocol: Protocol) -> dict[str, tuple[str, Item]]:
    return {item.oid: (form.oid, item) for form in protocol.forms for item in form.items}


def _items(diff: _Diff, old: Protocol, new: Protocol) -> None:
    before, after = _item_forms(old), _item_forms(new)
    for oid in sorted(before.keys() - after.keys()):
        form = before[oid][0]
        diff.add("item.removed", f"forms[{form}].items[{oid}]", oid, None, item=oid, form=form,
                 data=DataCheck(Check.ITEM_VALUES, item=oid))  # fmt: skip
    for oid in sorted(after.keys() - before.keys()):
        form = after[oid][0]
        diff.add("item.added", f"forms[{form}].items[{oid}]", None, oid, item=oid, form=form)
    for oid in sorted(before.keys() & after.keys()):
        (form_a, a), (form_b, b) = before[oid], after[oid]
        where = f"forms[{form_b}].items[{oid}]"
        values = DataCheck(Check.ITEM_VALUES, item=oid)
        if form_a != form_b:
            diff.add("item.moved", f"forms[{form_a}].items[{oid}]", form_a, form_b, item=oid,
                     data=values)  # fmt: skip
        if a == b:
            continue
        _item(diff, oid, where, a, b, values)


def _item(diff: _Diff, oid: str, where: str, a: Item, b: Item, values: DataCheck) -> None:
    if a.data_type != b.data_type:
        diff.add("item.data_type", f"{where}.data_type", a.data_type.value, b.data_type.value,
                 item=oid, data=values)  # fmt: skip
    for name in ("canonical_unit", "quantity"):
        if getattr(a, name) != getattr(b, name):
            diff.add(f"item.{name}", f"{where}.{name}", getattr(a, name), getattr(b, name),
                     item=oid, data=values)  # fmt: skip
    for unit in [u for u in a.units if u not in b.units]:
        diff.add("item.unit_removed", f"{where}.units[{unit}]", unit, None, item=oid, unit=unit,
                 data=DataCheck(Check.UNIT_VALUES, item=oid, value=unit))  # fmt: skip
    for unit in [u for u in b.units if u not in a.units]:
        diff.add("item.unit_added", f"{where}.units[{unit}]", None, unit, item=oid, unit=unit)
    if a.role != b.role:
        diff.add("item.role", f"{where}.role", a.role and a.role.value,
                 b.role and b.role.value, item=oid, data=values)  # fmt: skip
    codes = lambda item: sorted(f"{c.system} {c.code}" for c in item.codes)  # noqa: E731
    if codes(a) != codes(b):
        diff.add("item.codes", f"{where}.codes", codes(a), codes(b), item=oid, data=values)
    _choices(diff, oid, where, a, b)
    handled = {"data_type", "canonical_unit", "quantity", "units", "role", "codes", "choices"}
    fields = _changed_fields(a, b, handled)
    if fields:
        diff.add("item.changed", where, fields=fields, item=oid)


def _choices(diff: _Diff, oid: str, where: str, a: Item, b: Item) -> None:
    before, after = _by(a.choices, "code"), _by(b.choices, "code")
    for code in [c.code for c in a.choices if c.code not in after]:
        values = DataCheck(Check.CHOICE_VALUES, item=oid, value=code)
        diff.add("choice.removed", f"{where}.choices[{code}]", code, None, item=oid,
                 choice=code, data=values)  # fmt: skip
    for code in [c.code for c in b.choices if c.code not in before]:
        diff.add("choice.added", f"{where}.choices[{code}]", None, code, item=oid, choice=code)
    for code in [c.code for c in a.choices if c.code in after]:
        x, y = before[code], after[code]
        if (x.meaning or x.code) != (y.meaning or y.code):
            diff.add("choice.meaning", f"{where}.choices[{code}].meaning", x.meaning or x.code,
                     y.meaning or y.code, item=oid, choice=code,
                     data=DataCheck(Check.CHOICE_VALUES, item=oid, value=code))  # fmt: skip
        elif x.label != y.label:
            diff.add("choice.changed", f"{where}.choices[{code}].label", x.label.en, y.label.en,
                     item=oid, choice=code)  # fmt: skip


def _rest(diff: _Diff, old: Protocol, new: Protocol) -> None:
    diff.keyed("derived", "derived_items", _by(old.derived_items, "oid"),
               _by(new.derived_items, "oid"), "derived")  # fmt: skip
    if old.scores != new.scores:
        diff.add("scores.settings", "scores", fields=_changed_fields(old.scores, new.scores))
    diff.keyed("rule", "rules", _by(old.rules, "code"), _by(new.rules, "code"), "rule")
    a, b = old.analysis, new.analysis
    for part in ("populations", "timepoints", "endpoints"):
        before, after = _by(getattr(a, part), "code"), _by(getattr(b, part), "code")
        for code in sorted(before.keys() - after.keys()):
            diff.add("analysis.removed", f"analysis.{part}[{code}]", code, None,
                     part=part[:-1], entry=code)  # fmt: skip
        for code in sorted(after.keys() - before.keys()):
            diff.add("analysis.added", f"analysis.{part}[{code}]", None, code, part=part[:-1],
                     entry=code)  # fmt: skip
        for code in sorted(before.keys() & after.keys()):
            if before[code] != after[code]:
                diff.add("analysis.changed", f"analysis.{part}[{code}]", part=part[:-1],
                         entry=code, fields=_changed_fields(before[code], after[code]))  # fmt: skip
    if a.alpha != b.alpha:
        diff.add("analysis.alpha", "analysis.alpha", a.alpha, b.alpha)


def diff_protocols(old: Protocol, new: Protocol) -> list[Change]:
    """Every change from ``old`` to ``new``, grouped by section (:data:`SECTIONS`), then by path."""
    diff = _Diff()
    _study(diff, old, new)
    _arms(diff, old, new)
    _randomization(diff, old.randomization, new.randomization)
    _eligibility(diff, old, new)
    _events(diff, old, new)
    _forms(diff, old, new)
    _rest(diff, old, new)
    order = {section: n for n, section in enumerate(SECTIONS)}
    return sorted(diff.changes, key=lambda c: (order.get(c.section, len(order)), c.path, c.code))


@dataclass(frozen=True)
class MigrationStep:
    """One change a migration accepts, why, and what to do with the values it touches."""

    code: str
    path: str
    reason: str
    map: Mapping[str, str] = field(default_factory=dict)
    """Old choice code → new choice code, for the stored values of the item."""
    move_to: str | None = None
    """The item whose values the stored values become (same visit and record number)."""
    recheck: bool = False
    """Check and normalize again every stored value of the item under its amended definition."""

    @property
    def key(self) -> tuple[str, str]:
        return self.code, self.path

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"code": self.code, "path": self.path, "reason": self.reason}
        if self.map:
            data["map"] = dict(self.map)
        if self.move_to:
            data["move_to"] = self.move_to
        if self.recheck:
            data["recheck"] = True
        return data


@dataclass(frozen=True)
class Migration:
    steps: tuple[MigrationStep, ...] = ()
    reason: str = ""
    source: str = ""

    def step(self, change: Change) -> MigrationStep | None:
        return next((s for s in self.steps if s.key == change.key), None)

    def to_json(self) -> dict[str, object]:
        return {"source": self.source, "reason": self.reason,
                "changes": [s.to_json() for s in self.steps]}  # fmt: skip


class MigrationError(ValueError):
    """A migration file that cannot be read; ``problems`` says what is wrong, entry by entry."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(problems))


STEP_KEYS = {"code", "path", "reason", "map", "move_to", "recheck"}


def _step(entry: object) -> MigrationStep | Problem:
    if not isinstance(entry, dict):
        return Problem("migration.entry_needs")
    unknown = sorted(set(entry) - STEP_KEYS)
    if unknown:
        return Problem("migration.unknown_key", key=unknown[0])
    code, path, reason = (str(entry.get(k) or "").strip() for k in ("code", "path", "reason"))
    if not (code and path and reason):
        return Problem("migration.entry_needs")
    mapping = entry.get("map") or {}
    if not isinstance(mapping, dict) or not all(
        isinstance(v, str | int | float | bool) for v in mapping.values()
    ):
        return Problem("migration.map_not_codes")
    mapping = {_code_text(k): _code_text(v) for k, v in mapping.items()}
    move_to = entry.get("move_to")
    recheck = str(entry.get("recheck", "")).strip().lower() in ("true", "yes")
    return MigrationStep(code, path, reason, mapping, str(move_to) if move_to else None, recheck)


def _code_text(value: object) -> str:
    """A choice code as written in YAML: ``yes`` and ``1`` stay ``yes`` and ``1``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def parse_migration(text: str, source: str = "<migration>") -> Migration:
    """Read a migration file (YAML: ``reason`` and a list of ``changes``); raise MigrationError.

    ``yes``/``no`` map keys that YAML reads as booleans are taken back as the words written.
    """
    try:
        data = yaml.load(text, Loader=_CodesLoader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        raise MigrationError([Problem("migration.yaml", source=source, problem=problem)]) from None
    if not isinstance(data, dict) or not isinstance(data.get("changes", []), list):
        raise MigrationError([Problem("migration.not_a_mapping", source=source)])
    steps, problems = [], []
    for number, entry in enumerate(data.get("changes") or [], start=1):
        step = _step(entry)
        if isinstance(step, Problem):
            problems.append(Problem("migration.entry_invalid", source=source, number=number,
                                    problem=step))  # fmt: skip
        else:
            steps.append(step)
    if problems:
        raise MigrationError(problems)
    return Migration(tuple(steps), str(data.get("reason") or "").strip(), source)


class _CodesLoader(yaml.SafeLoader):
    """YAML 1.1 without its booleans: a choice code ``no`` stays the string ``no``."""


_CodesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def grouped(changes: Iterable[Change]) -> dict[str, list[Change]]:
    """Changes by section, in :data:`SECTIONS` order: what a printed diff shows under each head."""
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(change.section, []).append(change)
    return groups
