"""A script screens, randomizes and saves a visit through the API as the pages would."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hepatrial.edc.models import AuditEvent, DerivedValue
from tests.edc.conftest import QUALIFYING


def _values(entered: dict) -> dict:
    return {oid: {"text": v.text, "unit": v.unit} for oid, v in entered.items()}


def test_a_coordinator_script_enrols_randomizes_and_saves_a_visit(api, trial):
    from tests.edc.conftest import CLINICAL_B, DEMOGRAPHICS, LABS_CLASS_B

    c = api("coordinator")
    today = timezone.localdate()
    made = c.post("/participants", {"site": "SY", "screened_on": str(today)})
    assert made.status_code == 201, made.content
    number = made.json()["screening_number"]
    assert "arm" not in made.json()
    assert c.put(f"/participants/{number}/eligibility", {"answers": QUALIFYING}).status_code == 200
    signed = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    consent = c.post(f"/participants/{number}/consent",
                     {"document_version": "ICF v1.0", "signed_at": signed})  # fmt: skip
    assert consent.status_code == 201, consent.content
    for form, values in (("F.DM", DEMOGRAPHICS), ("F.LAB", LABS_CLASS_B), ("F.CLIN", CLINICAL_B)):
        body = {"values": _values(values), "visit_date": str(today)}
        saved = c.put(
            f"/participants/{number}/visits/SCR/forms/{form}", body, **{"If-Match": '"0"'}
        )
        assert saved.status_code == 200, saved.content
    randomized = c.post(f"/participants/{number}/randomization")
    assert randomized.status_code == 201, randomized.content
    assert randomized.json()["randomization_number"] and "arm" not in randomized.json()
    again = c.post(f"/participants/{number}/randomization")
    assert again.status_code == 409 and again.json()["code"] == "randomization.requires_consent"

    read = c.get(f"/participants/{number}/visits/SCR/forms/F.LAB")
    assert read.status_code == 200 and read["ETag"] == '"1"'
    tbil = read.json()["values"]["I.TBIL"]
    assert (tbil["text"], tbil["unit"], tbil["status"]) == ("49.6", "µmol/L", "value")
    assert tbil["number"] is not None and tbil["canonical_unit"]
    scores = c.get(f"/participants/{number}/scores").json()
    assert {s["item_oid"] for s in scores} == set(
        DerivedValue.objects.filter(visit__participant__screening_number=number).values_list(
            "item_oid", flat=True
        )
    ) and scores
    actions = set(AuditEvent.objects.filter(participant=number).values_list("action", flat=True))
    assert {"create", "status", "randomize", "derive"} <= actions
    assert AuditEvent.objects.filter(action="token_use", username="coordinator").count() >= 6
