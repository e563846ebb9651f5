"""Pages: the audit trail, filtered and paged, its CSV download, and one item's history.

What a reader may see of the trail (sites, blinding) is decided by
:mod:`hepatrial.edc.services.history`; these views parse the request and render.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hepatrial.edc.errors import NotAllowed, NotFound
from hepatrial.edc.permissions import actor_for
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services import history
from hepatrial.protocol.model import Label, Protocol
from hepatrial.web.errors import error_text
from hepatrial.web.labels import localized

ACTIONS = {
    "create": _("entered"),
    "change": _("changed"),
    "status": _("status changed"),
    "derive": _("derived"),
    "deviation": _("deviation"),
    "randomize": _("randomized"),
    "unblind": _("unblinded"),
    "sign_in": _("signed in"),
    "sign_out": _("signed out"),
    "sign_in_failed": _("sign-in failed"),
    "lock": _("database locked"),
    "unlock": _("database reopened"),
    "record_lock": _("locked"),
    "record_unlock": _("unlocked"),
    "session_limit": _("idle session limit set"),
    "lockout": _("sign-in refused: account locked"),
    "lockout_cleared": _("sign-in unlocked"),
    "list_loaded": _("randomization list loaded"),
    "verify": _("source verified"),
    "verify_reset": _("verification reset by a change"),
    "sign": _("signed"),
    "sign_failed": _("signature refused: wrong password"),
    "sign_void": _("signature void after a change"),
    "raise": _("query raised"),
    "answer": _("query answered"),
    "close": _("query closed"),
    "reopen": _("query reopened"),
    "auto_close": _("query closed by a change that resolved it"),
    "auto_reopen": _("query reopened: the condition is back"),
    "recompute": _("scores recomputed"),
    "export": _("exported"),
    "report_approved": _("report approved"),
    "report_approval_failed": _("report approval refused: wrong password"),
    "token_create": _("API token created"),
    "amend": _("protocol amended"),
    "reconsent": _("asked to consent again"),
    "token_revoke": _("API token revoked"),
    "token_use": _("API token used for a change"),
    "user_add": _("user added"),
    "user_reactivate": _("user reactivated"),
    "user_deactivate": _("user deactivated"),
    "membership": _("role changed"),
    "password_change": _("password changed"),
    "password_reset": _("password reset"),
    "language": _("language changed"),
    "site_add": _("site added"),
    "site_edit": _("site changed"),
}
"""Audit action codes as a reader says them; an action not listed is shown by its code."""

WORDS = {
    "(not_done)": _("(not done)"),
    "(not_applicable)": _("(not applicable)"),
    "(unknown)": _("(unknown)"),
    "yes": _("yes"),
    "no": _("no"),
    "screened": pgettext_lazy("participant status", "screened"),
    "eligible": pgettext_lazy("participant status", "eligible"),
    "screen_failed": pgettext_lazy("participant status", "screen failed"),
    "consented": pgettext_lazy("participant status", "consented"),
    "randomized": pgettext_lazy("participant status", "randomized"),
    "on_study": pgettext_lazy("participant status", "on study"),
    "completed": pgettext_lazy("participant status", "completed"),
    "withdrawn": pgettext_lazy("participant status", "withdrawn"),
    "died": pgettext_lazy("participant status", "died"),
    "transplanted": pgettext_lazy("participant status", "transplanted"),
    "lost": pgettext_lazy("participant status", "lost to follow-up"),
}
"""Recorded values that are words (missing-data reasons, answers, statuses), in the reader's
language; numbers, units and free text are shown as recorded. The CSV keeps them as recorded."""

CSV_COLUMNS = ("id", "at", "username", "action", "site", "participant", "event", "form",
               "item", "old_value", "new_value", "reason")  # fmt: skip


class Echo:
    """A file whose ``write`` returns the line, so :mod:`csv` can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


class AuditFilterForm(forms.Form):
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    participant = forms.CharField(label=_("Participant"), required=False, max_length=32)
    form = forms.ChoiceField(label=_("Form"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data, choices: list[tuple[str, str]]):
        super().__init__(data)
        self.fields["form"].choices = [("", _("All forms")), *choices]

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def audit_filter(self) -> history.AuditFilter:
        data = self.cleaned_data
        return history.AuditFilter(
            username=data.get("user") or "",
            participant=data.get("participant") or "",
            form=data.get("form") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return render(request, "web/forbidden.html", {"message": error_text(exc)}, status=403)


RECORD_WORDS = {
    "status": _("participant status"),
    "visit_date": _("visit date"),
    "consent": _("informed consent"),
}
"""What an audit row's ``item`` names when it is not a protocol item."""


def _labels(protocol: Protocol) -> tuple[dict[str, Label], dict[str, dict[str, Label]]]:
    """Labels of everything an audit row's ``item`` can name, and each item's choice labels."""
    labels: dict[str, Label] = {c.oid: c.label for c in protocol.eligibility}
    labels |= {d.oid: d.label for d in protocol.derived_items}
    labels |= {e.oid: e.label for e in protocol.events}
    choices = {}
    for oid, item in protocol.items().items():
        labels[oid] = item.label
        choices[oid] = {c.code: c.label for c in item.choices}
    return labels, choices


def shown_value(text: str, choices: dict[str, Label]) -> str:
    """A recorded value as a reader says it: a choice's label, "(not done)", "yes"; the text
    and unit as typed otherwise."""
    if text in choices:
        return localized(choices[text])
    return str(WORDS.get(text, text))


def _shown(rows: Iterable[history.AuditRow]) -> list[dict]:
    """Rows with the protocol's labels for their visit, form and item, in the reader's language."""
    protocol = active_protocol()[1].protocol
    labels, choices = _labels(protocol)
    events = {e.oid: e.label for e in protocol.events}
    form_labels = {f.oid: f.label for f in protocol.forms}
    shown = []
    for row in rows:
        item_choices = choices.get(row.item, {})
        item = localized(labels[row.item]) if row.item in labels else RECORD_WORDS.get(row.item)
        where = [
            localized(events[row.event]) if row.event in events else row.event,
            localized(form_labels[row.form]) if row.form in form_labels else row.form,
            str(item or ""),
        ]
        shown.append(
            {
                "row": row,
                "action": ACTIONS.get(row.action, row.action),
                "where": " · ".join(part for part in where if part),
                "old": shown_value(row.old_value, item_choices),
                "new": shown_value(row.new_value, item_choices),
            }
        )
    return shown


def _cursor(value: str | None) -> int | None:
    """A whole number from the query string (a page cursor, a repeat), or None."""
    return int(value) if value and value.isdigit() else None


def audit_trail(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    try:
        choices = [(oid, localized(label)) for oid, label in history.filterable_forms(actor)]
    except NotAllowed as exc:
        return _forbidden(request, exc)
    form = AuditFilterForm(request.GET, choices)
    if not form.is_valid():
        return render(request, "web/history/audit.html", {"form": form}, status=400)
    page = history.audit_page(
        actor,
        form.audit_filter(),
        older_than=_cursor(request.GET.get("older")),
        newer_than=_cursor(request.GET.get("newer")),
    )
    query = request.GET.copy()
    for key in ("older", "newer"):
        query.pop(key, None)
    context = {"form": form, "page": page, "rows": _shown(page.rows), "query": query.urlencode()}
    return render(request, "web/history/audit.html", context)


def _csv_lines(rows: Iterator[history.AuditRow]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield "\ufeff" + writer.writerow(CSV_COLUMNS)
    for row in rows:
        at = timezone.localtime(row.at).isoformat(timespec="seconds")
        yield writer.writerow(
            (row.id, at, row.username, row.action, row.site, row.participant, row.event,
             row.form, row.item, row.old_value, row.new_value, row.reason)
        )  # fmt: skip


def audit_csv(request: HttpRequest) -> HttpResponse:
    """The filtered trail as CSV (UTF-8 with a byte-order mark, so spreadsheets read Chinese)."""
    actor = actor_for(request.user)
    try:
        choices = [(oid, oid) for oid, _label in history.filterable_forms(actor)]
    except NotAllowed as exc:
        return _forbidden(request, exc)
    form = AuditFilterForm(request.GET, choices)
    if not form.is_valid():
        return render(request, "web/history/audit.html", {"form": form}, status=400)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        _csv_lines(history.audit_rows(actor, form.audit_filter())),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.csv"'
    return response


def item_history(
    request: HttpRequest, screening_number: str, event_oid: str, form_oid: str, item_oid: str
) -> HttpResponse:
    actor = actor_for(request.user)
    try:
        found = history.item_history(
            actor,
            screening_number,
            event_oid,
            form_oid,
            item_oid,
            repeat=_cursor(request.GET.get("repeat")),
            visit_repeat=_cursor(request.GET.get("visit")) or 0,
        )
    except NotFound:
        raise Http404(screening_number) from None
    except NotAllowed as exc:
        return _forbidden(request, exc)
    protocol = active_protocol()[1].protocol
    event = next((e for e in protocol.events if e.oid == event_oid), None)
    context = {
        "history": found,
        "rows": _shown(found.rows),
        "item_label": localized(protocol.items()[item_oid].label),
        "form_label": localized(protocol.form(form_oid).label),
        "event_label": localized(event.label) if event else event_oid,
        "query": request.GET.urlencode(),
    }
    return render(request, "web/history/item.html", context)


urlpatterns: list = [
    path("audit/", audit_trail, name="audit_trail"),
    path("audit/csv/", audit_csv, name="audit_csv"),
    path(
        "participants/<str:screening_number>/visits/<str:event_oid>/forms/<str:form_oid>/"
        "items/<str:item_oid>/history/",
        item_history,
        name="item_history",
    ),
]
