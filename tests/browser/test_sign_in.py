"""A coordinator signs in with a real browser and sees the trial overview."""

import re

import pytest

from hepatrial.edc.demo_accounts import ensure_demo_accounts
from hepatrial.edc.protocols import install_protocol
from hepatrial.protocol import default_protocol_path, load_protocol

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def accounts(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    install_protocol(load_protocol(default_protocol_path()))
    return {username: password for username, password, _ in ensure_demo_accounts()}


def test_coordinator_signs_in_and_sees_the_schedule(live_server, page, accounts):
    page.goto(live_server.url + "/")
    assert page.url.startswith(live_server.url + "/accounts/login/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", accounts["coordinator"])
    page.click("[data-testid=sign-in]")
    page.wait_for_selector("[data-testid=trial-title]")
    assert "Umbilical Cord" in page.inner_text("[data-testid=trial-title]")
    rows = page.locator("[data-testid=schedule] tbody tr")
    assert rows.count() == 10
    assert "161 to 175" in page.inner_text("[data-testid=schedule]")


def test_wrong_password_shows_an_error(live_server, page, accounts):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", "not-the-password")
    page.click("[data-testid=sign-in]")
    assert "did not match" in page.inner_text("[role=alert]")


def test_switching_to_chinese(live_server, page, accounts):
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "assessor")
    page.fill("#id_password", accounts["assessor"])
    page.click("[data-testid=sign-in]")
    page.wait_for_selector("[data-testid=who]")
    assert page.url == live_server.url + "/dashboard/"
    page.goto(live_server.url + "/")
    page.click("button[value=zh-hans]")
    page.wait_for_selector("text=第24周")
    assert "终末期肝病" in page.inner_text("[data-testid=trial-title]")


def test_a_coordinator_walks_from_the_overview_to_a_participants_visits(
    live_server, page, accounts
):
    from hepatrial.edc.demo_trial import DemoLoader, active_allocation_list
    from hepatrial.edc.protocols import active_protocol
    from hepatrial.simulate import simulate_trial

    protocol = active_protocol()[1].protocol
    records = simulate_trial(protocol, 4, 3, allocation=active_allocation_list(protocol))
    DemoLoader(records, progress=lambda m: None).run()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", accounts["coordinator"])
    page.click("[data-testid=sign-in]")
    page.click("[data-testid=participants-link]")
    randomized = page.locator("[data-testid=participants] tbody tr", has_text=re.compile(r"R\d+-"))
    randomized.first.locator("a").first.click()
    page.wait_for_selector("[data-testid=visits]")
    visits = page.inner_text("[data-testid=visits]")
    assert "Week 24" in visits and "Screening" in visits
    assert "infusion 2" not in visits.lower()
    assert page.locator("[data-testid=arm]").count() == 0
