"""The `hepatrial` command. Django runs underneath; nobody types manage.py.

Commands that only read files (protocol, score, analyze) never start Django, so they work in any
environment with the package installed. Commands that touch the database set Django up first.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from hepatrial import __version__

PLUGGED_COMMANDS = [
    "hepatrial.scores.cli",
    "hepatrial.randomization.cli",
    "hepatrial.analysis.cli",
    "hepatrial.simulate.cli",
    "hepatrial.reports.cli",
    "hepatrial.edc.commands",
    "hepatrial.interop.cli",
    "hepatrial.api.commands",
]
"""Modules that add their own subcommand through ``register(subparsers)``."""


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
    if args.demo_accounts:
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
    from waitress import serve

    from hepatrial.wsgi import application

    print(f"hepatrial {__version__} serving on http://{args.host}:{args.port}/  (Ctrl-C stops)")
    serve(application, host=args.host, port=args.port, threads=args.threads, ident="hepatrial")
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
    from hepatrial.edc.demo_trial import DemoLoader
    from hepatrial.edc.errors import ServiceError
    from hepatrial.edc.models import Participant
    from hepatrial.edc.protocols import active_protocol
    from hepatrial.simulate import simulate_trial

    if Participant.objects.exists():
        print(f"demo trial already filled: {Participant.objects.count()} participants screened")
        return 0
    protocol = active_protocol()[1].protocol
    print(f"simulating {args.participants} randomized participants (seed {args.seed}) ...")
    records = simulate_trial(protocol, n_participants=args.participants, seed=args.seed)
    try:
        DemoLoader(records).run()
    except ServiceError as exc:
        print(f"demo data refused: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
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
    demo.add_argument("--participants", type=int, default=92, help="randomized participants")
    demo.add_argument("--seed", type=int, default=20240301)
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="serve the web application")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--threads", type=int, default=8)
    serve.set_defaults(func=cmd_serve)

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

    protocol = sub.add_parser("protocol", help="check or summarize a protocol file")
    protocol_sub = protocol.add_subparsers(dest="protocol_command", metavar="ACTION", required=True)
    check = protocol_sub.add_parser("check", help="validate protocol files")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(func=cmd_protocol_check)
    show = protocol_sub.add_parser("show", help="print a readable summary")
    show.add_argument("file", metavar="FILE")
    show.set_defaults(func=cmd_protocol_show)

    for module_name in PLUGGED_COMMANDS:
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
