"""In a real browser at 390 px, in English and Chinese: the monitor locks a form with a reason;
the coordinator then sees it read-only with who locked it, when and why."""

from __future__ import annotations

import pytest
from django.utils import timezone

from hepatrial.edc.models import RecordLock
from tests.browser.conftest import sign_in
from tests.browser.test_unblinded_journeys import overflow_at_390
from tests.edc import conftest as edc

pytestmark = pytest.mark.django_db(transaction=True)
trial = edc.trial

READ_ONLY = {
    "en": "You may read this form but not change it.",
    "zh-hans": "您可以查看此表单，但不能修改。",
}


@pytest.fixture
def locks_lifted(live_server):
    """The flush after a transactional test deletes row by row on SQLite, which the lock
    triggers would refuse under an open lock: lift them first."""
    yield
    RecordLock.objects.filter(unlocked_at=None).update(unlocked_at=timezone.now())


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_monitor_locks_a_form_and_the_coordinator_sees_it_read_only(
    live_server,
    locks_lifted,
    page,
    browser,
    trial,
    passwords,
    language,  # noqa: F811
):
    number = trial.consented().screening_number
    form_url = f"{live_server.url}/participants/{number}/visits/SCR/forms/F.LAB/"
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, passwords, "monitor", language)
    page.goto(form_url)
    page.click("[data-testid=lock-form]")
    page.fill("#id_reason", "source verified 源数据")
    page.click("[data-testid=lock-submit]")
    page.wait_for_selector("[data-testid=lock-notice]")
    assert page.url == form_url
    assert not overflow_at_390(page)

    context = browser.new_context(viewport={"width": 390, "height": 844})
    coordinator = context.new_page()
    sign_in(coordinator, live_server, passwords, "coordinator", language)
    coordinator.goto(form_url)
    notice = coordinator.inner_text("[data-testid=lock-notice]")
    assert "source verified 源数据" in notice and "monitor" in notice
    assert ("locked on" if language == "en" else "锁定") in notice
    assert READ_ONLY[language] in coordinator.inner_text("main")
    assert coordinator.locator("input[name='I.TBIL']").is_disabled()
    assert coordinator.locator("[data-testid=save]").count() == 0
    assert not overflow_at_390(coordinator)
    context.close()
