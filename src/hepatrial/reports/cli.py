"""``hepatrial report``: a folder of analysis datasets in; ``report.html`` and ``.pdf`` out.

``hepatrial report verify DIR`` recomputes every hash in the report's ``stamp.json`` (and its
``approval.json``); ``hepatrial report approve DIR --as USER`` is the statistician's sign-off
(it needs the database: :mod:`hepatrial.edc.services.report_approval`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd


def add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--protocol",
        metavar="FILE",
        help="protocol file (default: protocol.yaml the export wrote beside the datasets)",
    )
    parser.add_argument(
        "--other-protocol",
        action="store_true",
        help="report under a --protocol whose hash differs from the export's (the cover says so)",
    )
    parser.add_argument(
        "--unblinded",
        action="store_true",
        help="true arm names (datasets from an unblinded export only)",
    )
    parser.add_argument(
        "--language", default="en", choices=("en", "zh-hans"), help="language of the report"
    )
    parser.add_argument(
        "--report-version", default="1", metavar="V", help="version printed on the cover"
    )


def report_inputs(
    folder: Path, protocol_file: str | None, *, allow_other_protocol: bool = False
) -> tuple[Any, pd.DataFrame | None]:
    """The provenance (protocol, data state) and the screening list, read before any work.

    Raises :class:`ValueError` (a protocol's error lists every mistake) saying what is wrong.
    """
    from hepatrial.reports.consort import read_screening
    from hepatrial.reports.provenance import read_provenance

    provenance = read_provenance(folder, protocol_file, allow_other_protocol=allow_other_protocol)
    scr = folder / "screening.csv"
    return provenance, read_screening(scr) if scr.exists() else None


def write_report(
    folder: Path,
    datasets,
    plan,
    out: Path,
    *,
    unblinded: bool,
    inputs: tuple[Any, pd.DataFrame | None],
    results: dict | None = None,
    language: str = "en",
    plan_file: str | None = None,
    report_version: str = "1",
) -> int:
    """Build and write the report; messages for the person at the terminal, exit status back."""
    from hepatrial.reports.blinding import UnblindingLeak, is_coded
    from hepatrial.reports.render import build_report
    from hepatrial.reports.signatures import read_signatures

    provenance, screening = inputs
    if unblinded and is_coded(datasets.adsl):
        print("note: these datasets come from a blinded export; arms stay coded", file=sys.stderr)
    if provenance.protocol is None:
        print("note: no protocol beside the datasets and no --protocol: the cover cannot name "
              "the trial", file=sys.stderr)  # fmt: skip
    signed = folder / "signatures.csv"
    try:
        signatures = read_signatures(signed) if signed.exists() else None
        report = build_report(
            datasets, plan, blinded=not unblinded, screening=screening, provenance=provenance,
            data_files=sorted(folder.glob("*.csv")), results=results, language=language,
            plan_file=Path(plan_file) if plan_file else None, report_version=report_version,
            signatures=signatures,
        )  # fmt: skip
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    except UnblindingLeak as exc:
        print(exc, file=sys.stderr)
        return 1
    report.write(out)
    print(f"wrote {out / 'report.html'}, {out / 'report.pdf'} and {out / 'stamp.json'}")
    return 0


def run(args: argparse.Namespace) -> int:
    from hepatrial.analysis.cli import load_plan, plan_file_for
    from hepatrial.analysis.datasets import AdamValidationError, read_adam
    from hepatrial.analysis.run import PlanMismatch

    if not args.adam or not args.out:
        print("hepatrial report: --adam DIR and --out DIR are required (or: approve, verify)",
              file=sys.stderr)  # fmt: skip
        return 2
    folder = Path(args.adam)
    plan_file = plan_file_for(args.adam, args.plan)
    try:
        plan = load_plan(plan_file, args.adam, args.protocol)
        inputs = report_inputs(folder, args.protocol, allow_other_protocol=args.other_protocol)
        datasets = read_adam(folder, plan)
    except (OSError, ValueError, TypeError) as exc:
        print(exc, file=sys.stderr)
        return 1 if isinstance(exc, AdamValidationError) else 2
    try:
        return write_report(
            folder, datasets, plan, Path(args.out), unblinded=args.unblinded, inputs=inputs,
            language=args.language, plan_file=plan_file, report_version=args.report_version,
        )  # fmt: skip
    except PlanMismatch as exc:
        print(exc, file=sys.stderr)
        return 1


def run_verify(args: argparse.Namespace) -> int:
    from hepatrial.reports.stamp import verify

    checks = verify(Path(args.dir))
    if args.audit:
        from hepatrial.cli import setup_django

        setup_django()
        from hepatrial.edc.report_approval import audit_checks

        checks += audit_checks(Path(args.dir))
    for check in checks:
        print(f"{'ok     ' if check.ok else 'CHANGED'}  {check.what}: {check.detail}")
    if all(c.ok for c in checks):
        print("the report matches its data")
        return 0
    print("the report does NOT match its data", file=sys.stderr)
    return 1


def run_approve(args: argparse.Namespace) -> int:
    from hepatrial.cli import setup_django

    setup_django()
    from hepatrial.edc.report_approval import approve_from_cli

    return approve_from_cli(Path(args.dir), args.as_user, password_stdin=args.password_stdin)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="render, approve or verify the statistical report")
    p.add_argument("--adam", help="folder with ADaM CSVs (+ optional screening.csv)")
    p.add_argument("--plan", metavar="FILE", help="analysis plan (default: plan.json beside)")
    p.add_argument("--out", help="output folder")
    add_report_options(p)
    p.set_defaults(func=run)
    sub = p.add_subparsers(dest="report_command", metavar="ACTION")
    verify = sub.add_parser(
        "verify", help="recompute every hash in the report's stamp; exit 1 if one differs"
    )
    verify.add_argument("dir", metavar="DIR", help="the report's folder (with stamp.json)")
    verify.add_argument(
        "--audit", action="store_true",
        help="also find the approval's row in the database's audit trail and check the chain",
    )  # fmt: skip
    verify.set_defaults(func=run_verify)
    approve = sub.add_parser("approve", help="the statistician's sign-off, bound to its hash")
    approve.add_argument("dir", metavar="DIR", help="the report's folder (with stamp.json)")
    approve.add_argument("--as", dest="as_user", required=True, metavar="USERNAME")
    approve.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    approve.set_defaults(func=run_approve)
