"""Template tags of the capture pages: the participant page's "Enter data" card."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from hepatrial.edc.errors import NotAllowed, NotFound
from hepatrial.edc.permissions import actor_for
from hepatrial.edc.services.preview import DataEntry, data_entry
from hepatrial.edc.services.schedule import VISIT_STATUS_LABELS
from hepatrial.web.capture import shown_value
from hepatrial.web.labels import localized
from hepatrial.web.templatetags.hepatrial_tags import label

register = template.Library()

VISIT_STATES = VISIT_STATUS_LABELS


register.filter("label", label)


@register.filter
def visit_state(state: str) -> str:
    return VISIT_STATES.get(state, state)


def _url(number: str, event_oid: str, form_oid: str, **query: object) -> str:
    url = reverse("visit_form", args=[number, event_oid, form_oid])
    query = {k: v for k, v in query.items() if v not in (None, 0)}
    return f"{url}?{urlencode(query)}" if query else url


@register.simple_tag(takes_context=True)
def enter_data(context: template.Context, p) -> dict | None:
    """The forms the signed-in user may open for participant ``p``, with their links."""
    request = context.get("request")
    if request is None:
        return None
    number = p.row.screening_number
    try:
        entry: DataEntry = data_entry(actor_for(request.user), number, p.visits)
    except (NotFound, NotAllowed):
        return None
    visits = [
        {
            "label": localized(v.label),
            "event_oid": v.event_oid,
            "status": v.status,
            "date": v.visit_date or v.target_date,
            "intervention": v.intervention,
            "forms": [
                {
                    "label": localized(f.form.label),
                    "saved": f.saved,
                    "url": _url(number, v.event_oid, f.form.oid, visit=v.visit_repeat),
                }
                for f in v.forms
            ],  # fmt: skip
        }
        for v in entry.visits
    ]
    logs = []
    for log in entry.log_forms:
        first, event, oid = log.form.items[0], log.event_oid, log.form.oid
        records = [
            {"number": r.repeat + 1, "url": _url(number, event, oid, repeat=r.repeat),
             "summary": shown_value(first, r.values[first.oid]) if first.oid in r.values else ""}
            for r in log.records
        ]  # fmt: skip
        logs.append({"label": localized(log.form.label), "oid": oid, "records": records,
                     "new_url": _url(number, event, oid, repeat="new")})  # fmt: skip
    new_visits = [
        {"label": localized(v.label), "event_oid": v.event_oid,
         "forms": [{"label": localized(f.form.label), "url": _url(number, v.event_oid, f.form.oid,
                                                 visit=v.visit_repeat)}
                   for f in v.forms]}
        for v in entry.new_visits
    ]  # fmt: skip
    return {"visits": visits, "logs": logs, "new_visits": new_visits,
            "can_enter": entry.can_enter}  # fmt: skip
