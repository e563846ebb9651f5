"""Participant pages: populated from the services, blinded for blinded roles."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from hepatrial.edc.demo_trial import DemoLoader, active_allocation_list
from hepatrial.edc.protocols import active_protocol
from hepatrial.simulate import simulate_trial

ARM_WORDS = ("SINGLE", "DOUBLE", "UC-MSC infusion 2", "INF2", "UC-MSC infusion 1")


@pytest.fixture
def demo(trial, settings):
    protocol = active_protocol()[1].protocol
    records = simulate_trial(protocol, 8, 11, allocation=active_allocation_list(protocol))
    DemoLoader(records, progress=lambda m: None).run()
    return trial


def client_for(username: str) -> Client:
    from hepatrial.edc.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def pages(client: Client) -> list[str]:
    listing = client.get(reverse("participants")).content.decode()
    numbers = [f"SY-{n:04d}" for n in range(1, 9)]
    details = [client.get(reverse("participant", args=[n])).content.decode() for n in numbers]
    return [client.get(reverse("overview")).content.decode(), listing, *details]


def test_blinded_roles_see_no_arm_on_any_page(demo):
    for username in ("coordinator", "assessor", "monitor", "investigator"):
        for page in pages(client_for(username)):
            body = page.split("<h2>Arms</h2>")[0] + page.split("<h2>Schedule</h2>")[-1]
            leaked = [w for w in ARM_WORDS if w in body]
            assert not leaked, f"{username} sees {leaked}"


def test_the_cell_therapy_team_sees_arms_and_infusion_visits(demo):
    client = client_for("celltherapy")
    listing = client.get(reverse("participants")).content.decode()
    assert "SINGLE" in listing or "DOUBLE" in listing
    overview = client.get(reverse("overview")).content.decode()
    assert 'data-testid="balance"' in overview


def test_screen_failures_have_no_next_visit(demo):
    from hepatrial.edc.models import User
    from hepatrial.edc.permissions import actor_for
    from hepatrial.edc.services.views import list_participants

    rows = list_participants(actor_for(User.objects.get(username="coordinator")))
    failures = [r for r in rows if r.status == "screen_failed"]
    assert failures and all(r.next_visit is None for r in failures)


def test_the_overview_shows_enrolment(demo):
    page = client_for("statistician").get(reverse("overview")).content.decode()
    assert 'data-testid="enrolment"' in page and "randomized of 92" in page
    assert 'data-testid="balance"' not in page


def test_roles_without_participant_access_are_refused_and_other_sites_are_not_found(
    demo, other_site
):
    assert client_for("dsmb").get(reverse("participants")).status_code == 403
    outsider = client_for("dl-coordinator")
    assert outsider.get(reverse("participant", args=["SY-0001"])).status_code == 404
    assert "SY-0001" not in outsider.get(reverse("participants")).content.decode()


def test_the_visit_table_shows_the_protocols_scores_by_their_labels(demo):
    from django.utils import translation

    protocol = active_protocol()[1].protocol
    meld = next(d for d in protocol.derived_items if d.score == "meld")
    client = client_for("coordinator")
    client.cookies["django_language"] = "zh-hans"
    with translation.override("zh-hans"):
        page = client.get(reverse("participant", args=["SY-0001"])).content.decode()
    table = page[page.index('data-testid="visits"') :]
    assert f"<th>{meld.label.zh}</th>" in table
