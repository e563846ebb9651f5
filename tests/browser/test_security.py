"""In a real browser: a locked account is told so, and the pages break no part of the CSP."""

from __future__ import annotations

import pytest

from hepatrial.edc.demo_accounts import ensure_demo_accounts
from hepatrial.edc.protocols import install_protocol
from hepatrial.protocol import default_protocol_path, load_protocol

pytestmark = pytest.mark.django_db(transaction=True)

LOCKED = {
    "en": "This account is locked",
    "zh-hans": "此账户已被锁定",
}


@pytest.fixture
def accounts(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.AXES_FAILURE_LIMIT = 3
    install_protocol(load_protocol(default_protocol_path()))
    return {username: password for username, password, _ in ensure_demo_accounts()}


def sign_in(page, url: str, username: str, password: str) -> None:
    page.goto(url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("[data-testid=sign-in]")
    page.wait_for_load_state()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_locked_account_is_told_so_even_with_the_right_password(
    live_server, page, accounts, language
):
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    for _ in range(3):
        sign_in(page, live_server.url, "monitor", "not-the-password")
    sign_in(page, live_server.url, "monitor", accounts["monitor"])
    assert page.url.startswith(live_server.url + "/accounts/login/")
    assert LOCKED[language] in page.inner_text("[data-testid=locked-out]")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_pages_with_scripts_raise_no_csp_violation(live_server, page, accounts, language):
    from hepatrial.edc.demo_trial import DemoLoader, active_allocation_list
    from hepatrial.edc.protocols import active_protocol
    from hepatrial.simulate import simulate_trial

    protocol = active_protocol()[1].protocol
    records = simulate_trial(protocol, 2, 3, allocation=active_allocation_list(protocol))
    DemoLoader(records, progress=lambda m: None).run()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)  # fmt: skip
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    sign_in(page, live_server.url, "coordinator", accounts["coordinator"])
    for path in ("/", "/participants/", "/participants/SY-0001/",
                 "/participants/SY-0001/visits/SCR/forms/F.LAB/"):  # fmt: skip
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof htmx") == "object", "htmx loaded from its file"
    page.fill("input[name]:visible >> nth=0", "1")
    page.wait_for_load_state("networkidle")
    assert not violations


def test_the_interactive_api_page_shows_every_operation_under_the_csp(live_server, page, accounts):
    """/api/docs is Swagger UI served from Django Ninja's own static files (no CDN): it must
    render within our Content-Security-Policy for a signed-in user."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" else None)  # fmt: skip
    sign_in(page, live_server.url, "coordinator", accounts["coordinator"])
    document = page.request.get(live_server.url + "/api/v1/openapi.json").json()
    operations = sum(len(methods) for methods in document["paths"].values())
    page.goto(live_server.url + "/api/docs")
    page.wait_for_selector(".opblock")
    assert page.url == live_server.url + "/api/v1/docs"
    assert page.locator(".opblock").count() == operations > 30
    assert not problems
