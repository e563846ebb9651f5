"""Page: the idle session limit, set by an administrator (a thin view over
:mod:`hepatrial.edc.services.sessions`)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from hepatrial.edc.errors import NotAllowed, ValidationFailed
from hepatrial.edc.models import SessionPolicy
from hepatrial.edc.permissions import Action, actor_for
from hepatrial.edc.services.sessions import IDLE_MINUTES, idle_seconds, set_idle_minutes
from hepatrial.problems import Problem
from hepatrial.web.errors import error_text, field_errors, status_for


def session_limit(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    if not actor.sites_for(Action.MANAGE_USERS):
        message = error_text(NotAllowed(Problem("session.administrator_only")))
        return render(request, "web/forbidden.html", {"message": message}, status=403)
    errors, status = {}, 200
    typed = request.POST.get("idle_minutes", "")
    if request.method == "POST":
        try:
            set_idle_minutes(actor, typed)
            return redirect("session_limit")
        except ValidationFailed as exc:
            errors, status = field_errors(exc), status_for(exc)
    context = {
        "minutes": typed or idle_seconds() // 60, "low": IDLE_MINUTES[0], "high": IDLE_MINUTES[1],
        "errors": errors, "history": SessionPolicy.objects.order_by("-set_at", "-id")[:20],
    }  # fmt: skip
    return render(request, "web/sessions/session_limit.html", context, status=status)


urlpatterns = [path("accounts/session-limit/", session_limit, name="session_limit")]
