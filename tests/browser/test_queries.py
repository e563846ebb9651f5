"""A data query in a real browser at 390 px, in English and Chinese: the monitor raises a query
on a bilirubin value, the coordinator answers it and corrects the value with a reason, and the
monitor closes the query."""

from __future__ import annotations

import pytest

from hepatrial.edc.models import ItemValue, Query
from tests.browser.conftest import sign_in
from tests.edc.conftest import LABS_CLASS_B, trial  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = {
    "en": {"open": "Open", "answered": "Answered", "closed": "Closed"},
    "zh-hans": {"open": "待处理", "answered": "已回复", "closed": "已关闭"},
}


def fits_390(page) -> bool:
    """The page fits 390 px, measured once the page a click started has loaded (measuring
    during the navigation finds no document)."""
    page.wait_for_load_state("load")
    page.wait_for_selector("main")
    return page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_query_on_bilirubin_is_raised_answered_corrected_and_closed(
    live_server,
    browser,
    passwords,
    trial,  # noqa: F811
    language,
):
    from hepatrial.edc.services.forms import save_form

    participant, _ = trial.randomized(days_ago=10)
    number = participant.screening_number
    save_form(trial.coordinator, number, "W1", "F.LAB", LABS_CLASS_B, base_version=0,
              visit_date=trial.days_ago(3))  # fmt: skip
    form_url = f"{live_server.url}/participants/{number}/visits/W1/forms/F.LAB/"
    words = WORDS[language]

    monitor = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(monitor, live_server, passwords, "monitor", language)
    monitor.goto(form_url)
    monitor.click("[data-testid=raise-query-I\\.TBIL]")
    assert fits_390(monitor)
    monitor.fill("#id_text", "Bilirubin 49.6 differs from the lab report (59.6)")
    monitor.click("[data-testid=raise]")
    monitor.wait_for_selector("[data-testid=query-thread]")
    assert monitor.inner_text("[data-testid=query-state]") == words["open"]
    thread_url = monitor.url

    coordinator = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(coordinator, live_server, passwords, "coordinator", language)
    coordinator.click("[data-testid=nav-queries]")
    coordinator.click(f"[data-testid=query-list] a[href='{thread_url[len(live_server.url) :]}']")
    coordinator.wait_for_url(thread_url)
    assert fits_390(coordinator)
    coordinator.fill("#id_text", "Transcription error, corrected to 59.6")
    coordinator.click("[data-testid=answer]")
    coordinator.wait_for_selector("[data-testid=query-state]")
    assert coordinator.inner_text("[data-testid=query-state]") == words["answered"]
    coordinator.click("[data-testid=query-form-link]")
    assert coordinator.is_visible("[data-testid=query-marker-I\\.TBIL]")
    assert fits_390(coordinator)
    coordinator.fill("#id_I\\.TBIL", "59.6")
    coordinator.fill('[name="reason"]', "query answered: lab report" if language == "en"
                     else "答复质疑：化验单")  # fmt: skip
    coordinator.click("[data-testid=save]")
    coordinator.wait_for_selector("[data-testid=saved]")
    value = ItemValue.objects.get(
        form_record__visit__participant=participant,
        form_record__visit__event_oid="W1",
        item_oid="I.TBIL",
    )
    assert value.text == "59.6"

    monitor.goto(thread_url)
    monitor.fill("#id_text", "Correction seen")
    monitor.click("[data-testid=close]")
    monitor.wait_for_selector("[data-testid=query-state]")
    assert monitor.inner_text("[data-testid=query-state]") == words["closed"]
    assert fits_390(monitor)
    query = Query.objects.get(participant=participant, kind="manual")
    assert list(query.messages.values_list("action", flat=True)) == ["raise", "answer", "close"]
    monitor.goto(form_url)
    assert not monitor.is_visible("[data-testid=query-marker-I\\.TBIL]")
