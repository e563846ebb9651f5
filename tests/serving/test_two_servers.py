"""Two `hepatrial serve --workers 2` servers on one PostgreSQL database act as one.

Nothing a save depends on may live in one process's memory: a form saved through one server is
seen and continued through the other, the same session works on both, and two saves from the
same version through the two servers are not both applied.
"""

from __future__ import annotations

import uuid

import pytest

from hepatrial.edc.models import FormRecord, ItemValue
from tests.serving._servers import Client, Server, form_path, free_port, lab_fields

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def two_servers(django_db_setup, tmp_path_factory):
    """Started once for the module: they hold no state of their own between tests."""
    logs = tmp_path_factory.mktemp("servers")
    servers = [Server(free_port(), 2, logs / f"server-{n}.log") for n in (1, 2)]
    try:
        for server in servers:
            server.start(wait=False)
        for server in servers:
            server.wait_ready("/healthz")  # ready (/readyz) once a test loads the protocol
        yield servers
    finally:
        for server in servers:
            server.stop()


def _save(client: Client, path: str, step: int, base_version: int, port: int | None = None):
    fields = lab_fields(step) | {
        "base_version": str(base_version), "submission_id": uuid.uuid4().hex,
        "reason": "re-read report",
    }  # fmt: skip
    if port is not None:
        client.port = port
    return client.post(path, fields)


def test_saves_through_two_servers_continue_one_another(trial, passwords, two_servers):
    one, two = two_servers
    number = trial.consented(days_ago=20).screening_number
    path = form_path(number, "SCR", "F.LAB")
    client = Client(one.port)
    client.sign_in("coordinator", passwords["coordinator"])

    assert _save(client, path, 1, base_version=1).status == 302
    page = Client(two.port, cookies=dict(client.cookies)).get(path)
    assert page.status == 200 and 'value="41"' in page.body
    assert _save(client, path, 2, base_version=2, port=two.port).status == 302
    assert _save(client, path, 3, base_version=3, port=one.port).status == 302

    record = FormRecord.objects.get(visit__participant__screening_number=number, form_oid="F.LAB")
    assert record.version == 4
    assert ItemValue.objects.get(form_record=record, item_oid="I.ALT").text == "43"


def test_one_version_saved_through_both_servers_is_applied_once(trial, passwords, two_servers):
    one, two = two_servers
    number = trial.consented(days_ago=20).screening_number
    path = form_path(number, "SCR", "F.LAB")
    first = Client(one.port)
    first.sign_in("coordinator", passwords["coordinator"])
    second = Client(two.port)
    second.sign_in("investigator", passwords["investigator"])

    assert _save(first, path, 1, base_version=1).status == 302
    refused = _save(second, path, 2, base_version=1)
    assert refused.status == 409
    assert "Someone else saved this form" in refused.body
    record = FormRecord.objects.get(visit__participant__screening_number=number, form_oid="F.LAB")
    assert record.version == 2
