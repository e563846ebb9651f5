"""``hepatrial export adam|odm|sdtm|report``, ``import odm``, ``lock|unlock``, ``unlock-user`` and
``derive --recompute``.

Every command names the user it acts for (``--as``); their role and sites decide what may
leave the database, exactly as on the web pages, and each export is audited.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def actor_named(username: str):
    """The active user of that name as an actor, or None after saying so on stderr."""
    from hepatrial.edc.models import User
    from hepatrial.edc.permissions import actor_for

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        print(f"no active user {username!r}", file=sys.stderr)
        return None
    return actor_for(user)


def cmd_export_adam(args: argparse.Namespace) -> int:
    from hepatrial.analysis.formats import FormatError
    from hepatrial.edc.downloads import write_analysis_folder
    from hepatrial.edc.errors import NotAllowed
    from hepatrial.edc.export import build_datasets
    from hepatrial.progress import Bar

    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    try:
        with Bar() as bar:
            export = build_datasets(actor, blinded=not args.unblinded, progress=bar)
    except NotAllowed as exc:
        print(exc, file=sys.stderr)
        return 1
    out = Path(args.out)
    try:
        screening = write_analysis_folder(export, out, args.format)
    except (FormatError, OSError) as exc:
        print(f"{out}: {exc}", file=sys.stderr)
        return 1
    counts = {
        name: len(getattr(export.datasets, name)) for name in ("adsl", "adlb", "adtte", "adae")
    }
    summary = ", ".join(f"{name} {n} rows" for name, n in counts.items())
    print(
        f"{'blinded ' if export.blinded else ''}analysis datasets ({args.format}) written to "
        f"{out}: {summary}, screening {screening} rows; read_adam.R and read_adam.sas "
        "read them with labels"
    )
    return 0


def cmd_export_odm(args: argparse.Namespace) -> int:
    """CDISC ODM 1.3.2, streamed to the file; validated and its OID references checked."""
    from hepatrial.edc.errors import NotAllowed
    from hepatrial.edc.odm_export import export_to_path
    from hepatrial.progress import Bar

    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    out = Path(args.out)
    try:
        with Bar() as bar:
            count = export_to_path(actor, out, with_audit=args.audit,
                                   blinded=not args.unblinded, progress=bar)  # fmt: skip
    except NotAllowed as exc:
        print(exc, file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{out}: {exc.strerror}", file=sys.stderr)
        return 1
    kind = "transactional (with the audit trail)" if args.audit else "snapshot"
    print(f"{'blinded ' if not args.unblinded else ''}ODM 1.3.2 {kind} written to {out}: "
          f"{count} participants")  # fmt: skip
    return 0


def cmd_export_sdtm(args: argparse.Namespace) -> int:
    """CDISC SDTM datasets as SAS transport v5 and/or Dataset-JSON 1.1, with define.json."""
    from hepatrial.edc.errors import NotAllowed
    from hepatrial.edc.sdtm_export import FORMATS, export_sdtm
    from hepatrial.interop.sdtm_files import TransportLimitError
    from hepatrial.progress import Bar

    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    out = Path(args.out)
    try:
        with Bar() as bar:
            done = export_sdtm(actor, out, blinded=not args.unblinded,
                               formats=FORMATS[args.format], progress=bar)  # fmt: skip
    except (NotAllowed, TransportLimitError) as exc:
        print(exc, file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{out}: {exc.strerror}", file=sys.stderr)
        return 1
    summary = ", ".join(f"{name} {n}" for name, n in done.counts.items())
    print(f"{'blinded ' if done.blinded else ''}SDTM ({args.format}) written to {out}: "
          f"{done.participants} participants; rows: {summary}")  # fmt: skip
    return 0


def cmd_import_odm(args: argparse.Namespace) -> int:
    """Restore the participants of an ODM file into a trial without participants."""
    from hepatrial.edc.errors import ServiceError
    from hepatrial.edc.odm_export import import_odm
    from hepatrial.progress import Bar

    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    try:
        with Bar() as bar:
            restored, refused = import_odm(actor, Path(args.file), bar)
    except (ServiceError, OSError) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 1
    for line in refused:
        print(f"refused {line}", file=sys.stderr)
    print(f"{restored} participants imported from {args.file}, {len(refused)} refused")
    return 1 if refused else 0


def cmd_export_redcap(args: argparse.Namespace) -> int:
    """The trial as a REDCap project: dictionary, events, arm, mapping and records (blinded)."""
    from hepatrial.edc.errors import NotAllowed
    from hepatrial.edc.redcap_export import export_redcap

    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    try:
        counts = export_redcap(actor, args.out)
    except NotAllowed as exc:
        print(exc, file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{args.out}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"blinded REDCap project written to {args.out}: {counts['fields']} fields, "
          f"{counts['events']} events, {counts['rows']} record rows for "
          f"{counts['participants']} participants")  # fmt: skip
    return 0


def cmd_import_redcap_data(args: argparse.Namespace) -> int:
    """Load a REDCap records export through the services; refused rows are named."""
    from hepatrial.edc.redcap_load import load_redcap_records
    from hepatrial.interop.redcap import RedcapError
    from hepatrial.progress import Bar

    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    try:
        with Bar() as bar:
            summary = load_redcap_records(actor, args.file, site=args.site,
                                          date_order=args.date_order, progress=bar)  # fmt: skip
    except RedcapError as exc:
        print(exc, file=sys.stderr)
        return 1
    for line in summary.problems():
        print(line, file=sys.stderr)
    print("\n".join(summary.totals()))
    return 1 if summary.refused else 0


def cmd_export_report(args: argparse.Namespace) -> int:
    """The report straight from the database; the datasets stay in memory."""
    import pandas as pd

    from hepatrial.edc.errors import NotAllowed
    from hepatrial.edc.export import build_datasets, provenance, screening_frame
    from hepatrial.edc.protocols import active_protocol
    from hepatrial.edc.services.signatures import SIGNATURE_COLUMNS, signature_rows
    from hepatrial.reports.provenance import Provenance
    from hepatrial.reports.render import build_report

    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    blinded = not args.unblinded
    try:
        export = build_datasets(actor, blinded=blinded, report_only=True)
    except NotAllowed as exc:
        print(exc, file=sys.stderr)
        return 1
    screening = screening_frame(export.sites)
    _, loaded = active_protocol()
    _, state = provenance(blinded=blinded)
    signed = pd.DataFrame(signature_rows(export.sites, blinded=blinded), columns=SIGNATURE_COLUMNS)
    report = build_report(
        export.datasets, export.plan, blinded=blinded, screening=screening,
        provenance=Provenance(loaded, None, state), language=args.language, signatures=signed,
    )  # fmt: skip
    out = report.write(args.out)
    print(f"{'blinded' if blinded else 'unblinded'} report written to {out}")
    return 0


def cmd_export_board(args: argparse.Namespace) -> int:
    """The data-safety board's open (arms pooled) or closed (by arm) report."""
    from hepatrial.edc.errors import NotAllowed
    from hepatrial.edc.export import board_datasets, provenance, screening_frame
    from hepatrial.edc.protocols import active_protocol
    from hepatrial.reports.board import board_report
    from hepatrial.reports.provenance import Provenance

    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    closed = args.kind == "closed"
    try:
        export = board_datasets(actor, closed=closed)
    except NotAllowed as exc:
        print(exc, file=sys.stderr)
        return 1
    _, loaded = active_protocol()
    _, state = provenance(blinded=not closed)
    arms = loaded.protocol.arms
    forbidden = {a.code for a in arms} | {t for a in arms for t in (a.label.en, a.label.zh)}
    report = board_report(
        export.datasets, closed=closed, screening=screening_frame(export.sites),
        provenance=Provenance(loaded, None, state), language=args.language, forbidden=forbidden,
    )  # fmt: skip
    written = report.write(args.out)
    print(f"{args.kind} board report written: {', '.join(str(p) for p in written)}")
    return 0


def cmd_session_limit(args: argparse.Namespace) -> int:
    from hepatrial.edc.errors import ServiceError
    from hepatrial.edc.services.sessions import set_idle_minutes

    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    try:
        policy = set_idle_minutes(actor, args.minutes)
    except ServiceError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"idle session limit: {policy.idle_minutes} minutes")
    return 0


def cmd_lock(args: argparse.Namespace) -> int:
    from hepatrial.edc.errors import ServiceError
    from hepatrial.edc.services.lock import lock_database, unlock_database

    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    try:
        if args.command == "lock":
            lock = lock_database(actor, args.reason)
            print(f"database locked at {lock.locked_at:%Y-%m-%d %H:%M} UTC by {lock.locked_by}")
        else:
            lock = unlock_database(actor, args.reason)
            print(f"database reopened by {lock.unlocked_by}")
    except ServiceError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def cmd_unlock_user(args: argparse.Namespace) -> int:
    """Lift a sign-in lockout, as an administrator of the user's sites (audited)."""
    from hepatrial.edc.errors import ServiceError
    from hepatrial.edc.services.signin import unlock_user

    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    try:
        unlock_user(actor, args.username)
    except ServiceError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{args.username} may sign in again")
    return 0


def cmd_queries_refresh(args: argparse.Namespace) -> int:
    """Bring every participant's automatic queries up to date (run daily from a timer)."""
    from django.db.models import Count

    from hepatrial.edc.errors import ServiceError
    from hepatrial.edc.models import Query
    from hepatrial.edc.services.queries import participants_to_refresh, refresh_automatic_queries

    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    numbers = participants_to_refresh(actor)
    if not numbers:
        print(f"{args.as_user} raises queries at no site with randomized participants",
              file=sys.stderr)  # fmt: skip
        return 1
    refused = 0
    for number in numbers:
        try:
            refresh_automatic_queries(actor, number)
        except ServiceError as exc:
            refused += 1
            print(f"{number}: {exc}", file=sys.stderr)
    states = dict(
        Query.objects.filter(kind="automatic", participant__screening_number__in=numbers)
        .values_list("state")
        .annotate(n=Count("id"))
    )
    counts = ", ".join(f"{states.get(s, 0)} {s}" for s in ("open", "answered", "closed"))
    print(f"{len(numbers) - refused} participants checked; automatic queries now: {counts}")
    return 1 if refused else 0


def cmd_derive(args: argparse.Namespace) -> int:
    """Re-derive every stored score under the current formula versions (audited per visit)."""
    from hepatrial.edc.errors import ServiceError
    from hepatrial.edc.protocols import active_protocol
    from hepatrial.edc.services.recompute import recompute_scores

    if not args.recompute:
        print("hepatrial derive: say --recompute to re-derive the stored scores", file=sys.stderr)
        return 2
    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    try:
        summary = recompute_scores(actor, active_protocol()[1].protocol)
    except ServiceError as exc:
        print(exc, file=sys.stderr)
        return 1
    moved = len(summary.class_changed)
    print(
        f"{summary.visits} visits re-derived: {summary.visits_changed} changed "
        f"({summary.values_changed} scores changed value, one audit record per visit); "
        f"{moved} participant{'' if moved == 1 else 's'} changed Child-Pugh class"
        + (f" ({', '.join(summary.class_changed)})" if summary.class_changed else "")
        + (f"; {summary.locked} locked visits left as they are" if summary.locked else "")
    )
    return 0


def _with_django(func):
    def run(args: argparse.Namespace) -> int:
        from hepatrial.cli import setup_django

        setup_django()
        return func(args)

    return run


def _as_user(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as", dest="as_user", required=True, metavar="USERNAME",
        help="the user acting: their role and sites decide what is allowed",
    )  # fmt: skip


def register(sub: argparse._SubParsersAction) -> None:
    from hepatrial.edc import fhir_commands

    export = sub.add_parser("export", help="export data from the database")
    export_sub = export.add_subparsers(dest="export_command", metavar="FORMAT", required=True)
    adam = export_sub.add_parser(
        "adam",
        help="analysis datasets (ADSL, ADLB, ADTTE, ADAE, screening) as CSV, SAS, "
        "Stata, SPSS or Parquet",
    )
    adam.add_argument("--out", required=True, metavar="DIR")
    _as_user(adam)
    adam.add_argument("--unblinded", action="store_true", help="arms in clear (needs a lock)")
    adam.add_argument(
        "--format", default="csv", choices=("csv", "sas", "stata", "spss", "parquet"),
        help="csv (default), sas (transport v5 .xpt), stata (.dta), spss (.sav), parquet; "
        "with variable and value labels",
    )  # fmt: skip
    adam.set_defaults(func=_with_django(cmd_export_adam))
    odm = export_sub.add_parser("odm", help="CDISC ODM 1.3.2 (metadata, data, audit trail)")
    odm.add_argument("--out", required=True, metavar="FILE")
    _as_user(odm)
    odm.add_argument(
        "--audit",
        action="store_true",
        help="a transactional file with every change and its audit record",
    )
    odm.add_argument("--unblinded", action="store_true", help="arms in clear (needs a lock)")
    odm.set_defaults(func=_with_django(cmd_export_odm))
    fhir_commands.register_export(export_sub)
    sdtm = export_sub.add_parser(
        "sdtm", help="CDISC SDTM (SAS transport v5, Dataset-JSON 1.1, define.json)"
    )
    sdtm.add_argument("--out", required=True, metavar="DIR")
    _as_user(sdtm)
    sdtm.add_argument("--unblinded", action="store_true", help="arms in clear (needs a lock)")
    sdtm.add_argument("--format", choices=("xpt", "json", "both"), default="both")
    sdtm.set_defaults(func=_with_django(cmd_export_sdtm))
    redcap_out = export_sub.add_parser(
        "redcap", help="a REDCap project: data dictionary, events, mapping, records (blinded)"
    )
    redcap_out.add_argument("--out", required=True, metavar="DIR")
    _as_user(redcap_out)
    redcap_out.set_defaults(func=_with_django(cmd_export_redcap))
    importing = sub.add_parser("import", help="import data into the database")
    import_sub = importing.add_subparsers(dest="import_command", metavar="FORMAT", required=True)
    odm_in = import_sub.add_parser("odm", help="participants of a hepatrial ODM 1.3.2 file")
    odm_in.add_argument("file", metavar="FILE")
    _as_user(odm_in)
    odm_in.set_defaults(func=_with_django(cmd_import_odm))
    redcap_in = import_sub.add_parser(
        "redcap-data", help="a REDCap records export (flat CSV) into the protocol imported from it"
    )
    redcap_in.add_argument("file", metavar="RECORDS.csv")
    _as_user(redcap_in)
    redcap_in.add_argument("--site", help="the site to screen the records at (default: the "
                           "user's only screening site)")  # fmt: skip
    redcap_in.add_argument(
        "--date-order", default="mdy", choices=("mdy", "dmy"),
        help="how to read slashed dates such as 4/2/2015 (YYYY-MM-DD is always read): mdy, "
        "REDCap's import default, or dmy",
    )  # fmt: skip
    redcap_in.set_defaults(func=_with_django(cmd_import_redcap_data))
    report = export_sub.add_parser("report", help="the statistical report (HTML + PDF)")
    report.add_argument("--out", required=True, metavar="DIR")
    _as_user(report)
    report.add_argument(
        "--unblinded",
        action="store_true",
        help="arms in clear (a locked database, or the data-safety board)",
    )
    report.add_argument("--language", default="en", choices=("en", "zh-hans"))
    report.set_defaults(func=_with_django(cmd_export_report))
    board = export_sub.add_parser(
        "board-report", help="the data-safety board's open (arms pooled) or closed report"
    )
    board.add_argument("kind", choices=("open", "closed"), metavar="open|closed")
    board.add_argument("--out", required=True, metavar="DIR")
    _as_user(board)
    board.add_argument("--language", default="en", choices=("en", "zh-hans"))
    board.set_defaults(func=_with_django(cmd_export_board))
    for name, text in (("lock", "lock the clinical data (final analysis)"),
                       ("unlock", "reopen a locked database")):  # fmt: skip
        command = sub.add_parser(name, help=text)
        _as_user(command)
        command.add_argument("--reason", required=True)
        command.set_defaults(func=_with_django(cmd_lock))
    limit = sub.add_parser("session-limit", help="set the idle session limit (minutes)")
    limit.add_argument("minutes", type=str)
    _as_user(limit)
    limit.set_defaults(func=_with_django(cmd_session_limit))
    unlock_user = sub.add_parser("unlock-user", help="lift a lockout after failed sign-ins")
    unlock_user.add_argument("username", metavar="USER")
    _as_user(unlock_user)
    unlock_user.set_defaults(func=_with_django(cmd_unlock_user))
    queries = sub.add_parser("queries", help="automatic data queries")
    queries_sub = queries.add_subparsers(dest="queries_command", metavar="ACTION", required=True)
    refresh = queries_sub.add_parser(
        "refresh", help="bring every participant's automatic queries up to date (daily)"
    )
    _as_user(refresh)
    refresh.set_defaults(func=_with_django(cmd_queries_refresh))
    derive = sub.add_parser("derive", help="re-derive the stored scores (MELD, Child-Pugh, ALBI)")
    derive.add_argument(
        "--recompute", action="store_true",
        help="recompute every visit's scores under the current formula versions and settings",
    )  # fmt: skip
    _as_user(derive)
    derive.set_defaults(func=_with_django(cmd_derive))
