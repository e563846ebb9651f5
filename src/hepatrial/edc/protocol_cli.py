"""`hepatrial protocol amend NEW.yaml`: print what an amendment changes, then apply or refuse it.

Light on import (it is loaded for every ``hepatrial --help``): Django starts when it runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

MARKS = {"safe": "·", "data": "!", "never": "✗"}
"""Before each change: applies safely, touches recorded data, cannot be an amendment."""


def _render(problem, language: str) -> str:
    from django.utils import translation

    from hepatrial.web.errors import problem_text

    with translation.override(language):
        return problem_text(problem)


def _heading(section: str, language: str) -> str:
    from django.utils import translation

    from hepatrial.edc.services.amendment import SECTION_LABELS

    with translation.override(language):
        return str(SECTION_LABELS.get(section, section))


def _found(review, change, language: str) -> str:
    from django.utils import translation
    from django.utils.translation import gettext

    count = review.found.get(change.key)
    if count is None:
        return ""
    with translation.override(language):
        step = review.accepted(change)
        if step is not None:
            return " " + gettext("[data on file: %(count)s; migration: %(reason)s]") % {
                "count": count, "reason": step.reason}  # fmt: skip
        return " " + gettext("[data on file: %(count)s]") % {"count": count}


def print_review(review, language: str) -> None:
    from hepatrial.protocol.amendment import grouped

    old, new = review.old.protocol.study, review.new.protocol.study
    print(f"{old.registry_id} v{old.protocol_version} ({review.old.content_hash[:8]}) → "
          f"v{new.protocol_version} ({review.new.content_hash[:8]}): "
          f"{len(review.changes)} changes")  # fmt: skip
    for section, changes in grouped(review.changes).items():
        print(f"\n{_heading(section, language)}")
        for change in changes:
            text = _render(change.problem(), language)
            found = _found(review, change, language)
            print(f"  {MARKS[change.effect.value]} {text}{found}")
            print(f"      {change.code} {change.path}")


def _refusals(problems, language: str) -> None:
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override(language):
        print("\n" + gettext("Refused; nothing was changed:"), file=sys.stderr)
    for problem in problems:
        print(f"  - {_render(problem, language)}", file=sys.stderr)


def cmd_amend(args: argparse.Namespace) -> int:
    from hepatrial.cli import setup_django

    setup_django()
    from django.utils import translation
    from django.utils.translation import gettext

    from hepatrial.edc.commands import actor_named
    from hepatrial.edc.errors import ServiceError
    from hepatrial.edc.services.amendment import AmendmentRefused, amend_protocol, review_amendment
    from hepatrial.protocol import ProtocolError, load_protocol
    from hepatrial.protocol.amendment import Migration, MigrationError, parse_migration

    language = args.language
    try:
        loaded = load_protocol(args.file)
    except ProtocolError as exc:
        print(exc, file=sys.stderr)
        return 2
    migration = Migration()
    if args.migration:
        try:
            path = Path(args.migration)
            migration = parse_migration(path.read_text(encoding="utf-8"), str(path))
        except OSError as exc:
            print(f"{args.migration}: {exc.strerror}", file=sys.stderr)
            return 2
        except MigrationError as exc:
            for problem in exc.problems:
                print(_render(problem, language), file=sys.stderr)
            return 2
    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    try:
        review = review_amendment(actor, loaded, migration)
        if review.changes:
            print_review(review, language)
        if args.dry_run or review.refused:
            if review.refused:
                _refusals(review.refusals, language)
                return 1
            with translation.override(language):
                print("\n" + gettext("Dry run: the amendment would apply; nothing was changed."))
            return 0
        result = amend_protocol(actor, loaded, reason=args.reason, migration=migration)
    except AmendmentRefused as exc:
        _refusals(exc.problems, language)
        return 1
    except ServiceError as exc:
        print(_render(exc.problem, language), file=sys.stderr)
        return 1
    with translation.override(language):
        print("\n" + gettext("Applied: the active protocol is now %(version)s.")
              % {"version": result.version})  # fmt: skip
        if result.values_migrated:
            print(gettext("Values migrated: %(count)s.") % {"count": result.values_migrated})
        if result.visits_planned:
            print(gettext("Visits scheduled: %(count)s.") % {"count": result.visits_planned})
        if result.reconsent:
            print(gettext("Asked to consent again: %(participants)s.")
                  % {"participants": ", ".join(result.reconsent)})  # fmt: skip
    return 0


def _actions(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def register(subparsers: argparse._SubParsersAction) -> None:
    protocol = _actions(subparsers.choices["protocol"])
    amend = protocol.add_parser(
        "amend", help="show what an amended protocol changes; install it as the active version"
    )
    amend.add_argument("file", metavar="NEW.yaml")
    amend.add_argument("--as", dest="as_user", required=True, metavar="USERNAME",
                       help="the administrator who amends (audited)")  # fmt: skip
    amend.add_argument("--migration", metavar="FILE",
                       help="YAML naming each change that touches recorded data, with its "
                       "reason and what to do with the values")  # fmt: skip
    amend.add_argument("--dry-run", action="store_true",
                       help="print the diff and what would be refused; change nothing")  # fmt: skip
    amend.add_argument("--reason", required=True, help="why the protocol is amended (audited)")
    amend.add_argument("--language", default="en", choices=("en", "zh-hans"))
    amend.set_defaults(func=cmd_amend)
