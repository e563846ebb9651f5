"""The page ``/exports/``: the exports a statistician or administrator may download.

A thin view over :mod:`hepatrial.edc.downloads`, which the API calls too. Each download is a
POST form (it writes an audit row, so no link can start one); the file is built whole before
it is streamed, so a refusal or a failure shows this page again with the reason in the
reader's language, never half a file. Blinded unless the reader chooses otherwise, and the
unblinded choice is offered only where :func:`hepatrial.edc.export.export_sites` would allow
it (the role may, and the database is locked).
"""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hepatrial.edc import downloads
from hepatrial.edc.errors import NotAllowed, ServiceError
from hepatrial.edc.export_access import export_sites
from hepatrial.edc.permissions import Action, Actor, actor_for
from hepatrial.web.errors import error_text, status_for

ADAM_FORMATS = {
    "csv": "CSV",
    "sas": gettext_lazy("SAS transport v5 (.xpt)"),
    "stata": "Stata (.dta)",
    "spss": "SPSS (.sav)",
    "parquet": "Parquet",
}
SDTM_FORMATS = {
    "both": gettext_lazy("SAS transport v5 and Dataset-JSON"),
    "xpt": gettext_lazy("SAS transport v5 (.xpt) only"),
    "json": gettext_lazy("Dataset-JSON only"),
}
ODM_CONTENTS = {
    "snapshot": gettext_lazy("Snapshot: the data as it is now"),
    "audit": gettext_lazy("With the audit trail: every change, who made it, when and why"),
}
BLINDABLE = ("adam", "odm", "sdtm", "fhir")
"""The exports that can be unblinded (a REDCap project is always blinded)."""


class BadChoice(Exception):
    """A POST that does not name one of the offered downloads and options."""


def _one_of(data: QueryDict, name: str, allowed, default: str) -> str:
    value = data.get(name, default)
    if value not in allowed:
        raise BadChoice(name)
    return value


def _build(actor: Actor, data: QueryDict) -> downloads.Download:
    """The download the form asks for; its export checks the role and writes the audit row."""
    kind = _one_of(data, "kind", (*BLINDABLE, "redcap"), "")
    blinding = _one_of(data, "blinding", ("blinded", "unblinded"), "blinded")
    blinded = blinding == "blinded"
    if kind == "adam":
        fmt = _one_of(data, "format", ADAM_FORMATS, "csv")
        return downloads.adam_download(actor, blinded=blinded, fmt=fmt)
    if kind == "odm":
        content = _one_of(data, "content", ODM_CONTENTS, "snapshot")
        return downloads.odm_download(actor, blinded=blinded, audit_trail=content == "audit")
    if kind == "sdtm":
        fmt = _one_of(data, "format", SDTM_FORMATS, "both")
        return downloads.sdtm_download(actor, blinded=blinded, fmt=fmt)
    if kind == "fhir":
        return downloads.fhir_download(actor, blinded=blinded)
    if not blinded:
        raise BadChoice("blinding")
    return downloads.redcap_download(actor)


def _unblinded(actor: Actor) -> tuple[bool, str]:
    """Whether an unblinded download is open to the actor now; if not, why, for a role that
    may have one once the database is locked (nothing for a role that never may)."""
    try:
        export_sites(actor, blinded=False)
    except NotAllowed as exc:
        return False, error_text(exc) if actor.sites_for(Action.EXPORT_UNBLINDED) else ""
    return True, ""


def exports_page(request: HttpRequest) -> HttpResponse:
    """The downloads the reader may take; a POST sends one of them."""
    actor = actor_for(request.user)
    try:
        sites = export_sites(actor, blinded=True)
    except NotAllowed as exc:
        return render(request, "web/forbidden.html", {"message": error_text(exc)}, status=403)
    top, status = "", 200
    if request.method == "POST":
        try:
            download = _build(actor, request.POST)
        except BadChoice:
            top, status = _("Choose one of the downloads and options offered on this page."), 400
        except ServiceError as exc:
            top, status = error_text(exc), status_for(exc)
        else:
            return FileResponse(download.file, as_attachment=True, filename=download.filename,
                                content_type=download.content_type)  # fmt: skip
    unblinded, why_not = _unblinded(actor)
    context = {
        "sites": sites, "unblinded": unblinded, "why_not": why_not, "top": top,
        "adam_formats": ADAM_FORMATS.items(), "sdtm_formats": SDTM_FORMATS.items(),
        "odm_contents": ODM_CONTENTS.items(),
    }  # fmt: skip
    return render(request, "web/downloads/exports.html", context, status=status)


urlpatterns = [path("exports/", exports_page, name="exports")]
