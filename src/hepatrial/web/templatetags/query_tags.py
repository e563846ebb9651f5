"""Template tags of the data-query partials: queries on a visit form, counts on pages."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from hepatrial.edc.errors import NotAllowed, NotFound
from hepatrial.edc.models import Query
from hepatrial.edc.permissions import Action, actor_for
from hepatrial.edc.services.queries import open_queries_on_form, participant_queries, query_counts
from hepatrial.web.errors import problem_text
from hepatrial.web.templatetags.hepatrial_tags import label

register = template.Library()
register.filter("label", label)

STATE_LABELS = dict(Query.State.choices)


@register.filter
def query_state(code: str) -> str:
    return STATE_LABELS.get(code, code)


@register.filter
def query_text(row) -> str:
    """A query's question: an automatic one's rule in the reader's language."""
    return problem_text(row.problem) if row.problem is not None else row.text


def raise_url(number: str, **place: object) -> str:
    query = {k: v for k, v in place.items() if v not in ("", None, 0)}
    url = reverse("query_raise", args=[number])
    return f"{url}?{urlencode(query)}" if query else url


@register.simple_tag(takes_context=True)
def form_queries(context: template.Context, view) -> dict:
    """The open queries of the visit form being shown, by item (``""``: the form or visit),
    computed once per request (each item's include asks again); and where the monitor raises
    one."""
    request = context.get("request")
    cache = getattr(request, "_form_queries", None) if request is not None else None
    key = (view.screening_number, view.event_oid, view.visit_repeat, view.form.oid, view.repeat)
    if cache is not None and key in cache:
        return cache[key]
    found: dict = {"items": {}, "form": [], "can_raise": False, "raise_url": ""}
    if request is not None and view.repeat is not None:
        actor = actor_for(request.user)
        rows = open_queries_on_form(actor, view.screening_number, view.event_oid,
                                    view.visit_repeat, view.form.oid, view.repeat)  # fmt: skip
        for row in rows:
            if row.item_oid and row.form_oid == view.form.oid:
                found["items"].setdefault(row.item_oid, []).append(row)
            else:
                found["form"].append(row)
        found["can_raise"] = actor.can(Action.RAISE_QUERY, view.site)
        found["place"] = {"event": view.event_oid, "visit": view.visit_repeat,
                          "form": view.form.oid, "repeat": view.repeat}  # fmt: skip
        found["raise_url"] = raise_url(view.screening_number, **found["place"])
    if request is not None:
        request._form_queries = (cache or {}) | {key: found}
    return found


@register.simple_tag
def item_raise_url(found: dict, number: str, item_oid: str) -> str:
    return raise_url(number, **found.get("place", {}), item=item_oid)


@register.simple_tag(takes_context=True)
def participant_query_summary(context: template.Context, p) -> dict | None:
    """The participant page's query card: counts by state and the open ones."""
    request = context.get("request")
    if request is None:
        return None
    actor = actor_for(request.user)
    number = p.row.screening_number
    try:
        rows = participant_queries(actor, number)
    except (NotFound, NotAllowed):
        return None
    return {
        "counts": query_counts(rows),
        "pending": [r for r in rows if r.state != Query.State.CLOSED],
        "can_raise": actor.can(Action.RAISE_QUERY, p.row.site),
        "raise_url": raise_url(number),
        "inbox_url": f"{reverse('queries')}?{urlencode({'participant': number, 'state': 'all'})}",
    }


@register.filter
def get_query_rows(items: dict, item_oid: str) -> list:
    return items.get(item_oid, [])
