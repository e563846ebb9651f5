"""``hepatrial report``: a folder of analysis datasets in; ``report.html`` and ``.pdf`` out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd


def add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--protocol", metavar="FILE", help="protocol file (title, content hash)")
    parser.add_argument(
        "--unblinded",
        action="store_true",
        help="true arm names (datasets from an unblinded export only)",
    )


def report_inputs(folder: Path, protocol_file: str | None) -> tuple[Any, pd.DataFrame | None]:
    """The protocol and the screening list, read before any work is done.

    Raises :class:`ValueError` (a protocol's error lists every mistake) saying what is wrong.
    """
    from hepatrial.protocol import load_protocol
    from hepatrial.reports.consort import read_screening

    protocol = load_protocol(protocol_file) if protocol_file else None
    scr = folder / "screening.csv"
    return protocol, read_screening(scr) if scr.exists() else None


def write_report(
    folder: Path,
    datasets,
    plan,
    out: Path,
    *,
    unblinded: bool,
    inputs: tuple[Any, pd.DataFrame | None],
    results: dict | None = None,
) -> int:
    """Build and write the report; messages for the person at the terminal, exit status back."""
    from hepatrial.reports.blinding import UnblindingLeak, is_coded
    from hepatrial.reports.render import build_report

    protocol, screening = inputs
    if unblinded and is_coded(datasets.adsl):
        print("note: these datasets come from a blinded export; arms stay coded", file=sys.stderr)
    try:
        report = build_report(
            datasets, plan, blinded=not unblinded, screening=screening, protocol=protocol,
            data_files=sorted(folder.glob("*.csv")), results=results,
        )  # fmt: skip
    except UnblindingLeak as exc:
        print(exc, file=sys.stderr)
        return 1
    report.write(out)
    print(f"wrote {out / 'report.html'} and {out / 'report.pdf'}")
    return 0


def run(args: argparse.Namespace) -> int:
    from hepatrial.analysis.cli import load_plan, plan_file_for
    from hepatrial.analysis.datasets import AdamValidationError, read_adam
    from hepatrial.analysis.run import PlanMismatch

    folder = Path(args.adam)
    try:
        plan = load_plan(plan_file_for(args.adam, args.plan))
        inputs = report_inputs(folder, args.protocol)
        datasets = read_adam(folder)
    except (OSError, ValueError, TypeError) as exc:
        print(exc, file=sys.stderr)
        return 1 if isinstance(exc, AdamValidationError) else 2
    try:
        return write_report(
            folder, datasets, plan, Path(args.out), unblinded=args.unblinded, inputs=inputs,
        )  # fmt: skip
    except PlanMismatch as exc:
        print(exc, file=sys.stderr)
        return 1


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="render the statistical report (HTML + PDF)")
    p.add_argument("--adam", required=True, help="folder with ADaM CSVs (+ optional screening.csv)")
    p.add_argument("--plan", metavar="FILE", help="analysis plan (default: plan.json beside)")
    p.add_argument("--out", required=True, help="output folder")
    add_report_options(p)
    p.set_defaults(func=run)
