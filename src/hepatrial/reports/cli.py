"""`hepatrial report` subcommand."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("report", help="render the statistical report (HTML + PDF)")
    p.add_argument("--adam", required=True, help="folder with ADaM CSVs (+ optional screening.csv)")
    p.add_argument("--results", help="results JSON (default: run run_analysis)")
    p.add_argument("--protocol", help="protocol file")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--unblinded", action="store_true", help="show true arm labels")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hepatrial.analysis.cli import load_plan, plan_file_for
    from hepatrial.analysis.datasets import AdamValidationError, read_adam
    from hepatrial.analysis.run import PlanMismatch, run_analysis
    from hepatrial.reports.render import load_results, render_report

    folder = Path(args.adam)
    try:
        data = read_adam(folder)
        if args.results:
            results = load_results(args.results)
        else:
            results = run_analysis(data, load_plan(plan_file_for(args.adam, None)))
    except (AdamValidationError, PlanMismatch) as exc:
        print(exc, file=sys.stderr)
        return 1
    protocol = None
    if args.protocol:
        from hepatrial.protocol import load_protocol

        protocol = load_protocol(args.protocol)
    scr = folder / "screening.csv"
    screening = pd.read_csv(scr, dtype=str) if scr.exists() else None
    report = render_report(
        results,
        data,
        protocol=protocol,
        blinded=not args.unblinded,
        screening=screening,
        data_files=sorted(folder.glob("*.csv")),
    )
    out = report.write(args.out)
    print(f"wrote {out / 'report.html'} and {out / 'report.pdf'}")
    return 0
