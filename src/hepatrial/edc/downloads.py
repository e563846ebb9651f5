"""Each export as one file to download: what the web page ``/exports/`` and the API's
``/exports/…`` operations send.

Every export is built completely into a spooled temporary file (in memory up to
:data:`SPOOL_IN_MEMORY`, then on disk) before its first byte is sent, so a refusal or a failure
becomes an error page or a problem response rather than half a file. The caller streams
:attr:`Download.file` and closes it (Django's ``FileResponse`` does both).

Who may export, and the blinding, are the export functions' own
(:func:`hepatrial.edc.export.export_sites`); so is the audit row each of them writes: nothing
here checks or audits a second time. A folder export (ADaM, SDTM, REDCap) is the folder the
command line writes, zipped.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.utils import timezone

from hepatrial.analysis.formats import FORMATS as ADAM_FORMATS
from hepatrial.analysis.formats import write_formatted
from hepatrial.edc.errors import PreconditionFailed
from hepatrial.edc.export import Export, build_datasets, provenance, screening_frame
from hepatrial.edc.fhir_export import BundleCheckFailed, fhir_bundle
from hepatrial.edc.odm_export import export_odm
from hepatrial.edc.permissions import Actor
from hepatrial.edc.redcap_export import export_redcap
from hepatrial.edc.sdtm_export import FORMATS as SDTM_FORMATS
from hepatrial.edc.sdtm_export import export_sdtm
from hepatrial.edc.services.signatures import write_signatures
from hepatrial.interop.sdtm_files import TransportLimitError
from hepatrial.problems import MESSAGES, Problem, gettext_noop

MESSAGES.update({
    "export.sdtm_transport": gettext_noop(
        "SAS transport v5 cannot hold these datasets (%(problems)s): download the "
        "Dataset-JSON files only, which keep any text"
    ),
    "export.fhir_checks": gettext_noop(
        "the FHIR bundle failed %(count)s of our checks, the first: %(first)s; nothing was "
        "downloaded"
    ),
})  # fmt: skip

SPOOL_IN_MEMORY = 8 * 1024 * 1024
"""Bytes of an export kept in memory before its spool moves to a temporary file."""
ZIP = "application/zip"


@dataclass(frozen=True)
class Download:
    file: IO[bytes]
    """The whole file, positioned at its start; the caller closes it."""
    filename: str
    content_type: str


def write_analysis_folder(export: Export, out: Path, fmt: str) -> int:
    """The ADaM export's folder: the four datasets in ``fmt`` with ``read_adam.R`` and
    ``read_adam.sas``, ``screening.csv``, ``signatures.csv``, ``plan.json``, and the protocol
    and ``provenance.json`` the report reads. Returns the rows of ``screening.csv``."""
    write_formatted(export.datasets, out, fmt)
    screening = screening_frame(export.sites)
    screening.to_csv(out / "screening.csv", index=False)
    write_signatures(export.sites, out / "signatures.csv", blinded=export.blinded)
    (out / "plan.json").write_text(json.dumps(export.plan.to_dict(), indent=2) + "\n", "utf-8")
    protocol_text, state = provenance(blinded=export.blinded)
    (out / "protocol.yaml").write_text(protocol_text, "utf-8")
    (out / "provenance.json").write_text(json.dumps(state, indent=2) + "\n", "utf-8")
    return len(screening)


def _spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115  (returned)


def _name(kind: str, blinded: bool, *details: str, ext: str) -> str:
    """``adam-blinded-csv-20250301.zip``: what, how blinded, its options, the day."""
    parts = [kind, "blinded" if blinded else "unblinded", *details]
    return f"{'-'.join(parts)}-{timezone.localdate():%Y%m%d}.{ext}"


def _zipped(write: Callable[[Path], object]) -> IO[bytes]:
    """``write(folder)`` into a temporary folder, then that folder as a ZIP in a spool."""
    spool = _spool()
    try:
        with tempfile.TemporaryDirectory(prefix="hepatrial-export-") as folder:
            out = Path(folder)
            write(out)
            with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(out.rglob("*")):
                    if path.is_file():
                        archive.write(path, path.relative_to(out).as_posix())
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def adam_download(actor: Actor, *, blinded: bool = True, fmt: str = "csv") -> Download:
    """The analysis datasets in ``fmt`` (one of :data:`ADAM_FORMATS`) as a ZIP."""
    if fmt not in ADAM_FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    export = build_datasets(actor, blinded=blinded)
    spool = _zipped(lambda out: write_analysis_folder(export, out, fmt))
    return Download(spool, _name("adam", blinded, fmt, ext="zip"), ZIP)


def odm_download(actor: Actor, *, blinded: bool = True, audit_trail: bool = False) -> Download:
    """The ODM 1.3.2 file: a snapshot, or transactional with the audit trail."""
    spool = _spool()
    try:
        export_odm(actor, spool, with_audit=audit_trail, blinded=blinded)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    details = ("audit",) if audit_trail else ()
    return Download(spool, _name("odm", blinded, *details, ext="xml"), "application/xml")


def sdtm_download(actor: Actor, *, blinded: bool = True, fmt: str = "both") -> Download:
    """The SDTM datasets (``fmt``: ``xpt``, ``json`` or ``both``) and ``define.json``, zipped.

    A dataset SAS transport v5 cannot hold refuses the download (PreconditionFailed) before
    any file is written, naming the first problems.
    """
    formats = SDTM_FORMATS[fmt]
    try:
        spool = _zipped(lambda out: export_sdtm(actor, out, blinded=blinded, formats=formats))
    except TransportLimitError as exc:
        shown = "; ".join(exc.problems[:3]) + ("; …" if len(exc.problems) > 3 else "")
        raise PreconditionFailed(Problem("export.sdtm_transport", problems=shown)) from exc
    return Download(spool, _name("sdtm", blinded, fmt, ext="zip"), ZIP)


def fhir_download(actor: Actor, *, blinded: bool = True) -> Download:
    """The FHIR R5 bundle as JSON, checked before anything is sent."""
    try:
        bundle, _ = fhir_bundle(actor, blinded=blinded)
    except BundleCheckFailed as exc:
        problem = Problem("export.fhir_checks", count=len(exc.problems), first=exc.problems[0])
        raise PreconditionFailed(problem) from exc
    spool = _spool()
    spool.write(json.dumps(bundle, ensure_ascii=False, indent=1).encode("utf-8") + b"\n")
    spool.seek(0)
    return Download(spool, _name("fhir", blinded, ext="json"), "application/fhir+json")


def redcap_download(actor: Actor) -> Download:
    """The REDCap project (dictionary, events, arm, mapping, records), always blinded."""
    spool = _zipped(lambda out: export_redcap(actor, out))
    return Download(spool, _name("redcap", True, ext="zip"), ZIP)
