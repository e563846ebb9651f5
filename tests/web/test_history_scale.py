"""The audit page does the same bounded work however long the trail grows."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hepatrial.edc.models import AuditEvent, User
from hepatrial.edc.permissions import actor_for
from hepatrial.edc.services import history
from tests.web.test_history_pages import client_for


def add_rows(count: int, start: int) -> None:
    """Plain rows outside the hash chain: enough for reading, which never checks the chain."""
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        (
            AuditEvent(
                at=now - dt.timedelta(minutes=i),
                username=f"user{i % 7}",
                action="change",
                object_type="itemvalue",
                participant=f"SY-{i % 300:04d}",
                site="SY",
                item="I.TBIL",
                old_value="20 µmol/L",
                new_value="21 µmol/L",
                context={"form": "F.LAB", "event": "W4"},
                blinded_content=i % 11 == 0,
                previous_hash="0" * 64,
                hash=f"scale-{i}",
            )  # fmt: skip
            for i in range(start, start + count)
        ),
        batch_size=2000,
    )


def queries_for(client, params: dict) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("audit_trail"), params).status_code == 200
    return len(captured)


def test_queries_per_page_do_not_grow_with_the_trail(trial):
    client = client_for("monitor")
    add_rows(60, 0)
    small = {name: queries_for(client, params) for name, params in
             {"all": {}, "user": {"user": "user3"}, "form": {"form": "F.LAB"}}.items()}  # fmt: skip
    add_rows(3000, 60)
    large = {name: queries_for(client, params) for name, params in
             {"all": {}, "user": {"user": "user3"}, "form": {"form": "F.LAB"}}.items()}  # fmt: skip
    assert small == large


def test_counting_stops_at_the_limit(trial, settings):
    add_rows(history.COUNT_LIMIT + 200, 0)
    actor = actor_for(User.objects.get(username="monitor"))
    page = history.audit_page(actor, history.AuditFilter())
    assert page.more and page.total == history.COUNT_LIMIT and len(page.rows) == history.PAGE_SIZE
    body = client_for("monitor").get(reverse("audit_trail")).content.decode()
    assert f"More than {history.COUNT_LIMIT} records" in body
    few = history.audit_page(actor, history.AuditFilter(participant="SY-0001"))
    assert (
        not few.more
        and few.total
        == AuditEvent.objects.filter(participant="SY-0001", blinded_content=False).count()
    )
