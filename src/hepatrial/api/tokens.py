"""Personal API tokens: created, listed, revoked, expiring; every step audited.

A token is ``hpt_<prefix>_<secret>``: the prefix (8 hex digits) names the token in lists and
the audit trail, the secret is 32 random bytes. Only the SHA-256 of the whole token is stored.
A slow password hash (Argon2) is not needed here: it protects low-entropy passwords against
guessing, while a 256-bit random secret cannot be guessed from its hash, and a fast hash lets
every API request be checked by one indexed lookup.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.utils import timezone

from hepatrial.api.models import ApiToken
from hepatrial.edc import audit
from hepatrial.edc.errors import NotAllowed, NotFound, ValidationFailed
from hepatrial.edc.models import Membership, User
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.services.boundary import Writes, service
from hepatrial.problems import MESSAGES, Problem, gettext_noop

MESSAGES.update({
    "token.not_found": gettext_noop("no API token %(token)s"),
    "token.not_yours": gettext_noop("API token %(token)s belongs to someone else"),
    "token.expiry_positive": gettext_noop("a token lasts at least one day"),
})  # fmt: skip

PREFIX = "hpt_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _audit(actor: Actor, token: ApiToken, action: str, **fields) -> None:
    audit.record(action, username=actor.username, object_type="apitoken", object_id=token.pk,
                 item="api_token", **fields)  # fmt: skip


@service(writes=Writes.ADMINISTRATION)
def create_token(
    actor: Actor, *, expires_days: int | None = None, read_only: bool = False
) -> tuple[ApiToken, str]:
    """A new token for ``actor`` themself; the clear token is returned once, never stored."""
    if expires_days is not None and expires_days < 1:
        raise ValidationFailed({"expires": Problem("token.expiry_positive")})
    now = timezone.now()
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    clear = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user_id=actor.user_id, prefix=prefix, digest=digest(clear), read_only=read_only,
        created_at=now,
        expires_at=now + dt.timedelta(days=expires_days) if expires_days else None,
    )  # fmt: skip
    context = {"read_only": read_only, "expires_at": token.expires_at.isoformat()
               if token.expires_at else None}  # fmt: skip
    _audit(actor, token, "token_create", new=prefix, context=context)
    return token, clear


def _may_manage(actor: Actor, owner: User) -> bool:
    """The owner, or an administrator of every site where the owner holds a role."""
    if owner.pk == actor.user_id:
        return True
    sites = set(Membership.objects.filter(user=owner).values_list("site__code", flat=True))
    return bool(sites) and all(actor.can(Action.MANAGE_USERS, s) for s in sites)


@service(Action.MANAGE_USERS, writes=Writes.ADMINISTRATION)
def revoke_token(actor: Actor, prefix: str) -> ApiToken:
    """Revoke a token (the owner's, or as administrator of all the owner's sites)."""
    prefix = prefix.removeprefix(PREFIX).split("_")[0]
    token = ApiToken.objects.select_for_update().select_related("user").filter(
        prefix=prefix
    ).first()  # fmt: skip
    if token is None:
        raise NotFound(Problem("token.not_found", token=prefix))
    if not _may_manage(actor, token.user):
        raise NotAllowed(Problem("token.not_yours", token=prefix))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _audit(actor, token, "token_revoke", old=prefix, context={"owner": token.user.username})
    return token


def tokens_of(actor: Actor) -> list[ApiToken]:
    """The actor's own tokens, newest first (revoked and expired ones included)."""
    return list(ApiToken.objects.filter(user_id=actor.user_id).order_by("-created_at", "-id"))


def state(token: ApiToken, now: dt.datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked``."""
    now = now or timezone.now()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def token_for(clear: str) -> ApiToken | None:
    """The active token of an active user with this secret, or None."""
    if not clear.startswith(PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=digest(clear)).first()
    if token is None or state(token) != "active" or not token.user.is_active:
        return None
    return token


def note_write(token: ApiToken, method: str, path: str) -> None:
    """A write request came with this token: audited at once, whatever the service then says."""
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    audit.record("token_use", username=token.user.username, object_type="apitoken",
                 object_id=token.pk, item="api_token", new=token.prefix,
                 context={"method": method, "path": path})  # fmt: skip
