"""Pages: screening and enrolment — screen a person, the eligibility checklist, consent,
randomization (with a confirmation step) and the end of participation.

Thin views over :mod:`hepatrial.edc.services.participants` and
:mod:`hepatrial.edc.services.allocation`: parse the request, call the service, render. What a page
shows is read through :mod:`hepatrial.edc.services.enrolment_steps`; service errors are rendered
with :mod:`hepatrial.web.errors`. On any error the form comes back with what the user typed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from hepatrial.edc.errors import NotAllowed, NotFound, ServiceError, ValidationFailed
from hepatrial.edc.permissions import Actor, actor_for
from hepatrial.edc.services import enrolment_steps as steps
from hepatrial.edc.services.allocation import randomize
from hepatrial.edc.services.lock import DatabaseLocked
from hepatrial.edc.services.participants import (
    assess_eligibility,
    end_participation,
    record_consent,
    screen,
)
from hepatrial.web.errors import error_text, field_errors, status_for

GET_POST = require_http_methods(["GET", "POST"])


class Refused(Exception):
    """A service refused in a way that replaces the page: not found (404) or not allowed (403)."""

    def __init__(self, error: ServiceError):
        self.error = error


@dataclass
class Problems:
    """What went wrong with a submitted form: messages beside fields, messages above the form."""

    fields: dict[str, str] = field(default_factory=dict)
    top: list[str] = field(default_factory=list)
    status: int = 200

    def __bool__(self) -> bool:
        return bool(self.fields or self.top)

    def context(self) -> dict:
        return {"errors": self.fields, "top": self.top}


def _attempt(write: Callable[[], object], fields: tuple[str, ...]) -> tuple[object, Problems]:
    """Run a service write: its result, or what to show on the form that is sent back.

    Another site's participant (404) and a role that may not (403) replace the page; a locked
    database is said above the form instead, so that nothing the user typed is lost.
    """
    try:
        return write(), Problems()
    except DatabaseLocked as exc:
        return None, Problems(top=[error_text(exc)], status=status_for(exc))
    except (NotFound, NotAllowed) as exc:
        raise Refused(exc) from None
    except ValidationFailed as exc:
        errors = field_errors(exc)
        return None, Problems(
            {k: v for k, v in errors.items() if k in fields},
            [v for k, v in errors.items() if k not in fields],
            status_for(exc),
        )
    except ServiceError as exc:
        return None, Problems(top=[error_text(exc)], status=status_for(exc))


def _read(read: Callable, actor: Actor, screening_number: str):
    """What a page shows, or :class:`Refused` for another site's participant or a refused role."""
    try:
        return read(actor, screening_number)
    except (NotFound, NotAllowed) as exc:
        raise Refused(exc) from None


def refusable(view: Callable) -> Callable:
    """Turn :class:`Refused` into a 404 or a 403 page, so each view reads straight through."""

    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Refused as exc:
            if isinstance(exc.error, NotFound):
                raise Http404(error_text(exc.error)) from None
            context = {"message": error_text(exc.error)}
            return render(request, "web/forbidden.html", context, status=status_for(exc.error))

    wrapper.__name__, wrapper.__doc__ = view.__name__, view.__doc__
    return GET_POST(wrapper)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def _datetime(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None


def _participant(screening_number: str) -> HttpResponse:
    return redirect("participant", screening_number=screening_number)


@refusable
def screen_person(request: HttpRequest) -> HttpResponse:
    """Screen a person at one of the user's sites; they get the site's next screening number."""
    actor = actor_for(request.user)
    sites = steps.screening_sites(actor)
    if not sites:
        raise Refused(NotAllowed(gettext("Your role may not screen people at any site.")))
    today = timezone.localdate()
    values = {
        "site": request.POST.get("site", sites[0].code if len(sites) == 1 else ""),
        "screened_on": request.POST.get("screened_on", today.isoformat()),
    }
    problems = Problems()
    if request.method == "POST":
        screened_on = _date(values["screened_on"])
        if not values["site"]:
            problems.fields["site"] = gettext("Choose the site where the person is screened.")
        if screened_on is None:
            problems.fields["screened_on"] = gettext("Enter the screening date (year-month-day).")
        if problems:
            problems.status = 400
        else:
            participant, problems = _attempt(
                lambda: screen(actor, values["site"], screened_on), ("site", "screened_on")
            )
            if not problems:
                return _participant(participant.screening_number)
    context = {"sites": sites, "values": values, "today": today, **problems.context()}
    return render(request, "web/enrolment/screen.html", context, status=problems.status)


@refusable
def eligibility(request: HttpRequest, screening_number: str) -> HttpResponse:
    """The protocol's eligibility checklist; a saved checklist changes only with a reason."""
    actor = actor_for(request.user)
    checklist = _read(steps.checklist, actor, screening_number)
    answers = {c.oid: c.answer for c in checklist.criteria}
    reason = ""
    problems = Problems()
    if request.method == "POST":
        answers = {c.oid: request.POST.get(c.oid, "") for c in checklist.criteria}
        reason = request.POST.get("reason", "")
        _, problems = _attempt(
            lambda: assess_eligibility(actor, screening_number, answers, reason=reason),
            (*answers, "reason"),
        )
        if not problems:
            return _participant(screening_number)
    context = {
        "c": checklist,
        "groups": [
            (gettext("Inclusion criteria"), checklist.inclusion),
            (gettext("Exclusion criteria"), checklist.exclusion),
        ],
        "answers": answers,
        "reason": reason,
        **problems.context(),
    }
    return render(request, "web/enrolment/eligibility.html", context, status=problems.status)


@refusable
def consent(request: HttpRequest, screening_number: str) -> HttpResponse:
    """The informed consent: document version and when it was signed."""
    actor = actor_for(request.user)
    step = _read(steps.consent_step, actor, screening_number)
    now = timezone.localtime().replace(second=0, microsecond=0, tzinfo=None)
    values = {
        "document_version": request.POST.get("document_version", step.reconsent),
        "signed_at": request.POST.get("signed_at", now.isoformat(timespec="minutes")),
    }
    problems = Problems()
    if request.method == "POST":
        signed_at = _datetime(values["signed_at"])
        if signed_at is None:
            text = gettext("Enter the date and time the consent form was signed.")
            problems = Problems({"signed_at": text}, status=400)
        else:
            _, problems = _attempt(
                lambda: record_consent(
                    actor, screening_number, values["document_version"], signed_at
                ),
                ("document_version", "signed_at"),
            )
            if not problems:
                return _participant(screening_number)
    context = {
        "step": step,
        "values": values,
        "now": now.isoformat(timespec="minutes"),
        **problems.context(),
    }
    return render(request, "web/enrolment/consent.html", context, status=problems.status)


@refusable
def randomization(request: HttpRequest, screening_number: str) -> HttpResponse:
    """Randomize after a confirmation; afterwards the page shows the randomization.

    The first request (GET, or a POST without ``confirm``) only says what will happen. A POST
    with ``confirm`` calls the service; a repeated one (two clicks, back and resubmit) is refused
    by the service because the participant is no longer consented, and is shown as "already
    randomized" with the randomization on file — one allocation, never two.
    """
    actor = actor_for(request.user)
    step = _read(steps.randomization_step, actor, screening_number)
    refusal = NotAllowed(gettext("Your role may not randomize participants at this site."))
    problems = Problems()
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        if not step.may_randomize:
            raise Refused(refusal)
        _, problems = _attempt(lambda: randomize(actor, screening_number), ())
        if not problems:
            return redirect(reverse("randomization", args=[screening_number]) + "?done=1")
        step = _read(steps.randomization_step, actor, screening_number)
        if step.randomization_number:
            context = {"step": step, "already": True}
            return render(request, "web/enrolment/randomization.html", context, status=409)
    if not step.randomization_number and not step.may_randomize:
        raise Refused(refusal)
    context = {
        "step": step,
        "problems": problems.top,
        "today": timezone.localdate(),
        "done": request.GET.get("done") == "1",
    }
    return render(request, "web/enrolment/randomization.html", context, status=problems.status)


@refusable
def end(request: HttpRequest, screening_number: str) -> HttpResponse:
    """The end of a randomized participant's participation, with its date and reason."""
    actor = actor_for(request.user)
    step = _read(steps.end_step, actor, screening_number)
    today = timezone.localdate()
    values = {
        "status": request.POST.get("status", ""),
        "ended_on": request.POST.get("ended_on", today.isoformat()),
        "reason": request.POST.get("reason", ""),
    }
    problems = Problems()
    if request.method == "POST":
        ended_on = _date(values["ended_on"])
        if not values["status"]:
            problems.fields["status"] = gettext("Choose how participation ended.")
        if ended_on is None:
            text = gettext("Enter the date participation ended (year-month-day).")
            problems.fields["ended_on"] = text
        if problems:
            problems.status = 400
        else:
            _, problems = _attempt(
                lambda: end_participation(
                    actor, screening_number, values["status"], ended_on, values["reason"]
                ),
                ("status", "ended_on", "reason"),
            )
            if not problems:
                return _participant(screening_number)
    context = {"step": step, "values": values, "today": today, **problems.context()}
    return render(request, "web/enrolment/end.html", context, status=problems.status)


urlpatterns = [
    path("screen/", screen_person, name="screen"),
    path("participants/<str:screening_number>/eligibility/", eligibility, name="eligibility"),
    path("participants/<str:screening_number>/consent/", consent, name="consent"),
    path(
        "participants/<str:screening_number>/randomization/",
        randomization,
        name="randomization",
    ),
    path("participants/<str:screening_number>/end/", end, name="end_participation"),
]
