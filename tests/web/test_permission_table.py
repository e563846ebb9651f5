"""Every URL × every role × a participant of the users' own site and of another site.

The URLs come from the URL configuration itself, so a new URL without a row in ``EXPECTED``
fails here, and so does a row for a URL that no longer exists. Each request runs in a
transaction rolled back afterwards, so a write answered 302 leaves nothing behind for the next.

Users: the demo users, one per role, all at site SY; ``dl-coordinator``, a coordinator at
site DL. Columns: the URL parameters name a participant, user and site of SY (a randomized
participant of a small simulated trial), then of DL (a participant just screened there).
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from hepatrial.edc.demo_trial import DemoLoader, active_allocation_list
from hepatrial.edc.models import Participant, Query, User
from hepatrial.edc.permissions import actor_for
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services import participants as participant_services
from hepatrial.edc.services.queries import raise_query
from hepatrial.simulate import simulate_trial

USERS = ("admin", "investigator", "coordinator", "celltherapy", "assessor", "monitor",
         "statistician", "dsmb", "dl-coordinator")  # fmt: skip
"""The columns of each status row, in this order."""

EXPECTED: dict[str, tuple[str, str, str | None]] = {
    # URL name: (method, statuses with SY parameters, statuses with DL parameters or None
    # when the URL has no site-specific parameter). Users in the order of USERS.
    # Statuses: admin investigator coordinator celltherapy assessor monitor statistician dsmb
    # dl-coordinator. 404: the participant (or user) does not exist for that user, the same
    # answer as for an unknown one; 403: the user sees it but may not do this; 409: not now.
    "accounts_active": (
        "POST",
        "302 403 403 403 403 403 403 403 403",
        "403 403 403 403 403 403 403 403 403",
    ),
    "accounts_language": ("POST", "302 302 302 302 302 302 302 302 302", None),
    "accounts_membership": (
        "POST",
        "404 403 403 403 403 403 403 403 403",
        "404 403 403 403 403 403 403 403 403",
    ),
    "accounts_reset_password": (
        "POST",
        "200 403 403 403 403 403 403 403 403",
        "403 403 403 403 403 403 403 403 403",
    ),
    "accounts_site": (
        "GET",
        "200 403 403 403 403 403 403 403 403",
        "403 403 403 403 403 403 403 403 403",
    ),
    "accounts_sites": ("GET", "200 403 403 403 403 403 403 403 403", None),
    "api_docs": ("GET", "302 302 302 302 302 302 302 302 302", None),
    "accounts_unlock": (
        "POST",
        "409 403 403 403 403 403 403 403 403",
        "403 403 403 403 403 403 403 403 403",
    ),
    "accounts_user": (
        "GET",
        "200 403 403 403 403 403 403 403 403",
        "404 403 403 403 403 403 403 403 403",
    ),
    "accounts_user_add": ("GET", "200 403 403 403 403 403 403 403 403", None),
    "accounts_users": ("GET", "200 403 403 403 403 403 403 403 403", None),
    "allocation_list": ("GET", "403 403 403 200 403 403 403 403 403", None),
    "audit_csv": ("GET", "200 403 403 403 403 200 403 403 403", None),
    "audit_trail": ("GET", "200 403 403 403 403 200 403 403 403", None),
    "consent": (
        "GET",
        "403 200 200 403 403 403 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "eligibility": (
        "GET",
        "403 200 200 403 403 403 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "emergency_unblind": (
        "GET",
        "403 200 403 403 403 403 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "exports": ("GET", "200 403 403 403 403 403 200 403 403", None),
    "end_participation": (
        "GET",
        "403 200 200 403 403 403 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "health": ("GET", "200 200 200 200 200 200 200 200 200", None),
    "item_history": (
        "GET",
        "200 403 403 403 403 200 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "database_lock": ("GET", "200 403 403 403 403 403 403 403 403", None),
    "dashboard": ("GET", "200 200 200 200 200 200 200 200 200", None),
    "login": ("GET", "200 200 200 200 200 200 200 200 200", None),
    "logout": ("POST", "302 302 302 302 302 302 302 302 302", None),
    "overview": ("GET", "200 200 200 200 200 200 200 200 200", None),
    "participant": (
        "GET",
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "participants": ("GET", "200 200 200 200 200 200 403 403 200", None),
    "password_change": ("GET", "200 200 200 200 200 200 200 200 200", None),
    "password_change_done": ("GET", "200 200 200 200 200 200 200 200 200", None),
    "ready": ("GET", "200 200 200 200 200 200 200 200 200", None),
    "queries": ("GET", "200 200 200 200 200 200 403 403 200", None),
    "query": (
        "GET",
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "query_raise": (
        "GET",
        "403 403 403 403 403 200 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "randomization": (
        "GET",
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "record_lock": (
        "GET",
        "200 403 403 403 403 200 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "session_limit": ("GET", "200 403 403 403 403 403 403 403 403", None),
    "screen": ("GET", "403 200 200 403 403 403 403 403 200", None),
    "set_language": ("POST", "302 302 302 302 302 302 302 302 302", None),
    "sign_casebook": (
        "GET",
        "403 200 403 403 403 403 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "sign_visit": (
        "GET",
        "403 200 403 403 403 403 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "visit_form": (
        "GET",
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "visit_form_verify": (
        "POST",
        "403 403 403 403 403 302 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "visit_verify": (
        "POST",
        "403 403 403 403 403 302 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "visit_form_preview": (
        "POST",
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
}
"""The one table. A POST is sent empty: it shows who gets past the permission check."""


def _patterns(patterns, prefix: str = "") -> list[tuple[str, str]]:
    """Page URLs; the API has its own table (tests/api/test_api_permission_table.py)."""
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver) and entry.namespace == "api":
            continue
        if isinstance(entry, URLResolver):
            found += _patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append((entry.name, prefix + str(entry.pattern)))
    return found


URLS = dict(_patterns(get_resolver().url_patterns))


def monitor_actor():
    return actor_for(User.objects.get(username="monitor"))


def dl_query(participant):
    """A query at DL, where no monitor works: written directly, the table only reads it."""
    now = participant.created_at
    return Query.objects.create(participant=participant, kind="manual", text="Check",
                                raised_by="monitor", raised_at=now, updated_at=now)  # fmt: skip


@pytest.fixture
def world(trial, other_site):
    protocol = active_protocol()[1].protocol
    records = simulate_trial(protocol, 6, 11, allocation=active_allocation_list(protocol))
    DemoLoader(records, progress=lambda m: None).run()
    sy = Participant.objects.filter(site__code="SY").exclude(randomization_number="").first()
    dl = participant_services.screen(other_site, "DL", trial.days_ago(3))
    item = next(f for f in protocol.forms if f.oid == "F.LAB").items[0].oid
    common = {"event_oid": "SCR", "form_oid": "F.LAB", "item_oid": item}
    queries = {"SY": raise_query(monitor_actor(), sy.screening_number, "Check the consent"),
               "DL": dl_query(dl)}  # fmt: skip
    return {
        "SY": {
            "screening_number": sy.screening_number,
            "username": "coordinator",
            "code": "SY",
            "query_id": str(queries["SY"].pk),
            **common,
        },  # fmt: skip
        "DL": {
            "screening_number": dl.screening_number,
            "username": "dl-coordinator",
            "code": "DL",
            "query_id": str(queries["DL"].pk),
            **common,
        },  # fmt: skip
    }


def _has_site_parameter(pattern: str) -> bool:
    return any(f"<str:{name}>" in pattern for name in ("screening_number", "username", "code"))


def _status(client: Client, method: str, url: str) -> int:
    with transaction.atomic():
        response = client.post(url) if method == "POST" else client.get(url)
        transaction.set_rollback(True)
    return response.status_code


def _observed(world, name: str, method: str, site: str) -> str:
    pattern = URLS[name]
    params = world[site]
    kwargs = {key: params[key] for key in params if f"<str:{key}>" in pattern}
    url = reverse(name, kwargs=kwargs)
    statuses = []
    for username in USERS:
        client = Client()
        client.force_login(User.objects.get(username=username))
        statuses.append(str(_status(client, method, url)))
    return " ".join(statuses)


def test_every_url_has_a_row():
    assert set(URLS) == set(EXPECTED), {
        "without a row": sorted(set(URLS) - set(EXPECTED)),
        "no such URL": sorted(set(EXPECTED) - set(URLS)),
    }
    for name, (_, _, other) in EXPECTED.items():
        assert (other is not None) == _has_site_parameter(URLS[name]), name


def test_each_user_gets_the_expected_answer(world):
    """One test for the whole table (the simulated trial is built once); every differing cell
    is named."""
    wrong = []
    for name, (method, own, other) in sorted(EXPECTED.items()):
        for site, expected in (("SY", own), ("DL", other)):
            if expected is None:
                continue
            observed = _observed(world, name, method, site)
            wrong += [
                f"{name} {method} at {site} as {user}: {got}, expected {want}"
                for user, got, want in zip(USERS, observed.split(), expected.split(), strict=True)
                if got != want
            ]
    assert not wrong, "\n".join(wrong)
