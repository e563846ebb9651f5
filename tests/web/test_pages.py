import pytest
from django.test import Client
from django.urls import reverse

from hepatrial.edc.demo_accounts import ensure_demo_accounts
from hepatrial.edc.protocols import install_protocol
from hepatrial.protocol import default_protocol_path, load_protocol

pytestmark = pytest.mark.django_db


@pytest.fixture
def trial(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    install_protocol(load_protocol(default_protocol_path()))
    return {username: password for username, password, _ in ensure_demo_accounts()}


def test_overview_requires_sign_in(client):
    response = client.get(reverse("overview"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_sign_in_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Sign in" in response.content


def test_wrong_password_says_so_and_stays_signed_out(client, trial):
    response = client.post(reverse("login"), {"username": "coordinator", "password": "wrong"})
    assert response.status_code == 200
    assert b"did not match" in response.content
    assert client.get(reverse("overview")).status_code == 302


def test_overview_shows_title_arms_target_and_schedule(client, trial):
    assert client.login(username="coordinator", password=trial["coordinator"])
    response = client.get(reverse("overview"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Umbilical Cord Mesenchymal Stem Cells" in page
    assert "Single infusion" in page and "Double infusion" in page
    assert "92 participants" in page
    assert "Week 24" in page and "161 to 175" in page
    assert "Research coordinator at SY" in page


def test_overview_in_chinese(client, trial):
    client.login(username="assessor", password=trial["assessor"])
    response = client.get(reverse("overview"), headers={"accept-language": "zh-hans"})
    page = response.content.decode()
    assert "经外周静脉输注不同频次脐带间充质干细胞治疗终末期肝病的疗效研究" in page
    assert "第24周" in page


def test_overview_without_a_protocol_says_what_to_do(client, django_user_model):
    user = django_user_model.objects.create_user("someone", password="a-long-password-1")
    client.force_login(user)
    response = client.get(reverse("overview"))
    assert response.status_code == 503
    assert b"hepatrial init" in response.content


def test_sign_in_is_protected_by_csrf(trial):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("login"), {"username": "coordinator", "password": trial["coordinator"]}
    )
    assert response.status_code == 403


def test_health_answers_without_sign_in(client):
    assert client.get(reverse("health")).json() == {"status": "ok"}


def test_every_page_says_when_the_database_is_locked(client, trial):
    from hepatrial.edc.models import User
    from hepatrial.edc.permissions import actor_for
    from hepatrial.edc.services.lock import lock_database, unlock_database

    admin = actor_for(User.objects.get(username="admin"))
    assert client.login(username="coordinator", password=trial["coordinator"])
    assert b"database-lock" not in client.get(reverse("overview")).content
    lock_database(admin, "final analysis")
    for page in (reverse("overview"), reverse("participants")):
        content = client.get(page).content.decode()
        assert 'data-testid="database-lock"' in content and "(final analysis)" in content
    unlock_database(admin, "data query")
    assert b"database-lock" not in client.get(reverse("overview")).content


def test_overview_headings_statuses_and_roles_are_in_chinese(client, trial):
    import re

    client.login(username="coordinator", password=trial["coordinator"])
    page = client.get(reverse("overview"), headers={"accept-language": "zh-hans"}).content
    text = re.sub(r"<[^>]+>", " ", page.decode().split("<main", 1)[1])
    for english in (
        "Target enrolment",
        "Schedule",
        "Endpoints",
        "participants over",
        "Research coordinator",
        "exact day",
        "scheduled",
        "primary",
        " to ",
    ):
        assert english not in text, english
    assert "目标入组" in text and "研究协调员" in text and "161 至 175" in text
    assert "2024年3月1日" in text
