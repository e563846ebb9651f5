"""`hepatrial protocol import-redcap`: a REDCap project becomes a protocol file and a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def report_path(out: Path) -> Path:
    """The report sits beside the protocol: ``trial.yaml`` → ``trial.import-report.md``."""
    return out.with_name(f"{out.stem}.import-report.md")


def cmd_import_redcap(args: argparse.Namespace) -> int:
    from hepatrial.interop.redcap import RedcapError, import_project
    from hepatrial.protocol import ProtocolError, parse_protocol

    out = Path(args.out)
    try:
        imported = import_project(
            args.dictionary, events=args.events, mapping=args.mapping, arms=args.arms,
            records=args.records,
        )  # fmt: skip
    except RedcapError as exc:
        print(exc, file=sys.stderr)
        return 1
    text = imported.yaml()
    try:
        loaded = parse_protocol(text, str(out))
    except ProtocolError as exc:
        print(exc, file=sys.stderr)
        print(f"{out}: the imported protocol does not pass the check; not written", file=sys.stderr)
        return 1
    try:
        out.write_text(text, encoding="utf-8")
        report_path(out).write_text(imported.report(), encoding="utf-8")
    except OSError as exc:
        print(f"{out}: {exc.strerror}", file=sys.stderr)
        return 1
    print(imported.summary())
    print(f"wrote {out} (passes protocol check, hash {loaded.content_hash[:12]})")
    print(f"wrote {report_path(out)}: every item not converted, field by field")
    return 0


def _actions(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def register(subparsers: argparse._SubParsersAction) -> None:
    protocol = _actions(subparsers.choices["protocol"])
    redcap = protocol.add_parser(
        "import-redcap",
        help="turn a REDCap data dictionary (and events, arms, mapping) into a protocol file",
    )
    redcap.add_argument("dictionary", metavar="DICTIONARY.csv")
    redcap.add_argument("--events", metavar="EVENTS.csv", help="REDCap events export")
    redcap.add_argument("--mapping", metavar="MAPPING.csv", help="REDCap form-event mapping")
    redcap.add_argument("--arms", metavar="ARMS.csv", help="REDCap arms export")
    redcap.add_argument(
        "--records", metavar="RECORDS.csv",
        help="the project's records export: forms go on the events they have data at (when "
        "no mapping is given); repeating instruments and events are marked",
    )  # fmt: skip
    redcap.add_argument("--out", required=True, metavar="PROTOCOL.yaml")
    redcap.set_defaults(func=cmd_import_redcap)
