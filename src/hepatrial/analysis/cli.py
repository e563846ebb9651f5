"""``hepatrial analyze``: analysis datasets in; ``results.json``, ``report.html``/``.pdf`` out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def plan_file_for(adam: str, plan: str | None) -> str | None:
    """The plan named on the command line, else ``plan.json`` beside the datasets, else none."""
    beside = Path(adam) / "plan.json"
    return plan or (str(beside) if beside.exists() else None)


def load_plan(path: str | None, adam: str | None = None, protocol: str | None = None) -> Any:
    """The analysis plan: the plan file if there is one, else the analysis section of the
    protocol (``--protocol``, else ``protocol.yaml`` beside the datasets).

    Raises :class:`ValueError` saying what is missing or wrong.
    """
    from hepatrial.analysis.plan import AnalysisPlan, load_plan_file

    if path:
        return load_plan_file(path)
    source = protocol or (str(Path(adam) / "protocol.yaml") if adam else None)
    if source and Path(source).exists():
        from hepatrial.protocol.loader import load_protocol

        return AnalysisPlan.from_protocol(load_protocol(source).protocol)
    where = f" in {adam}" if adam else ""
    raise ValueError(
        f"no analysis plan: give --plan FILE, or --protocol FILE, or put plan.json or "
        f"protocol.yaml beside the datasets{where} (an export writes both)"
    )


def run(args: argparse.Namespace) -> int:
    """Validate the ADaM CSVs, run the analysis, write ``results.json`` and the report."""
    from hepatrial.analysis.datasets import AdamValidationError, read_adam
    from hepatrial.analysis.run import PlanMismatch, run_analysis

    plan_file = plan_file_for(args.adam, args.plan)
    try:
        plan = load_plan(plan_file, args.adam, getattr(args, "protocol", None))
    except (OSError, ValueError, TypeError) as exc:
        print(f"analysis plan {plan_file}: {exc}" if plan_file else str(exc), file=sys.stderr)
        return 2
    inputs = None
    if not args.no_report:
        from hepatrial.reports.cli import report_inputs

        try:
            inputs = report_inputs(
                Path(args.adam), args.protocol, allow_other_protocol=args.other_protocol
            )
        except (OSError, ValueError) as exc:
            print(exc, file=sys.stderr)
            return 2
    try:
        datasets = read_adam(args.adam, plan)
    except AdamValidationError as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        results = run_analysis(datasets, plan)
    except PlanMismatch as exc:
        print(exc, file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "results.json"
    target.write_text(json.dumps(results, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    print(f"wrote {target}")
    if args.no_report:
        return 0
    from hepatrial.reports.cli import write_report

    return write_report(
        Path(args.adam), datasets, plan, out, unblinded=args.unblinded, inputs=inputs,
        results=results, language=args.language, plan_file=plan_file,
        report_version=args.report_version,
    )  # fmt: skip


def register(subparsers: Any) -> None:
    """Add the ``analyze`` subcommand to the ``hepatrial`` command's subparsers."""
    parser = subparsers.add_parser(
        "analyze", help="run the statistical analysis on a folder of ADaM CSV files"
    )
    parser.add_argument(
        "--adam",
        required=True,
        metavar="DIR",
        help="folder with adsl/adlb/adtte/adae.csv (any case of the names)",
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="folder for results.json and the report"
    )
    parser.add_argument(
        "--plan",
        metavar="FILE",
        help="analysis plan, JSON or YAML (default: plan.json beside the datasets, else the "
        "analysis section of the protocol: --protocol, or protocol.yaml beside the datasets)",
    )
    parser.add_argument(
        "--no-report", action="store_true", help="write results.json only (no HTML/PDF report)"
    )
    from hepatrial.reports.cli import add_report_options

    add_report_options(parser)
    parser.set_defaults(func=run)
