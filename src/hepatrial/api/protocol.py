"""``/protocol``: the active protocol as data — study, sites, eligibility, schedule, forms,
items with their units and ranges, derived scores. No arm, no allocation: the arms' own visits
and forms are listed only for a caller who may enter them (the cell-therapy team), and the
short title, which names the arms, is left out as the pages leave it out."""

from __future__ import annotations

from ninja import Router, Schema

from hepatrial.api.schemas import LabelOut, label, responses
from hepatrial.edc.permissions import Action, actor_for
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.schedule import intervention_forms

router = Router()


class SiteOut(Schema):
    code: str
    name: LabelOut


class CriterionDefinitionOut(Schema):
    oid: str
    kind: str
    label: LabelOut
    qualifying_answer: str


class WindowOut(Schema):
    before: int
    after: int


class EventOut(Schema):
    oid: str
    label: LabelOut
    kind: str
    day: int | None
    window: WindowOut | None
    repeats: bool


class RangeOut(Schema):
    low: float | None
    high: float | None


class ChoiceOut(Schema):
    code: str
    label: LabelOut


class ItemOut(Schema):
    oid: str
    label: LabelOut
    data_type: str
    units: list[str]
    canonical_unit: str | None
    hard_range: RangeOut | None
    plausible_range: RangeOut | None
    choices: list[ChoiceOut]
    required: bool


class FormOut(Schema):
    oid: str
    label: LabelOut
    events: list[str]
    repeating: bool
    items: list[ItemOut]


class DerivedItemOut(Schema):
    oid: str
    label: LabelOut
    score: str
    inputs: dict[str, str]


class ProtocolOut(Schema):
    registry_id: str
    protocol_version: str
    content_hash: str
    title: LabelOut
    sponsor: str
    target_enrolment: int
    masking: str
    sites: list[SiteOut]
    eligibility: list[CriterionDefinitionOut]
    events: list[EventOut]
    forms: list[FormOut]
    derived_items: list[DerivedItemOut]


def _range(value) -> dict | None:
    return None if value is None else {"low": value.low, "high": value.high}


def _item(item) -> dict:
    return {
        "oid": item.oid, "label": label(item.label), "data_type": item.data_type.value,
        "units": list(item.units), "canonical_unit": item.canonical_unit,
        "hard_range": _range(item.hard_range), "plausible_range": _range(item.plausible_range),
        "choices": [{"code": c.code, "label": label(c.label)} for c in item.choices],
        "required": item.required,
    }  # fmt: skip


@router.get("", response=responses(ProtocolOut), operation_id="protocol",
            summary="The active protocol (no arms, no allocation)")  # fmt: skip
def protocol(request):
    actor = actor_for(request.auth)
    version, loaded = active_protocol()
    p = loaded.protocol
    hidden = set() if actor.sites_for(Action.ENTER_INTERVENTION) else intervention_forms(p)
    return {
        "registry_id": p.study.registry_id, "protocol_version": p.study.protocol_version,
        "content_hash": version.content_hash, "title": label(p.study.title),
        "sponsor": p.study.sponsor,
        "target_enrolment": p.study.target_enrolment, "masking": p.study.masking.level,
        "sites": [{"code": s.code, "name": label(s.name)} for s in p.study.sites],
        "eligibility": [
            {"oid": c.oid, "kind": c.kind, "label": label(c.label),
             "qualifying_answer": c.qualifying_answer}
            for c in p.eligibility
        ],
        "events": [
            {"oid": e.oid, "label": label(e.label), "kind": e.kind.value, "day": e.day,
             "window": {"before": e.window.before, "after": e.window.after} if e.window else None,
             "repeats": e.repeats}
            for e in p.events if not e.arms
        ],
        "forms": [
            {"oid": f.oid, "label": label(f.label), "events": list(f.events),
             "repeating": f.repeating, "items": [_item(i) for i in f.items]}
            for f in p.forms if f.oid not in hidden
        ],
        "derived_items": [
            {"oid": d.oid, "label": label(d.label), "score": d.score, "inputs": dict(d.inputs)}
            for d in p.derived_items
        ],
    }  # fmt: skip
