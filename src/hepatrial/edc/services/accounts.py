"""Users, their memberships and the sites: administration, each change audited.

Administration is site-scoped: an administrator changes memberships only at the sites where they
are administrator, and changes a person's account (deactivation, a new password) only if they
administer every site where that person holds a role, so no site's administrator can take over
another site's accounts. Every site keeps at least one active administrator. Users are
deactivated, never deleted: the audit trail and the records they signed keep pointing at them.

No password or password hash is ever written to the audit trail.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q

from hepatrial.edc import audit
from hepatrial.edc.errors import NotAllowed, NotFound, PreconditionFailed, ValidationFailed
from hepatrial.edc.models import Membership, Site, User
from hepatrial.edc.passwords import remember_password
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.roles import Role
from hepatrial.edc.services.boundary import Writes, service
from hepatrial.problems import MESSAGES, Problem, gettext_noop

MESSAGES.update(
    {
        "accounts.not_administrator": gettext_noop(
            "only an administrator may manage users and sites"
        ),
        "accounts.not_administrator_at": gettext_noop(
            "you are not an administrator at site %(site)s"
        ),
        "accounts.user_elsewhere": gettext_noop(
            "%(username)s also holds a role at a site you do not administer; "
            "ask that site's administrator"
        ),
        "accounts.user_not_found": gettext_noop("no user %(username)s"),
        "accounts.site_not_found": gettext_noop("no site %(site)s"),
        "accounts.username_required": gettext_noop("enter a user name"),
        "accounts.username_invalid": gettext_noop(
            "use letters, digits and . _ - only (at most 150)"
        ),
        "accounts.username_taken": gettext_noop("the user name %(username)s is already taken"),
        "accounts.full_name_required": gettext_noop("enter the person's full name"),
        "accounts.email_invalid": gettext_noop("enter a valid e-mail address"),
        "accounts.password_rejected": gettext_noop("this password cannot be used: %(reasons)s"),
        "accounts.role_invalid": gettext_noop("choose a role from the list"),
        "accounts.last_administrator": gettext_noop(
            "%(username)s is the last active administrator of site %(site)s; "
            "make someone else administrator there first"
        ),
        "accounts.site_code_invalid": gettext_noop(
            "a site code is 1 to 32 capital letters or digits (for example SY)"
        ),
        "accounts.site_code_taken": gettext_noop("there is already a site %(site)s"),
        "accounts.site_required": gettext_noop("choose the site of this role"),
        "accounts.site_name_required": gettext_noop("enter the site's name"),
        "accounts.language_invalid": gettext_noop("choose a language from the list"),
        "accounts.already_active": gettext_noop("%(username)s is already active"),
        "accounts.already_inactive": gettext_noop("%(username)s is already deactivated"),
    }
)

USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,150}$")
SITE_CODE = re.compile(r"^[A-Z0-9]{1,32}$")


@dataclass(frozen=True)
class UserRow:
    username: str
    full_name: str
    email: str
    is_active: bool
    roles: dict[str, Role]
    """Site code → role, at every site (not only the ones the administrator manages)."""
    manageable: bool
    """Whether this administrator may deactivate the user or set a new password."""


class _Reasons:
    """Django's password-validator messages, rendered in the language current when shown."""

    def __init__(self, error: ValidationError):
        self.errors = error.error_list

    def __str__(self) -> str:
        return " ".join(str(e.message % e.params if e.params else e.message) for e in self.errors)


def _managed_sites(actor: Actor) -> list[str]:
    sites = actor.sites_for(Action.MANAGE_USERS)
    if not sites:
        raise NotAllowed(Problem("accounts.not_administrator"))
    return sites


def _require_site(actor: Actor, site_code: str) -> Site:
    _managed_sites(actor)
    site = Site.objects.filter(code=site_code).first()
    if site is None:
        raise NotFound(Problem("accounts.site_not_found", site=site_code))
    if not actor.can(Action.MANAGE_USERS, site_code):
        raise NotAllowed(Problem("accounts.not_administrator_at", site=site_code))
    return site


def _user(username: str, *, lock: bool = False) -> User:
    users = User.objects.select_for_update() if lock else User.objects
    user = users.filter(username=username).first()
    if user is None:
        raise NotFound(Problem("accounts.user_not_found", username=username))
    return user


def _require_manages(actor: Actor, user: User) -> None:
    """The actor administers every site where ``user`` holds a role."""
    managed = set(_managed_sites(actor))
    held = set(user.memberships.values_list("site__code", flat=True))
    if held - managed:
        raise NotAllowed(Problem("accounts.user_elsewhere", username=user.username))


def _keep_an_administrator(user: User, sites: list[str]) -> None:
    """Refuse a change that leaves any of ``sites`` without another active administrator.

    Two administrators deactivating each other at once would each see the other still active
    and both succeed; locking the site rows first makes the second wait for the first to commit,
    and then count again.
    """
    list(Site.objects.select_for_update().filter(code__in=sites).order_by("code"))
    for site in sites:
        others = Membership.objects.filter(
            site__code=site, role=Role.ADMINISTRATOR, user__is_active=True
        ).exclude(user=user)
        if not others.exists():
            raise PreconditionFailed(
                Problem("accounts.last_administrator", username=user.username, site=site)
            )


def _check_password(password: str, user: User, field: str = "password") -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise ValidationFailed(
            {field: Problem("accounts.password_rejected", reasons=_Reasons(error))}
        ) from None


def _new_password() -> str:
    return secrets.token_urlsafe(12)


def _roles_of(users: list[User]) -> dict[int, dict[str, Role]]:
    roles: dict[int, dict[str, Role]] = {u.pk: {} for u in users}
    memberships = Membership.objects.filter(user__in=users).select_related("site")
    for m in memberships.order_by("site__code"):
        roles[m.user_id][m.site.code] = Role(m.role)
    return roles


def list_users(actor: Actor) -> list[UserRow]:
    """Users with a role at a site the actor administers, and users with no role at all yet."""
    managed = set(_managed_sites(actor))
    held_here = Q(memberships__site__code__in=managed) | Q(memberships=None)
    users = list(User.objects.filter(held_here).distinct())
    users.sort(key=lambda u: u.username)
    roles = _roles_of(users)
    return [
        UserRow(
            username=u.username,
            full_name=u.get_full_name(),
            email=u.email,
            is_active=u.is_active,
            roles=roles[u.pk],
            manageable=not (set(roles[u.pk]) - managed),
        )
        for u in users
    ]


def user_detail(actor: Actor, username: str) -> UserRow:
    row = next((r for r in list_users(actor) if r.username == username), None)
    if row is None:
        raise NotFound(Problem("accounts.user_not_found", username=username))
    return row


def list_sites(actor: Actor) -> list[Site]:
    _managed_sites(actor)
    return list(Site.objects.order_by("code"))


def _split_name(full_name: str) -> tuple[str, str]:
    """A full name kept whole in ``first_name``: Chinese names have no Western first/last."""
    return full_name.strip()[:150], ""


@service(Action.MANAGE_USERS, writes=Writes.ADMINISTRATION)
def add_user(
    actor: Actor,
    username: str,
    full_name: str,
    email: str = "",
    password: str = "",
    site: str = "",
    role: str = "",
) -> tuple[User, str]:
    """Create an active user (and their first membership); return it with its password.

    Without a typed ``password`` one is generated; either way it is returned to be shown once,
    and never stored anywhere but as Django's hash.
    """
    _managed_sites(actor)
    username, email = username.strip(), email.strip()
    errors: dict[str, Problem] = {}
    if not username:
        errors["username"] = Problem("accounts.username_required")
    elif not USERNAME.match(username):
        errors["username"] = Problem("accounts.username_invalid")
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = Problem("accounts.username_taken", username=username)
    if not full_name.strip():
        errors["full_name"] = Problem("accounts.full_name_required")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = Problem("accounts.email_invalid")
    if (site or role) and role not in set(Role):
        errors["role"] = Problem("accounts.role_invalid")
    if role and not site:
        errors["site"] = Problem("accounts.site_required")
    first, last = _split_name(full_name)
    user = User(username=username, first_name=first, last_name=last, email=email)
    if password and "username" not in errors:
        try:
            _check_password(password, user)
        except ValidationFailed as failed:
            errors.update(failed.errors)
    if errors:
        raise ValidationFailed(errors)
    place = _require_site(actor, site) if site else None
    shown = password or _new_password()
    user.set_password(shown)
    user.save()
    remember_password(user)
    audit.record("user_add", username=actor.username, object_type="user", object_id=username,
                 new=username, context={"full_name": first, "email": email})  # fmt: skip
    if place is not None:
        _set_membership(actor, user, place, role)
    return user, shown


def _set_membership(actor: Actor, user: User, site: Site, role: str) -> None:
    current = Membership.objects.filter(user=user, site=site).first()
    old = current.role if current else ""
    if old == role:
        return
    if old == Role.ADMINISTRATOR and user.is_active:
        _keep_an_administrator(user, [site.code])
    if not role:
        current.delete()
    elif current is None:
        Membership.objects.create(user=user, site=site, role=role)
    else:
        current.role = role
        current.save(update_fields=["role"])
    audit.record("membership", username=actor.username, object_type="membership",
                 object_id=user.username, site=site.code, old=old, new=role)  # fmt: skip


@service(Action.MANAGE_USERS, writes=Writes.ADMINISTRATION)
def set_membership(actor: Actor, username: str, site: str, role: str) -> None:
    """Give ``username`` one role at ``site`` (replacing the one held), or none with ``""``."""
    place = _require_site(actor, site)
    if role and role not in set(Role):
        raise ValidationFailed({"role": Problem("accounts.role_invalid")})
    _set_membership(actor, _user(username, lock=True), place, role)


@service(Action.MANAGE_USERS, writes=Writes.ADMINISTRATION)
def set_active(actor: Actor, username: str, active: bool) -> User:
    """Deactivate (the user can no longer sign in; nothing is deleted) or reactivate."""
    user = _user(username, lock=True)
    _require_manages(actor, user)
    if user.is_active == active:
        code = "accounts.already_active" if active else "accounts.already_inactive"
        raise PreconditionFailed(Problem(code, username=username))
    if not active:
        administered = user.memberships.filter(role=Role.ADMINISTRATOR)
        _keep_an_administrator(user, list(administered.values_list("site__code", flat=True)))
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record("user_reactivate" if active else "user_deactivate", username=actor.username,
                 object_type="user", object_id=user.username,
                 old=not active, new=active)  # fmt: skip
    return user


@service(Action.MANAGE_USERS, writes=Writes.ADMINISTRATION)
def reset_password(actor: Actor, username: str) -> str:
    """Give another user a new random password, returned to be shown once to the administrator."""
    user = _user(username, lock=True)
    _require_manages(actor, user)
    password = _new_password()
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    remember_password(user)
    audit.record("password_reset", username=actor.username, object_type="user",
                 object_id=user.username)  # fmt: skip
    return password


@service(writes=Writes.ADMINISTRATION)
def change_own_password(user: User, new_password: str) -> None:
    """The signed-in user's new password (the old one was checked by the sign-in form)."""
    _check_password(new_password, user, field="new_password1")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    remember_password(user)
    audit.record("password_change", username=user.username, object_type="user",
                 object_id=user.username)  # fmt: skip


@service(writes=Writes.ADMINISTRATION)
def set_own_language(user: User, language: str) -> None:
    """Keep ``language`` (a code of ``LANGUAGES``, or blank for the default) for ``user``."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationFailed({"language": Problem("accounts.language_invalid")})
    if user.language == language:
        return
    old = user.language
    user.language = language
    user.save(update_fields=["language"])
    audit.record("language", username=user.username, object_type="user",
                 object_id=user.username, old=old, new=language)  # fmt: skip


def _site_fields(code: str, name: str) -> dict[str, Problem]:
    errors = {}
    if not SITE_CODE.match(code):
        errors["code"] = Problem("accounts.site_code_invalid")
    if not name.strip():
        errors["name"] = Problem("accounts.site_name_required")
    return errors


@service(Action.MANAGE_USERS, writes=Writes.ADMINISTRATION)
def add_site(actor: Actor, code: str, name: str, name_zh: str = "") -> Site:
    """A new site; whoever adds it becomes its first administrator, so someone can manage it."""
    _managed_sites(actor)
    code = code.strip().upper()
    errors = _site_fields(code, name)
    if "code" not in errors and Site.objects.filter(code=code).exists():
        errors["code"] = Problem("accounts.site_code_taken", site=code)
    if errors:
        raise ValidationFailed(errors)
    site = Site.objects.create(code=code, name=name.strip(), name_zh=name_zh.strip())
    audit.record("site_add", username=actor.username, object_type="site", object_id=code,
                 site=code, new=f"{site.name} / {site.name_zh}")  # fmt: skip
    admin = User.objects.get(pk=actor.user_id)
    Membership.objects.create(user=admin, site=site, role=Role.ADMINISTRATOR)
    audit.record("membership", username=actor.username, object_type="membership",
                 object_id=admin.username, site=code, new=Role.ADMINISTRATOR)  # fmt: skip
    return site


@service(Action.MANAGE_USERS, writes=Writes.ADMINISTRATION)
def edit_site(actor: Actor, code: str, name: str, name_zh: str = "") -> Site:
    """Rename a site. Its code stays: screening numbers and audit rows carry it."""
    site = _require_site(actor, code)
    errors = _site_fields(code, name)
    if errors:
        raise ValidationFailed(errors)
    old = f"{site.name} / {site.name_zh}"
    site.name, site.name_zh = name.strip(), name_zh.strip()
    site.save(update_fields=["name", "name_zh"])
    audit.record("site_edit", username=actor.username, object_type="site", object_id=code,
                 site=code, old=old, new=f"{site.name} / {site.name_zh}")  # fmt: skip
    return site
