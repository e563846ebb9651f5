"""Headless Chromium from Debian, driven by Playwright against a live Django server."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.edc.conftest import trial  # noqa: F401  (the loaded trial, for the journeys)

CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def chromium_path() -> str | None:
    configured = os.environ.get("HEPATRIAL_CHROMIUM")
    candidates = [configured] if configured else CHROMIUM_CANDIDATES
    return next((c for c in candidates if c and shutil.which(c)), None)


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        unavailable("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by
    # the test body are still synchronous, so allow them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def passwords(trial) -> dict[str, str]:  # noqa: F811
    """Username → password of the demo account of every role."""
    from hepatrial.edc.demo_accounts import ensure_demo_accounts

    return {username: password for username, password, _ in ensure_demo_accounts()}


def sign_in(page, live_server, passwords, username: str, language: str) -> None:
    """Sign in from the sign-in page with the language cookie of ``language`` set."""
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", passwords[username])
    page.click("[data-testid=sign-in]")
    page.wait_for_selector("[data-testid=who]")
