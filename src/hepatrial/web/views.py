from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from hepatrial.edc.errors import NotAllowed, NotFound
from hepatrial.edc.models import ParticipantStatus
from hepatrial.edc.permissions import Action, actor_for
from hepatrial.edc.protocols import NoActiveProtocol, active_protocol
from hepatrial.edc.services.enrolment import (
    SEES_ENROLMENT,
    allocation_balance,
    enrolment_summary,
    notices_for,
)
from hepatrial.edc.services.listing import ParticipantFilter, participant_page
from hepatrial.edc.services.views import participant_detail
from hepatrial.web.errors import error_text
from hepatrial.web.labels import localized
from hepatrial.web.templatetags.hepatrial_tags import day_range, route, window


def overview(request: HttpRequest) -> HttpResponse:
    try:
        version, loaded = active_protocol()
    except NoActiveProtocol as exc:
        return render(request, "web/no_protocol.html", {"message": str(exc)}, status=503)
    p = loaded.protocol
    events = [
        {
            "oid": e.oid,
            "label": localized(e.label),
            "kind": e.kind.value,
            "day": e.day,
            "window": window(e),
            "days": day_range(e),
            "forms": [localized(f.label) for f in p.forms if e.oid in f.events],
        }
        for e in p.events
    ]
    arms = [
        {
            "code": a.code,
            "label": localized(a.label),
            "ratio": a.ratio,
            "interventions": [
                {
                    "label": localized(i.label),
                    "day": i.study_day,
                    "window": i.window,
                    "dose": f"{i.dose.amount:g} {i.dose.unit}",
                    "route": route(i.route),
                }
                for i in a.interventions
            ],
        }
        for a in p.arms
    ]
    context = {
        "version": version,
        "study": p.study,
        "title": localized(p.study.title),
        "sites": [localized(s.name) for s in p.study.sites],
        "arms": arms,
        "events": events,
        "endpoints": [
            {"code": e.code, "label": localized(e.label), "kind": e.kind.value}
            for e in p.analysis.endpoints
        ],
        "memberships": request.user.memberships.select_related("site"),
    }
    actor = actor_for(request.user)
    try:
        context["enrolment"] = enrolment_summary(actor)
    except NotAllowed:
        context["enrolment"] = None
    try:
        context["balance"] = allocation_balance(actor)
    except NotAllowed:
        context["balance"] = None
    context["can_list"] = bool(actor.sites_for(Action.VIEW_PARTICIPANTS))
    context["can_dashboard"] = any(actor.sites_for(action) for action in SEES_ENROLMENT)
    context["notices"] = notices_for(actor)
    return render(request, "web/overview.html", context)


def _number(text: str | None, default: int = 1) -> int:
    try:
        return max(1, int(text or default))
    except ValueError:
        return default


def participants(request: HttpRequest) -> HttpResponse:
    """The participant list; query ``q`` (a number), ``status``, ``stratum``, ``overdue``."""
    actor = actor_for(request.user)
    status = request.GET.get("status", "")
    wanted = ParticipantFilter(
        query=request.GET.get("q", "")[:64],
        status=status if status in ParticipantStatus.values else "",
        stratum=request.GET.get("stratum", "")[:64],
        overdue=request.GET.get("overdue") == "1",
    )
    try:
        listing = participant_page(actor, wanted, page=_number(request.GET.get("page")))
    except NotAllowed as exc:
        return render(request, "web/forbidden.html", {"message": error_text(exc)}, status=403)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "web/participants.html",
        {"page": listing, "wanted": wanted, "query": query.urlencode()},
    )  # fmt: skip


def participant(request: HttpRequest, screening_number: str) -> HttpResponse:
    actor = actor_for(request.user)
    try:
        view = participant_detail(actor, screening_number)
    except NotFound:
        raise Http404(f"participant {screening_number} not found") from None
    except NotAllowed as exc:
        return render(request, "web/forbidden.html", {"message": error_text(exc)}, status=403)
    site = view.row.site
    can = {action.value: actor.can(action, site) for action in Action}
    return render(request, "web/participant.html", {"p": view, "can": can})


@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: this process answers requests. Touches nothing, says nothing about the trial.

    A failing liveness probe restarts the process; a database outage must not do that (every
    worker would be restarted for nothing), so the database is the readiness check's business.
    """
    return JsonResponse({"status": "ok"})


@login_not_required
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers and holds an active protocol, so saves can be served.

    503 with a reason code otherwise, for the proxy or the orchestrator to stop sending
    requests here. No trial data in either answer.
    """
    try:
        active_protocol()
    except NoActiveProtocol:
        return JsonResponse({"status": "unavailable", "reason": "protocol.none_active"}, status=503)
    except DatabaseError as exc:
        reason = {"status": "unavailable", "reason": "database.unavailable",
                  "error": type(exc).__name__}  # fmt: skip
        return JsonResponse(reason, status=503)
    return JsonResponse({"status": "ready"})
