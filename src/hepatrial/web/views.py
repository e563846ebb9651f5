from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from hepatrial.edc.protocols import NoActiveProtocol, active_protocol
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
    return render(request, "web/overview.html", context)


@login_not_required
def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the database answers. Says nothing about the trial."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
