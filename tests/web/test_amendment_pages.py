"""The pages show the protocol version each record was written under, and who must consent
again after an amendment, in English and in Chinese."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone

from hepatrial.edc.roles import Role
from hepatrial.edc.services.amendment import amend_protocol
from tests.protocol.amending import SHIPPED, add_quality_of_life_form, amended
from tests.web.test_enrolment import client_for

SHORT = SHIPPED.content_hash[:8]


def text_of(response) -> str:
    return re.sub(r"<[^>]+>", "", response.content.decode())


def test_the_form_and_participant_pages_show_the_protocol_version_in_both_languages(trial):
    p, _ = trial.randomized()
    form = reverse("visit_form", args=[p.screening_number, "SCR", "F.LAB"])
    participant = reverse("participant", args=[p.screening_number])
    for language, text in (("en", f"Protocol v1.0 · {SHORT}"), ("zh-hans", f"方案 v1.0 · {SHORT}")):
        client = client_for("coordinator", language)
        for url in (form, participant):
            assert text in text_of(client.get(url)), (language, url)


def test_a_form_saved_before_an_amendment_keeps_its_version_and_a_new_one_says_the_new(trial):
    p, _ = trial.randomized()
    new = amended(
        lambda d: add_quality_of_life_form(d) or d["study"].update(protocol_version="1.1")
    )
    amend_protocol(trial[Role.ADMINISTRATOR], new, reason="Amendment 1")
    client = client_for("coordinator")
    old_form = client.get(reverse("visit_form", args=[p.screening_number, "SCR", "F.LAB"]))
    assert f"Protocol v1.0 · {SHORT}" in text_of(old_form)
    new_form = client.get(reverse("visit_form", args=[p.screening_number, "SCR", "F.QOL"]))
    assert f"New record, under protocol v1.1 · {new.content_hash[:8]}" in text_of(new_form)


def test_a_participant_asked_to_consent_again_is_shown_and_cleared_by_the_new_consent(trial):
    p, _ = trial.randomized()
    new = amended(lambda d: d["study"].update(consent_version="ICF v2.0"))
    amend_protocol(trial[Role.ADMINISTRATOR], new, reason="new risks")
    participant = reverse("participant", args=[p.screening_number])
    chinese = client_for("coordinator", "zh-hans")
    assert "需重新知情同意" in chinese.get(participant).content.decode()
    assert "需重新知情同意" in chinese.get(reverse("dashboard")).content.decode()
    client = client_for("coordinator")
    page = client.get(participant).content.decode()
    assert 'data-testid="reconsent"' in page and "ICF v2.0" in page
    assert (
        f'data-testid="reconsent-{p.screening_number}"'
        in client.get(reverse("dashboard")).content.decode()
    )
    signed = (timezone.localtime() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    consent = reverse("consent", args=[p.screening_number])
    assert 'value="ICF v2.0"' in client.get(consent).content.decode()
    response = client.post(consent, {"document_version": "ICF v2.0", "signed_at": signed})
    assert response.status_code == 302
    assert 'data-testid="reconsent"' not in client.get(participant).content.decode()
    assert "dash-reconsent" not in client.get(reverse("dashboard")).content.decode()
