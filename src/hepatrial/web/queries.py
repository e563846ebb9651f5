"""Pages: data queries — the inbox, raising a query, a query's thread (thin views over
``edc.services.queries``)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext

from hepatrial.edc.errors import NotAllowed, NotFound, PreconditionFailed, ValidationFailed
from hepatrial.edc.models import Query
from hepatrial.edc.permissions import Action, actor_for
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.queries import (
    answer_query,
    close_query,
    query_inbox,
    query_thread,
    raise_query,
    reopen_query,
)
from hepatrial.edc.services.schedule import intervention_codes, intervention_forms
from hepatrial.edc.services.views import participant_detail
from hepatrial.web.errors import error_text, field_errors, status_for
from hepatrial.web.labels import localized

STATES = Query.State


def _forbidden(request: HttpRequest, exc: NotAllowed) -> HttpResponse:
    return render(request, "web/forbidden.html", {"message": error_text(exc)}, status=403)


def inbox(request: HttpRequest) -> HttpResponse:
    """The signed-in user's queries; ``site``, ``participant`` and ``state`` (``all``) filter."""
    actor = actor_for(request.user)
    if not actor.sites_for(Action.VIEW_PARTICIPANTS):
        message = gettext("Your role does not see participants, so it has no data queries.")
        return render(request, "web/forbidden.html", {"message": message}, status=403)
    state = request.GET.get("state", "")
    states = None
    if state == "all":
        states = ()
    elif state in STATES.values:
        states = (state,)
    site = request.GET.get("site", "")[:32]
    participant = request.GET.get("participant", "").strip()[:32]
    found = query_inbox(actor, site=site, participant=participant, states=states)
    return render(request, "web/queries/inbox.html", {
        "inbox": found, "state": state, "site": site, "participant": participant,
        "states": STATES.choices,
    })  # fmt: skip


def _int(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0


def _place(data) -> dict:
    return {
        "event_oid": data.get("event", "")[:64], "visit_repeat": _int(data.get("visit")),
        "form_oid": data.get("form", "")[:64], "form_repeat": _int(data.get("repeat")),
        "item_oid": data.get("item", "")[:64],
    }  # fmt: skip


def _place_labels(place: dict) -> dict:
    protocol = active_protocol()[1].protocol
    labels = protocol.visit_labels()
    form = next((f for f in protocol.forms if f.oid == place["form_oid"]), None)
    item = protocol.items().get(place["item_oid"])
    return {
        "event": localized(labels[place["event_oid"]]) if place["event_oid"] in labels else "",
        "form": localized(form.label) if form else "",
        "item": localized(item.label) if item else "",
    }


def raise_page(request: HttpRequest, screening_number: str) -> HttpResponse:
    """The monitor's form to raise a query on the participant, a visit, a form or an item."""
    actor = actor_for(request.user)
    try:
        participant_for(actor, screening_number, Action.RAISE_QUERY)
        view = participant_detail(actor, screening_number)
    except NotFound:
        raise Http404("participant not found") from None
    except NotAllowed as exc:
        return _forbidden(request, exc)
    data = request.POST if request.method == "POST" else request.GET
    place = _place(data)
    protocol = active_protocol()[1].protocol
    arm_only = intervention_codes(protocol) | intervention_forms(protocol)
    if actor.blinded_at(view.row.site) and {place["event_oid"], place["form_oid"]} & arm_only:
        raise Http404("not found")
    errors, text, status = {}, data.get("text", ""), 200
    if request.method == "POST":
        try:
            query = raise_query(actor, screening_number, text, **place)
        except ValidationFailed as exc:
            errors, status = field_errors(exc), 400
        except (NotFound, PreconditionFailed, NotAllowed) as exc:
            errors, status = {"form": error_text(exc)}, status_for(exc)
        else:
            return redirect("query", screening_number, query.pk)
    visits = [(v.event_oid, localized(v.label)) for v in view.visits if v.event_oid]
    return render(request, "web/queries/raise.html", {
        "number": screening_number, "place": place, "labels": _place_labels(place),
        "visits": visits, "errors": errors, "text": text,
    }, status=status)  # fmt: skip


ACTIONS = {"answer": answer_query, "close": close_query, "reopen": reopen_query}


def thread(request: HttpRequest, screening_number: str, query_id: str) -> HttpResponse:
    """One query, its messages and the answer / close / reopen forms the user may use."""
    actor = actor_for(request.user)
    try:
        query = query_thread(actor, screening_number, query_id)
    except NotFound:
        raise Http404("query not found") from None
    except NotAllowed as exc:
        return _forbidden(request, exc)
    errors, status, text = {}, 200, ""
    if request.method == "POST":
        act = ACTIONS.get(request.POST.get("action", ""))
        text = request.POST.get("text", "")
        if act is None:
            errors, status = {"form": ""}, 400
        else:
            try:
                act(actor, screening_number, query.id, text)
            except ValidationFailed as exc:
                errors, status = field_errors(exc), 400
            except (NotFound, PreconditionFailed, NotAllowed) as exc:
                errors, status = {"form": error_text(exc)}, status_for(exc)
            else:
                return redirect("query", screening_number, query.id)
    site = query.site
    form_url = ""
    if query.form_oid:
        form_url = reverse("visit_form", args=[screening_number, query.event_oid, query.form_oid])
        extra = {k: v for k, v in (("repeat", query.form_repeat),
                                    ("visit", query.visit_repeat)) if v}  # fmt: skip
        if extra:
            form_url += "?" + urlencode(extra)
    return render(request, "web/queries/thread.html", {
        "q": query, "errors": errors, "text": text, "form_url": form_url,
        "can_answer": actor.can(Action.ANSWER_QUERY, site) and query.state == STATES.OPEN,
        "can_close": actor.can(Action.CLOSE_QUERY, site) and query.state != STATES.CLOSED,
        "can_reopen": actor.can(Action.CLOSE_QUERY, site) and query.state == STATES.CLOSED,
    }, status=status)  # fmt: skip


urlpatterns = [
    path("queries/", inbox, name="queries"),
    path("participants/<str:screening_number>/queries/new", raise_page, name="query_raise"),
    path("participants/<str:screening_number>/queries/<str:query_id>/", thread, name="query"),
]
