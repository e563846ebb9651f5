"""Pages: source-data verification by the monitor and signatures by the investigator.

Thin views over :mod:`hepatrial.edc.services.verification` and
:mod:`hepatrial.edc.services.signatures`. Verification buttons live on the visit form page
(``web/sign/_form.html``) and the participant page (``web/sign/_participant.html``); they post
here and come back to the page they were on with a one-time notice. Signing is a page of its
own that shows what is signed and what the signature means, and asks for the password again.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext

from hepatrial.edc.errors import NotAllowed, NotFound, PreconditionFailed, ValidationFailed
from hepatrial.edc.models import User
from hepatrial.edc.permissions import Action, actor_for
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.signatures import (
    CASEBOOK_MEANINGS,
    MEANINGS,
    VISIT_MEANINGS,
    WrongPassword,
    current,
    printed_name,
    sign,
    signatures_for,
)
from hepatrial.edc.services.verification import verify_source
from hepatrial.edc.services.views import event_label, participant_detail
from hepatrial.web.errors import error_text, field_errors, status_for
from hepatrial.web.labels import localized

NOTICE = "sign.notice"
"""Session key: page URL → (kind, message) shown once on that page after a verification."""


def flash(request: HttpRequest, url: str, kind: str, message: str) -> None:
    notices = request.session.get(NOTICE, {})
    notices[url] = [kind, message]
    request.session[NOTICE] = notices


def _digits(text: str | None) -> int:
    if text is None or text == "":
        return 0
    if not text.isdigit():
        raise Http404("no such record")
    return int(text)


def _post_only(request: HttpRequest) -> HttpResponse | None:
    return None if request.method == "POST" else HttpResponse(status=405)


def visit_form_verify(request: HttpRequest, screening_number: str, event_oid: str,
                      form_oid: str) -> HttpResponse:  # fmt: skip
    """Verify the items ticked on a visit form page (``item``), or the whole form record."""
    if (refused := _post_only(request)) is not None:
        return refused
    repeat, visit_repeat = _digits(request.GET.get("repeat")), _digits(request.GET.get("visit"))
    back = reverse("visit_form", args=[screening_number, event_oid, form_oid])
    query = {k: v for k, v in (("repeat", repeat), ("visit", visit_repeat)) if v}
    back += f"?{urlencode(query)}" if query else ""
    whole = request.POST.get("scope") == "form"
    items = None if whole else request.POST.getlist("item")
    try:
        count = verify_source(actor_for(request.user), screening_number, event_oid,
                              form_oid=form_oid, items=items, repeat=repeat,
                              visit_repeat=visit_repeat)  # fmt: skip
    except NotFound:
        raise Http404("form not found") from None
    except NotAllowed as exc:
        return render(request, "web/forbidden.html", {"message": error_text(exc)}, status=403)
    except (ValidationFailed, PreconditionFailed) as exc:
        flash(request, back, "warn", error_text(exc))
        return redirect(back)
    flash(request, back, "ok", _verified_text(count))
    return redirect(back)


def _verified_text(count: int) -> str:
    if not count:
        return gettext("Everything chosen was already verified.")
    return ngettext("Verified: %(n)d item.", "Verified: %(n)d items.", count) % {"n": count}


def visit_verify(request: HttpRequest, screening_number: str, event_oid: str) -> HttpResponse:
    """Verify every form of a visit, from the participant page."""
    if (refused := _post_only(request)) is not None:
        return refused
    visit_repeat = _digits(request.GET.get("visit"))
    back = reverse("participant", args=[screening_number])
    try:
        count = verify_source(actor_for(request.user), screening_number, event_oid,
                              visit_repeat=visit_repeat)  # fmt: skip
    except NotFound:
        raise Http404("visit not found") from None
    except NotAllowed as exc:
        return render(request, "web/forbidden.html", {"message": error_text(exc)}, status=403)
    except (ValidationFailed, PreconditionFailed) as exc:
        flash(request, back, "warn", error_text(exc))
        return redirect(back + "#review")
    flash(request, back, "ok", _verified_text(count))
    return redirect(back + "#review")


def _sign_page(request: HttpRequest, screening_number: str, event_oid: str | None) -> HttpResponse:
    actor = actor_for(request.user)
    visit_repeat = _digits(request.GET.get("visit"))
    try:
        view = participant_detail(actor, screening_number)
        actor.require(Action.SIGN, view.row.site)
        signatures = signatures_for(actor, screening_number)
    except NotFound:
        raise Http404("participant not found") from None
    except NotAllowed as exc:
        return render(request, "web/forbidden.html", {"message": error_text(exc)}, status=403)
    protocol = active_protocol()[1].protocol
    if event_oid is not None and not any(v.event_oid == event_oid for v in view.visits):
        raise Http404("visit not found")
    allowed = VISIT_MEANINGS if event_oid else CASEBOOK_MEANINGS
    meaning = request.POST.get("meaning", allowed[0])
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            sign(actor, screening_number, request.POST.get("password", ""), meaning,
                 event_oid=event_oid, visit_repeat=visit_repeat)  # fmt: skip
        except (WrongPassword, ValidationFailed) as exc:
            errors, status = field_errors(exc), status_for(exc)
        except (PreconditionFailed, NotAllowed) as exc:
            errors, status = {"form": error_text(exc)}, status_for(exc)
        except NotFound:
            raise Http404("visit not found") from None
        else:
            back = reverse("participant", args=[screening_number])
            flash(request, back, "ok", gettext("Signed."))
            return redirect(back + "#review")
    context = {
        "p": view,
        "event_oid": event_oid or "",
        "visit_label": localized(event_label(protocol, event_oid)) if event_oid else "",
        "meanings": [(code, MEANINGS[code]) for code in allowed],
        "meaning": meaning,
        "printed_name": printed_name(User.objects.get(pk=actor.user_id)),
        "errors": errors,
        "last": current(signatures, event_oid or "", visit_repeat),
        "visits": [v for v in view.visits if v.visit_date or v.records],
    }
    return render(request, "web/sign/sign.html", context, status=status)


def sign_casebook(request: HttpRequest, screening_number: str) -> HttpResponse:
    return _sign_page(request, screening_number, None)


def sign_visit(request: HttpRequest, screening_number: str, event_oid: str) -> HttpResponse:
    return _sign_page(request, screening_number, event_oid)


urlpatterns = [
    path("participants/<str:screening_number>/visits/<str:event_oid>/forms/<str:form_oid>/verify",
         visit_form_verify, name="visit_form_verify"),
    path("participants/<str:screening_number>/visits/<str:event_oid>/verify", visit_verify,
         name="visit_verify"),
    path("participants/<str:screening_number>/visits/<str:event_oid>/sign/", sign_visit,
         name="sign_visit"),
    path("participants/<str:screening_number>/sign/", sign_casebook, name="sign_casebook"),
]  # fmt: skip
