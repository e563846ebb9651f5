"""`hepatrial score`: liver severity scores for one patient (flags) or a CSV file of patients."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from hepatrial.scores.settings import DEFAULT_SETTINGS, ScoreSettings
from hepatrial.scores.table import INPUT_COLUMNS, SCORE_COLUMNS, score_table

_FLAG_HELP = {
    "sex": "F or M (needed for MELD 3.0)",
    "bilirubin": "total bilirubin",
    "bilirubin_unit": "µmol/L (umol/L) or mg/dL",
    "creatinine": "serum creatinine",
    "creatinine_unit": "µmol/L (umol/L) or mg/dL",
    "inr": "INR",
    "sodium": "serum sodium, mmol/L",
    "albumin": "serum albumin",
    "albumin_unit": "g/L or g/dL",
    "ascites": "none, mild, moderate-severe, or International Ascites Club grade 0-3",
    "encephalopathy": "none, grade 1-2, grade 3-4, or West Haven grade 0-4",
    "pt_prolongation_s": "prothrombin time prolongation in seconds (Child-Pugh without INR)",
}


_NEEDS = {
    "meld": ("bilirubin", "creatinine", "inr"),
    "meld_na": ("bilirubin", "creatinine", "inr", "sodium"),
    "meld3": ("sex", "bilirubin", "creatinine", "inr", "sodium", "albumin"),
    "child_pugh_points": ("bilirubin", "albumin", "ascites", "encephalopathy", "inr"),
    "child_pugh_class": ("bilirubin", "albumin", "ascites", "encephalopathy", "inr"),
    "albi": ("bilirubin", "albumin"),
    "albi_grade": ("bilirubin", "albumin"),
}
"""What each score needs; for Child-Pugh, ``pt_prolongation_s`` can stand in for ``inr``."""


def _missing_for(score: str, row: dict[str, str]) -> list[str]:
    missing = [name for name in _NEEDS[score] if not row[name]]
    if "inr" in missing and score.startswith("child_pugh") and row["pt_prolongation_s"]:
        missing.remove("inr")
    elif "inr" in missing and score.startswith("child_pugh"):
        missing[missing.index("inr")] = "inr or pt_prolongation_s"
    return missing


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score",
        help="liver severity scores (MELD, MELD-Na, MELD 3.0, Child-Pugh, ALBI)",
        description=(
            "Score one patient given by flags, or every row of a CSV file with --csv IN --out OUT. "
            "Conventions and accepted spellings: docs/scores.md."
        ),
    )
    parser.add_argument(
        "--protocol",
        metavar="FILE",
        help="score by this protocol's Child-Pugh table and conversion factors "
        "(default: the published tables, factors 17.1 and 88.4)",
    )
    batch = parser.add_argument_group("batch")
    batch.add_argument(
        "--csv", metavar="IN", help=f"input CSV with columns {', '.join(INPUT_COLUMNS)}"
    )
    batch.add_argument("--out", metavar="OUT", help="output CSV: the input columns plus the scores")
    patient = parser.add_argument_group("one patient")
    for name, text in _FLAG_HELP.items():
        patient.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar="VALUE", help=text)
    patient.add_argument(
        "--dialysis",
        action="store_true",
        help="dialysis at least twice in the week before the creatinine test, or 24 h of CVVHD",
    )
    patient.add_argument(
        "--cholestatic",
        action="store_true",
        help="cholestatic disease (PBC/PSC): Child-Pugh bilirubin 68.4-171 µmol/L, 4-10 mg/dL",
    )
    parser.set_defaults(func=run)


def _settings(args: argparse.Namespace) -> ScoreSettings | None:
    """The settings of ``--protocol`` (``None`` after printing why it cannot be used)."""
    if not getattr(args, "protocol", None):
        return DEFAULT_SETTINGS
    from hepatrial.protocol import ProtocolError, load_protocol

    try:
        return load_protocol(args.protocol).protocol.score_settings()
    except ProtocolError as exc:
        print(exc, file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if settings is None:
        return 2
    if args.csv or args.out:
        return _run_batch(args, settings)
    return _run_patient(args, settings)


def _run_batch(args: argparse.Namespace, settings: ScoreSettings) -> int:
    if not (args.csv and args.out):
        print("hepatrial score: --csv and --out go together", file=sys.stderr)
        return 2
    given = [name for name in _FLAG_HELP if getattr(args, name) is not None]
    if given or args.dialysis or args.cholestatic:
        print("hepatrial score: patient flags cannot be combined with --csv", file=sys.stderr)
        return 2
    try:
        table = pd.read_csv(args.csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        print(f"hepatrial score: cannot read {args.csv}: {exc}", file=sys.stderr)
        return 2
    try:
        scored, problems = score_table(table, settings)
    except ValueError as exc:
        print(f"hepatrial score: {args.csv}: {exc}", file=sys.stderr)
        return 2
    scored.to_csv(args.out, index=False)
    for problem in problems:
        print(f"{args.csv}: {problem}", file=sys.stderr)
    print(
        f"{len(scored) - len(problems)} of {len(scored)} rows scored, "
        f"{len(problems)} bad row{'s' if len(problems) != 1 else ''}; wrote {args.out}"
    )
    return 1 if problems else 0


def _run_patient(args: argparse.Namespace, settings: ScoreSettings) -> int:
    row = {name: "" for name in INPUT_COLUMNS}
    for name in _FLAG_HELP:
        value = getattr(args, name)
        row[name] = "" if value is None else value
    row["dialysis"] = "yes" if args.dialysis else "no"
    row["cholestatic"] = "yes" if args.cholestatic else "no"
    if not any(row[name] for name in _FLAG_HELP):
        print(
            "hepatrial score: give patient values as flags, or --csv IN --out OUT", file=sys.stderr
        )
        return 2
    scored, problems = score_table(pd.DataFrame([row], dtype=str), settings)
    if problems:
        print(f"hepatrial score: {problems[0].reason}", file=sys.stderr)
        return 1
    result = scored.iloc[0]
    for name in SCORE_COLUMNS:
        value = result[name]
        if value is None or pd.isna(value):
            value = f"not computed (missing {', '.join(_missing_for(name, row)) or 'inputs'})"
        print(f"{name:<18} {value}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hepatrial")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
