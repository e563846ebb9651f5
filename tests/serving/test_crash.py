"""Acknowledged saves survive a server killed mid-load (SIGKILL), and retries apply once.

Eight clients save a complete lab form over and over (each client its own participant, every
save changing four of the nine labs, so that each changes values, derived scores and audit
records) against a real server process: gunicorn with two workers on PostgreSQL, the
single-process waitress server on SQLite. After a number of acknowledged saves the whole
server (master and workers) is killed with SIGKILL and started again; clients whose request
died retry it unchanged, with the same submission id, until it is answered. A save is
acknowledged when its POST is answered with the redirect to the saved form.

Then, read from the database: every acknowledged save is there with its values, its audit
records and derived scores that match the stored values; no form is half-written; each
submission was applied exactly once; `hepatrial audit verify` passes. Bounded: 8 clients × 6
saves, 50 s for the whole load, loopback only.
"""

from __future__ import annotations

import http.client
import threading
import time
import uuid
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.test import Client as DjangoClient

from hepatrial import cli
from hepatrial.edc.models import (
    AuditEvent,
    FormRecord,
    ItemValue,
    Participant,
    Submission,
    User,
)
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.derive import compute_derived, stored_input
from tests.edc.conftest import LABS_CLASS_B
from tests.serving._servers import (
    Client,
    Server,
    form_path,
    free_port,
    lab_fields,
)

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 8
STEPS = 6
"""Saves per client; the form starts at version 1, so it ends at version STEPS + 1."""
KILL_AFTER = 16
"""Acknowledged saves before the kill: about a third of the load."""
LOAD_SECONDS = 50


@dataclass
class Load:
    deadline: float
    acknowledged: list[tuple[str, int, str]] = field(default_factory=list)
    retried: list[tuple[str, int]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def _submission(number: str, step: int) -> dict[str, str]:
    submission_id = f"{number}-{step}-{uuid.uuid4().hex[:8]}"
    return lab_fields(step) | {"base_version": str(step), "reason": "re-read the lab report",
                               "submission_id": submission_id}  # fmt: skip


def _client_saves(client: Client, number: str, load: Load) -> None:
    path = form_path(number, "SCR", "F.LAB")
    for step in range(1, STEPS + 1):
        fields, attempts = _submission(number, step), 0
        while True:
            if time.monotonic() > load.deadline:
                load.refused.append(f"{number} step {step}: no answer before the deadline")
                return
            try:
                answer = client.post(path, fields)
            except (OSError, http.client.HTTPException):
                answer = None
            if answer is not None and answer.status == 302:
                break
            if answer is not None and answer.status < 500:
                load.refused.append(f"{number} step {step}: {answer.status} {answer.body[:300]}")
                return
            attempts += 1
            time.sleep(0.05)
        with load.lock:
            load.acknowledged.append((number, step, fields["submission_id"]))
            if attempts:
                load.retried.append((number, step))


def _run_load(server: Server, clients: dict[str, Client]) -> Load:
    load = Load(deadline=time.monotonic() + LOAD_SECONDS)
    threads = [threading.Thread(target=_client_saves, args=(c, n, load)) for n, c in
               clients.items()]  # fmt: skip
    for thread in threads:
        thread.start()
    while (
        load.count() < KILL_AFTER
        and time.monotonic() < load.deadline
        and any(t.is_alive() for t in threads)
    ):
        time.sleep(0.01)
    server.kill()
    killed_at = load.count()
    server.start()
    for thread in threads:
        thread.join(LOAD_SECONDS + 10)
    assert killed_at < CLIENTS * STEPS, "the load ended before the kill"
    return load


def _derived_match_stored(record: FormRecord) -> list[str]:
    visit = record.visit
    protocol = active_protocol()[1].protocol
    at_visit = {row.item_oid: stored_input(row) for row in
                ItemValue.objects.filter(form_record__visit=visit, status="value")}  # fmt: skip
    stored = {d.item_oid: d for d in visit.derived.all()}
    wrong = []
    for computed in compute_derived(visit.participant, visit.event_oid, protocol, at_visit):
        row, value = stored.get(computed.derived.oid), computed.value
        if value is None:
            continue
        got = None if row is None else (row.number if row.text == "" else row.text)
        if got is None or (got != value and not (isinstance(value, float) and
                                                 abs(got - value) < 1e-9)):  # fmt: skip
            wrong.append(f"{visit.participant.screening_number} {computed.derived.oid}: "
                         f"stored {got}, the stored values give {value}")  # fmt: skip
    return wrong


def _half_written() -> list[str]:
    """Forms whose version, values and audit records disagree, anywhere in the database."""
    problems = []
    for record in FormRecord.objects.exclude(version=0):
        audited = AuditEvent.objects.filter(object_type="itemvalue", context__record=record.pk)
        versions = {a.context["version"] for a in audited}
        if versions != set(range(1, record.version + 1)):
            problems.append(f"form record {record.pk} v{record.version}: audited {versions}")
        created = {a.item for a in audited if a.action == "create"}
        values = set(record.values.values_list("item_oid", flat=True))
        if created != values:
            problems.append(f"form record {record.pk}: values {values}, created {created}")
    return problems


def _signed_in(port: int) -> Client:
    """A coordinator's session, made here rather than by signing in over HTTP (which would spend
    the servers' time on password hashing): the session lives in the database, as any other."""
    django_client = DjangoClient()
    django_client.force_login(User.objects.get(username="coordinator"))
    return Client(port, cookies={"sessionid": django_client.cookies["sessionid"].value})


def test_acknowledged_saves_survive_a_killed_server(trial, tmp_path, capsys):
    workers = 2 if connection.vendor == "postgresql" else None
    server = Server(free_port(), workers, tmp_path / "server.log").start(wait=False)
    try:
        numbers = [trial.consented(days_ago=20).screening_number for _ in range(CLIENTS)]
        server.wait_ready()
        clients = {number: _signed_in(server.port) for number in numbers}
        for number, client in clients.items():  # the form page sets the CSRF cookie
            assert client.get(form_path(number, "SCR", "F.LAB")).status == 200
        started = time.monotonic()
        load = _run_load(server, clients)
        took = time.monotonic() - started
    finally:
        server.stop()

    assert not load.refused, "\n".join(load.refused)
    assert load.retried, "no request was in flight when the server was killed"
    assert len(load.acknowledged) == CLIENTS * STEPS
    for number, step, submission_id in load.acknowledged:
        saved = Submission.objects.get(submission_id=submission_id)
        assert saved.version == step + 1, (number, step, saved.version)
    wrong = []
    for number in numbers:
        record = FormRecord.objects.get(visit__participant__screening_number=number,
                                        form_oid="F.LAB")  # fmt: skip
        assert record.version == STEPS + 1, (number, record.version)
        saved_by = Submission.objects.filter(form_record=record)
        assert sorted(saved_by.values_list("version", flat=True)) == list(range(2, STEPS + 2))
        before = {oid: value.text for oid, value in LABS_CLASS_B.items()}
        for step in range(1, STEPS + 1):
            typed = {oid: text for oid, text in lab_fields(step).items() if oid in before}
            changed = {oid: text for oid, text in typed.items() if text != before[oid]}
            audited = AuditEvent.objects.filter(object_type="itemvalue", context__record=record.pk,
                                                context__version=step + 1)  # fmt: skip
            assert sorted((a.item, a.new_value.split(" ")[0]) for a in audited) == sorted(
                changed.items()
            ), (number, step)
            before = typed
        final = lab_fields(STEPS)
        stored = {v.item_oid: (v.text, v.unit_entered) for v in record.values.all()}
        assert stored == {oid: (final[oid], final[f"{oid}.unit"]) for oid in LABS_CLASS_B}
        wrong += _derived_match_stored(record)
    assert not wrong, "\n".join(wrong)
    assert not _half_written(), "\n".join(_half_written())
    assert Participant.objects.count() == CLIENTS
    capsys.readouterr()
    assert cli.main(["audit", "verify"]) == 0, capsys.readouterr().err
    print(f"{connection.vendor}: {len(load.acknowledged)} saves in {took:.1f} s with a kill and "
          f"restart; {len(load.retried)} retried")  # fmt: skip
