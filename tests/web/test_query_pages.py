"""Data-query pages: the inbox per role, raising from the visit form, the thread's forms, markers,
counts on the participant page and the dashboard, and nothing of an infusion-form query shown to
the blinded monitor."""

from __future__ import annotations

import pytest
from django.test import Client

from hepatrial.edc.models import Query, User
from hepatrial.edc.roles import Role
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.queries import raise_query
from hepatrial.protocol.values import EnteredValue as E
from tests.edc.conftest import LABS_CLASS_B
from tests.edc.test_journey import infusion_values


def client_for(username: str, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def on_w1(trial):
    participant, _ = trial.randomized(days_ago=10)
    number = participant.screening_number
    save_form(trial.coordinator, number, "W1", "F.LAB", LABS_CLASS_B, base_version=0,
              visit_date=trial.days_ago(3))  # fmt: skip
    return number


def test_the_monitor_raises_a_query_from_an_item_of_the_visit_form(trial, on_w1):
    monitor = client_for("monitor")
    form = monitor.get(f"/participants/{on_w1}/visits/W1/forms/F.LAB/").content.decode()
    assert 'data-testid="raise-query-I.TBIL"' in form
    url = f"/participants/{on_w1}/queries/new?event=W1&form=F.LAB&item=I.TBIL"
    assert "Total bilirubin" in monitor.get(url).content.decode()
    empty = monitor.post(url, {"event": "W1", "form": "F.LAB", "item": "I.TBIL", "text": ""})
    assert empty.status_code == 400
    assert "write the question" in empty.content.decode()
    done = monitor.post(url, {"event": "W1", "form": "F.LAB", "item": "I.TBIL",
                              "text": "Check against the lab report"})  # fmt: skip
    query = Query.objects.get(kind="manual")
    assert (
        done.status_code == 302 and done["Location"] == f"/participants/{on_w1}/queries/{query.pk}/"
    )
    coordinator_form = client_for("coordinator").get(
        f"/participants/{on_w1}/visits/W1/forms/F.LAB/").content.decode()  # fmt: skip
    assert 'data-testid="query-marker-I.TBIL"' in coordinator_form
    assert 'data-testid="raise-query-' not in coordinator_form


def test_the_thread_offers_each_role_its_own_step_in_english_and_chinese(trial, on_w1):
    query = raise_query(trial[Role.MONITOR], on_w1, "Why?", event_oid="W1")
    url = f"/participants/{on_w1}/queries/{query.pk}/"
    coordinator, monitor = client_for("coordinator"), client_for("monitor", "zh-hans")
    page = coordinator.get(url).content.decode()
    assert 'data-testid="answer"' in page and 'data-testid="close"' not in page
    refused = coordinator.post(url, {"action": "close"})
    assert refused.status_code == 403
    assert coordinator.post(url, {"action": "answer", "text": "Checked"}).status_code == 302
    page = monitor.get(url).content.decode()
    assert "已回复" in page and 'data-testid="close"' in page
    assert monitor.post(url, {"action": "close", "text": ""}).status_code == 302
    assert "重新打开质疑" in monitor.get(url).content.decode()


def test_each_role_has_its_inbox_filtered_by_participant_and_state(trial, on_w1):
    first = raise_query(trial[Role.MONITOR], on_w1, "First question", event_oid="W1")
    assert "First question" in client_for("coordinator").get("/queries/").content.decode()
    answered = client_for("monitor").get("/queries/", {"state": "answered"}).content.decode()
    assert "First question" not in answered
    listed = client_for("monitor").get("/queries/", {"participant": on_w1, "state": "all"})
    assert f"/queries/{first.pk}/" in listed.content.decode()
    assert client_for("statistician").get("/queries/").status_code == 403


def test_counts_per_participant_and_per_site(trial, on_w1):
    raise_query(trial[Role.MONITOR], on_w1, "Why?", event_oid="W1")
    page = client_for("monitor").get(f"/participants/{on_w1}/").content.decode()
    assert 'data-testid="participant-queries"' in page
    open_ = Query.objects.filter(participant__screening_number=on_w1, state="open").count()
    assert f"{open_} open" in page
    dashboard = client_for("monitor").get("/dashboard/").content.decode()
    assert 'data-testid="dash-queries-SY"' in dashboard


def test_an_infusion_form_query_is_not_shown_to_the_blinded_monitor(trial):
    participant, _ = trial.randomized(days_ago=5)
    number = participant.screening_number
    values = infusion_values(trial, 5) | {"I.INFVIAB": E("70")}
    save_form(trial[Role.CELL_THERAPY], number, "INF1", "F.INF", values, base_version=0,
              visit_date=trial.days_ago(5), confirmed=["I.INFVIAB"])  # fmt: skip
    query = Query.objects.get(rule="plausible_range")
    monitor = client_for("monitor")
    assert monitor.get(f"/participants/{number}/queries/{query.pk}/").status_code == 404
    assert f"/queries/{query.pk}/" not in monitor.get("/queries/?state=all").content.decode()
    team = client_for("celltherapy")
    assert team.get(f"/participants/{number}/queries/{query.pk}/").status_code == 200
    hidden = monitor.get(f"/participants/{number}/queries/new?event=INF1&form=F.INF")
    assert hidden.status_code == 404
    refused = monitor.post(f"/participants/{number}/queries/new",
                           {"event": "INF1", "form": "F.INF", "text": "?"})  # fmt: skip
    assert refused.status_code == 404
