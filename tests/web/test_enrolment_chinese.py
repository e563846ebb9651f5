"""Every screening and enrolment card reads in Chinese: no English outside codes and units."""

from __future__ import annotations

import html
import re

from django.urls import reverse

from hepatrial.edc.services import participants
from tests.edc.conftest import PROTOCOL, QUALIFYING
from tests.web.test_enrolment import client_for

LATIN = r"[A-Za-z]{2,}"
CHINESE_LABELS = " ".join(
    [c.label.zh for c in PROTOCOL.eligibility]
    + [a.label.zh for a in PROTOCOL.arms]
    + [x.label.zh for f in PROTOCOL.randomization.strata for x in (f, *f.levels)]
)
ALLOWED = set(re.findall(LATIN, CHINESE_LABELS)) | {a.code for a in PROTOCOL.arms} | {"SY"}
"""Codes (site, arm) and what the protocol's own Chinese labels contain (HIV, Child-Pugh)."""


def english_in_cards(page: str) -> set[str]:
    cards = re.findall(r'<section class="card enrol".*?</section>', page, flags=re.S)
    assert cards, "no enrolment card on the page"
    text = html.unescape(re.sub(r"<[^>]+>", " ", " ".join(cards)))
    return {word for word in re.findall(LATIN, text) if word not in ALLOWED}


def test_every_enrolment_page_is_chinese_for_a_chinese_user(trial):
    coordinator = client_for("coordinator", "zh-hans")
    screened = trial.screen()
    failed = trial.screen()
    participants.assess_eligibility(
        trial.coordinator,
        failed.screening_number,
        QUALIFYING | {PROTOCOL.eligibility[-1].oid: "yes"},
    )
    eligible = trial.screen()
    participants.assess_eligibility(trial.coordinator, eligible.screening_number, QUALIFYING)
    consented = trial.consented()
    randomized, _ = trial.randomized()
    urls = [
        reverse("screen"),
        reverse("eligibility", args=[screened.screening_number]),
        reverse("eligibility", args=[eligible.screening_number]),
        reverse("consent", args=[eligible.screening_number]),
        reverse("randomization", args=[consented.screening_number]),
        reverse("randomization", args=[screened.screening_number]),
        reverse("randomization", args=[randomized.screening_number]) + "?done=1",
        reverse("end_participation", args=[randomized.screening_number]),
    ] + [
        reverse("participant", args=[p.screening_number])
        for p in (screened, failed, eligible, consented, randomized)
    ]
    for url in urls:
        response = coordinator.get(url)
        assert response.status_code == 200, url
        assert not english_in_cards(response.content.decode()), url
    again = coordinator.post(
        reverse("randomization", args=[randomized.screening_number]), {"confirm": "yes"}
    )
    assert again.status_code == 409
    assert not english_in_cards(again.content.decode())
    unblinded = client_for("celltherapy", "zh-hans")
    result = unblinded.get(reverse("randomization", args=[randomized.screening_number]))
    assert 'data-testid="arm"' in result.content.decode()
    assert not english_in_cards(result.content.decode())


def test_the_check_finds_english():
    assert english_in_cards('<section class="card enrol"><p>受试者 Randomize</p></section>') == {
        "Randomize"
    }
