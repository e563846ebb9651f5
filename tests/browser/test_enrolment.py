"""The coordinator takes people from screening to randomization in a real browser, in English
and in Chinese; the cell-therapy team sees the arm, the coordinator never does."""

from __future__ import annotations

import re

import pytest

from hepatrial.edc.models import AllocationSlot, Participant
from hepatrial.edc.services.forms import save_form
from tests.browser.conftest import sign_in
from tests.edc.conftest import CLINICAL_B, DEMOGRAPHICS, LABS_CLASS_B, PROTOCOL

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = ["en", "zh-hans"]
EXCLUSION = next(c for c in PROTOCOL.eligibility if c.kind == "exclusion")
LATIN = r"[A-Za-z]{2,}"
CHINESE_LABELS = " ".join(
    [c.label.zh for c in PROTOCOL.eligibility]
    + [a.label.zh for a in PROTOCOL.arms]
    + [x.label.zh for f in PROTOCOL.randomization.strata for x in (f, *f.levels)]
)
ALLOWED_LATIN = set(re.findall(LATIN, CHINESE_LABELS)) | {a.code for a in PROTOCOL.arms}
ALLOWED_LATIN |= {"SY", "ICF"}
"""Latin words a Chinese page may show: codes (site, arm, the typed consent version) and what
the protocol's own Chinese labels contain (HIV, Child-Pugh, II)."""
CARD_TEXT = """() => [...document.querySelectorAll("section.enrol")].map(card => {
  const copy = card.cloneNode(true);
  copy.querySelectorAll(".error").forEach(e => e.remove());
  return copy.textContent;
})"""
"""The enrolment cards' text without the error messages: the services' messages become codes
rendered in the user's language in another change (the codes helper's), and are checked there."""


RIGHT_EDGE = """(selector) => {
  const boxes = [...document.querySelectorAll(selector)];
  const rights = boxes.flatMap(b => [b, ...b.querySelectorAll("*")])
    .map(e => e.getBoundingClientRect().right);
  return Math.max(0, ...boxes.map(b => b.scrollWidth), ...rights);
}"""
"""How far right the content in ``selector`` reaches."""


def check_page(page, language: str, selector: str = "main") -> None:
    """Nothing in ``selector`` wider than 390 px; in Chinese, no English in the enrolment cards.

    The top bar belongs to the base layout and the participant page's visit table to that page,
    so on the participant page only the enrolment cards are measured.
    """
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.locator(selector).count(), selector
    assert page.evaluate(RIGHT_EDGE, selector) <= 390, page.url
    page.set_viewport_size({"width": width, "height": 900})
    if language.startswith("zh"):
        for card in page.evaluate(CARD_TEXT):
            english = {w for w in re.findall(LATIN, card) if w not in ALLOWED_LATIN}
            assert not english, f"{page.url}: {sorted(english)} in {card!r}"


def check_participant_page(page, language: str) -> None:
    check_page(page, language, "section.enrol")


def screen_a_person(page, language: str) -> str:
    page.click("[data-testid=screen-link]")
    page.wait_for_selector("[data-testid=screen-form]")
    check_page(page, language)
    page.click("[data-testid=screen-submit]")
    page.wait_for_selector("[data-testid=next-eligibility]")
    check_participant_page(page, language)
    return page.inner_text("[data-testid=participant-title]").split()[0]


def fill_checklist(page, language: str, failing: str | None = None) -> None:
    """Answer with the keyboard: Space picks "yes", the right arrow moves to "no"."""
    page.click("[data-testid=next-eligibility]")
    page.wait_for_selector("[data-testid=eligibility-form]")
    check_page(page, language)
    for criterion in PROTOCOL.eligibility:
        answer = criterion.qualifying_answer
        if criterion.oid == failing:
            answer = "yes" if criterion.qualifying_answer == "no" else "no"
        page.focus(f"[data-testid='criterion-{criterion.oid}'] input[value=yes]")
        page.keyboard.press("Space")
        if answer == "no":
            page.keyboard.press("ArrowRight")
    page.click("[data-testid=eligibility-submit]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_failed_exclusion_criterion_is_a_screen_failure_with_its_reason(
    live_server, page, passwords, language
):
    sign_in(page, live_server, passwords, "coordinator", language)
    number = screen_a_person(page, language)
    fill_checklist(page, language, failing=EXCLUSION.oid)
    page.wait_for_selector("[data-testid=screen-failure]")
    label = EXCLUSION.label.zh if language.startswith("zh") else EXCLUSION.label.en
    assert label in page.inner_text("[data-testid=failed-criteria]")
    check_participant_page(page, language)
    assert Participant.objects.get(screening_number=number).status == "screen_failed"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_coordinator_enrols_and_randomizes_and_only_cell_therapy_sees_the_arm(
    live_server, page, browser, trial, passwords, language
):
    sign_in(page, live_server, passwords, "coordinator", language)
    number = screen_a_person(page, language)
    fill_checklist(page, language)
    page.wait_for_selector("[data-testid=eligible]")
    check_participant_page(page, language)
    page.click("[data-testid=next-consent]")
    page.wait_for_selector("[data-testid=consent-form]")
    page.click("[data-testid=consent-submit]")
    page.wait_for_selector("#err-document_version")
    check_page(page, language)
    page.fill("#id_document_version", "ICF v1.0")
    page.click("[data-testid=consent-submit]")
    page.wait_for_selector("[data-testid=next-randomize]")
    check_participant_page(page, language)

    c = trial.coordinator
    save_form(c, number, "SCR", "F.DM", DEMOGRAPHICS, base_version=0, visit_date=trial.days_ago(0))
    save_form(c, number, "SCR", "F.LAB", LABS_CLASS_B, base_version=0)
    save_form(c, number, "SCR", "F.CLIN", CLINICAL_B, base_version=0)

    page.click("[data-testid=next-randomize]")
    page.wait_for_selector("[data-testid=confirm-randomization]")
    check_page(page, language)
    assert not AllocationSlot.objects.filter(participant__isnull=False).exists()
    stale = page.context.new_page()
    stale.goto(page.url)
    page.click("[data-testid=randomize-confirm]")
    page.wait_for_selector("[data-testid=randomization-number]")
    check_page(page, language)
    randomization_number = Participant.objects.get(screening_number=number).randomization_number
    assert page.inner_text("[data-testid=randomization-number]") == randomization_number
    assert page.locator("[data-testid=arm]").count() == 0
    page.click("[data-testid=to-participant]")
    page.wait_for_selector("[data-testid=visits]")
    assert page.locator("[data-testid=arm]").count() == 0
    assert page.locator("[data-testid=next-end]").count() == 1
    check_participant_page(page, language)

    stale.click("[data-testid=randomize-confirm]")
    stale.wait_for_selector("[data-testid=already-randomized]")
    assert randomization_number in stale.inner_text("[data-testid=already-randomized]")
    check_page(stale, language)
    assert AllocationSlot.objects.filter(participant__isnull=False).count() == 1

    page.click("[data-testid=next-end]")
    page.check("input[name=status][value=withdrawn]")
    page.click("[data-testid=end-submit]")
    page.wait_for_selector("#err-reason")
    check_page(page, language)
    assert page.is_checked("input[name=status][value=withdrawn]")
    page.fill("#id_reason", "moved to another city")
    page.click("[data-testid=end-submit]")
    page.wait_for_selector("[data-testid=visits]")
    assert Participant.objects.get(screening_number=number).status == "withdrawn"

    other = browser.new_context(viewport={"width": 1280, "height": 900})
    unblinded = other.new_page()
    sign_in(unblinded, live_server, passwords, "celltherapy", language)
    unblinded.goto(f"{live_server.url}/participants/{number}/randomization/")
    arm = AllocationSlot.objects.get(participant__screening_number=number).arm
    label = next(a.label for a in PROTOCOL.arms if a.code == arm)
    shown = unblinded.inner_text("[data-testid=arm]")
    assert (label.zh if language.startswith("zh") else label.en) in shown
    check_page(unblinded, language)
    other.close()
