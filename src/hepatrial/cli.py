"""The `hepatrial` command. Django runs underneath; nobody types manage.py.

Commands that only read files (protocol, score, analyze) never start Django, so they work in any
environment with the package installed. Commands that touch the database set Django up first.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Collection, Sequence

from hepatrial import __version__

PLUGGED_COMMANDS = {
    "score": ("hepatrial.scores.cli",
              "liver severity scores (MELD, MELD-Na, MELD 3.0, Child-Pugh, ALBI)"),
    "randomization": ("hepatrial.randomization.cli",
                      "generate, import and verify randomization lists"),
    "analyze": ("hepatrial.analysis.cli",
                "run the statistical analysis on a folder of ADaM CSV files"),
    "power": ("hepatrial.simulate.cli",
              "sample size and power for the primary endpoint and the MELD ANCOVA"),
    "simulate": ("hepatrial.simulate.cli",
                 "simulate one synthetic trial: participant records and analysis datasets"),
    "report": ("hepatrial.reports.cli", "render, approve or verify the statistical report"),
    "export": ("hepatrial.edc.commands", "export data from the database"),
    "import": ("hepatrial.edc.commands", "import data into the database"),
    "lock": ("hepatrial.edc.commands", "lock the clinical data (final analysis)"),
    "unlock": ("hepatrial.edc.commands", "reopen a locked database"),
    "unlock-user": ("hepatrial.edc.commands", "lift a lockout after failed sign-ins"),
    "session-limit": ("hepatrial.edc.commands", "set the idle session limit (minutes)"),
    "queries": ("hepatrial.edc.commands", "automatic data queries"),
    "derive": ("hepatrial.edc.commands", "re-derive the stored scores (MELD, Child-Pugh, ALBI)"),
    "token": ("hepatrial.api.commands", "personal API tokens"),
}  # fmt: skip
PROTOCOL_EXTENSIONS = ("hepatrial.interop.cli", "hepatrial.edc.protocol_cli")
"""Light modules (their work is imported when it runs) that add actions to ``protocol``."""
"""Commands that modules add through ``register(subparsers)``, with their one-line help.

A module is imported only when its command runs (pandas, SciPy and statsmodels take seconds to
import); ``hepatrial --help`` lists them from this table, which tests/test_cli_fast.py checks
against what the modules register.
"""


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hepatrial.settings")
    import django

    django.setup()


def cmd_protocol_check(args: argparse.Namespace) -> int:
    from hepatrial.protocol import ProtocolError, load_protocol

    failed = 0
    for path in args.files:
        try:
            loaded = load_protocol(path)
        except ProtocolError as exc:
            failed += 1
            print(exc, file=sys.stderr)
            count = len(exc.issues)
            print(f"{path}: {count} problem{'s' if count != 1 else ''}", file=sys.stderr)
        else:
            print(f"{path}: OK ({loaded.protocol.study.registry_id}, hash {loaded.content_hash})")
    return 1 if failed else 0


def cmd_protocol_show(args: argparse.Namespace) -> int:
    from hepatrial.protocol import ProtocolError, load_protocol
    from hepatrial.protocol.summary import summary

    try:
        loaded = load_protocol(args.file)
    except ProtocolError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(summary(loaded))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import call_command

    from hepatrial.edc.demo_accounts import ensure_demo_accounts, format_accounts
    from hepatrial.edc.protocols import install_protocol
    from hepatrial.protocol import ProtocolError, default_protocol_path, load_protocol

    try:
        loaded = load_protocol(args.protocol or default_protocol_path())
    except ProtocolError as exc:
        print(exc, file=sys.stderr)
        return 1
    call_command("migrate", interactive=False, verbosity=0)
    version = install_protocol(loaded)
    print(f"Database ready; active protocol {version}")
    if args.demo_accounts and not loaded.protocol.randomized:
        print(format_accounts(ensure_demo_accounts()))
    elif args.demo_accounts:
        from hepatrial.edc.demo_list import ensure_demo_list

        allocation_list = ensure_demo_list(loaded.protocol)
        print(
            f"Randomization list {allocation_list.list_hash[:12]} active "
            f"(seed fingerprint {allocation_list.seed_fingerprint[:12]})"
        )
        print(format_accounts(ensure_demo_accounts()))
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    setup_django()
    from hepatrial.edc.audit import verify_chain

    check = verify_chain()
    if check.intact:
        print(f"audit trail intact: {check.checked} records")
        return 0
    if check.first_broken_id is None:
        print(f"audit trail broken: {check.problem}", file=sys.stderr)
    else:
        print(
            f"audit trail broken at record {check.first_broken_id}: {check.problem} "
            f"({check.checked} records before it are intact)",
            file=sys.stderr,
        )
    return 1


def cmd_serve(args: argparse.Namespace) -> int:
    setup_django()
    from hepatrial.serving import ServeOptions, serve_gunicorn, serve_waitress

    options = ServeOptions(args.host, args.port, args.workers, args.threads, args.timeout,
                           args.access_log)  # fmt: skip
    if args.workers is None:
        print(f"hepatrial {__version__} serving on http://{args.host}:{args.port}/  (Ctrl-C stops)")
        serve_waitress(options)
    else:
        print(f"hepatrial {__version__} serving on http://{args.host}:{args.port}/ with "
              f"{args.workers} worker processes", flush=True)  # fmt: skip
        serve_gunicorn(options)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    setup_django()
    from hepatrial.edc.backup import BackupError, backup

    try:
        manifest = backup(args.out)
    except (BackupError, OSError) as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    rows = sum(manifest["tables"].values())
    print(f"{manifest['database']} backup written to {args.out}: {len(manifest['tables'])} "
          f"tables, {rows} rows, {manifest['audit']['records']} audit records")  # fmt: skip
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    setup_django()
    from hepatrial.edc.backup import BackupError, restore

    try:
        checks = restore(args.file)
    except (BackupError, OSError) as exc:
        print(f"restore failed: {exc}", file=sys.stderr)
        return 1
    failed = [c for c in checks if not c.ok]
    for check in failed:
        print(f"MISMATCH {check.name}: backup {check.expected!r}, restored {check.found!r}",
              file=sys.stderr)  # fmt: skip
    if failed:
        print(f"restored, but {len(failed)} of {len(checks)} checks failed", file=sys.stderr)
        return 1
    print(f"restored {args.file} and verified it: {len(checks)} checks passed (row counts of "
          "every table, audit trail, protocol hash, blinded ADaM export)")  # fmt: skip
    return 0


def cmd_allocation_verify(args: argparse.Namespace) -> int:
    setup_django()
    from hepatrial.edc.errors import PreconditionFailed
    from hepatrial.edc.services.allocation import verify_allocations
    from hepatrial.randomization.drbg import SeedError
    from hepatrial.randomization.seedfile import read_seed_file

    try:
        result = verify_allocations(read_seed_file(args.seed_file))
    except (SeedError, PreconditionFailed) as exc:
        print(exc, file=sys.stderr)
        return 2
    if result.ok:
        print(f"allocation list and {result.checked} allocations verified against the seed")
        return 0
    print(f"verification failed: {result.first_mismatch}", file=sys.stderr)
    return 1


def cmd_allocation_load(args: argparse.Namespace) -> int:
    setup_django()
    from hepatrial.edc.errors import PreconditionFailed
    from hepatrial.edc.protocols import active_protocol
    from hepatrial.edc.services.allocation import design_for, load_list
    from hepatrial.randomization.listfile import ListImportError, import_list_csv

    protocol = active_protocol()[1].protocol
    design = design_for(protocol, per_stratum=1)
    try:
        with open(args.list, encoding="utf-8", newline="") as handle:
            rlist = import_list_csv(handle.read(), design.arms, design.strata(), design.block_sizes)
        loaded = load_list(rlist, operator=args.operator)
    except OSError as exc:
        print(f"{args.list}: {exc.strerror}", file=sys.stderr)
        return 2
    except ListImportError as exc:
        for issue in exc.issues:
            print(f"{args.list}: {issue}", file=sys.stderr)
        return 1
    except PreconditionFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"list {loaded.list_hash[:12]} loaded and active: {len(rlist.entries)} slots")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    setup_django()
    from hepatrial.edc.demo_trial import DemoAccountsMissing, DemoLoader, simulate_demo
    from hepatrial.edc.errors import ServiceError
    from hepatrial.edc.models import Participant
    from hepatrial.edc.protocols import NoActiveProtocol, active_protocol
    from hepatrial.progress import Bar
    from hepatrial.simulate.parameters import SimulationFileError

    if Participant.objects.exists():
        print(f"demo trial already filled: {Participant.objects.count()} participants screened")
        return 0
    try:
        target = args.participants or active_protocol()[1].protocol.study.target_enrolment
        print(f"simulating {target} randomized participants (seed {args.seed}) ...")
        records = simulate_demo(target, args.seed)
        with Bar() as bar:
            DemoLoader(records).run(bar)
    except (DemoAccountsMissing, NoActiveProtocol) as exc:
        print(f"demo data refused: {exc}", file=sys.stderr)
        return 2
    except SimulationFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    except ServiceError as exc:
        print(f"demo data refused: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser(plugged: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The command line; ``plugged``: the modules of PLUGGED_COMMANDS to import (all if None),
    the others' commands are placeholders that only name themselves."""
    parser = argparse.ArgumentParser(
        prog="hepatrial", description="Run a randomized clinical trial end to end."
    )
    parser.add_argument("--version", action="version", version=f"hepatrial {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    init = sub.add_parser("init", help="create or migrate the database and load the protocol")
    init.add_argument("--protocol", help="protocol file (default: the shipped NCT06242405)")
    init.add_argument(
        "--demo-accounts",
        action="store_true",
        help="create one demo account per role and print them",
    )
    init.set_defaults(func=cmd_init)

    demo = sub.add_parser("demo", help="fill an empty trial with simulated participants")
    demo.add_argument(
        "--participants", type=int, help="randomized participants (default: the protocol's target)"
    )
    demo.add_argument("--seed", type=int, default=20240301)
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="serve the web application")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, metavar="N",
        help="run gunicorn with N worker processes (production); without it, one waitress "
        "process (the demo)",
    )  # fmt: skip
    serve.add_argument(
        "--threads", type=int,
        help="threads per process (waitress: 8; gunicorn: 1, a synchronous worker)",
    )  # fmt: skip
    serve.add_argument("--timeout", type=int, default=60,
                       help="gunicorn: seconds before a stuck worker is restarted")  # fmt: skip
    serve.add_argument("--access-log", metavar="FILE",
                       help="gunicorn: request log ('-' for standard output)")  # fmt: skip
    serve.set_defaults(func=cmd_serve)

    backup = sub.add_parser("backup", help="copy the database into one file that checks itself")
    backup.add_argument("--out", required=True, metavar="FILE")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="restore a backup into an empty database; verify it")
    restore.add_argument("file", metavar="FILE")
    restore.set_defaults(func=cmd_restore)

    audit = sub.add_parser("audit", help="check the audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_sub.add_parser("verify", help="recompute the hash chain; name the first break")
    verify.set_defaults(func=cmd_audit_verify)

    allocation = sub.add_parser("allocation", help="the randomization list in the database")
    allocation_sub = allocation.add_subparsers(
        dest="allocation_command", metavar="ACTION", required=True
    )
    verify_db = allocation_sub.add_parser(
        "verify", help="regenerate the list from the seed; check every slot and allocation"
    )
    verify_db.add_argument("--seed-file", required=True)
    verify_db.set_defaults(func=cmd_allocation_verify)
    load = allocation_sub.add_parser("load", help="load a list CSV from the trial statistician")
    load.add_argument("--list", required=True, metavar="CSV")
    load.add_argument("--operator", required=True, help="who loads it, for the audit trail")
    load.set_defaults(func=cmd_allocation_load)

    protocol = sub.add_parser("protocol", help="check, summarize or amend a protocol file")
    protocol_sub = protocol.add_subparsers(dest="protocol_command", metavar="ACTION", required=True)
    check = protocol_sub.add_parser("check", help="validate protocol files")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(func=cmd_protocol_check)
    show = protocol_sub.add_parser("show", help="print a readable summary")
    show.add_argument("file", metavar="FILE")
    show.set_defaults(func=cmd_protocol_show)

    for module_name in PROTOCOL_EXTENSIONS:
        importlib.import_module(module_name).register(sub)
    for module_name in sorted({m for m, _ in PLUGGED_COMMANDS.values()}):
        if plugged is None or module_name in plugged:
            importlib.import_module(module_name).register(sub)
    for name, (module_name, text) in PLUGGED_COMMANDS.items():
        if plugged is not None and module_name not in plugged:
            stub = sub.add_parser(name, help=text, add_help=False)
            stub.set_defaults(plugged_module=module_name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(plugged=())
    args, _ = parser.parse_known_args(argv)
    module_name = getattr(args, "plugged_module", None)
    if module_name is not None:
        parser = build_parser(plugged={module_name})
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
