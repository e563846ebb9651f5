"""An administrator adds a coordinator, who signs in, changes their password, chooses Chinese
and finds Chinese pages at the next sign-in: in English and in Chinese, at 390 px too."""

from __future__ import annotations

import pytest

from hepatrial.edc.demo_accounts import ensure_demo_accounts
from hepatrial.edc.models import Membership
from hepatrial.edc.protocols import install_protocol
from hepatrial.protocol import default_protocol_path, load_protocol

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = {
    "en": {"users": "Users", "added": "User li.na added", "changed": "Password changed",
           "sign_out": "Sign out"},
    "zh-hans": {"users": "用户", "added": "已添加用户 li.na", "changed": "密码已修改",
                "sign_out": "退出登录"},
}  # fmt: skip


@pytest.fixture
def accounts(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    install_protocol(load_protocol(default_protocol_path()))
    return {username: password for username, password, _ in ensure_demo_accounts()}


def new_page(browser, live_server, language: str | None, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900})
    if language:
        context.add_cookies([{"name": "django_language", "value": language,
                              "url": live_server.url}])  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def sign_in(page, live_server, username: str, password: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("[data-testid=sign-in]")
    page.wait_for_selector("[data-testid=who]")


def top_bar_fits_390(page) -> bool:
    """The top bar alone (the overview's own tables belong to another page's test)."""
    page.set_viewport_size({"width": 390, "height": 844})
    fits = page.evaluate(
        "[...document.querySelectorAll('.topbar, .topbar *')]"
        ".every(e => e.getBoundingClientRect().right <= 390)"
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    return fits


def fits_390(page) -> bool:
    page.set_viewport_size({"width": 390, "height": 844})
    fits = page.evaluate("document.documentElement.scrollWidth <= 390")
    page.set_viewport_size({"width": 1280, "height": 900})
    return fits


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_administrator_adds_a_coordinator_who_signs_in_in_chinese(
    browser, live_server, accounts, language
):
    text = TEXT[language]
    admin = new_page(browser, live_server, language)
    admin.goto(live_server.url + "/accounts/login/")
    assert fits_390(admin), "the sign-in page overflows at 390 px"
    sign_in(admin, live_server, "admin", accounts["admin"])
    assert top_bar_fits_390(admin), "the top bar overflows at 390 px"
    admin.click("[data-testid=users-link]")
    assert admin.inner_text("h1") == text["users"]
    assert fits_390(admin), "the user list overflows at 390 px"
    admin.click("[data-testid=add-user]")
    assert fits_390(admin), "the add-user form overflows at 390 px"
    admin.fill("#id_username", "li.na")
    admin.fill("#id_full_name", "李娜")
    admin.select_option("#id_site", "SY")
    admin.select_option("#id_role", "coordinator")
    admin.click("[data-testid=save-user]")
    assert text["added"] in admin.inner_text("h1")
    password = admin.inner_text("[data-testid=shown-password]").strip()
    assert fits_390(admin), "the password page overflows at 390 px"
    admin.click("[data-testid=to-user]")
    assert admin.locator("#role-SY").input_value() == "coordinator"
    assert fits_390(admin), "the user page overflows at 390 px"
    admin.click("[data-testid=sites-link]")
    assert fits_390(admin), "the site page overflows at 390 px"
    admin.context.close()
    assert Membership.objects.get(user__username="li.na").role == "coordinator"

    coordinator = new_page(browser, live_server, language)
    sign_in(coordinator, live_server, "li.na", password)
    coordinator.click("[data-testid=who]")
    assert fits_390(coordinator), "the password form overflows at 390 px"
    coordinator.fill("#id_old_password", password)
    coordinator.fill("#id_new_password1", "Liver-ward-3-night")
    coordinator.fill("#id_new_password2", "Liver-ward-3-night")
    coordinator.click("[data-testid=change-password]")
    assert text["changed"] in coordinator.inner_text("h1")
    coordinator.click("button[value=zh-hans]")
    coordinator.wait_for_selector("text=退出登录")
    coordinator.click("[data-testid=sign-out]")
    coordinator.wait_for_selector("#id_username")
    coordinator.context.close()

    ward_pc = new_page(browser, live_server, None)  # a browser that has never seen this user
    sign_in(ward_pc, live_server, "li.na", "Liver-ward-3-night")
    assert ward_pc.get_attribute("html", "lang") == "zh-hans"
    assert ward_pc.inner_text("[data-testid=sign-out]") == "退出登录"
    assert ward_pc.get_by_role("link", name="修改密码").count() == 1
    assert ward_pc.inner_text("button[value=en]") == "English"
    ward_pc.context.close()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_keyboard_reaches_the_main_content_and_shows_where_it_is(
    browser, live_server, accounts, language
):
    page = new_page(browser, live_server, language)
    sign_in(page, live_server, "admin", accounts["admin"])
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert skip.bounding_box()["y"] >= 0, "the skip link stays off screen when focused"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    page.context.close()
