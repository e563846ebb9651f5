"""``/exports/…``: each export as one streamed file, as the ``hepatrial export`` commands and
the web page ``/exports/`` make it (:mod:`hepatrial.edc.downloads`: built whole into a spool
first, so a refusal is a problem response before any byte is sent; FileResponse streams the
spool and closes it).

Who may export, the blinding and the audit row are the export functions' own
(:func:`hepatrial.edc.export.export_sites`): blinded unless ``unblinded`` is asked by a role that
may (statistician, administrator) and the database is locked.

- ``/exports/adam?format=``: ADSL, ADLB, ADTTE, ADAE in csv, sas, stata, spss or parquet with
  ``read_adam.R`` and ``read_adam.sas``, screening, signatures, the plan and the protocol (ZIP).
- ``/exports/odm?audit=``: CDISC ODM 1.3.2 XML (with the audit trail: a transactional file).
- ``/exports/sdtm?format=``: CDISC SDTM as SAS transport v5 and/or Dataset-JSON, define.json (ZIP).
- ``/exports/fhir``: an HL7 FHIR R5 Bundle (JSON), checked before it is sent.
- ``/exports/redcap``: a REDCap project, dictionary to records, always blinded (ZIP).
"""

from __future__ import annotations

from typing import Literal

from django.http import FileResponse, HttpRequest
from ninja import Field, Query, Router, Schema

from hepatrial.api.schemas import ProblemOut
from hepatrial.edc import downloads
from hepatrial.edc.permissions import actor_for

router = Router()


def _binary(description: str, content_type: str) -> dict:
    return {"200": {"description": description,
                    "content": {content_type: {"schema": {"type": "string",
                                                          "format": "binary"}}}}}  # fmt: skip


def _send(download: downloads.Download) -> FileResponse:
    return FileResponse(download.file, as_attachment=True, filename=download.filename,
                        content_type=download.content_type)  # fmt: skip


UNBLINDED = Field(
    False,
    description="With the arms: only for a role that may (statistician, administrator) and "
    "when the database is locked.",
)
REFUSALS = {401: ProblemOut, 403: ProblemOut, 422: ProblemOut}


class AdamQuery(Schema):
    format: Literal["csv", "sas", "stata", "spss", "parquet"] = Field(
        "csv",
        description="csv, sas (transport v5 .xpt), stata (.dta), spss (.sav) or parquet; "
        "with variable and value labels.",
    )
    unblinded: bool = UNBLINDED


@router.get("/adam", response=REFUSALS, operation_id="export_adam",
            summary="ADaM datasets as a ZIP, blinded unless asked and allowed",
            openapi_extra={"responses": _binary(
                "A ZIP: the datasets in the chosen format, read_adam.R and read_adam.sas, "
                "screening.csv, signatures.csv, plan.json, protocol.yaml, provenance.json",
                downloads.ZIP)})  # fmt: skip
def export_adam(request: HttpRequest, options: Query[AdamQuery]):
    return _send(downloads.adam_download(actor_for(request.auth), blinded=not options.unblinded,
                                         fmt=options.format))  # fmt: skip


class OdmQuery(Schema):
    audit: bool = Field(False, description="With the audit trail (a transactional file).")
    unblinded: bool = UNBLINDED


@router.get("/odm", response=REFUSALS, operation_id="export_odm",
            summary="The data as CDISC ODM 1.3.2 XML, blinded unless asked and allowed",
            openapi_extra={"responses": _binary("A CDISC ODM 1.3.2 XML file",
                                                "application/xml")})  # fmt: skip
def export_odm_op(request: HttpRequest, options: Query[OdmQuery]):
    return _send(downloads.odm_download(actor_for(request.auth), blinded=not options.unblinded,
                                        audit_trail=options.audit))  # fmt: skip


class SdtmQuery(Schema):
    format: Literal["both", "xpt", "json"] = Field(
        "both", description="SAS transport v5 (xpt), Dataset-JSON 1.1 (json) or both."
    )
    unblinded: bool = UNBLINDED


@router.get("/sdtm", response={**REFUSALS, 409: ProblemOut}, operation_id="export_sdtm",
            summary="CDISC SDTM datasets and define.json as a ZIP, blinded unless asked and "
                    "allowed",
            description="409 when SAS transport v5 cannot hold a dataset (then ask for "
                        "`format=json`).",
            openapi_extra={"responses": _binary(
                "A ZIP: one file per domain in each format asked, and define.json",
                downloads.ZIP)})  # fmt: skip
def export_sdtm_op(request: HttpRequest, options: Query[SdtmQuery]):
    return _send(downloads.sdtm_download(actor_for(request.auth), blinded=not options.unblinded,
                                         fmt=options.format))  # fmt: skip


class FhirQuery(Schema):
    unblinded: bool = UNBLINDED


@router.get("/fhir", response={**REFUSALS, 409: ProblemOut}, operation_id="export_fhir",
            summary="An HL7 FHIR R5 Bundle (JSON), blinded unless asked and allowed",
            description="409 when the bundle fails hepatrial's own checks (nothing is sent).",
            openapi_extra={"responses": _binary("A FHIR R5 Bundle of type collection",
                                                "application/fhir+json")})  # fmt: skip
def export_fhir_op(request: HttpRequest, options: Query[FhirQuery]):
    return _send(downloads.fhir_download(actor_for(request.auth), blinded=not options.unblinded))


@router.get("/redcap", response={401: ProblemOut, 403: ProblemOut}, operation_id="export_redcap",
            summary="The trial as a REDCap project (ZIP), always blinded",
            openapi_extra={"responses": _binary(
                "A ZIP: data_dictionary.csv, events.csv, arms.csv, instrument_designations.csv, "
                "repeating_instruments.csv, records.csv", downloads.ZIP)})  # fmt: skip
def export_redcap_op(request: HttpRequest):
    return _send(downloads.redcap_download(actor_for(request.auth)))
