"""Pages: the dashboard (a thin view over ``edc.services.dashboard``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.permissions import actor_for
from hepatrial.edc.protocols import NoActiveProtocol, active_protocol
from hepatrial.edc.services.dashboard import dashboard as dashboard_data
from hepatrial.web.errors import error_text


def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        protocol = active_protocol()[1].protocol
    except NoActiveProtocol as exc:
        return render(request, "web/no_protocol.html", {"message": str(exc)}, status=503)
    try:
        data = dashboard_data(actor_for(request.user))
    except NotAllowed as exc:
        return render(request, "web/forbidden.html", {"message": error_text(exc)}, status=403)
    arms = [(a.code, a.label) for a in protocol.arms] if data.balance else []
    return render(request, "web/dashboard/dashboard.html", {"d": data, "arms": arms})


urlpatterns = [path("dashboard/", dashboard, name="dashboard")]
