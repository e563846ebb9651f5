from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from hepatrial.edc.errors import NotAllowed, NotFound
from hepatrial.edc.permissions import Action, actor_for
from hepatrial.edc.protocols import NoActiveProtocol, active_protocol
from hepatrial.edc.services.enrolment import allocation_balance, enrolment_summary, notices_for
from hepatrial.edc.services.views import list_participants, participant_detail
from hepatrial.protocol.summary import day_range, window_text
from hepatrial.web.labels import localized


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
            "window": window_text(e),
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
                    "route": i.route,
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
    context["notices"] = notices_for(actor)
    return render(request, "web/overview.html", context)


def participants(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    if not actor.sites_for(Action.VIEW_PARTICIPANTS):
        return render(request, "web/forbidden.html", {"message": "Your role has no access to "
                      "individual participants."}, status=403)  # fmt: skip
    rows = list_participants(actor)
    show_arm = any(r.arm for r in rows)
    return render(request, "web/participants.html", {"rows": rows, "show_arm": show_arm})


def participant(request: HttpRequest, screening_number: str) -> HttpResponse:
    actor = actor_for(request.user)
    try:
        view = participant_detail(actor, screening_number)
    except NotFound:
        raise Http404(f"participant {screening_number} not found") from None
    except NotAllowed as exc:
        return render(request, "web/forbidden.html", {"message": str(exc)}, status=403)
    site = view.row.site
    can = {action.value: actor.can(action, site) for action in Action}
    return render(request, "web/participant.html", {"p": view, "can": can})


@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the database answers. Says nothing about the trial."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
