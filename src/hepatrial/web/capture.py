"""Pages: visit forms generated from the protocol (thin views over the edc services).

One page per form and visit. Inputs are named by item OID (``I.TBIL``), with ``I.TBIL.unit``,
``I.TBIL.status`` (a missing-data reason) and ``I.TBIL.confirm`` (an unusual value confirmed).
Whatever goes wrong, the page comes back with what the user typed: a refused value, a form
changed by someone else meanwhile, and a sign-in that expired before the user pressed save
(the typed values wait in the session until the user has signed in again).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection, Mapping
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext, gettext_lazy, pgettext

from hepatrial.edc.errors import (
    NotAllowed,
    NotFound,
    PreconditionFailed,
    StaleForm,
    ValidationFailed,
)
from hepatrial.edc.permissions import Action, Actor, actor_for
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.preview import (
    FormView,
    SavedValue,
    Score,
    form_view,
    needs_confirmation,
    preview_scores,
    saved_repeat,
)
from hepatrial.protocol.model import DataType, Form, Item
from hepatrial.protocol.values import EnteredValue, ValueStatus
from hepatrial.web.errors import error_text, field_errors, problem_text, status_for
from hepatrial.web.labels import localized

UNSAVED = "capture.unsaved"
"""Session key: form URL → what was posted while the sign-in had expired."""
SAVED = "capture.saved"
"""Session key: form URL → what the last save did (scores, deviations), shown once."""

STATUSES = [
    (ValueStatus.VALUE, gettext_lazy("Value")),
    (ValueStatus.NOT_DONE, gettext_lazy("Not done")),
    (ValueStatus.NOT_APPLICABLE, gettext_lazy("Not applicable")),
    (ValueStatus.UNKNOWN, gettext_lazy("Unknown")),
]
RADIO_CHOICES = 4
"""Choice items with at most this many choices are radio buttons, longer ones a list."""


def _signed_in(view: Callable) -> Callable:
    """Login required, without losing a form posted after the sign-in expired.

    An unauthenticated POST is kept in the (anonymous) session, which Django's login keeps,
    and the user is sent to sign in with the form as ``next``; the form then comes back filled.
    The view is exempt from ``LoginRequiredMiddleware`` because this wrapper does its work.
    """

    @login_not_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.method == "POST":
            posted = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
            unsaved = request.session.get(UNSAVED, {})
            unsaved[request.get_full_path()] = posted
            request.session[UNSAVED] = unsaved
        return redirect_to_login(request.get_full_path())

    return wrapper


def _fragment_signed_in(view: Callable) -> Callable:
    """Login required for an HTMX fragment: 401 with nothing to swap in, not a login page."""

    @login_not_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponse(status=401)
        return view(request, *args, **kwargs)

    return wrapper


def _repeats(request: HttpRequest) -> tuple[int | None, int]:
    """``?repeat=N`` (``new`` for a new record) and ``&visit=N``; anything else is not found."""
    repeat, visit = request.GET.get("repeat", "0"), request.GET.get("visit", "0")
    if not visit.isdigit() or not (repeat.isdigit() or repeat == "new"):
        raise Http404("no such record")
    return (None if repeat == "new" else int(repeat)), int(visit)


def _form_url(view: FormView, repeat: int | None = None) -> str:
    url = reverse("visit_form", args=[view.screening_number, view.event_oid, view.form.oid])
    query = {}
    if view.form.repeating:
        query["repeat"] = "new" if repeat is None else repeat
    if view.visit_repeat:
        query["visit"] = view.visit_repeat
    return f"{url}?{urlencode(query)}" if query else url


def entered_values(
    form: Form, posted: Mapping[str, str], saved: Collection[str]
) -> dict[str, EnteredValue]:
    """The items a user submitted. An empty item with nothing saved is left out (a required one
    is then reported missing); an emptied item that had a value is sent empty, so the user is
    asked why it is missing instead of the old value silently staying."""
    values = {}
    for item in form.items:
        text = posted.get(item.oid, "").strip()
        try:
            status = ValueStatus(posted.get(f"{item.oid}.status") or ValueStatus.VALUE)
        except ValueError:
            status = ValueStatus.VALUE
        if not text and status == ValueStatus.VALUE and item.oid not in saved:
            continue
        values[item.oid] = EnteredValue(text, posted.get(f"{item.oid}.unit") or None, status)
    return values


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@_signed_in
def visit_form(request: HttpRequest, screening_number: str, event_oid: str,
               form_oid: str) -> HttpResponse:  # fmt: skip
    actor = actor_for(request.user)
    repeat, visit_repeat = _repeats(request)
    try:
        view = form_view(actor, screening_number, event_oid, form_oid, repeat=repeat,
                         visit_repeat=visit_repeat)  # fmt: skip
    except NotFound:
        raise Http404("form not found") from None
    except NotAllowed as exc:
        return render(request, "web/forbidden.html", {"message": error_text(exc)}, status=403)
    if request.method == "POST":
        if not view.can_edit and view.lock is None:  # a lock is said by the save, typing kept
            message = gettext("Your role may not enter data on this form.")
            return render(request, "web/forbidden.html", {"message": message}, status=403)
        return _save(request, actor, view)
    here = request.get_full_path()
    unsaved = request.session.get(UNSAVED, {})
    if here in unsaved:
        posted = unsaved.pop(here)
        request.session[UNSAVED] = unsaved
        notice = gettext(
            "Your sign-in had expired, so nothing was saved yet. What you typed is back in "
            "the form: check it and save again."
        )
        base = posted.get("base_version", "")
        base = int(base) if base.isdigit() else 0
        return _page(request, view, posted=posted, base_version=base, notices=[notice])
    saved = request.session.get(SAVED, {})
    done = saved.pop(here, None)
    if done is not None:
        request.session[SAVED] = saved
    return _page(request, view, done=done)


def _save(request: HttpRequest, actor: Actor, view: FormView) -> HttpResponse:
    posted = request.POST
    values = entered_values(view.form, posted, saved=set(view.values))
    confirmed = [oid for oid in values if posted.get(f"{oid}.confirm")]
    base = posted.get("base_version", "")
    base_version = int(base) if base.isdigit() else view.version
    submission_id = posted.get("submission_id") or None
    try:
        visit_date = _date(posted.get("visit_date", "").strip())
    except ValueError:
        errors = {"visit_date": gettext("Enter the date as YYYY-MM-DD.")}
        return _page(request, view, posted=posted, base_version=base_version, errors=errors,
                     status=400)  # fmt: skip
    try:
        result = save_form(
            actor, view.screening_number, view.event_oid, view.form.oid, values,
            base_version=base_version, visit_date=visit_date, reason=posted.get("reason", ""),
            confirmed=confirmed, repeat=view.repeat, visit_repeat=view.visit_repeat,
            submission_id=submission_id,
        )  # fmt: skip
    except ValidationFailed as exc:
        errors = field_errors(exc)
        return _page(request, view, posted=posted, base_version=base_version, errors=errors,
                     status=status_for(exc))  # fmt: skip
    except StaleForm as exc:
        changes = [problem_text(change) for change in exc.changes]
        notice = gettext(
            "Someone else saved this form after you opened it, so nothing was saved. Your "
            "values are still in the form; check them against the changes below and save again."
        )
        return _page(request, view, posted=posted, base_version=exc.current_version,
                     notices=[notice], changes=changes, status=status_for(exc))  # fmt: skip
    except (PreconditionFailed, NotAllowed, NotFound) as exc:
        errors = {"form": error_text(exc)}
        return _page(request, view, posted=posted, base_version=base_version, errors=errors,
                     status=status_for(exc))  # fmt: skip
    repeat = view.repeat
    if repeat is None and submission_id:
        repeat = saved_repeat(actor, submission_id)
    target = _form_url(view, repeat) if view.form.repeating else request.get_full_path()
    saved = request.session.get(SAVED, {})
    saved[target] = {
        "derived": [[oid, _shown_score(value)] for oid, value in result.derived.items()],
        "deviations": [problem_text(d) for d in result.deviations],
        "changed": len(result.changed),
        "replayed": result.replayed,
    }
    request.session[SAVED] = saved
    return redirect(target)


def _shown_score(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:.0f}"
    return str(value)


def _field(item: Item, view: FormView, posted: Mapping[str, str] | None, errors: dict,
           to_confirm: Collection[str]) -> dict:  # fmt: skip
    saved = view.values.get(item.oid)
    if posted is not None:
        text = posted.get(item.oid, "")
        unit = posted.get(f"{item.oid}.unit") or item.canonical_unit or ""
        status = posted.get(f"{item.oid}.status") or ValueStatus.VALUE
        confirmed = bool(posted.get(f"{item.oid}.confirm"))
    elif saved is not None:
        text = saved.text if item.data_type in (DataType.INTEGER, DataType.FLOAT,
                                                DataType.TEXT) else saved.code  # fmt: skip
        if item.data_type == DataType.BOOLEAN:
            text = {"true": "yes", "false": "no"}.get(saved.code, "")
        unit = saved.unit or item.canonical_unit or ""
        status, confirmed = saved.status, False
    else:
        text, unit, status, confirmed = "", item.canonical_unit or "", ValueStatus.VALUE, False
    if item.data_type == DataType.CHOICE:
        widget = "radio" if len(item.choices) <= RADIO_CHOICES else "select"
    elif item.data_type == DataType.BOOLEAN:
        widget = "radio"
    else:
        widget = item.data_type.value
    if item.data_type == DataType.BOOLEAN:
        choices = [("yes", gettext("Yes")), ("no", gettext("No"))]
    else:
        choices = [(c.code, localized(c.label)) for c in item.choices]
    return {
        "oid": item.oid,
        "label": localized(item.label),
        "widget": widget,
        "text": text,
        "unit": unit,
        "units": item.units,
        "show_unit": bool(item.units) and item.units != ["1"],
        "status": status,
        "choices": choices,
        "required": item.required,
        "error": errors.get(item.oid, ""),
        "confirm": item.oid in to_confirm,
        "confirmed": confirmed,
    }


def _scores(scores: list[Score]) -> list[dict]:
    return [
        {
            "oid": s.derived.oid,
            "label": localized(s.derived.label),
            "value": _shown_score(s.value),
            "missing": pgettext("between the items of a list", ", ").join(
                localized(label) for label in s.missing
            ),
        }
        for s in scores
    ]


def _page(
    request: HttpRequest, view: FormView, *, posted: Mapping[str, str] | None = None,
    base_version: int | None = None, errors: dict | None = None,
    notices: list[str] = (), changes: list[str] = (),
    done: dict | None = None, status: int = 200,
) -> HttpResponse:  # fmt: skip
    errors = errors or {}
    actor = actor_for(request.user)
    to_confirm: set[str] = set()
    if posted is not None:
        # An unusual value keeps its confirm box, checked or not, until it is saved: the box
        # was offered because of the value, not because of this particular refusal.
        confirmed = {oid for oid in posted if oid.endswith(".confirm")}
        offered = set(errors) | {oid.removesuffix(".confirm") for oid in confirmed}
        values = entered_values(view.form, posted, saved=set(view.values))
        to_confirm = needs_confirmation(view.form, values) & offered
    fields = [_field(item, view, posted, errors, to_confirm) for item in view.form.items]
    visit_date = view.visit_date.isoformat() if view.visit_date else ""
    if posted is not None:
        visit_date = posted.get("visit_date", "")
    derived_items = active_protocol()[1].protocol.derived_items
    derived_labels = {d.oid: localized(d.label) for d in derived_items}
    in_form = {item.oid for item in view.form.items}
    if done is not None:
        done = dict(done, derived=[(derived_labels.get(oid, oid), value)
                                   for oid, value in done["derived"] if value])  # fmt: skip
    preview_url = reverse("visit_form_preview",
                          args=[view.screening_number, view.event_oid, view.form.oid])  # fmt: skip
    if view.visit_repeat:
        preview_url += f"?visit={view.visit_repeat}"
    records = []
    if view.form.repeating:
        first = view.form.items[:2]
        for record in view.records:
            shown = [shown_value(i, record.values[i.oid]) for i in first if i.oid in record.values]
            summary = " · ".join(shown)
            records.append({"repeat": record.repeat, "summary": summary,
                            "url": _form_url(view, record.repeat),
                            "current": record.repeat == view.repeat})  # fmt: skip
    context = {
        "view": view,
        "form_label": localized(view.form.label),
        "event_label": localized(view.event_label),
        "fields": fields,
        "errors": errors,
        "form_errors": [
            message
            for name, message in errors.items()
            if name not in in_form and name not in ("visit_date", "reason")
        ],  # fmt: skip
        "base_version": view.version if base_version is None else base_version,
        "submission_id": uuid.uuid4().hex,
        "visit_date": visit_date,
        "reason": (posted or {}).get("reason", ""),
        "reason_hidden": posted is None,
        "notices": notices,
        "changes": changes,
        "done": done,
        "scores": _scores(view.scores),
        "preview_url": preview_url,
        "has_scores": any(in_form & set(d.inputs.values()) for d in derived_items),
        "preview_on_load": posted is not None,
        "records": records,
        "new_record_url": _form_url(view, None) if view.form.repeating else "",
        "statuses": STATUSES,
        "can_history": actor.can(Action.VIEW_AUDIT, view.site),
    }
    return render(request, "web/capture/visit_form.html", context, status=status)


def shown_value(item: Item, saved: SavedValue) -> str:
    """A saved value as a person reads it: choice labels in the user's language."""
    if saved.status != ValueStatus.VALUE:
        return dict(STATUSES).get(saved.status, saved.status)
    if item.data_type == DataType.CHOICE:
        labels = {c.code: localized(c.label) for c in item.choices}
        return labels.get(saved.code, saved.text)
    if item.data_type == DataType.BOOLEAN:
        return gettext("Yes") if saved.code == "true" else gettext("No")
    return f"{saved.text} {saved.unit}".strip()


@_fragment_signed_in
def visit_form_preview(request: HttpRequest, screening_number: str, event_oid: str,
                       form_oid: str) -> HttpResponse:  # fmt: skip
    """The derived scores of the values being typed (HTMX), computed without saving."""
    if request.method != "POST":
        return HttpResponse(status=405)
    actor = actor_for(request.user)
    _, visit_repeat = _repeats(request)
    protocol = active_protocol()[1].protocol
    form = next((f for f in protocol.forms if f.oid == form_oid), None)
    if form is None:
        raise Http404("form not found")
    values = entered_values(form, request.POST, saved=())
    try:
        scores = preview_scores(actor, screening_number, event_oid, form_oid, values,
                                visit_repeat=visit_repeat)  # fmt: skip
    except NotFound:
        raise Http404("form not found") from None
    except NotAllowed:
        return HttpResponse(status=403)
    context = {"scores": _scores(scores), "preview": True}
    return render(request, "web/capture/_scores.html", context)


urlpatterns = [
    path("participants/<str:screening_number>/visits/<str:event_oid>/forms/<str:form_oid>/",
         visit_form, name="visit_form"),
    path("participants/<str:screening_number>/visits/<str:event_oid>/forms/<str:form_oid>/preview",
         visit_form_preview, name="visit_form_preview"),
]  # fmt: skip
