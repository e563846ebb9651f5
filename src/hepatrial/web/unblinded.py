"""Pages: the cell-therapy team's allocation list, and an investigator's emergency unblinding.

The arm an investigator unblinds is shown once, on the answer to the confirmed request, and
nowhere else; that answer is not cached, so the browser's back button does not show it again.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from hepatrial.edc.errors import NotAllowed, NotFound, ServiceError, ValidationFailed
from hepatrial.edc.permissions import Action, actor_for
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.allocation import emergency_unblind
from hepatrial.edc.services.allocation_views import allocation_overview, arm_view
from hepatrial.edc.services.views import participant_detail
from hepatrial.web.errors import error_text, field_errors, status_for
from hepatrial.web.labels import localized


def _forbidden(request: HttpRequest, error: ServiceError) -> HttpResponse:
    return render(request, "web/forbidden.html", {"message": error_text(error)}, status=403)


def allocation_list(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    try:
        overview = allocation_overview(actor)
    except NotAllowed as exc:
        return _forbidden(request, exc)
    rows = [
        {
            "screening_number": r.screening_number,
            "site": r.site,
            "randomization_number": r.randomization_number,
            "stratum": " · ".join(localized(label) for label in r.stratum_labels),
            "arm_code": r.arm.code,
            "arm": localized(r.arm.label),
            "allocated_at": r.allocated_at,
            "allocated_by": r.allocated_by,
            "emergency_unblinded": r.emergency_unblinded,
        }
        for r in overview.rows
    ]
    balance = [
        {
            "stratum": " · ".join(localized(label) for label in b.stratum_labels),
            "counts": b.counts,
            "total": b.total,
        }
        for b in overview.balance
    ]
    context = {
        "arms": [{"code": a.code, "label": localized(a.label)} for a in overview.arms],
        "rows": rows,
        "balance": balance,
    }
    return render(request, "web/unblinded/allocation.html", context)


def unblind(request: HttpRequest, screening_number: str) -> HttpResponse:
    """GET: what unblinding means and the request form. POST: unblind, show the arm once."""
    actor = actor_for(request.user)
    try:
        participant = participant_detail(actor, screening_number)
    except NotFound:
        raise Http404(screening_number) from None
    except NotAllowed as exc:
        return _forbidden(request, exc)
    if not actor.can(Action.EMERGENCY_UNBLIND, participant.row.site):
        message = _("Only an investigator of this site may unblind a participant.")
        return render(request, "web/forbidden.html", {"message": message}, status=403)
    context = {"p": participant, "reason": "", "errors": {}}
    if not participant.row.randomization_number:
        context["errors"] = {"form": _("%(number)s is not randomized: there is no arm to unblind.")
                             % {"number": screening_number}}  # fmt: skip
        return render(request, "web/unblinded/unblind.html", context, status=409)
    if request.method != "POST":
        return render(request, "web/unblinded/unblind.html", context)
    context["reason"] = request.POST.get("reason", "")
    context["confirmed"] = request.POST.get("confirm") == "yes"
    if not context["confirmed"]:
        context["errors"] = {"confirm": _("Tick the box to confirm that you need to unblind.")}
        return render(request, "web/unblinded/unblind.html", context, status=400)
    try:
        arm = emergency_unblind(actor, screening_number, context["reason"])
    except ValidationFailed as exc:
        context["errors"] = field_errors(exc)
        return render(request, "web/unblinded/unblind.html", context, status=400)
    except ServiceError as exc:
        context["errors"] = {"form": error_text(exc)}
        return render(request, "web/unblinded/unblind.html", context, status=status_for(exc))
    shown = arm_view(active_protocol()[1].protocol, arm)
    response = render(
        request,
        "web/unblinded/unblinded.html",
        {"p": participant, "arm": localized(shown.label), "arm_code": shown.code,
         "reason": context["reason"].strip()},
    )  # fmt: skip
    response["Cache-Control"] = "no-store"
    return response


urlpatterns: list = [
    path("allocation/", allocation_list, name="allocation_list"),
    path("participants/<str:screening_number>/unblind/", unblind, name="emergency_unblind"),
]
