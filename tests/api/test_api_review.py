"""Source verification and signatures through the API: the monitor verifies items, a form, a
visit; the investigator signs with the password (never echoed; a wrong one is 403, audited);
refused for other roles, not found at another site or on the infusion records when blinded."""

from __future__ import annotations

import pytest

from hepatrial.edc.models import AuditEvent, User
from hepatrial.edc.roles import Role
from hepatrial.edc.services.forms import save_form
from tests.edc.test_journey import infusion_values

PASSWORD = "investigator-signs-42"
FORM = "/participants/{}/visits/SCR/forms/F.LAB"


@pytest.fixture
def investigator(trial):
    user = User.objects.get(username="investigator")
    user.set_password(PASSWORD)
    user.first_name, user.last_name = "Wei", "Zhang"
    user.save()


def test_the_monitor_verifies_items_then_the_form_then_the_visit(api, trial):
    p = trial.consented()
    number, monitor = p.screening_number, api("monitor")
    states = monitor.get(FORM.format(number) + "/verification").json()
    assert states["entered"] > 1 and states["verified"] == 0
    one = monitor.post(FORM.format(number) + "/verify", {"items": ["I.ALB"]})
    assert one.status_code == 200 and one.json() == {"verified": 1}
    after = {i["item_oid"]: i for i in monitor.get(FORM.format(number) + "/verification").json()[
        "items"]}  # fmt: skip
    assert after["I.ALB"]["state"] == "verified" and after["I.ALB"]["verified_by"] == "monitor"
    whole = monitor.post(FORM.format(number) + "/verify", {}).json()["verified"]
    assert whole == states["entered"] - 1
    visit = monitor.post(f"/participants/{number}/visits/SCR/verify").json()["verified"]
    assert visit > 0
    progress = monitor.get(f"/participants/{number}/verification").json()
    assert progress["verified"] == progress["entered"] and progress["percent"] == 100
    assert AuditEvent.objects.filter(action="verify").count() == progress["entered"]


def test_verification_is_the_monitors_and_refuses_an_empty_choice(api, trial, other_site):
    p = trial.consented()
    assert (
        api("coordinator").post(FORM.format(p.screening_number) + "/verify", {}).status_code == 403
    )
    empty = api("monitor").post(FORM.format(p.screening_number) + "/verify", {"items": []})
    assert empty.status_code == 422 and empty.json()["code"] == "verification.nothing_chosen"
    assert api("dl-coordinator").get(FORM.format(p.screening_number) + "/verification"
                                     ).status_code == 404  # fmt: skip


def test_the_infusion_records_are_not_found_for_the_blinded_monitor(api, trial):
    p, _ = trial.randomized(days_ago=5)
    number = p.screening_number
    save_form(trial[Role.CELL_THERAPY], number, "INF1", "F.INF", infusion_values(trial, 5),
              base_version=0, visit_date=trial.days_ago(5))  # fmt: skip
    monitor, infusion = api("monitor"), f"/participants/{number}/visits/INF1"
    assert monitor.get(infusion + "/forms/F.INF/verification").status_code == 404
    assert monitor.post(infusion + "/forms/F.INF/verify", {}).status_code == 404
    assert monitor.post(infusion + "/verify").status_code == 404
    assert api("celltherapy").get(infusion + "/forms/F.INF/verification").status_code == 200
    progress = monitor.get(f"/participants/{number}/verification").json()
    assert progress["entered"] == api("investigator").get(
        f"/participants/{number}/verification").json()["entered"]  # fmt: skip


def test_the_investigator_signs_with_the_password_and_a_change_voids_it(api, trial, investigator):
    p = trial.consented()
    number, client = p.screening_number, api("investigator")
    signed = client.post(f"/participants/{number}/signatures",
                         {"password": PASSWORD, "meaning": "casebook_approved"})  # fmt: skip
    assert signed.status_code == 201, signed.content
    body = signed.json()
    assert body["valid"] and body["printed_name"] == "Wei Zhang" and body["event_oid"] == ""
    assert PASSWORD not in signed.content.decode()
    visit = client.post(
        f"/participants/{number}/signatures",
        {"password": PASSWORD, "meaning": "visit_approved", "event_oid": "SCR"},
    )
    assert visit.status_code == 201 and visit.json()["event_oid"] == "SCR"
    form = api("coordinator").get(FORM.format(number)).json()
    changed = api("coordinator").put(FORM.format(number), {
        "values": {"I.ALB": {"text": "31", "unit": "g/L"}}, "base_version": form["version"],
        "reason": "transcription error"})  # fmt: skip
    assert changed.status_code == 200, changed.content
    listed = api("coordinator").get(f"/participants/{number}/signatures").json()
    assert [s["valid"] for s in listed] == [False, False]
    assert listed[0]["void_context"]["items"] == ["I.ALB"]


def test_a_wrong_password_is_403_audited_and_never_echoed(api, trial, investigator, other_site):
    p = trial.consented()
    number = p.screening_number
    wrong = api("investigator", language="zh-hans").post(
        f"/participants/{number}/signatures", {"password": "guess-123", "meaning": "reviewed"}
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "signature.wrong_password"
    assert "guess-123" not in wrong.content.decode()
    assert wrong.json()["detail"] != "the password does not match: nothing was signed"
    row = AuditEvent.objects.get(action="sign_failed")
    assert "guess-123" not in str(vars(row))
    assert not AuditEvent.objects.filter(action="sign").exists()
    refused = api("coordinator").post(f"/participants/{number}/signatures",
                                      {"password": "x", "meaning": "reviewed"})  # fmt: skip
    assert refused.status_code == 403 and refused.json()["code"] != "signature.wrong_password"
    assert api("dl-coordinator").get(f"/participants/{number}/signatures").status_code == 404


def test_a_blinded_investigator_cannot_sign_an_infusion_visit(api, trial, investigator):
    p, _ = trial.randomized(days_ago=5)
    save_form(trial[Role.CELL_THERAPY], p.screening_number, "INF1", "F.INF",
              infusion_values(trial, 5), base_version=0, visit_date=trial.days_ago(5))  # fmt: skip
    answer = api("investigator").post(f"/participants/{p.screening_number}/signatures",
                                      {"password": PASSWORD, "meaning": "visit_approved",
                                       "event_oid": "INF1"})  # fmt: skip
    assert answer.status_code == 404
