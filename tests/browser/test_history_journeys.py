"""In a real browser, in English and Chinese: a monitor reads an item's history and the audit
trail of a participant. Each page fits 390 px."""

from __future__ import annotations

import pytest

from hepatrial.edc.roles import Role
from hepatrial.edc.services.forms import save_form
from hepatrial.protocol.values import EnteredValue as E
from tests.browser.conftest import sign_in
from tests.browser.test_unblinded_journeys import overflow_at_390
from tests.edc import conftest as edc

pytestmark = pytest.mark.django_db(transaction=True)
trial = edc.trial


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_monitor_reads_an_items_history(live_server, page, trial, passwords, language):  # noqa: F811
    participant = trial.screen()
    number = participant.screening_number
    coordinator = trial[Role.COORDINATOR]
    labs = edc.LABS_CLASS_B | {"I.TBIL": E("34.2", "µmol/L")}
    save_form(coordinator, number, "SCR", "F.LAB", labs, base_version=0,
              visit_date=trial.days_ago(30))  # fmt: skip
    save_form(coordinator, number, "SCR", "F.LAB", {"I.TBIL": E("43.2", "µmol/L")},
              base_version=1, reason="digits swapped")  # fmt: skip

    sign_in(page, live_server, passwords, "monitor", language)
    page.goto(
        f"{live_server.url}/participants/{number}/visits/SCR/forms/F.LAB/items/I.TBIL/history/"
    )
    rows = page.locator("[data-testid=item-history] tbody tr")
    assert rows.count() == 2
    correction = rows.nth(1).inner_text()
    assert "34.2 µmol/L" in correction and "→" in correction and "43.2 µmol/L" in correction
    assert "digits swapped" in correction and "coordinator" in correction
    title = page.inner_text("[data-testid=item-history-title]")
    assert ("Total bilirubin" if language == "en" else "总胆红素") in title
    assert not overflow_at_390(page)

    page.goto(f"{live_server.url}/participants/{number}/")
    page.click("[data-testid=participant-audit-link]")
    page.wait_for_selector("[data-testid=audit-rows]")
    assert "digits swapped" in page.inner_text("[data-testid=audit-rows]")
    assert page.input_value("#id_participant") == number
    assert not overflow_at_390(page)
    if language != "en":
        assert "Audit trail" not in page.inner_text("main")
