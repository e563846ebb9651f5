"""In a real browser, in English and Chinese: an investigator unblinds one participant in an
emergency; the cell-therapy team reads the allocation list. Each page fits 390 px."""

from __future__ import annotations

import pytest

from hepatrial.edc.models import Participant
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

ARM_LABELS = {
    "en": {"SINGLE": "Single infusion", "DOUBLE": "Double infusion"},
    "zh-hans": {"SINGLE": "单次输注组", "DOUBLE": "两次输注组"},
}


WIDER_THAN_390 = """() => [...document.querySelectorAll('main *')]
    .filter(el => el.getBoundingClientRect().right > 391)
    .filter(el => !el.parentElement.closest('.unblinded-scroll, .history-scroll'))
    .map(el => el.tagName.toLowerCase() + '.' + el.className).slice(0, 10)"""
"""Elements of the page body wider than the screen, except inside a table's scrolling box.

The top bar is base.html's (shared; at 390 px it needs to wrap), so it is left to its owner."""


def overflow_at_390(page) -> list[str]:
    """What sticks out of the page's content at 390 px wide: nothing, when it fits."""
    page.set_viewport_size({"width": 390, "height": 844})
    wide = page.evaluate(WIDER_THAN_390)
    page.set_viewport_size({"width": 1280, "height": 900})
    return wide


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_investigator_unblinds_one_participant(live_server, page, trial, passwords, language):
    participant, _ = trial.randomized()
    number = participant.screening_number
    sign_in(page, live_server, passwords, "investigator", language)
    page.goto(f"{live_server.url}/participants/{number}/")
    assert page.locator("[data-testid=arm]").count() == 0
    page.click("[data-testid=unblind-link]")
    page.wait_for_selector("[data-testid=consequence]")
    title = page.inner_text("[data-testid=unblind-title]")
    assert ("Emergency unblinding" if language == "en" else "紧急揭盲") in title
    assert not overflow_at_390(page)

    page.check("#confirm")
    page.click("[data-testid=unblind-submit]")
    page.wait_for_selector("[data-testid=reason-error]")
    assert page.is_checked("#confirm")
    assert page.locator("[data-testid=unblinded-arm]").count() == 0

    page.fill("#reason", "suspected anaphylaxis" if language == "en" else "疑似过敏性休克")
    page.check("#confirm")
    page.click("[data-testid=unblind-submit]")
    shown = page.inner_text("[data-testid=unblinded-arm]")
    arm = Participant.objects.get(screening_number=number).allocation.arm
    assert ARM_LABELS[language][arm] in shown
    assert not overflow_at_390(page)

    page.goto(f"{live_server.url}/participants/{number}/")
    body = page.inner_text("main")
    assert not [label for label in ARM_LABELS[language].values() if label in body]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_cell_therapy_team_reads_the_allocation_list(
    live_server, page, trial, passwords, language
):
    numbers = [trial.randomized()[0].screening_number for _ in range(3)]
    sign_in(page, live_server, passwords, "celltherapy", language)
    page.click("[data-testid=allocation-link]")
    page.wait_for_selector("[data-testid=allocation-list]")
    for number in numbers:
        row = page.locator("[data-testid=allocation-list] tbody tr", has_text=number)
        arm = Participant.objects.get(screening_number=number).allocation.arm
        assert ARM_LABELS[language][arm] in row.inner_text()
    balance = page.inner_text("[data-testid=allocation-balance]")
    assert ("Child-Pugh B" if language == "en" else "Child-Pugh B级") in balance
    if language != "en":
        assert "Allocation" not in page.inner_text("main")
    assert not overflow_at_390(page)
