"""Every API operation × every role × a participant of the users' own site and of another.

The operations come from the API's own OpenAPI document, so a new operation without a row in
``EXPECTED`` fails here, as a new page does in tests/web/test_permission_table.py. Each request
runs in a transaction rolled back afterwards; a write carries a body that passes the request's
shape, so what answers is the service's permission check (then its own refusal, 409/422).
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from hepatrial.api.main import api as ninja_api
from hepatrial.edc.demo_trial import DemoLoader, active_allocation_list
from hepatrial.edc.models import Participant
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services import participants as participant_services
from hepatrial.edc.services.queries import raise_query
from hepatrial.simulate import simulate_trial
from tests.api.conftest import ApiClient, token_for
from tests.web.test_permission_table import USERS, dl_query, monitor_actor

EXPECTED: dict[str, tuple[str, str | None]] = {
    # operationId: (statuses with SY parameters, with DL parameters or None when the operation
    # names no participant). Users in the order of USERS: admin investigator coordinator
    # celltherapy assessor monitor statistician dsmb dl-coordinator.
    "protocol": ("200 200 200 200 200 200 200 200 200", None),
    "participants_list": ("200 200 200 200 200 200 403 403 200", None),
    "participant_screen": ("403 201 201 403 403 403 403 403 201", None),  # each at their own site
    "participant": (
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "participant_deviations": (
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "participant_scores": (
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "participant_events": (
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "eligibility": (
        "403 200 200 403 403 403 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "eligibility_assess": (
        "403 409 409 403 403 403 404 404 404",
        "404 404 404 404 404 404 404 404 422",
    ),
    "consent": (
        "403 200 200 403 403 403 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "consent_record": (
        "403 409 409 403 403 403 404 404 404",
        "404 404 404 404 404 404 404 404 409",
    ),
    "randomization": (
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "randomize": (
        "403 409 409 403 403 403 404 404 404",
        "404 404 404 404 404 404 404 404 409",
    ),
    "end": (
        "403 200 200 403 403 403 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "end_participation": (
        "403 422 422 403 403 403 404 404 404",
        "404 404 404 404 404 404 404 404 422",
    ),
    "form_read": (
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "form_save": (
        "403 409 409 403 409 403 404 404 404",
        "404 404 404 404 404 404 404 404 422",
    ),
    # Governance: the query is the monitor's at SY and one written directly at DL (where no
    # monitor works); a write is sent with a reason, the signature with an empty password.
    "query_inbox": ("200 200 200 200 200 200 403 403 200", None),
    "participant_queries": (
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "query_raise": (
        "403 403 403 403 403 201 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "query_thread": (
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "query_answer": (
        "403 200 200 200 200 403 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "query_close": (
        "403 403 403 403 403 200 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "query_reopen": (
        "403 403 403 403 403 409 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "participant_verification": (
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "form_verification": (
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "form_verify": (
        "403 403 403 403 403 200 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "visit_verify": (
        "403 403 403 403 403 200 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "participant_signatures": (
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "sign": (
        "403 422 403 403 403 403 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "participant_locks": (
        "200 200 200 200 200 200 404 404 404",
        "404 404 404 404 404 404 404 404 200",
    ),
    "record_lock": (
        "200 403 403 403 403 200 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "record_unlock": (
        "409 403 403 403 403 409 404 404 404",
        "404 404 404 404 404 404 404 404 403",
    ),
    "export_odm": ("200 403 403 403 403 403 200 403 403", None),
    "audit_trail": ("200 403 403 403 403 200 403 403 403", None),
    "export_adam": ("200 403 403 403 403 403 200 403 403", None),
    "export_sdtm": ("200 403 403 403 403 403 200 403 403", None),
    "export_fhir": ("200 403 403 403 403 403 200 403 403", None),
    "export_redcap": ("200 403 403 403 403 403 200 403 403", None),
}
"""The one table of the API."""


def operations() -> dict[str, tuple[str, str]]:
    """operationId → (method, path) from the OpenAPI document."""
    found = {}
    for path, methods in ninja_api.get_openapi_schema()["paths"].items():
        for method, operation in methods.items():
            found[operation["operationId"]] = (method.upper(), path)
    return found


def _body(operation_id: str, site: str) -> dict | None:
    today = str(timezone.localdate())
    return {
        "participant_screen": {"site": site, "screened_on": today},
        "eligibility_assess": {"answers": {}},
        "consent_record": {"document_version": "ICF v1.0", "signed_at": timezone.now().isoformat()},
        "end_participation": {"status": "finished", "ended_on": today},
        "form_save": {"values": {}, "base_version": 0},
        "query_raise": {"text": "Check the consent date"},
        "query_answer": {"text": "Checked against the source"},
        "query_close": {"text": "Resolved"},
        "query_reopen": {"text": "Still wrong"},
        "form_verify": {},
        "sign": {"password": "", "meaning": "reviewed"},
        "record_lock": {"reason": "Source data verified"},
        "record_unlock": {"reason": "Correction needed"},
    }.get(operation_id)  # fmt: skip


@pytest.fixture
def world(trial, other_site):
    protocol = active_protocol()[1].protocol
    records = simulate_trial(protocol, 6, 11, allocation=active_allocation_list(protocol))
    DemoLoader(records, progress=lambda m: None).run()
    sy = Participant.objects.filter(site__code="SY").exclude(randomization_number="").first()
    dl = participant_services.screen(other_site, "DL", trial.days_ago(3))
    queries = {"SY": raise_query(monitor_actor(), sy.screening_number, "Check the consent"),
               "DL": dl_query(dl)}  # fmt: skip
    return {site: (p.screening_number, queries[site].pk) for site, p in (("SY", sy), ("DL", dl))}


def _status(client: ApiClient, method: str, path: str, body: dict | None) -> int:
    with transaction.atomic():
        if method == "GET":
            response = client.get(path)
        else:
            send = client.put if method == "PUT" else client.post
            response = send(path, body or {})
        transaction.set_rollback(True)
    return response.status_code


def test_every_operation_has_a_row():
    found = operations()
    assert set(found) == set(EXPECTED), {
        "without a row": sorted(set(found) - set(EXPECTED)),
        "no such operation": sorted(set(EXPECTED) - set(found)),
    }
    for name, (_, other) in EXPECTED.items():
        assert (other is not None) == ("{screening_number}" in found[name][1]), name


def test_each_user_gets_the_expected_answer(world):
    clients = {username: ApiClient(token_for(username)) for username in USERS}
    wrong = []
    for name, (method, path) in sorted(operations().items()):
        own, other = EXPECTED[name]
        for site, expected in (("SY", own), ("DL", other)):
            if expected is None and site == "DL":
                continue
            number, query_id = world[site]
            url = path.removeprefix("/api/v1").format(
                screening_number=number, event_oid="SCR", form_oid="F.LAB", query_id=query_id
            )
            for username, want in zip(USERS, expected.split(), strict=True):
                own_site = "DL" if username == "dl-coordinator" else "SY"
                body = _body(name, own_site if expected is own and site == "SY" else site)
                got = str(_status(clients[username], method, url, body))
                if got != want:
                    wrong.append(f"{name} {method} at {site} as {username}: {got}, expected {want}")
    assert not wrong, "\n".join(wrong)
