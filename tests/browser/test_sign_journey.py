"""In a real browser at 390 px, in English and Chinese: the monitor verifies a form, the
investigator signs the casebook with their password, the coordinator corrects a value with a
reason, and the participant page shows the verification reset and the signature void."""

from __future__ import annotations

import pytest

from tests.edc import conftest as edc

pytestmark = pytest.mark.django_db(transaction=True)
trial = edc.trial

WORDS = {
    "en": {"verified": "Verified: 9 items.", "void": "Signature void — re-sign",
           "changed": "changed after verification by coordinator"},
    "zh-hans": {"verified": "已核查：9 个条目。", "void": "签名已失效——请重新签名",
                "changed": "核查后由 coordinator"},
}  # fmt: skip


WIDER_THAN_390 = """() => [...document.querySelectorAll('main *')]
    .filter(el => el.getBoundingClientRect().right > 391)
    .filter(el => !el.parentElement.closest('.table-scroll, .scroll'))
    .map(el => el.tagName.toLowerCase() + '.' + el.className).slice(0, 10)"""
"""Elements wider than a 390 px screen, except inside a table's own sideways-scrolling box."""


def overflow_at_390(page) -> list[str]:
    return page.evaluate(WIDER_THAN_390)


def _as(browser, live_server, passwords, username: str, language: str):
    """A browser of its own for each user, 390 px wide, signed in in ``language``."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", passwords[username])
    page.click("[data-testid=sign-in]")
    page.wait_for_selector("[data-testid=who]")
    return page


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_verify_sign_change_and_the_signature_is_void(live_server, browser, trial, passwords,
                                                      language):  # fmt: skip
    words = WORDS[language]
    number = trial.consented().screening_number
    participant_url = f"{live_server.url}/participants/{number}/"
    labs_url = f"{participant_url}visits/SCR/forms/F.LAB/"

    monitor = _as(browser, live_server, passwords, "monitor", language)
    monitor.goto(labs_url)
    monitor.click("[data-testid=verify-whole-form]")
    assert words["verified"] in monitor.inner_text("[data-testid=verify-notice]")
    assert monitor.get_attribute("[data-testid='sdv-I.TBIL']", "data-state") == "verified"
    assert not overflow_at_390(monitor)
    monitor.context.close()

    investigator = _as(browser, live_server, passwords, "investigator", language)
    investigator.goto(participant_url)
    investigator.click("[data-testid=sign-casebook]")
    investigator.fill("#id_password", "not the password")
    investigator.click("[data-testid=sign-submit]")
    investigator.wait_for_selector("[data-testid=error-password]")
    assert not overflow_at_390(investigator)
    investigator.fill("#id_password", passwords["investigator"])
    investigator.click("[data-testid=sign-submit]")
    investigator.wait_for_selector("[data-testid=casebook-signature] [data-testid=signature-valid]")

    coordinator = _as(browser, live_server, passwords, "coordinator", language)
    coordinator.goto(labs_url)
    coordinator.fill('[name="I.TBIL"]', "43.2")
    coordinator.fill('[name="reason"]', "digits swapped" if language == "en" else "数字颠倒")
    coordinator.click("[data-testid=save]")
    coordinator.wait_for_selector("[data-testid=saved]")
    coordinator.context.close()

    investigator.goto(participant_url)
    void = investigator.inner_text("[data-testid=casebook-signature] [data-testid=signature-void]")
    assert words["void"] in void and "coordinator" in void
    changed = investigator.inner_text("[data-testid=sdv-changed]")
    assert words["changed"] in changed and "49.6 µmol/L → 43.2 µmol/L" in changed
    assert investigator.is_visible("[data-testid=sign-casebook]")
    assert not overflow_at_390(investigator)
    investigator.context.close()
