"""No blinded role receives an arm through the API: every GET operation, every participant,
every form at its visits (and the arms' own visits, which must be not found), the audit trail
page by page and the blinded export, with the words of the protocol (as the page crawler)."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from django.utils import timezone

from hepatrial.api.main import api as ninja_api
from hepatrial.edc.demo_trial import DemoLoader, active_allocation_list
from hepatrial.edc.models import FormRecord, Participant, Query
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.schedule import intervention_codes, intervention_forms
from hepatrial.simulate import simulate_trial
from tests.api.conftest import ApiClient, token_for
from tests.web.test_blinding_crawler import BLINDED, arm_words, leaks

PARTICIPANT_GETS = ("", "/deviations", "/scores", "/events", "/eligibility", "/consent",
                    "/randomization", "/end")  # fmt: skip
STUDY = re.compile(r"<GlobalVariables>.*?</GlobalVariables>", re.DOTALL)
GOVERNANCE_GETS = ("/queries", "/verification", "/signatures", "/locks")
"""Their answers must not even name an infusion form or an arm's own visit."""


@pytest.fixture
def simulated(trial):
    protocol = active_protocol()[1].protocol
    records = simulate_trial(protocol, 4, 7, allocation=active_allocation_list(protocol))
    DemoLoader(records, progress=lambda m: None).run()
    _infusion_query(protocol)
    return protocol


def _infusion_query(protocol) -> None:
    """A query on an infusion form, as the automatic rules raise one (blinded): written directly,
    since no role that may raise queries sees the infusion forms."""
    form = sorted(intervention_forms(protocol))[0]
    record = FormRecord.objects.filter(form_oid=form).select_related("visit__participant").first()
    assert record is not None, "the simulated trial has infusion records"
    now = timezone.now()
    Query.objects.create(participant=record.visit.participant, visit=record.visit,
                         form_oid=form, kind="automatic", rule="plausible_range",
                         text="check the dose", raised_by="celltherapy", raised_at=now,
                         updated_at=now, blinded=True)  # fmt: skip


def _text(response) -> str:
    if response.get("Content-Type") == "application/zip":
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
        # The protocol beside the datasets names the design (both arms), as the protocol
        # page's design section does: not an allocation.
        names = [name for name in archive.namelist() if name != "protocol.yaml"]
        return "\n".join(archive.read(name).decode() for name in names)
    if response.get("Content-Type") == "application/xml":
        # The study's title and description name the design (both arms), as the protocol
        # page's design section does: not an allocation.
        return STUDY.sub("", b"".join(response.streaming_content).decode())
    return json.dumps(response.json(), ensure_ascii=False)


def _walk(client: ApiClient, protocol, blinded: bool = True) -> tuple[list[tuple[str, str]], int]:
    """(leaks found, forms read) over everything this client may GET."""
    codes, labels = arm_words(protocol)
    arm_only = sorted(codes - {arm.code for arm in protocol.arms})
    infusion_forms = sorted({i.form for arm in protocol.arms for i in arm.interventions})
    found, forms_read = [], 0

    hidden = sorted(intervention_forms(protocol) | intervention_codes(protocol))

    def check(path: str, governance: bool = False, **params):
        response = client.get(path, **params)
        text = _text(response)
        found.extend((path, word) for word in leaks(text, codes, labels))
        if '"arm"' in text:
            found.append((path, "arm field"))
        if governance:
            found.extend((path, oid) for oid in hidden if f'"{oid}"' in text)
        return response

    def status(path: str, **params) -> int:
        return check(path, **params).status_code

    for path in ("/protocol", "/participants", "/exports/adam", "/exports/odm"):
        check(path)
    check("/exports/odm", audit=1)
    inbox = check("/queries", governance=True, state="all", limit=500)
    if inbox.status_code == 200:
        assert inbox.json()["total"] == len(inbox.json()["items"])
    page = client.get("/audit", limit=500)
    while page.status_code == 200:
        found.extend(("/audit", word) for word in leaks(_text(page), codes, labels))
        if not page.json()["older"]:
            break
        page = client.get("/audit", limit=500, older_than=page.json()["older"])
    for number in Participant.objects.values_list("screening_number", flat=True):
        base = f"/participants/{number}"
        if status(base) == 404:
            continue  # not this caller's participant (the statistician's answer for every one)
        for tail in PARTICIPANT_GETS[1:]:
            check(base + tail)
        for tail in GOVERNANCE_GETS:
            check(base + tail, governance=True)
        for query in client.get(f"{base}/queries").json():
            check(f"{base}/queries/{query['id']}", governance=True)
        for form in protocol.forms:
            for event in form.events:
                read = status(f"{base}/visits/{event}/forms/{form.oid}") == 200
                forms_read += read
                if read:
                    check(f"{base}/visits/{event}/forms/{form.oid}/verification", governance=True)
        for event in arm_only:
            for form in infusion_forms:
                for tail in ("", "/verification"):
                    answer = status(f"{base}/visits/{event}/forms/{form}{tail}")
                    assert answer == 404 or not blinded
    return found, forms_read


def test_no_blinded_role_receives_an_arm_from_any_get(simulated):
    everything = {}
    for username in BLINDED:
        found, forms_read = _walk(ApiClient(token_for(username)), simulated)
        if found:
            everything[username] = found[:10]
        if username == "coordinator":
            assert forms_read > 20, "the walk reads saved forms"
    assert not everything


def test_in_chinese_too_and_the_walk_can_find_an_arm(simulated):
    found, _ = _walk(ApiClient(token_for("coordinator"), "zh-hans"), simulated)
    assert not found
    unblinded, _ = _walk(ApiClient(token_for("celltherapy")), simulated, blinded=False)
    assert any(word == "arm field" for _, word in unblinded)
    infusion_forms = intervention_forms(simulated)
    assert any(path.endswith("/queries") and word in infusion_forms for path, word in unblinded)


def test_no_response_schema_requires_an_arm():
    """Where an arm can appear it is optional, so a blinded response leaves the key out."""
    schemas = ninja_api.get_openapi_schema()["components"]["schemas"]
    with_arm = {name for name, s in schemas.items() if "arm" in s.get("properties", {})}
    assert with_arm, "the check looks at the schemas that hold an arm"
    for name in with_arm:
        assert "arm" not in schemas[name].get("required", []), name


def test_every_schema_name_is_used_once():
    """Two shapes with one name would share one entry of the document (the second wins)."""
    from ninja import Schema

    from hepatrial.api import (
        audit,
        exports,
        forms,
        locks,
        participants,
        protocol,
        queries,
        review,
        schemas,
    )

    seen: dict[str, str] = {}
    for module in (audit, exports, forms, locks, participants, protocol, queries, review,
                   schemas):  # fmt: skip
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, Schema) and value is not Schema:
                if value.__module__ != module.__name__:
                    continue
                assert name not in seen, f"{name} in {seen.get(name)} and {module.__name__}"
                seen[name] = module.__name__
