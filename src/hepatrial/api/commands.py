"""``hepatrial token create|list|revoke``: personal API tokens (see docs/api.md)."""

from __future__ import annotations

import argparse
import sys

from hepatrial.edc.commands import actor_named


def cmd_token(args: argparse.Namespace) -> int:
    from hepatrial.api import tokens
    from hepatrial.edc.errors import ServiceError

    actor = actor_named(args.as_user)
    if actor is None:
        return 2
    try:
        if args.token_command == "create":
            token, clear = tokens.create_token(
                actor, expires_days=args.expires, read_only=args.read_only
            )
            print(clear)
            until = f"until {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else ""
            kind = "read-only " if token.read_only else ""
            print(f"{kind}token {token.prefix} for {actor.username} {until}".rstrip()
                  + "; shown once, keep it secret", file=sys.stderr)  # fmt: skip
        elif args.token_command == "revoke":
            token = tokens.revoke_token(actor, args.token)
            print(f"token {token.prefix} revoked")
        else:
            for token in tokens.tokens_of(actor):
                expires = f"{token.expires_at:%Y-%m-%d}" if token.expires_at else "never"
                used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "-"
                mode = "read-only" if token.read_only else "read-write"
                print(f"{token.prefix}  {tokens.state(token):8}  {mode:10}  "
                      f"created {token.created_at:%Y-%m-%d}  expires {expires}  "
                      f"last write {used}")  # fmt: skip
    except ServiceError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from hepatrial.edc.commands import _as_user, _with_django

    token = sub.add_parser("token", help="personal API tokens")
    token_sub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = token_sub.add_parser("create", help="a new token, printed once")
    create.add_argument("--expires", type=int, metavar="DAYS", help="days until it expires")
    create.add_argument("--read-only", action="store_true", help="the token may only read")
    listing = token_sub.add_parser("list", help="your tokens (never their secrets)")
    revoke = token_sub.add_parser("revoke", help="revoke a token by its prefix")
    revoke.add_argument("token", metavar="PREFIX")
    for parser in (create, listing, revoke):
        _as_user(parser)
        parser.set_defaults(func=_with_django(cmd_token))
