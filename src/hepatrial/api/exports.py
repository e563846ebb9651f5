"""``/exports/adam``: the blinded analysis datasets (ADSL, ADLB, ADTTE, ADAE, screening, the
plan) as one ZIP, streamed. Built by :func:`hepatrial.edc.export.build_datasets`, which checks
the role and writes the export's audit row, exactly as ``hepatrial export adam``.

``/exports/odm``: the ODM file of :func:`hepatrial.edc.odm_export.export_odm` (``?audit=1``
with the audit trail), blinded unless ``?unblinded=1`` is asked by a role the ADaM export's
rules allow it (the same refusal as ``hepatrial export odm --unblinded``)."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

from django.http import FileResponse, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from hepatrial.analysis.datasets import write_adam
from hepatrial.api.schemas import ProblemOut
from hepatrial.edc.export import build_datasets, screening_frame
from hepatrial.edc.odm_export import export_odm
from hepatrial.edc.permissions import actor_for

router = Router()
ZIP = {"200": {"description": "A ZIP of CSV files",
               "content": {"application/zip": {"schema": {"type": "string",
                                                          "format": "binary"}}}}}  # fmt: skip


@router.get("/adam", response={401: ProblemOut, 403: ProblemOut}, operation_id="export_adam",
            summary="Blinded ADaM datasets as a ZIP (statistician, administrator)",
            openapi_extra={"responses": ZIP})  # fmt: skip
def export_adam(request: HttpRequest):
    export = build_datasets(actor_for(request.auth), blinded=True)
    # FileResponse closes the file once streamed.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        write_adam(export.datasets, out)
        screening_frame(export.sites).to_csv(out / "screening.csv", index=False)
        (out / "plan.json").write_text(json.dumps(export.plan.to_dict(), indent=2) + "\n")
        with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(out.iterdir()):
                archive.write(path, path.name)
    spool.seek(0)
    name = f"adam-blinded-{timezone.localdate():%Y%m%d}.zip"
    return FileResponse(spool, as_attachment=True, filename=name,
                        content_type="application/zip")  # fmt: skip


ODM = {"200": {"description": "A CDISC ODM 1.3.2 XML file",
               "content": {"application/xml": {"schema": {"type": "string",
                                                          "format": "binary"}}}}}  # fmt: skip


class OdmQuery(Schema):
    audit: bool = Field(False, description="With the audit trail (a transactional file).")
    unblinded: bool = Field(
        False,
        description="With the arms: only where the ADaM export would be unblinded "
        "(the role may, and the database is locked).",
    )


@router.get("/odm", response={401: ProblemOut, 403: ProblemOut, 422: ProblemOut},
            operation_id="export_odm",
            summary="The data as CDISC ODM 1.3.2 XML, blinded unless asked and allowed",
            openapi_extra={"responses": ODM})  # fmt: skip
def export_odm_op(request: HttpRequest, options: Query[OdmQuery]):
    # Built first (refused before anything is sent), then streamed; FileResponse closes it.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    export_odm(actor_for(request.auth), spool, with_audit=options.audit,
               blinded=not options.unblinded)  # fmt: skip
    spool.seek(0)
    kind = "unblinded" if options.unblinded else "blinded"
    name = f"odm-{kind}{'-audit' if options.audit else ''}-{timezone.localdate():%Y%m%d}.xml"
    return FileResponse(spool, as_attachment=True, filename=name,
                        content_type="application/xml")  # fmt: skip
