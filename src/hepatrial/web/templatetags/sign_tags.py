"""Template tags of the verification and signature partials (participant, form, dashboard)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from hepatrial.edc.errors import NotAllowed, NotFound
from hepatrial.edc.models import FormRecord, Participant, Visit
from hepatrial.edc.permissions import Action, actor_for
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.schedule import intervention_codes, intervention_forms
from hepatrial.edc.services.signatures import MEANINGS, SignatureView, current, signatures_for
from hepatrial.edc.services.verification import (
    changed_after_verification,
    item_states,
    participant_progress,
    site_progress,
)
from hepatrial.edc.services.views import event_label
from hepatrial.web.history import shown_value
from hepatrial.web.labels import localized

register = template.Library()


def _notice(request, url: str) -> dict | None:
    notices = request.session.get("sign.notice", {})
    found = notices.pop(url, None)
    if found is not None:
        request.session["sign.notice"] = notices
        return {"kind": found[0], "text": found[1]}
    return None


def _labels(protocol) -> dict[str, str]:
    labels = {f.oid: localized(f.label) for f in protocol.forms}
    labels |= {i.oid: localized(i.label) for f in protocol.forms for i in f.items}
    return labels | {oid: localized(label) for oid, label in protocol.visit_labels().items()}


def _shown(state, item) -> dict[str, str]:
    """The state's current and verified values as a reader says them (choice labels, "not
    done"), not as stored codes."""
    choices = {c.code: c.label for c in item.choices} if item is not None else {}
    return {"shown": shown_value(state.value, choices),
            "verified_shown": shown_value(state.verified_value, choices)}  # fmt: skip


def _signature(s: SignatureView | None, labels: dict[str, str]) -> dict | None:
    if s is None:
        return None
    void = s.void_context or {}
    return {
        "name": s.printed_name, "username": s.username, "at": s.signed_at,
        "meaning": MEANINGS.get(s.meaning, s.meaning), "hash": s.content_hash, "valid": s.valid,
        "voided_at": s.voided_at, "voided_by": s.voided_by,
        "void_form": labels.get(void.get("form", ""), void.get("form", "")),
        "void_event": labels.get(void.get("event", ""), void.get("event", "")),
        "void_items": [labels.get(i, i) for i in void.get("items", [])],
        "void_date": bool(void.get("visit_date")),
        "visit": labels.get(s.event_oid, s.event_oid) if s.event_oid else "",
    }  # fmt: skip


@register.simple_tag(takes_context=True)
def participant_review(context: template.Context, p) -> dict | None:
    """Verification progress, changes after verification and signatures of participant ``p``."""
    request = context.get("request")
    if request is None:
        return None
    actor = actor_for(request.user)
    number = p.row.screening_number
    try:
        signatures = signatures_for(actor, number)
    except (NotFound, NotAllowed):
        return None
    participant = Participant.objects.get(screening_number=number)
    protocol = active_protocol()[1].protocol
    labels = _labels(protocol)
    hidden = intervention_codes(protocol) if actor.blinded_at(p.row.site) else set()
    hidden_forms = intervention_forms(protocol) if hidden else set()
    with_data = set(
        FormRecord.objects.filter(visit__participant=participant)
        .exclude(form_oid__in=sorted(hidden_forms))
        .values_list("visit_id", flat=True)
    )
    visits = []
    for visit in Visit.objects.filter(pk__in=with_data).order_by("target_date", "event_oid"):
        if visit.event_oid in hidden:
            continue
        query = f"?{urlencode({'visit': visit.repeat})}" if visit.repeat else ""
        visits.append({
            "label": localized(event_label(protocol, visit.event_oid)),
            "event_oid": visit.event_oid,
            "verify_url": reverse("visit_verify", args=[number, visit.event_oid]) + query,
            "sign_url": reverse("sign_visit", args=[number, visit.event_oid]) + query,
            "signature": _signature(current(signatures, visit.event_oid, visit.repeat), labels),
        })  # fmt: skip
    items = protocol.items()
    changed = [
        {"visit": localized(event_label(protocol, visit.event_oid)),
         "form": labels.get(form, form), "item": labels.get(state.item_oid, state.item_oid),
         "state": state, **_shown(state, items.get(state.item_oid))}
        for visit, form, state in changed_after_verification(participant)
    ]  # fmt: skip
    return {
        "progress": participant_progress(participant),
        "changed": changed,
        "visits": visits,
        "casebook": _signature(current(signatures), labels),
        "history": [_signature(s, labels) for s in signatures],
        "can_verify": actor.can(Action.VERIFY_SOURCE, p.row.site),
        "can_sign": actor.can(Action.SIGN, p.row.site),
        "sign_url": reverse("sign_casebook", args=[number]),
        "notice": _notice(request, reverse("participant", args=[number])),
    }


@register.simple_tag(takes_context=True)
def form_review(context: template.Context, view) -> dict | None:
    """Each item's verification state on a visit form page, and the visit's signature."""
    request = context.get("request")
    if request is None or view.repeat is None:
        return None
    actor = actor_for(request.user)
    protocol = active_protocol()[1].protocol
    if view.form.oid in intervention_forms(protocol) and actor.blinded_at(view.site):
        return None
    record = FormRecord.objects.filter(
        visit__participant__screening_number=view.screening_number,
        visit__event_oid=view.event_oid, visit__repeat=view.visit_repeat,
        form_oid=view.form.oid, repeat=view.repeat,
    ).first()  # fmt: skip
    if record is None:
        return None
    states = item_states(record)
    labels = _labels(protocol)
    items = [
        {"oid": item.oid, "label": localized(item.label), "state": states[item.oid],
         **_shown(states[item.oid], item)}
        for item in view.form.items
        if item.oid in states
    ]  # fmt: skip
    query = {k: v for k, v in (("repeat", view.repeat), ("visit", view.visit_repeat)) if v}
    url = reverse("visit_form_verify", args=[view.screening_number, view.event_oid,
                                             view.form.oid])  # fmt: skip
    signatures = signatures_for(actor, view.screening_number)
    return {
        "items": items,
        "verified": sum(1 for i in items if i["state"].state == "verified"),
        "can_verify": actor.can(Action.VERIFY_SOURCE, view.site),
        "verify_url": url + (f"?{urlencode(query)}" if query else ""),
        "visit_signature": _signature(
            current(signatures, view.event_oid, view.visit_repeat), labels
        ),  # fmt: skip
        "casebook": _signature(current(signatures), labels),
        "notice": _notice(request, request.get_full_path()),
    }


@register.simple_tag(takes_context=True)
def verification_by_site(context: template.Context) -> list | None:
    """(site, progress) of each site where the signed-in user sees participants."""
    request = context.get("request")
    if request is None:
        return None
    progress = site_progress(actor_for(request.user))
    return sorted(progress.items()) or None
