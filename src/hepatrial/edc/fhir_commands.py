"""``hepatrial export fhir``: a FHIR R5 bundle of the trial, registered under ``export``.

Kept apart from :mod:`hepatrial.edc.commands` (which calls :func:`register_export`) so the
exports being added side by side do not edit one function; like every command there it imports
its work only when it runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_export_fhir(args: argparse.Namespace) -> int:
    """A FHIR R5 Bundle (collection) as JSON, checked before it is written; audited."""
    from hepatrial.edc.commands import actor_named
    from hepatrial.edc.errors import NotAllowed
    from hepatrial.edc.fhir_export import BundleCheckFailed, export_to_path

    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    out = Path(args.out)
    try:
        count, resources = export_to_path(actor, out, blinded=not args.unblinded)
    except NotAllowed as exc:
        print(exc, file=sys.stderr)
        return 1
    except BundleCheckFailed as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{out}: not written, the bundle failed {len(exc.problems)} checks", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{out}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"{'blinded ' if not args.unblinded else ''}FHIR R5 bundle written to {out}: "
          f"{count} participants, {resources} resources")  # fmt: skip
    return 0


def register_export(export_sub: argparse._SubParsersAction) -> None:
    """Add ``fhir`` to the ``export`` formats."""
    from hepatrial.edc.commands import _as_user, _with_django

    fhir = export_sub.add_parser(
        "fhir", help="FHIR R5 bundle (study, subjects, visits, laboratory values, adverse events)"
    )
    fhir.add_argument("--out", required=True, metavar="FILE")
    _as_user(fhir)
    fhir.add_argument("--unblinded", action="store_true", help="arms in clear (needs a lock)")
    fhir.set_defaults(func=_with_django(cmd_export_fhir))
