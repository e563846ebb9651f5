"""The language is kept per user; the base pages are in both languages; dates one way each."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation

from hepatrial.edc.models import AuditEvent, User

pytestmark = pytest.mark.django_db

PASSWORD = "Ward-7-night-shift"


@pytest.fixture
def coordinator(trial) -> User:
    user = User.objects.get(username="coordinator")
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client: Client, username: str = "coordinator") -> None:
    response = client.post(reverse("login"),
                           {"username": username, "password": PASSWORD})  # fmt: skip
    assert response.status_code == 302


def choose(client: Client, language: str, next_url: str = "/") -> None:
    response = client.post(reverse("accounts_language"), {"language": language, "next": next_url})
    assert response.status_code == 302


def test_the_language_buttons_read_in_their_own_language(client):
    for accept in ("en", "zh-hans"):
        page = client.get(reverse("login"), headers={"accept-language": accept}).content.decode()
        assert 'value="en" lang="en"' in page and ">English</button>" in page
        assert ">简体中文</button>" in page
        assert "英语" not in page


def test_the_sign_in_page_in_chinese(client):
    page = client.get(reverse("login"), headers={"accept-language": "zh-hans"}).content.decode()
    assert '<html lang="zh-hans">' in page
    for chinese in ("登录", "用户名", "密码", "跳到主要内容"):
        assert chinese in page
    for english in ("Sign in", "User name", "Password", "Skip to main content"):
        assert english not in page


def test_a_wrong_password_is_explained_in_chinese(client, coordinator):
    response = client.post(reverse("login"),
                           {"username": "coordinator", "password": "wrong"},
                           headers={"accept-language": "zh-hans"})  # fmt: skip
    page = response.content.decode()
    assert "用户名与密码不匹配" in page and 'value="coordinator"' in page


def test_a_signed_in_users_choice_is_kept_and_audited(client, coordinator):
    sign_in(client)
    choose(client, "zh-hans")
    assert User.objects.get(username="coordinator").language == "zh-hans"
    row = AuditEvent.objects.filter(action="language").get()
    assert (row.username, row.old_value, row.new_value) == ("coordinator", "", "zh-hans")
    page = client.get(reverse("overview")).content.decode()
    assert "退出登录" in page and "Sign out" not in page


def test_the_language_is_kept_across_sign_out_and_sign_in_on_another_browser(client, coordinator):
    sign_in(client)
    choose(client, "zh-hans")
    client.post(reverse("logout"))

    ward_pc = Client()  # no language cookie, a browser asking for English
    ward_pc.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    sign_in(ward_pc)
    assert ward_pc.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    page = ward_pc.get(reverse("overview"), headers={"accept-language": "en"}).content.decode()
    assert '<html lang="zh-hans">' in page and "退出登录" in page

    choose(ward_pc, "en")
    ward_pc.post(reverse("logout"))
    phone = Client()
    sign_in(phone)
    page = phone.get(reverse("overview"), headers={"accept-language": "zh-hans"}).content.decode()
    assert '<html lang="en">' in page and "Sign out" in page


def test_a_user_who_never_chose_keeps_the_language_of_the_sign_in_page(client, coordinator):
    choose(client, "zh-hans", reverse("login"))
    assert User.objects.get(username="coordinator").language == ""
    sign_in(client)
    assert '<html lang="zh-hans">' in client.get(reverse("overview")).content.decode()
    assert not AuditEvent.objects.filter(action="language").exists()


def test_an_unknown_language_is_ignored(client, coordinator):
    sign_in(client)
    client.post(reverse("accounts_language"), {"language": "fr", "next": "/"})
    assert User.objects.get(username="coordinator").language == ""


def test_the_refusal_page_is_translated(client, trial):
    client.force_login(User.objects.get(username="dsmb"))
    response = client.get(reverse("accounts_users"), headers={"accept-language": "zh-hans"})
    page = response.content.decode()
    assert response.status_code == 403
    assert "您的角色无权访问" in page and "只有管理员可以管理用户和中心" in page


def test_the_administration_pages_in_chinese(client, trial):
    client.force_login(User.objects.get(username="admin"))
    zh = {"accept-language": "zh-hans"}
    page = client.get(reverse("accounts_users"), headers=zh).content.decode()
    assert "研究协调员" in page and "添加用户" in page and "Research coordinator" not in page
    response = client.post(reverse("accounts_user_add"), {"username": "", "full_name": ""},
                           headers=zh)  # fmt: skip
    assert response.status_code == 400
    page = response.content.decode()
    assert "请输入用户名" in page and "请输入此人的姓名" in page
    response = client.post(reverse("accounts_active", args=["admin"]), {"active": "0"}, headers=zh)
    assert "最后一名在用的管理员" in response.content.decode()


def test_a_rejected_password_is_explained_in_the_readers_language(client, trial):
    client.force_login(User.objects.get(username="admin"))
    typed = {"username": "wang", "full_name": "王芳", "password": "12345"}
    page = client.post(reverse("accounts_user_add"), typed,
                       headers={"accept-language": "zh-hans"}).content.decode()  # fmt: skip
    assert "不能使用此密码" in page and "密码太短，至少需要 10 个字符" in page


def test_every_page_has_a_skip_link_to_the_main_content(client, trial):
    client.force_login(User.objects.get(username="coordinator"))
    for url in (reverse("login"), reverse("overview"), reverse("password_change")):
        page = client.get(url).content.decode()
        assert 'class="skip-link" href="#main"' in page and '<main id="main"' in page


@pytest.mark.parametrize(
    "language,date,moment",
    [("en", "2024-03-01", "2024-03-01 09:05"), ("zh-hans", "2024年3月1日", "2024年3月1日 09:05")],
)
def test_dates_are_written_one_way_per_language(language, date, moment):
    with translation.override(language):
        assert formats.date_format(dt.date(2024, 3, 1)) == date
        assert formats.date_format(dt.datetime(2024, 3, 1, 9, 5), "DATETIME_FORMAT") == moment
        assert formats.date_format(dt.date(2024, 3, 1), "SHORT_DATE_FORMAT") == "2024-03-01"
        assert formats.number_format(1234.5, 1) == "1234.5"
        assert (
            dt.date(2024, 3, 1)
            == dt.datetime.strptime(
                "2024-03-01", formats.get_format("DATE_INPUT_FORMATS")[0]
            ).date()
        )


def test_the_lock_notice_reads_in_chinese_with_a_chinese_date(client, trial):
    from hepatrial.edc.permissions import actor_for
    from hepatrial.edc.services.lock import lock_database

    lock_database(actor_for(User.objects.get(username="admin")), "final analysis")
    client.force_login(User.objects.get(username="coordinator"))
    page = client.get(reverse("overview"), headers={"accept-language": "zh-hans"}).content.decode()
    assert "数据库已于" in page and "年" in page and "(final analysis)" not in page
    assert "（final analysis）" in page


def test_changing_ones_password_reads_in_chinese(client, coordinator):
    sign_in(client)
    zh = {"accept-language": "zh-hans"}
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME, None)
    page = client.get(reverse("password_change"), headers=zh).content.decode()
    assert "当前密码" in page and "再次输入新密码" in page and "Current password" not in page
    response = client.post(reverse("password_change"), {"old_password": PASSWORD,
                           "new_password1": "Ab3", "new_password2": "Ab3"}, headers=zh)  # fmt: skip
    assert "密码太短，至少需要 10 个字符" in response.content.decode()


def test_the_no_protocol_page_says_what_to_do_in_chinese(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("someone", password="x-long-pass-1"))
    response = client.get(reverse("overview"), headers={"accept-language": "zh-hans"})
    page = response.content.decode()
    assert response.status_code == 503
    assert "试验方案尚未加载" in page and "<code>hepatrial init</code>" in page
    assert "no protocol is loaded" not in page
