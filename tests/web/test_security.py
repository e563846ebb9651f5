"""Account security: Argon2, sign-in lockout, idle and absolute session expiry, headers."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse
from django.utils import translation

from hepatrial.edc.models import AuditEvent, User
from hepatrial.web import security

TEMPLATES = Path(__file__).parents[2] / "src" / "hepatrial" / "web" / "templates"
PASSWORD = "a-long-password-2"


@pytest.fixture
def lockout(trial, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = User.objects.get(username="coordinator")
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client: Client, password: str, username: str = "coordinator"):
    return client.post(reverse("login"), {"username": username, "password": password})


def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    return client


def test_passwords_are_hashed_with_argon2(db, production_password_hashing, settings):
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    user = User.objects.create_user("argon", password=PASSWORD)
    assert user.password.startswith("argon2$")


def test_an_old_pbkdf2_hash_still_signs_in_and_is_upgraded(db, production_password_hashing):
    user = User.objects.create(
        username="old", password=make_password(PASSWORD, hasher="pbkdf2_sha256")
    )
    assert sign_in(Client(), PASSWORD, "old").status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


def test_failed_sign_ins_lock_the_account_until_an_administrator_unlocks_it(lockout):
    client = Client()
    for _ in range(2):
        assert sign_in(client, "wrong-password").status_code == 200
    assert sign_in(client, "wrong-password").status_code == 429, "the third failure locks"
    refused = sign_in(client, PASSWORD)
    assert refused.status_code == 429
    assert b'data-testid="locked-out"' in refused.content
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="sign_in_failed", username="coordinator").count() >= 3
    assert AuditEvent.objects.filter(action="lockout", username="coordinator").exists()

    page = admin_client().get(reverse("accounts_user", args=["coordinator"]))
    assert b'data-testid="unlock"' in page.content
    unlocked = admin_client().post(reverse("accounts_unlock", args=["coordinator"]))
    assert unlocked.status_code == 302
    assert AuditEvent.objects.filter(
        action="lockout_cleared", username="admin", object_id="coordinator"
    ).exists()
    assert sign_in(Client(), PASSWORD).status_code == 302


def test_the_lockout_message_is_in_chinese_for_a_chinese_reader(lockout):
    client = Client()
    client.cookies["django_language"] = "zh-hans"
    for _ in range(4):
        response = sign_in(client, "wrong-password")
    text = response.content.decode()
    assert response.status_code == 429
    assert "锁定" in text and "too many" not in text


def test_an_account_locked_from_one_address_is_locked_from_every_address(lockout):
    for _ in range(3):
        Client(REMOTE_ADDR="10.0.0.7").post(
            reverse("login"), {"username": "coordinator", "password": "wrong-password"}
        )
    elsewhere = Client(REMOTE_ADDR="10.0.0.8")
    response = elsewhere.post(reverse("login"), {"username": "coordinator", "password": PASSWORD})
    assert response.status_code == 429


def test_a_successful_sign_in_before_the_limit_forgets_the_failures(lockout):
    client = Client()
    for _ in range(2):
        sign_in(client, "wrong-password")
    assert sign_in(client, PASSWORD).status_code == 302
    for _ in range(2):
        sign_in(Client(), "wrong-password")
    assert sign_in(Client(), PASSWORD).status_code == 302


def test_unlocking_is_for_an_administrator_and_only_of_a_locked_account(lockout):
    for _ in range(3):
        sign_in(Client(), "wrong-password")
    monitor = Client()
    monitor.force_login(User.objects.get(username="monitor"))
    assert monitor.post(reverse("accounts_unlock", args=["coordinator"])).status_code == 403
    assert sign_in(Client(), PASSWORD).status_code == 429
    admin_client().post(reverse("accounts_unlock", args=["coordinator"]))
    again = admin_client().post(reverse("accounts_unlock", args=["coordinator"]))
    assert again.status_code == 409 or b"not locked" in again.content


def test_the_unlock_command(lockout, capsys):
    from hepatrial.cli import main

    for _ in range(3):
        sign_in(Client(), "wrong-password")
    assert main(["unlock-user", "coordinator", "--as", "monitor"]) == 1
    assert main(["unlock-user", "coordinator", "--as", "admin"]) == 0
    assert "may sign in again" in capsys.readouterr().out
    assert sign_in(Client(), PASSWORD).status_code == 302


def signed_in(username: str = "coordinator") -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    assert client.get(reverse("overview")).status_code == 200
    return client


def age_session(client: Client, key: str, seconds: float) -> None:
    session = client.session
    session[key] = time.time() - seconds
    session.save()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_idle_session_is_signed_out_with_a_notice(trial, settings, language):
    client = signed_in()
    client.cookies["django_language"] = language
    age_session(client, security.LAST_SEEN, settings.SESSION_IDLE_SECONDS + 5)
    response = client.get(reverse("participants"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"])
    assert b'data-testid="session-expired"' in page.content
    with translation.override(language):
        assert (
            translation.gettext(
                "Your session expired, so you were signed out. Please sign in again."
            )
            in page.content.decode()
        )
    assert b'data-testid="session-expired"' not in client.get(reverse("login")).content


def test_a_session_in_use_stays_signed_in(trial, settings):
    client = signed_in()
    age_session(client, security.LAST_SEEN, settings.SESSION_IDLE_SECONDS - 60)
    assert client.get(reverse("participants")).status_code == 200
    assert time.time() - client.session[security.LAST_SEEN] < 5


def test_a_busy_session_ends_at_the_absolute_limit(trial, settings):
    client = signed_in()
    age_session(client, security.STARTED, settings.SESSION_COOKIE_AGE + 5)
    assert client.get(reverse("participants")).status_code == 302


def test_the_idle_limit_comes_from_the_environment(monkeypatch):
    import importlib

    import hepatrial.settings as module

    monkeypatch.setenv("HEPATRIAL_SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("HEPATRIAL_LOCKOUT_FAILURES", "12")
    try:
        reloaded = importlib.reload(module)
        assert reloaded.SESSION_IDLE_SECONDS == 900 and reloaded.AXES_FAILURE_LIMIT == 12
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_pages_carry_csp_permissions_policy_and_no_store(trial):
    client = signed_in()
    for name in ("overview", "participants", "password_change"):
        response = client.get(reverse(name))
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp, name
        assert "camera=()" in response["Permissions-Policy"], name
        assert response["Cache-Control"] == "no-store", name


def test_the_sign_in_page_has_the_policy_too(db):
    response = Client().get(reverse("login"))
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)


def test_no_template_has_an_inline_script_handler_or_style():
    offending = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, INLINE_STYLE):
            offending += [f"{template.relative_to(TEMPLATES)}: {m}" for m in pattern.findall(text)]
    assert not offending


def test_the_inline_checks_can_fail():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/web/htmx.min.js" defer></script>')
    assert INLINE_HANDLER.search('<button onclick="x()">')
    assert INLINE_STYLE.search('<p style="color: red">')


def test_htmx_adds_no_inline_style():
    base = (TEMPLATES / "web" / "base.html").read_text()
    assert '"includeIndicatorStyles": false' in base


@pytest.mark.parametrize("username", ["statistician", "dsmb"])
def test_a_role_that_may_not_view_participants_cannot_tell_which_exist(trial, username):
    real = trial.screen().screening_number
    client = signed_in(username)
    for name in ("participant", "eligibility", "consent", "emergency_unblind"):
        found = client.get(reverse(name, args=[real]))
        unknown = client.get(reverse(name, args=["SY-9999"]))
        assert found.status_code == unknown.status_code == 404, name
        assert without_csrf(found).replace(real, "N") == without_csrf(unknown).replace(
            "SY-9999", "N"
        ), name


def without_csrf(response) -> str:
    """The page without its CSRF tokens, which differ on every response (the 404 page has the
    language form)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_a_form_posted_to_an_idle_session_comes_back_filled_after_sign_in(trial, settings):
    from tests.edc.conftest import LABS_CLASS_B
    from tests.edc.conftest import E as Entered
    from tests.web.test_capture import field_value, posted

    participant, _ = trial.randomized(days_ago=28)
    form = reverse("visit_form", args=[participant.screening_number, "W4", "F.LAB"])
    user = User.objects.get(username="coordinator")
    user.set_password(PASSWORD)
    user.save()
    client = signed_in()
    age_session(client, security.LAST_SEEN, settings.SESSION_IDLE_SECONDS + 5)
    typed = dict(LABS_CLASS_B, **{"I.TBIL": Entered("51.3", "µmol/L")})
    response = client.post(form, posted(typed, visit_date=str(trial.days_ago(0))))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    notice = client.get(response.url).content
    assert b'data-testid="session-expired"' in notice
    credentials = {"username": "coordinator", "password": PASSWORD, "next": form}
    assert client.post(reverse("login") + "?next=" + form, credentials).url == form
    assert field_value(client.get(form).content.decode(), "I.TBIL") == "51.3"
