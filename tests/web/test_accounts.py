"""Administration pages: users, memberships, sites, passwords; every change audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from hepatrial.edc.models import AuditEvent, Membership, Site, User
from hepatrial.edc.roles import Role

pytestmark = pytest.mark.django_db


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def admin(trial) -> Client:
    return signed_in("admin")


@pytest.fixture
def dl_admin(trial) -> Client:
    """An administrator of a second site only."""
    site = Site.objects.create(code="DL", name="Second hospital", name_zh="第二医院")
    user = User.objects.create_user("dl-admin", password="a-long-password-3")
    Membership.objects.create(user=user, site=site, role=Role.ADMINISTRATOR)
    return signed_in("dl-admin")


def audit_text() -> str:
    """Every audit row's every field, to look for a password that must not be there."""
    fields = (
        "username",
        "action",
        "object_type",
        "object_id",
        "site",
        "old_value",
        "new_value",
        "reason",
        "context",
    )
    return "\n".join(" ".join(str(getattr(e, f)) for f in fields) for e in AuditEvent.objects.all())


def assert_not_audited(*secrets: str) -> None:
    text = audit_text()
    for secret in secrets:
        assert secret and secret not in text


ADMIN_PAGES = [
    ("get", "accounts_users", ()),
    ("get", "accounts_user_add", ()),
    ("post", "accounts_user_add", ()),
    ("get", "accounts_user", ("coordinator",)),
    ("post", "accounts_membership", ("coordinator",)),
    ("post", "accounts_active", ("coordinator",)),
    ("post", "accounts_reset_password", ("coordinator",)),
    ("get", "accounts_sites", ()),
    ("post", "accounts_sites", ()),
    ("get", "accounts_site", ("SY",)),
    ("post", "accounts_site", ("SY",)),
]


@pytest.mark.parametrize("method,name,args", ADMIN_PAGES)
def test_a_non_administrator_is_refused_every_admin_page(trial, method, name, args):
    client = signed_in("investigator")
    data = {
        "username": "x",
        "full_name": "X",
        "site": "SY",
        "role": "administrator",
        "active": "0",
        "code": "NEW",
        "name": "New",
    }
    response = getattr(client, method)(reverse(name, args=args), data)
    assert response.status_code == 403
    assert not User.objects.filter(username="x").exists()
    assert not Site.objects.filter(code="NEW").exists()
    assert User.objects.get(username="coordinator").is_active
    assert Membership.objects.get(user__username="investigator").role == Role.INVESTIGATOR


def test_the_menu_shows_administration_to_administrators_only(trial, admin):
    assert b'data-testid="users-link"' in admin.get(reverse("overview")).content
    assert b'data-testid="users-link"' not in signed_in("monitor").get(reverse("overview")).content


def test_the_user_list_shows_names_status_and_roles(trial, admin):
    User.objects.filter(username="monitor").update(first_name="Wang Fang", is_active=False)
    page = admin.get(reverse("accounts_users")).content.decode()
    assert "coordinator" in page and "Research coordinator" in page and "<code>SY</code>" in page
    assert "Wang Fang" in page and "deactivated" in page


def test_an_administrator_adds_a_user_with_a_generated_password(trial, admin):
    response = admin.post(
        reverse("accounts_user_add"),
        {
            "username": "li.na",
            "full_name": "李娜",
            "email": "li.na@example.org",
            "site": "SY",
            "role": "coordinator",
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    password = response.context["password"]
    assert password in response.content.decode() and len(password) >= 12
    user = User.objects.get(username="li.na")
    assert user.get_full_name() == "李娜" and user.email == "li.na@example.org"
    assert user.memberships.get().role == Role.COORDINATOR
    assert Client().login(username="li.na", password=password)
    actions = list(
        AuditEvent.objects.filter(object_id__in=[str(user.pk), "li.na"]).values_list(
            "action", "username", "site", "new_value"
        )
    )
    assert ("user_add", "admin", "", "li.na") in actions
    assert ("membership", "admin", "SY", "coordinator") in actions
    assert_not_audited(password, user.password)


def test_a_typed_initial_password_is_checked_by_the_password_validators(trial, admin):
    typed = {
        "username": "zhang",
        "full_name": "Zhang Wei",
        "email": "",
        "password": "12345",
        "site": "SY",
        "role": "monitor",
    }
    response = admin.post(reverse("accounts_user_add"), typed)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-testid="error-password"' in page and "too short" in page
    assert 'value="zhang"' in page and 'value="Zhang Wei"' in page
    assert 'value="12345"' not in page
    assert not User.objects.filter(username="zhang").exists()

    typed["password"] = "Ward-7-night-shift"
    response = admin.post(reverse("accounts_user_add"), typed)
    assert response.status_code == 200
    assert Client().login(username="zhang", password="Ward-7-night-shift")
    assert_not_audited("Ward-7-night-shift")


def test_adding_a_user_explains_every_bad_field_and_keeps_the_rest(trial, admin):
    response = admin.post(
        reverse("accounts_user_add"),
        {
            "username": "coordinator",
            "full_name": "",
            "email": "not-an-address",
            "site": "",
            "role": "coordinator",
        },
    )
    assert response.status_code == 400
    errors = response.context["errors"]
    assert "already taken" in errors["username"]
    assert set(errors) == {"username", "full_name", "email", "site"}
    assert 'value="not-an-address"' in response.content.decode()


def test_an_administrator_changes_and_removes_a_role(trial, admin):
    url = reverse("accounts_membership", args=["assessor"])
    assert admin.post(url, {"site": "SY", "role": "monitor"}).status_code == 302
    assert Membership.objects.get(user__username="assessor").role == Role.MONITOR
    row = AuditEvent.objects.filter(action="membership").last()
    assert (row.object_id, row.site, row.old_value, row.new_value) == (
        "assessor",
        "SY",
        "outcome_assessor",
        "monitor",
    )
    assert admin.post(url, {"site": "SY", "role": ""}).status_code == 302
    assert not Membership.objects.filter(user__username="assessor").exists()
    assert User.objects.filter(username="assessor").exists()


def test_an_unknown_role_is_refused(trial, admin):
    url = reverse("accounts_membership", args=["assessor"])
    response = admin.post(url, {"site": "SY", "role": "superuser"})
    assert response.status_code == 400
    assert "choose a role" in response.content.decode()
    assert Membership.objects.get(user__username="assessor").role == Role.OUTCOME_ASSESSOR


def test_another_sites_administrator_cannot_change_this_sites_memberships(trial, dl_admin):
    url = reverse("accounts_membership", args=["coordinator"])
    response = dl_admin.post(url, {"site": "SY", "role": "administrator"})
    assert response.status_code == 403
    assert Membership.objects.get(user__username="coordinator").role == Role.COORDINATOR
    for name in ("accounts_active", "accounts_reset_password"):
        assert (
            dl_admin.post(reverse(name, args=["coordinator"]), {"active": "0"}).status_code == 403
        )
    assert User.objects.get(username="coordinator").is_active
    assert dl_admin.post(reverse("accounts_site", args=["SY"]), {"name": "X"}).status_code == 403
    assert Site.objects.get(code="SY").name != "X"


def test_another_sites_administrator_may_give_a_sy_user_a_role_at_their_site(trial, dl_admin):
    url = reverse("accounts_membership", args=["coordinator"])
    assert dl_admin.post(url, {"site": "DL", "role": "monitor"}).status_code == 302
    roles = dict(
        Membership.objects.filter(user__username="coordinator").values_list("site__code", "role")
    )
    assert roles == {"SY": "coordinator", "DL": "monitor"}
    page = dl_admin.get(reverse("accounts_users")).content.decode()
    assert "coordinator" in page and "dl-admin" in page and "investigator" not in page


def test_the_last_active_administrator_cannot_be_deactivated_or_demoted(trial, admin):
    response = admin.post(reverse("accounts_active", args=["admin"]), {"active": "0"})
    assert response.status_code == 409
    assert "last active administrator" in response.content.decode()
    assert User.objects.get(username="admin").is_active
    url = reverse("accounts_membership", args=["admin"])
    assert admin.post(url, {"site": "SY", "role": "monitor"}).status_code == 409
    assert Membership.objects.get(user__username="admin").role == Role.ADMINISTRATOR

    second = User.objects.create_user("second-admin", password="a-long-password-4")
    Membership.objects.create(user=second, site=Site.objects.get(code="SY"), role="administrator")
    assert (
        signed_in("second-admin")
        .post(reverse("accounts_active", args=["admin"]), {"active": "0"})
        .status_code
        == 302
    )
    assert not User.objects.get(username="admin").is_active


def test_a_deactivated_user_cannot_sign_in_until_reactivated(trial, admin):
    coordinator = User.objects.get(username="coordinator")
    coordinator.set_password("Ward-7-night-shift")
    coordinator.save()
    session = signed_in("coordinator")
    assert session.get(reverse("overview")).status_code == 200

    assert (
        admin.post(reverse("accounts_active", args=["coordinator"]), {"active": "0"}).status_code
        == 302
    )
    assert not User.objects.get(username="coordinator").is_active
    assert session.get(reverse("overview")).status_code == 302  # the open session ends too
    response = Client().post(
        reverse("login"), {"username": "coordinator", "password": "Ward-7-night-shift"}
    )
    assert response.status_code == 200 and b"did not match" in response.content
    assert AuditEvent.objects.filter(action="user_deactivate", object_id="coordinator").exists()
    page = admin.get(reverse("accounts_user", args=["coordinator"])).content.decode()
    assert "cannot sign in" in page and 'data-testid="reactivate"' in page

    assert (
        admin.post(reverse("accounts_active", args=["coordinator"]), {"active": "1"}).status_code
        == 302
    )
    assert Client().login(username="coordinator", password="Ward-7-night-shift")
    assert AuditEvent.objects.filter(action="user_reactivate", object_id="coordinator").exists()
    assert Membership.objects.get(user__username="coordinator").role == Role.COORDINATOR


def test_an_administrator_resets_a_password_shown_once(trial, admin):
    coordinator = User.objects.get(username="coordinator")
    coordinator.set_password("Ward-7-night-shift")
    coordinator.save()
    response = admin.post(reverse("accounts_reset_password", args=["coordinator"]))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    password = response.context["password"]
    assert Client().login(username="coordinator", password=password)
    assert not Client().login(username="coordinator", password="Ward-7-night-shift")
    assert (
        password not in admin.get(reverse("accounts_user", args=["coordinator"])).content.decode()
    )
    assert AuditEvent.objects.filter(action="password_reset", object_id="coordinator").exists()
    assert_not_audited(password, User.objects.get(username="coordinator").password)


def test_reset_and_deactivation_refuse_a_get(trial, admin):
    assert admin.get(reverse("accounts_reset_password", args=["coordinator"])).status_code == 405
    assert admin.get(reverse("accounts_active", args=["coordinator"])).status_code == 405


def test_an_unknown_user_is_not_found(trial, admin):
    assert admin.get(reverse("accounts_user", args=["nobody"])).status_code == 404
    assert (
        admin.post(reverse("accounts_active", args=["nobody"]), {"active": "0"}).status_code == 404
    )


def test_an_administrator_adds_a_site_and_administers_it(trial, admin):
    response = admin.post(
        reverse("accounts_sites"), {"code": "dl", "name": "Dalian Hospital", "name_zh": "大连医院"}
    )
    assert response.status_code == 302
    site = Site.objects.get(code="DL")
    assert (site.name, site.name_zh) == ("Dalian Hospital", "大连医院")
    assert Membership.objects.get(user__username="admin", site=site).role == Role.ADMINISTRATOR
    assert AuditEvent.objects.filter(action="site_add", site="DL").exists()
    page = admin.get(reverse("accounts_sites")).content.decode()
    assert "大连医院" in page

    response = admin.post(reverse("accounts_sites"), {"code": "DL", "name": "", "name_zh": "x"})
    assert response.status_code == 400
    errors = response.context["errors"]
    assert "already a site DL" in errors["code"] and "name" in errors
    assert 'value="x"' in response.content.decode()


def test_a_site_code_is_checked(trial, admin):
    response = admin.post(reverse("accounts_sites"), {"code": "no spaces!", "name": "X"})
    assert response.status_code == 400
    assert "capital letters" in response.context["errors"]["code"]


def test_an_administrator_renames_a_site_but_not_its_code(trial, admin):
    url = reverse("accounts_site", args=["SY"])
    response = admin.post(url, {"code": "XX", "name": "Shengjing Hospital", "name_zh": "盛京医院"})
    assert response.status_code == 302
    site = Site.objects.get(code="SY")
    assert (site.name, site.name_zh) == ("Shengjing Hospital", "盛京医院")
    assert not Site.objects.filter(code="XX").exists()
    row = AuditEvent.objects.filter(action="site_edit").get()
    assert row.new_value == "Shengjing Hospital / 盛京医院"
    assert admin.post(url, {"name": " "}).status_code == 400


def test_every_user_changes_their_own_password(trial):
    monitor = User.objects.get(username="monitor")
    monitor.set_password("Ward-7-night-shift")
    monitor.save()
    client = signed_in("monitor")
    url = reverse("password_change")
    assert client.get(url).status_code == 200

    response = client.post(
        url, {"old_password": "wrong", "new_password1": "x", "new_password2": "x"}
    )
    assert response.status_code == 200
    assert 'id="error-old_password"' in response.content.decode()

    response = client.post(
        url,
        {
            "old_password": "Ward-7-night-shift",
            "new_password1": "monitor12",
            "new_password2": "monitor12",
        },
    )
    assert 'id="error-new_password2"' in response.content.decode()
    assert "too short" in response.content.decode()

    response = client.post(
        url,
        {
            "old_password": "Ward-7-night-shift",
            "new_password1": "Liver-clinic-2024",
            "new_password2": "Liver-clinic-2024",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("password_change_done")
    assert client.get(reverse("overview")).status_code == 200  # still signed in
    assert Client().login(username="monitor", password="Liver-clinic-2024")
    assert AuditEvent.objects.filter(action="password_change", username="monitor").exists()
    assert_not_audited(
        "Liver-clinic-2024", "Ward-7-night-shift", User.objects.get(username="monitor").password
    )


def test_password_change_requires_sign_in(trial):
    response = Client().get(reverse("password_change"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_each_help_text_is_shown_beside_its_own_field_only(trial, admin):
    page = admin.get(reverse("accounts_user_add")).content.decode()
    assert page.count("the person signs in with it") == 1
    assert page.count("Either way it is shown once") == 1
    assert page.count("cannot be changed later") == 0
    page = admin.get(reverse("accounts_sites")).content.decode()
    assert page.count("cannot be changed later") == 1
