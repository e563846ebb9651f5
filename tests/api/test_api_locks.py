"""Record locks through the API: lock and unlock a form, a visit, a casebook with a reason; the
form read carries the lock and a change under it is 423; the ODM export, blinded by default."""

from __future__ import annotations

from hepatrial.edc.models import AuditEvent
from hepatrial.edc.roles import Role
from hepatrial.edc.services.forms import save_form
from tests.edc.test_journey import infusion_values

FORM = "/participants/{}/visits/SCR/forms/F.LAB"


def test_a_locked_form_is_in_the_read_and_a_save_under_it_is_423(api, trial):
    p = trial.consented()
    number, monitor, coordinator = p.screening_number, api("monitor"), api("coordinator")
    locked = monitor.post(f"/participants/{number}/lock",
                          {"reason": "Source data verified", "event_oid": "SCR",
                           "form_oid": "F.LAB"})  # fmt: skip
    assert locked.status_code == 200, locked.content
    assert [f["form_oid"] for f in locked.json()["forms"]] == ["F.LAB"]
    read = coordinator.get(FORM.format(number)).json()
    assert read["lock"]["level"] == "form" and read["lock"]["reason"] == "Source data verified"
    save = coordinator.put(FORM.format(number), {
        "values": {"I.ALB": {"text": "31", "unit": "g/L"}}, "base_version": read["version"],
        "reason": "correction"})  # fmt: skip
    assert save.status_code == 423 and save.json()["code"] == "lock.form_locked"
    assert "Source data verified" in save.json()["detail"]
    again = monitor.post(
        f"/participants/{number}/lock", {"reason": "twice", "event_oid": "SCR", "form_oid": "F.LAB"}
    )
    assert again.status_code == 409
    unlocked = monitor.post(f"/participants/{number}/unlock",
                            {"reason": "Correction needed", "event_oid": "SCR",
                             "form_oid": "F.LAB"})  # fmt: skip
    assert unlocked.status_code == 200 and unlocked.json()["forms"] == []
    assert coordinator.get(FORM.format(number)).json()["lock"] is None
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"record_lock", "record_unlock"} <= actions


def test_a_locked_casebook_refuses_an_answer_with_423(api, trial):
    p = trial.consented()
    number, monitor = p.screening_number, api("monitor")
    query = monitor.post(f"/participants/{number}/queries", {"text": "Check"}).json()
    assert monitor.post(f"/participants/{number}/lock", {"reason": "Reviewed"}).json()[
        "casebook"]["level"] == "casebook"  # fmt: skip
    answer = api("coordinator").post(f"/participants/{number}/queries/{query['id']}/answer",
                                     {"text": "Done"})  # fmt: skip
    assert answer.status_code == 423 and answer.json()["code"] == "lock.casebook_locked"


def test_locks_need_a_reason_and_the_role_and_hide_the_infusion_visit(api, trial, other_site):
    p, _ = trial.randomized(days_ago=5)
    number = p.screening_number
    save_form(trial[Role.CELL_THERAPY], number, "INF1", "F.INF", infusion_values(trial, 5),
              base_version=0, visit_date=trial.days_ago(5))  # fmt: skip
    monitor = api("monitor")
    assert api("coordinator").post(f"/participants/{number}/lock",
                                   {"reason": "x"}).status_code == 403  # fmt: skip
    empty = monitor.post(f"/participants/{number}/lock", {"reason": " "})
    assert empty.status_code == 422 and set(empty.json()["errors"]) == {"reason"}
    assert monitor.post(f"/participants/{number}/unlock", {"reason": "x"}).status_code == 409
    hidden = monitor.post(
        f"/participants/{number}/lock", {"reason": "x", "event_oid": "INF1", "form_oid": "F.INF"}
    )
    assert hidden.status_code == 404
    visits = {v["event_oid"] for v in monitor.get(f"/participants/{number}/locks").json()["visits"]}
    assert "INF1" not in visits and "SCR" in visits
    assert api("dl-coordinator").get(f"/participants/{number}/locks").status_code == 404


def test_the_odm_export_streams_blinded_and_refuses_unblinded_before_the_lock(api, trial):
    trial.randomized(days_ago=5)
    statistician = api("statistician")
    blinded = statistician.get("/exports/odm")
    assert blinded.status_code == 200 and blinded["Content-Type"] == "application/xml"
    text = b"".join(blinded.streaming_content).decode()
    assert "<ODM" in text and "F.INF" not in text and "AuditRecord" not in text
    audited = b"".join(statistician.get("/exports/odm", audit=1).streaming_content).decode()
    assert "AuditRecord" in audited
    assert statistician.get("/exports/odm", unblinded=1).status_code == 403
    assert api("coordinator").get("/exports/odm").status_code == 403
    assert AuditEvent.objects.filter(action="export", object_id="odm").count() == 2
