"""Template tags of the amendment partials: the protocol version a record was written under,
and the participants asked to consent again."""

from __future__ import annotations

from django import template
from django.db.models import Count

from hepatrial.edc.errors import NotAllowed, NotFound
from hepatrial.edc.models import FormRecord, ProtocolVersion
from hepatrial.edc.permissions import Action, actor_for
from hepatrial.edc.protocols import NoActiveProtocol, active_protocol
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.reconsent import ON_STUDY, open_reconsent, reconsent_list

register = template.Library()


def _shown(version: ProtocolVersion | None) -> dict | None:
    if version is None:
        return None
    return {"version": version.version, "hash": version.content_hash[:8],
            "full_hash": version.content_hash}  # fmt: skip


@register.simple_tag
def form_protocol(view) -> dict | None:
    """The version the record on the page was saved under; for a new record, the active one."""
    record = None
    if view.repeat is not None and view.version:
        record = (
            FormRecord.objects.filter(
                visit__participant__screening_number=view.screening_number,
                visit__event_oid=view.event_oid, visit__repeat=view.visit_repeat,
                form_oid=view.form.oid, repeat=view.repeat,
            ).select_related("protocol_version").first()
        )  # fmt: skip
    if record is not None and record.protocol_version is not None:
        return _shown(record.protocol_version) | {"saved": True}
    try:
        return _shown(active_protocol()[0]) | {"saved": False}
    except NoActiveProtocol:
        return None


@register.simple_tag(takes_context=True)
def participant_protocol(context: template.Context, p) -> dict | None:
    """The version the participant was enrolled under, the versions their forms were written
    under (when not all the same), and the re-consent asked for."""
    request = context.get("request")
    if request is None:
        return None
    actor = actor_for(request.user)
    try:
        participant = participant_for(actor, p.row.screening_number, Action.VIEW_PARTICIPANTS)
    except (NotFound, NotAllowed):
        return None
    counts = (
        FormRecord.objects.filter(visit__participant=participant, version__gt=0)
        .values("protocol_version")
        .annotate(n=Count("id"))
        .order_by("protocol_version")
    )
    versions = {v.pk: v for v in ProtocolVersion.objects.filter(
        pk__in=[c["protocol_version"] for c in counts])}  # fmt: skip
    forms = [_shown(versions[c["protocol_version"]]) | {"count": c["n"]}
             for c in counts if c["protocol_version"] in versions]  # fmt: skip
    enrolled = _shown(participant.protocol_version)
    reconsent = open_reconsent(participant) if participant.status in ON_STUDY else None
    same = all(f["full_hash"] == enrolled["full_hash"] for f in forms)
    return {"enrolled": enrolled, "forms": [] if same else forms, "reconsent": reconsent,
            "can_consent": actor.can(Action.RECORD_CONSENT, participant.site.code)}  # fmt: skip


@register.simple_tag(takes_context=True)
def reconsent_rows(context: template.Context) -> list:
    """The participants asked to consent again, for the dashboard."""
    request = context.get("request")
    if request is None:
        return []
    return reconsent_list(actor_for(request.user))
