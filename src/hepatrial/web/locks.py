"""Pages: locking and unlocking a casebook, a visit or a form with a reason (the lock_records
roles), and the database lock (administrators). Thin views over
:mod:`hepatrial.edc.services.record_lock` and :mod:`hepatrial.edc.services.lock`."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode

from hepatrial.edc.errors import NotAllowed, NotFound, ServiceError, ValidationFailed
from hepatrial.edc.models import DatabaseLock
from hepatrial.edc.permissions import Action, actor_for
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services import record_lock
from hepatrial.edc.services.boundary import current_lock
from hepatrial.edc.services.lock import lock_database, unlock_database
from hepatrial.edc.services.lookup import participant_for
from hepatrial.edc.services.schedule import event_label
from hepatrial.problems import Problem
from hepatrial.web.errors import error_text, field_errors, status_for
from hepatrial.web.labels import localized


def _where(request: HttpRequest) -> dict:
    """The record named by the query: ``event`` (and ``visit``), ``form`` (and ``repeat``)."""
    query = request.GET
    visit, repeat = query.get("visit", "0"), query.get("repeat", "0")
    if not visit.isdigit() or not repeat.isdigit():
        raise Http404("no such record")
    return {"event_oid": query.get("event", "")[:64], "visit_repeat": int(visit),
            "form_oid": query.get("form", "")[:64] if query.get("event") else "",
            "repeat": int(repeat)}  # fmt: skip


def _back(number: str, where: dict) -> str:
    if not where["form_oid"]:
        return reverse("participant", args=[number])
    url = reverse("visit_form", args=[number, where["event_oid"], where["form_oid"]])
    query = {k: v for k, v in (("repeat", where["repeat"]), ("visit", where["visit_repeat"])) if v}
    return f"{url}?{urlencode(query)}" if query else url


def _target_label(where: dict) -> str:
    protocol = active_protocol()[1].protocol
    if not where["event_oid"]:
        return ""
    visit = localized(event_label(protocol, where["event_oid"]))
    form = next((f for f in protocol.forms if f.oid == where["form_oid"]), None)
    return f"{localized(form.label)} · {visit}" if form else visit


def lock_page(request: HttpRequest, screening_number: str) -> HttpResponse:
    """Lock or unlock the casebook, a visit or a form: the reason asked for, then back."""
    actor = actor_for(request.user)
    where = _where(request)
    try:
        participant = participant_for(actor, screening_number, Action.LOCK_RECORDS)
    except NotFound:
        raise Http404("participant not found") from None
    except NotAllowed as exc:
        return render(request, "web/forbidden.html", {"message": error_text(exc)}, status=403)
    covering, own = record_lock.form_lock(participant, where["event_oid"], where["visit_repeat"],
                                          where["form_oid"], where["repeat"])  # fmt: skip
    if not where["event_oid"]:
        own = record_lock.locks_of(actor, participant).casebook
    elif not where["form_oid"]:
        own = next((v.lock for v in record_lock.locks_of(actor, participant).visits
                    if (v.event_oid, v.visit_repeat) == (where["event_oid"],
                                                         where["visit_repeat"])), None)  # fmt: skip
    errors, top, status = {}, "", 200
    reason = request.POST.get("reason", "")
    if request.method == "POST":
        write = record_lock.unlock_record if own else record_lock.lock_record
        try:
            write(actor, screening_number, reason, **where)
            return redirect(_back(screening_number, where))
        except NotFound:
            raise Http404("record not found") from None
        except ValidationFailed as exc:
            errors, status = field_errors(exc), status_for(exc)
        except ServiceError as exc:
            top, status = error_text(exc), status_for(exc)
    context = {
        "number": screening_number, "target": _target_label(where), "own": own,
        "covering": covering if covering != own else None, "errors": errors, "top": top,
        "reason": reason, "back": _back(screening_number, where),
    }  # fmt: skip
    return render(request, "web/locks/record_lock.html", context, status=status)


def database_lock_page(request: HttpRequest) -> HttpResponse:
    """The database lock for administrators: its state, its history, lock or reopen."""
    actor = actor_for(request.user)
    if not actor.sites_for(Action.LOCK_DATABASE):
        message = error_text(NotAllowed(Problem("database.lock_administrator_only")))
        return render(request, "web/forbidden.html", {"message": message}, status=403)
    errors, top, status = {}, "", 200
    reason = request.POST.get("reason", "")
    if request.method == "POST":
        write = unlock_database if current_lock() else lock_database
        try:
            write(actor, reason)
            return redirect("database_lock")
        except ValidationFailed as exc:
            errors, status = field_errors(exc), status_for(exc)
        except ServiceError as exc:
            top, status = error_text(exc), status_for(exc)
    context = {"lock": current_lock(), "history": DatabaseLock.objects.order_by("-locked_at")[:50],
               "errors": errors, "top": top, "reason": reason}  # fmt: skip
    return render(request, "web/locks/database_lock.html", context, status=status)


urlpatterns = [
    path("participants/<str:screening_number>/lock", lock_page, name="record_lock"),
    path("lock/", database_lock_page, name="database_lock"),
]
