"""Data queries through the API: raise, answer, close, reopen as the pages do; the inbox pages;
refused for the wrong role, not found at another site or on an infusion form when blinded."""

from __future__ import annotations

from django.utils import timezone

from hepatrial.edc.models import AuditEvent, Query, Visit

THREAD = "/participants/{}/queries/{}"


def test_a_query_is_raised_answered_closed_and_reopened(api, trial):
    p = trial.consented()
    number = p.screening_number
    monitor, coordinator = api("monitor"), api("coordinator", language="zh-hans")
    raised = monitor.post(f"/participants/{number}/queries",
                          {"text": "Albumin differs from the lab report", "event_oid": "SCR",
                           "form_oid": "F.LAB", "item_oid": "I.ALB"})  # fmt: skip
    assert raised.status_code == 201, raised.content
    query = raised.json()
    assert (query["state"], query["item_oid"], query["messages"][0]["action"]) == (
        "open", "I.ALB", "raise")  # fmt: skip
    listed = coordinator.get(f"/participants/{number}/queries").json()
    assert query["id"] in [q["id"] for q in listed]
    empty = coordinator.post(THREAD.format(number, query["id"]) + "/answer", {"text": " "})
    assert empty.status_code == 422 and set(empty.json()["errors"]) == {"text"}
    assert empty.json()["detail"] != "write the answer"  # in Chinese
    answered = coordinator.post(THREAD.format(number, query["id"]) + "/answer",
                                {"text": "Corrected from the source"})  # fmt: skip
    assert answered.status_code == 200 and answered.json()["state"] == "answered"
    closed = monitor.post(THREAD.format(number, query["id"]) + "/close", {})
    assert closed.json()["state"] == "closed"
    again = monitor.post(THREAD.format(number, query["id"]) + "/close", {})
    assert again.status_code == 409 and again.json()["code"] == "query.already_closed"
    reopened = monitor.post(THREAD.format(number, query["id"]) + "/reopen", {"text": "Still off"})
    assert [m["action"] for m in reopened.json()["messages"]] == [
        "raise", "answer", "close", "reopen"]  # fmt: skip
    actions = AuditEvent.objects.filter(object_type="query").values_list("action", flat=True)
    assert {"raise", "answer", "close", "reopen"} <= set(actions)


def test_the_inbox_filters_and_pages(api, trial):
    p = trial.screen()  # nothing entered: no automatic query
    monitor = api("monitor")
    for text in ("One", "Two", "Three"):
        monitor.post(f"/participants/{p.screening_number}/queries", {"text": text})
    first = monitor.get("/queries", participant=p.screening_number, limit=2).json()
    assert (first["total"], first["pages"], len(first["items"])) == (3, 2, 2)
    second = monitor.get("/queries", participant=p.screening_number, limit=2, page=2).json()
    seen = [q["text"] for q in first["items"] + second["items"]]
    assert sorted(seen) == ["One", "Three", "Two"]
    assert monitor.get("/queries", state="closed").json()["total"] == 0


def test_only_the_monitor_raises_and_another_sites_participant_is_not_found(api, trial, other_site):
    p = trial.consented()
    refused = api("coordinator").post(f"/participants/{p.screening_number}/queries",
                                      {"text": "Check"})  # fmt: skip
    assert refused.status_code == 403
    query = api("monitor").post(f"/participants/{p.screening_number}/queries", {"text": "Check"})
    hidden = api("dl-coordinator").get(THREAD.format(p.screening_number, query.json()["id"]))
    assert hidden.status_code == 404


def test_a_query_on_an_infusion_form_is_not_found_by_a_blinded_role(api, trial):
    from hepatrial.edc.roles import Role
    from hepatrial.edc.services.forms import save_form
    from tests.edc.test_journey import infusion_values

    p, _ = trial.randomized(days_ago=5)
    number = p.screening_number
    save_form(trial[Role.CELL_THERAPY], number, "INF1", "F.INF", infusion_values(trial, 5),
              base_version=0, visit_date=trial.days_ago(5))  # fmt: skip
    now = timezone.now()
    query = Query.objects.create(
        participant=p, visit=Visit.objects.get(participant=p, event_oid="INF1"), form_oid="F.INF",
        kind="automatic", rule="plausible_range", text="check", raised_by="celltherapy",
        raised_at=now, updated_at=now, blinded=True,
    )  # fmt: skip
    monitor = api("monitor")
    assert monitor.get(THREAD.format(number, query.pk)).status_code == 404
    assert monitor.get(f"/participants/{number}/queries").json() == []
    assert monitor.get("/queries", state="all").json()["total"] == 0
    raised = monitor.post(f"/participants/{number}/queries",
                          {"text": "Dose?", "event_oid": "INF1", "form_oid": "F.INF"})  # fmt: skip
    assert raised.status_code == 404
    assert api("celltherapy").get(THREAD.format(number, query.pk)).status_code == 200
