"""Authentication and errors: 401/403 as JSON problems, per-item 422, stale 409, locked 423,
another site's participant 404, messages in the language the client asks for."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hepatrial.api.models import ApiToken
from hepatrial.edc.models import AuditEvent, Submission, User
from hepatrial.edc.roles import Role
from hepatrial.edc.services.lock import lock_database
from tests.api.conftest import ApiClient, token_for
from tests.edc.conftest import LABS_CLASS_B

LAB = "/participants/{}/visits/SCR/forms/F.LAB"


def _labs(**changes) -> dict:
    values = {oid: {"text": v.text, "unit": v.unit} for oid, v in LABS_CLASS_B.items()}
    return {"values": values | changes, "visit_date": str(timezone.localdate())}


def test_no_token_is_401_with_a_json_problem_not_a_redirect(trial):
    for path in ("/api/v1/participants", "/api/v1/protocol", "/api/v1/openapi.json"):
        response = Client().get(path)
        assert response.status_code == 401, path
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "api.unauthenticated"
    assert Client(HTTP_AUTHORIZATION="Bearer hpt_nothing_here").get(
        "/api/v1/protocol").status_code == 401  # fmt: skip


def test_a_revoked_or_expired_token_no_longer_works(api, trial):
    from hepatrial.api.tokens import revoke_token

    secret = token_for("coordinator")
    client = ApiClient(secret)
    assert client.get("/protocol").status_code == 200
    token = ApiToken.objects.get(prefix=secret.split("_")[1])
    assert token.digest != secret and secret not in token.digest
    revoke_token(trial.coordinator, token.prefix)
    assert client.get("/protocol").status_code == 401
    expiring = token_for("coordinator", expires_days=1)
    ApiToken.objects.filter(prefix=expiring.split("_")[1]).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert ApiClient(expiring).get("/protocol").status_code == 401


def test_a_read_only_token_reads_but_may_not_write(api, trial):
    client = api("coordinator", read_only=True)
    assert client.get("/participants").status_code == 200
    refused = client.post("/participants", {"site": "SY", "screened_on": "2026-01-01"})
    assert refused.status_code == 403 and refused.json()["code"] == "api.read_only"
    assert not AuditEvent.objects.filter(action="token_use").exists()


def test_the_session_works_and_needs_the_csrf_token_to_write(trial):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="coordinator"))
    assert client.get("/api/v1/participants").status_code == 200
    body = {"site": "SY", "screened_on": str(timezone.localdate())}
    refused = client.post("/api/v1/participants", body, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "api.csrf"
    client.get(reverse("password_change"))
    csrf = client.cookies["csrftoken"].value
    made = client.post("/api/v1/participants", body, content_type="application/json",
                       headers={"X-CSRFToken": csrf})  # fmt: skip
    assert made.status_code == 201, made.content


def test_invalid_values_are_422_keyed_by_item_in_the_clients_language(api, trial):
    p = trial.screen()
    zh = api("coordinator", language="zh-hans")
    bad = zh.put(LAB.format(p.screening_number), _labs(**{"I.ALB": {"text": "lots"}}),
                 **{"If-Match": '"0"'})  # fmt: skip
    assert bad.status_code == 422
    body = bad.json()
    assert "I.ALB" in body["errors"] and body["errors"]["I.ALB"]["code"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["errors"]["I.ALB"]["detail"])
    en = api("coordinator").put(LAB.format(p.screening_number), _labs(**{"I.ALB": {"text": "x"}})
                                | {"base_version": 0})  # fmt: skip
    assert en.status_code == 422 and set(en.json()["errors"]) == {"I.ALB"}
    missing = api("coordinator").put(LAB.format(p.screening_number), _labs())
    assert missing.status_code == 422 and "base_version" in missing.json()["errors"]


def test_a_stale_version_is_409_with_what_changed(api, trial):
    p = trial.screen()
    c = api("coordinator")
    path = LAB.format(p.screening_number)
    assert c.put(path, _labs(), **{"If-Match": '"0"'}).status_code == 200
    change = _labs(**{"I.ALT": {"text": "50", "unit": "U/L"}}) | {"reason": "typo"}
    assert api("investigator").put(path, change, **{"If-Match": '"1"'}).status_code == 200
    stale = c.put(path, _labs(**{"I.AST": {"text": "61", "unit": "U/L"}}) | {"reason": "x"},
                  **{"If-Match": '"1"'})  # fmt: skip
    assert stale.status_code == 409
    body = stale.json()
    assert body["code"] == "form.stale" and body["current_version"] == 2
    assert [ch["params"]["item"] for ch in body["changes"]] == ["I.ALT"]


def test_the_same_idempotency_key_saves_once(api, trial):
    p = trial.screen()
    c = api("coordinator")
    path = LAB.format(p.screening_number)
    first = c.put(path, _labs(), **{"If-Match": '"0"', "Idempotency-Key": "lab-import-42"})
    again = c.put(path, _labs(), **{"If-Match": '"0"', "Idempotency-Key": "lab-import-42"})
    assert first.status_code == again.status_code == 200
    assert (first.json()["replayed"], again.json()["replayed"]) == (False, True)
    assert again.json()["version"] == 1
    assert Submission.objects.filter(submission_id__endswith="-lab-import-42").count() == 1
    creates = AuditEvent.objects.filter(participant=p.screening_number, item="I.ALT")
    assert creates.count() == 1


def test_another_sites_participant_is_404_and_a_locked_database_423(api, trial, other_site):
    p = trial.screen()
    dl = ApiClient(token_for("dl-coordinator"))
    for path in (f"/participants/{p.screening_number}", LAB.format(p.screening_number)):
        assert dl.get(path).status_code == 404
    lock_database(trial[Role.ADMINISTRATOR], "final analysis")
    locked = api("coordinator").put(LAB.format(p.screening_number), _labs() | {"base_version": 0})
    assert locked.status_code == 423 and locked.json()["code"] == "database.locked"


def test_the_docs_page_is_for_signed_in_users_and_the_document_names_every_operation(trial):
    from tests.api.test_api_permission_table import EXPECTED

    anonymous = Client().get("/api/v1/docs")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert "/accounts/login/" in Client().get("/api/docs")["Location"]
    client = Client()
    client.force_login(User.objects.get(username="monitor"))
    assert client.get("/api/docs")["Location"] == "/api/v1/docs"
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and b"swagger-ui-bundle.js" in page.content
    assert "script-src" in page.get("Content-Security-Policy", "") or page.has_header(
        "Content-Security-Policy"
    )
    document = ApiClient(token_for("monitor")).client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    operations = [op for path in document["paths"].values() for op in path.values()]
    assert {op["operationId"] for op in operations} == set(EXPECTED)
    assert all(op.get("summary") for op in operations)


def test_a_confirmed_warning_reads_in_the_clients_language(api, trial):
    """Regression: warnings were stored as English strings, which the API's schema (a problem
    per warning) could not even serialize."""
    number = trial.consented().screening_number
    client = api("coordinator")
    saved = client.get(LAB.format(number))
    body = _labs(**{"I.ALT": {"text": "2500", "unit": "U/L"}}) | {
        "confirmed": ["I.ALT"],
        "reason": "lab re-run",
    }
    answer = client.put(LAB.format(number), body, **{"If-Match": saved["ETag"]})
    assert answer.status_code == 200, answer.content
    chinese = ApiClient(token_for("coordinator"), language="zh-hans")
    [warning] = chinese.get(LAB.format(number)).json()["values"]["I.ALT"]["warnings"]
    assert warning["code"] == "value.outside_plausible_range"
    assert "2500" in warning["detail"] and not warning["detail"].isascii()
