"""One demo account per role; random passwords kept in ``var/`` so each run prints the same."""

from __future__ import annotations

import json
import os
import secrets

from django.conf import settings
from django.db import transaction

from hepatrial.edc.models import Membership, Site, User
from hepatrial.edc.roles import Role

DEMO_USERNAMES = {
    Role.ADMINISTRATOR: "admin",
    Role.INVESTIGATOR: "investigator",
    Role.COORDINATOR: "coordinator",
    Role.CELL_THERAPY: "celltherapy",
    Role.OUTCOME_ASSESSOR: "assessor",
    Role.MONITOR: "monitor",
    Role.STATISTICIAN: "statistician",
    Role.DSMB: "dsmb",
}


def _password_file():
    return settings.VAR_DIR / "demo_accounts.json"


def _stored_passwords() -> dict[str, str]:
    path = _password_file()
    return json.loads(path.read_text()) if path.exists() else {}


def _store_passwords(passwords: dict[str, str]) -> None:
    path = _password_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(passwords, handle, indent=1)


@transaction.atomic
def ensure_demo_accounts() -> list[tuple[str, str, str]]:
    """Create the missing demo accounts at every site; return (user name, password, role)."""
    passwords = _stored_passwords()
    sites = list(Site.objects.all())
    accounts = []
    for role, username in DEMO_USERNAMES.items():
        password = passwords.get(username) or secrets.token_urlsafe(9)
        user, created = User.objects.get_or_create(username=username)
        if created or not user.check_password(password):
            user.set_password(password)
            user.save()
        for site in sites:
            Membership.objects.update_or_create(user=user, site=site, defaults={"role": role})
        passwords[username] = password
        accounts.append((username, password, role.label))
    _store_passwords(passwords)
    return accounts


def format_accounts(accounts: list[tuple[str, str, str]]) -> str:
    lines = ["Demo accounts (user name / password / role):"]
    lines += [f"  {u:<13} {p:<14} {r}" for u, p, r in accounts]
    return "\n".join(lines)
