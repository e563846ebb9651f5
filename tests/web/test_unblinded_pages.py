"""The allocation list (cell-therapy team only) and an investigator's emergency unblinding."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from hepatrial.edc.models import AuditEvent, Notice, Participant, User
from hepatrial.edc.roles import Role
from hepatrial.edc.services.allocation import emergency_unblind

ARM_WORDS = ("SINGLE", "DOUBLE", "Single infusion", "Double infusion", "单次输注组", "两次输注组")
NOT_CELL_THERAPY = ("admin", "investigator", "coordinator", "assessor", "monitor",
                    "statistician", "dsmb")  # fmt: skip


def client_for(username: str, language: str = "en") -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    client.cookies["django_language"] = language
    return client


def arm_words_in(body: str) -> list[str]:
    return [w for w in ARM_WORDS if w in body]


@pytest.fixture
def two(trial):
    first, _ = trial.randomized()
    second, _ = trial.randomized()
    trial.numbers = [first.screening_number, second.screening_number]
    return trial


def test_the_cell_therapy_team_sees_every_allocation_and_the_balance(two):
    client = client_for("celltherapy")
    overview = client.get(reverse("overview")).content.decode()
    assert 'data-testid="allocation-link"' in overview
    page = client.get(reverse("allocation_list"))
    assert page.status_code == 200
    body = page.content.decode()
    for number in two.numbers:
        slot = Participant.objects.get(screening_number=number).allocation
        assert number in body and slot.participant.randomization_number in body
        assert slot.arm in body
    assert 'data-testid="allocation-balance"' in body and "Child-Pugh B" in body


def test_the_allocation_list_speaks_chinese(two):
    body = client_for("celltherapy", "zh-hans").get(reverse("allocation_list")).content.decode()
    assert "Child-Pugh B级" in body
    assert "单次输注组" in body or "两次输注组" in body


def test_nobody_else_gets_the_allocation_list_or_its_link(two):
    for username in NOT_CELL_THERAPY:
        client = client_for(username)
        assert client.get(reverse("allocation_list")).status_code == 403, username
        overview = client.get(reverse("overview")).content.decode()
        assert 'data-testid="allocation-link"' not in overview, username


def test_only_an_investigator_is_offered_unblinding(two):
    number = two.numbers[0]
    url = reverse("participant", args=[number])
    assert 'data-testid="unblind-link"' in client_for("investigator").get(url).content.decode()
    for username in ("admin", "coordinator", "celltherapy", "assessor", "monitor"):
        body = client_for(username).get(url).content.decode()
        assert 'data-testid="unblind-link"' not in body, username
    unblind = reverse("emergency_unblind", args=[number])
    for username in NOT_CELL_THERAPY + ("celltherapy",):
        if username == "investigator":
            continue
        status = client_for(username).get(unblind).status_code
        assert status in (403, 404), username
        status = client_for(username).post(unblind, {"reason": "x", "confirm": "yes"}).status_code
        assert status in (403, 404), username
    assert not Participant.objects.filter(emergency_unblinded=True).exists()


def test_a_participant_not_randomized_offers_no_unblinding(trial):
    screened = trial.screen()
    client = client_for("investigator")
    body = client.get(reverse("participant", args=[screened.screening_number])).content.decode()
    assert 'data-testid="unblind-link"' not in body
    page = client.get(reverse("emergency_unblind", args=[screened.screening_number]))
    assert page.status_code == 409
    assert 'name="reason"' not in page.content.decode()


def test_another_sites_participant_is_not_found(two, other_site):
    from hepatrial.edc.models import Membership, Site

    investigator = User.objects.create_user("dl-investigator", password="a-long-password-4")
    Membership.objects.create(user=investigator, site=Site.objects.get(code="DL"),
                              role=Role.INVESTIGATOR)  # fmt: skip
    url = reverse("emergency_unblind", args=[two.numbers[0]])
    client = client_for("dl-investigator")
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "x", "confirm": "yes"}).status_code == 404


def test_the_page_explains_and_asks_for_a_reason_and_confirmation(two):
    page = client_for("investigator").get(reverse("emergency_unblind", args=[two.numbers[0]]))
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="consequence"' in body
    assert '<label for="reason">' in body and '<label for="confirm">' in body
    assert not arm_words_in(body)


def test_unblinding_needs_a_reason_and_keeps_what_was_typed(two):
    client = client_for("investigator")
    url = reverse("emergency_unblind", args=[two.numbers[0]])
    page = client.post(url, {"reason": "   ", "confirm": "yes"})
    assert page.status_code == 400
    body = page.content.decode()
    assert 'data-testid="reason-error"' in body and not arm_words_in(body)
    page = client.post(url, {"reason": "suspected anaphylaxis"})
    assert page.status_code == 400
    body = page.content.decode()
    assert 'data-testid="confirm-error"' in body and "suspected anaphylaxis</textarea>" in body
    assert not arm_words_in(body)
    assert not Participant.objects.filter(emergency_unblinded=True).exists()
    assert not AuditEvent.objects.filter(action="unblind").exists()


def test_a_missing_reason_is_said_in_chinese(two):
    client = client_for("investigator", "zh-hans")
    url = reverse("emergency_unblind", args=[two.numbers[0]])
    body = client.post(url, {"reason": "", "confirm": "yes"}).content.decode()
    assert 'data-testid="reason-error"' in body
    assert "紧急揭盲" in body


def test_the_investigator_sees_the_arm_once_audited_and_administrators_are_told(two):
    number = two.numbers[0]
    client = client_for("investigator")
    page = client.post(reverse("emergency_unblind", args=[number]),
                       {"reason": "severe reaction", "confirm": "yes"})  # fmt: skip
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    arm = Participant.objects.get(screening_number=number).allocation.arm
    label = {"SINGLE": "Single infusion", "DOUBLE": "Double infusion"}[arm]
    assert label in page.content.decode()
    event = AuditEvent.objects.get(action="unblind", participant=number)
    assert event.reason == "severe reaction" and event.username == "investigator"
    notices = client_for("admin").get(reverse("overview")).content.decode()
    assert 'data-testid="notices"' in notices and number in notices
    assert Notice.objects.filter(role=Role.ADMINISTRATOR).count() == 1
    # nowhere else for the investigator: participant page, list, a second look at the form
    for url in (reverse("participant", args=[number]), reverse("participants"),
                reverse("emergency_unblind", args=[number])):  # fmt: skip
        body = client.get(url).content.decode()
        assert not arm_words_in(body.split("<h2>Arms</h2>")[0]), url


def test_blinded_roles_see_no_arm_after_someone_else_unblinded(two):
    number = two.numbers[0]
    emergency_unblind(two[Role.INVESTIGATOR], number, "severe reaction")
    for username in ("coordinator", "assessor", "monitor", "admin"):
        client = client_for(username)
        urls = [reverse("participant", args=[number]), reverse("participants")]
        if username in ("monitor", "admin"):
            urls += [reverse("audit_trail"), reverse("audit_trail") + f"?participant={number}"]
        for url in urls:
            body = client.get(url).content.decode()
            assert not arm_words_in(body), (username, url)
        if username in ("monitor", "admin"):
            csv = b"".join(client.get(reverse("audit_csv")).streaming_content).decode()
            assert not arm_words_in(csv), username
            assert ",unblind," not in csv
