"""The ``hepatrial randomization`` subcommands: new-seed, generate, verify, import-check.

``register(subparsers)`` adds them to the ``hepatrial`` console script; ``main`` runs them alone
(``python -m hepatrial.randomization.cli``). Each command returns 0 on success, 1 when the
check fails and 2 when the input cannot be used.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from hepatrial.randomization.blocks import generate_block_list
from hepatrial.randomization.design import (
    Arm,
    BlockDesign,
    DesignError,
    Factor,
    MinimizationDesign,
    all_strata,
    design_from_dict,
)
from hepatrial.randomization.drbg import SeedError, seed_fingerprint
from hepatrial.randomization.listfile import (
    ListFileError,
    ListImportError,
    import_list_csv,
    read_allocations_csv,
    read_list_csv,
    write_list_csv,
)
from hepatrial.randomization.seedfile import new_seed, read_seed_file, write_seed_file
from hepatrial.randomization.verify import verify_allocations, verify_list


def parse_arm(text: str) -> Arm:
    """``CODE:RATIO`` (``CODE`` alone means ratio 1)."""
    code, _, ratio = text.partition(":")
    try:
        return Arm(code.strip(), int(ratio) if ratio else 1)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: expected CODE:RATIO ({exc})") from exc


def parse_factor(text: str) -> Factor:
    """``FACTOR=LEVEL,LEVEL,...``, e.g. ``CPCLASS=B,C``."""
    code, separator, levels = text.partition("=")
    if not separator or not levels:
        raise argparse.ArgumentTypeError(f"{text!r}: expected FACTOR=LEVEL,LEVEL")
    try:
        return Factor(code.strip(), tuple(level.strip() for level in levels.split(",")))
    except DesignError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def run_new_seed(args: argparse.Namespace) -> int:
    seed = new_seed()
    try:
        write_seed_file(args.out, seed)
    except FileExistsError:
        print(f"{args.out}: already exists; a seed file is never overwritten", file=sys.stderr)
        return 2
    print(f"{args.out}: new seed, fingerprint {seed_fingerprint(seed)}")
    return 0


def run_generate(args: argparse.Namespace) -> int:
    try:
        design = BlockDesign(
            arms=tuple(args.arms),
            block_sizes=tuple(args.block_sizes),
            factors=tuple(args.strata),
            per_stratum=args.per_stratum,
        )
        seed = read_seed_file(args.seed_file)
    except (DesignError, SeedError) as exc:
        print(exc, file=sys.stderr)
        return 2
    randomization_list = generate_block_list(design, seed)
    write_list_csv(randomization_list, args.out)
    strata = len(design.strata())
    print(
        f"{args.out}: {len(randomization_list.entries)} slots in {strata} "
        f"strat{'a' if strata != 1 else 'um'}, list hash {randomization_list.list_hash}, "
        f"seed fingerprint {randomization_list.seed_fingerprint}"
    )
    return 0


def run_verify(args: argparse.Namespace) -> int:
    try:
        seed = read_seed_file(args.seed_file)
        if args.list:
            reference: object = read_list_csv(args.list)
        else:
            with open(args.design, encoding="utf-8") as handle:
                reference = design_from_dict(json.load(handle))
            if not isinstance(reference, MinimizationDesign):
                print(f"{args.design}: use --list for a permuted-block design", file=sys.stderr)
                return 2
        allocations = read_allocations_csv(args.allocations) if args.allocations else None
    except (SeedError, ListFileError, DesignError, OSError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    if allocations is None:
        if isinstance(reference, MinimizationDesign):
            print("--allocations is required with --design", file=sys.stderr)
            return 2
        result = verify_list(reference, seed)
    else:
        result = verify_allocations(reference, seed, allocations)
    if result.ok:
        print(
            f"OK: {result.checked} {'allocations' if allocations is not None else 'slots'} checked"
        )
        return 0
    print(f"MISMATCH {result.first_mismatch}", file=sys.stderr)
    if len(result.mismatches) > 1:
        print(f"({len(result.mismatches)} mismatches in all)", file=sys.stderr)
    return 1


def run_import_check(args: argparse.Namespace) -> int:
    try:
        with open(args.list, encoding="utf-8", newline="") as handle:
            text = handle.read()
        strata = all_strata(tuple(args.strata))
        randomization_list = import_list_csv(text, args.arms, strata, args.block_sizes)
    except ListImportError as exc:
        print(f"{args.list}: {exc}", file=sys.stderr)
        return 1
    except (OSError, DesignError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(
        f"{args.list}: OK ({len(randomization_list.entries)} slots, "
        f"list hash {randomization_list.list_hash})"
    )
    return 0


def _add_design_arguments(parser: argparse.ArgumentParser, block_sizes_required: bool) -> None:
    parser.add_argument(
        "--arms",
        nargs="+",
        type=parse_arm,
        required=True,
        metavar="CODE:RATIO",
        help="arms and their ratio, e.g. SINGLE:1 DOUBLE:1",
    )
    parser.add_argument(
        "--block-sizes",
        nargs="+",
        type=int,
        required=block_sizes_required,
        metavar="N",
        help="block sizes to choose from at random, each a multiple of the sum of ratios",
    )
    parser.add_argument(
        "--strata",
        nargs="*",
        type=parse_factor,
        default=[],
        metavar="FACTOR=L1,L2",
        help="stratification factors, e.g. CPCLASS=B,C (none: one stratum ALL)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``randomization`` with its actions to the ``hepatrial`` command."""
    command = subparsers.add_parser(
        "randomization", help="generate, import and verify randomization lists"
    )
    actions = command.add_subparsers(dest="randomization_command", metavar="ACTION", required=True)

    seed = actions.add_parser("new-seed", help="write a new secret seed file (never overwrites)")
    seed.add_argument("--out", required=True, help="seed file to create")
    seed.set_defaults(func=run_new_seed)

    generate = actions.add_parser("generate", help="generate a stratified permuted-block list")
    _add_design_arguments(generate, block_sizes_required=True)
    generate.add_argument("--per-stratum", type=int, required=True, metavar="N")
    generate.add_argument("--seed-file", required=True)
    generate.add_argument("--out", required=True, help="list CSV to write")
    generate.set_defaults(func=run_generate)

    verify = actions.add_parser(
        "verify", help="check a list, and the allocations made from it, against the seed"
    )
    source = verify.add_mutually_exclusive_group(required=True)
    source.add_argument("--list", help="list CSV written by `generate`")
    source.add_argument("--design", help="minimization design JSON (MinimizationDesign.to_dict)")
    verify.add_argument("--seed-file", required=True)
    verify.add_argument("--allocations", help="allocation log CSV: stratum,sequence,arm[,levels]")
    verify.set_defaults(func=run_verify)

    check = actions.add_parser("import-check", help="validate an externally generated list")
    check.add_argument("--list", required=True, help="CSV with columns stratum,sequence,arm")
    _add_design_arguments(check, block_sizes_required=True)
    check.set_defaults(func=run_import_check)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hepatrial")
    register(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
