"""Screening and enrolment pages: screen, eligibility, consent, randomize, end of participation."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hepatrial.edc.models import AllocationSlot, EligibilityAssessment, Participant, User
from hepatrial.edc.services import participants
from tests.edc.conftest import PROTOCOL, QUALIFYING

ARM_WORDS = ("SINGLE", "DOUBLE", "Single infusion", "Double infusion")
INCLUSION = next(c for c in PROTOCOL.eligibility if c.kind == "inclusion")
EXCLUSION = next(c for c in PROTOCOL.eligibility if c.kind == "exclusion")


def client_for(username: str, language: str = "en") -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    client.cookies["django_language"] = language
    return client


def today() -> dt.date:
    return timezone.localdate()


# Screening


def test_the_coordinator_screens_a_person_and_lands_on_their_page(trial):
    client = client_for("coordinator")
    form = client.get(reverse("screen")).content.decode()
    assert 'value="SY" selected' in form, "the only site is preselected"
    assert f'value="{today().isoformat()}"' in form, "today by default"
    response = client.post(reverse("screen"), {"site": "SY", "screened_on": today().isoformat()})
    participant = Participant.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("participant", args=[participant.screening_number])
    page = client.get(response.url).content.decode()
    assert participant.screening_number in page
    assert reverse("eligibility", args=[participant.screening_number]) in page


def test_a_future_screening_date_comes_back_inline_with_the_typed_date(trial):
    client = client_for("coordinator")
    tomorrow = (today() + dt.timedelta(days=1)).isoformat()
    response = client.post(reverse("screen"), {"site": "SY", "screened_on": tomorrow})
    page = response.content.decode()
    assert response.status_code == 400
    assert f'value="{tomorrow}"' in page
    assert 'id="err-screened_on"' in page
    assert not Participant.objects.exists()


def test_an_unreadable_screening_date_is_an_inline_error_not_a_500(trial):
    response = client_for("coordinator").post(
        reverse("screen"), {"site": "SY", "screened_on": "yesterday"}
    )
    assert response.status_code == 400
    assert 'value="yesterday"' in response.content.decode()


@pytest.mark.parametrize("username", ["monitor", "assessor", "statistician", "celltherapy"])
def test_roles_that_may_not_screen_are_refused(trial, username):
    client = client_for(username)
    assert client.get(reverse("screen")).status_code == 403
    response = client.post(reverse("screen"), {"site": "SY", "screened_on": today().isoformat()})
    assert response.status_code in (403, 404)
    assert not Participant.objects.exists()


def test_with_two_sites_the_user_chooses_one_and_a_missing_choice_is_an_inline_error(
    trial, other_site
):
    from hepatrial.edc.models import Membership, Site
    from hepatrial.edc.roles import Role

    coordinator = User.objects.get(username="coordinator")
    dl = Site.objects.get(code="DL")
    Membership.objects.create(user=coordinator, site=dl, role=Role.COORDINATOR)
    client = client_for("coordinator")
    form = client.get(reverse("screen")).content.decode()
    assert 'value="DL"' in form and 'value="SY"' in form and " selected" not in form
    response = client.post(reverse("screen"), {"site": "", "screened_on": today().isoformat()})
    assert response.status_code == 400
    assert 'id="err-site"' in response.content.decode()
    response = client.post(reverse("screen"), {"site": "DL", "screened_on": today().isoformat()})
    assert response.url == reverse("participant", args=["DL-0001"])


def test_the_screen_link_is_in_the_top_bar_only_for_those_who_may_screen(trial):
    assert 'data-testid="screen-link"' in client_for("coordinator").get("/").content.decode()
    assert 'data-testid="screen-link"' not in client_for("monitor").get("/").content.decode()


# Eligibility


def test_the_checklist_groups_the_protocols_criteria_with_labelled_radios(trial):
    p = trial.screen()
    page = client_for("coordinator").get(reverse("eligibility", args=[p.screening_number]))
    body = page.content.decode()
    assert body.index("Inclusion criteria") < body.index(INCLUSION.label.en)
    assert body.index("Exclusion criteria") < body.index(EXCLUSION.label.en)
    for criterion in PROTOCOL.eligibility:
        assert f'name="{criterion.oid}" value="yes"' in body
        assert f'name="{criterion.oid}" value="no"' in body
    assert 'name="reason"' not in body, "no reason is asked for a first checklist"


def test_the_checklist_is_in_chinese_for_a_chinese_user(trial):
    p = trial.screen()
    client = client_for("coordinator", "zh-hans")
    body = client.get(reverse("eligibility", args=[p.screening_number])).content.decode()
    assert INCLUSION.label.zh in body and INCLUSION.label.en not in body
    assert "Inclusion criteria" not in body and "Yes" not in body


def test_a_failed_criterion_makes_a_screen_failure_shown_by_its_label(trial):
    p = trial.screen()
    client = client_for("coordinator")
    answers = QUALIFYING | {EXCLUSION.oid: "yes"}
    response = client.post(reverse("eligibility", args=[p.screening_number]), answers)
    assert response.status_code == 302
    p.refresh_from_db()
    assert p.status == "screen_failed" and p.failed_criteria == [EXCLUSION.oid]
    page = client.get(reverse("participant", args=[p.screening_number])).content.decode()
    failure = page.split('data-testid="screen-failure"')[1].split("</section>")[0]
    assert EXCLUSION.label.en in failure


def test_an_eligible_participant_is_offered_consent_next(trial):
    p = trial.screen()
    client = client_for("coordinator")
    client.post(reverse("eligibility", args=[p.screening_number]), QUALIFYING)
    p.refresh_from_db()
    assert p.status == "eligible"
    page = client.get(reverse("participant", args=[p.screening_number])).content.decode()
    assert 'data-testid="eligible"' in page
    assert reverse("consent", args=[p.screening_number]) in page


def test_an_unanswered_criterion_keeps_the_other_answers(trial):
    p = trial.screen()
    answers = dict(QUALIFYING)
    del answers[INCLUSION.oid]
    answers[EXCLUSION.oid] = "yes"
    response = client_for("coordinator").post(
        reverse("eligibility", args=[p.screening_number]), answers
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert f'id="err-{INCLUSION.oid}"' in body
    assert f'name="{EXCLUSION.oid}" value="yes" checked' in body
    assert not EligibilityAssessment.objects.exists()


def test_changing_a_saved_checklist_asks_for_a_reason_and_keeps_the_answers(trial):
    p = trial.screen()
    client = client_for("coordinator")
    url = reverse("eligibility", args=[p.screening_number])
    client.post(url, QUALIFYING)
    assert 'name="reason"' in client.get(url).content.decode()
    changed = QUALIFYING | {EXCLUSION.oid: "yes"}
    response = client.post(url, changed)
    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="err-reason"' in body
    assert f'name="{EXCLUSION.oid}" value="yes" checked' in body
    p.refresh_from_db()
    assert p.status == "eligible"
    response = client.post(url, changed | {"reason": "CT report read again: liver tumour"})
    assert response.status_code == 302
    p.refresh_from_db()
    assert p.status == "screen_failed"


# Consent


def test_consent_is_recorded_and_randomization_comes_next(trial):
    p = trial.screen()
    client = client_for("coordinator")
    client.post(reverse("eligibility", args=[p.screening_number]), QUALIFYING)
    signed = (timezone.localtime() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("consent", args=[p.screening_number]),
        {"document_version": "ICF v1.0", "signed_at": signed},
    )
    assert response.status_code == 302
    p.refresh_from_db()
    assert p.status == "consented"
    page = client.get(reverse("participant", args=[p.screening_number])).content.decode()
    assert reverse("randomization", args=[p.screening_number]) in page


def test_consent_errors_are_inline_and_keep_what_was_typed(trial):
    p = trial.screen()
    client = client_for("coordinator")
    client.post(reverse("eligibility", args=[p.screening_number]), QUALIFYING)
    future = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("consent", args=[p.screening_number]),
        {"document_version": "", "signed_at": future},
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert 'id="err-document_version"' in body and 'id="err-signed_at"' in body
    assert f'value="{future}"' in body
    response = client.post(
        reverse("consent", args=[p.screening_number]),
        {"document_version": "ICF v2", "signed_at": "not a time"},
    )
    assert response.status_code == 400
    assert 'value="ICF v2"' in response.content.decode()


# Randomization


def test_randomization_is_confirmed_first_then_done_once_and_shown_without_the_arm(trial):
    p = trial.consented()
    client = client_for("coordinator")
    url = reverse("randomization", args=[p.screening_number])
    confirm = client.get(url).content.decode()
    assert 'data-testid="confirm-randomization"' in confirm
    assert not AllocationSlot.objects.filter(participant__isnull=False).exists()
    response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    result = client.get(response.url).content.decode()
    p.refresh_from_db()
    assert p.randomization_number and p.randomization_number in result
    assert 'data-testid="arm"' not in result
    assert not [w for w in ARM_WORDS if w in result]


def test_a_post_without_confirmation_allocates_nothing(trial):
    p = trial.consented()
    client = client_for("coordinator")
    response = client.post(reverse("randomization", args=[p.screening_number]))
    assert response.status_code == 200
    assert 'data-testid="confirm-randomization"' in response.content.decode()
    assert not AllocationSlot.objects.filter(participant__isnull=False).exists()


def test_a_double_submit_allocates_once_and_says_already_randomized(trial):
    p = trial.consented()
    client = client_for("coordinator")
    url = reverse("randomization", args=[p.screening_number])
    first = client.post(url, {"confirm": "yes"})
    second = client.post(url, {"confirm": "yes"})
    assert first.status_code == 302
    assert second.status_code == 409
    p.refresh_from_db()
    body = second.content.decode()
    assert 'data-testid="already-randomized"' in body and p.randomization_number in body
    assert AllocationSlot.objects.filter(participant__isnull=False).count() == 1


def test_missing_screening_forms_are_named_with_a_link_back(trial):
    p = trial.screen()
    c = trial.coordinator
    participants.assess_eligibility(c, p.screening_number, QUALIFYING)
    participants.record_consent(c, p.screening_number, "ICF v1.0", timezone.now())
    response = client_for("coordinator").post(
        reverse("randomization", args=[p.screening_number]), {"confirm": "yes"}
    )
    body = response.content.decode()
    assert response.status_code == 409
    stratum = PROTOCOL.randomization.strata[0]
    assert stratum.label.en in body
    assert reverse("participant", args=[p.screening_number]) in body
    assert not AllocationSlot.objects.filter(participant__isnull=False).exists()


def test_the_cell_therapy_team_sees_the_arm_of_a_randomized_participant(trial):
    p, _ = trial.randomized()
    slot = AllocationSlot.objects.get(participant=p)
    arm = next(a for a in PROTOCOL.arms if a.code == slot.arm)
    client = client_for("celltherapy")
    body = client.get(reverse("randomization", args=[p.screening_number])).content.decode()
    shown = body.split('data-testid="arm">')[1].split("</dd>")[0]
    assert arm.label.en in shown and p.randomization_number in body
    blinded = client_for("coordinator").get(reverse("randomization", args=[p.screening_number]))
    assert arm.label.en not in blinded.content.decode()


@pytest.mark.parametrize("username", ["monitor", "assessor", "statistician", "celltherapy"])
def test_roles_that_may_not_randomize_are_refused(trial, username):
    p = trial.consented()
    client = client_for(username)
    page = client.get(reverse("participant", args=[p.screening_number])).content.decode()
    assert 'data-testid="next-randomize"' not in page
    url = reverse("randomization", args=[p.screening_number])
    assert client.get(url).status_code in (403, 404)
    assert client.post(url, {"confirm": "yes"}).status_code in (403, 404)
    assert not AllocationSlot.objects.filter(participant__isnull=False).exists()


@pytest.mark.parametrize("username", ["monitor", "assessor", "statistician"])
def test_roles_that_may_not_enrol_cannot_fill_the_checklist_or_consent(trial, username):
    p = trial.screen()
    client = client_for(username)
    for name in ("eligibility", "consent", "end_participation"):
        url = reverse(name, args=[p.screening_number])
        assert client.get(url).status_code in (403, 404), name
        assert client.post(url, QUALIFYING).status_code in (403, 404), name
    p.refresh_from_db()
    assert p.status == "screened"


def test_another_sites_participant_is_not_found(trial, other_site):
    p = trial.consented()
    client = client_for("dl-coordinator")
    for name in ("eligibility", "consent", "randomization", "end_participation"):
        url = reverse(name, args=[p.screening_number])
        assert client.get(url).status_code == 404, name
        assert client.post(url, {"confirm": "yes"}).status_code == 404, name
    assert not AllocationSlot.objects.filter(participant__isnull=False).exists()


# End of participation


def test_end_of_participation_with_a_reason(trial):
    p, _ = trial.randomized()
    client = client_for("coordinator")
    page = client.get(reverse("participant", args=[p.screening_number])).content.decode()
    assert reverse("end_participation", args=[p.screening_number]) in page
    url = reverse("end_participation", args=[p.screening_number])
    response = client.post(
        url, {"status": "withdrawn", "ended_on": today().isoformat(), "reason": ""}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="err-reason"' in body and 'value="withdrawn" checked' in body
    response = client.post(
        url,
        {"status": "withdrawn", "ended_on": today().isoformat(), "reason": "moved to another city"},
    )
    assert response.status_code == 302
    p.refresh_from_db()
    assert p.status == "withdrawn" and p.end_reason == "moved to another city"


def test_end_of_participation_is_only_for_those_who_may(trial):
    p, _ = trial.randomized()
    for username in ("monitor", "assessor", "celltherapy"):
        client = client_for(username)
        page = client.get(reverse("participant", args=[p.screening_number])).content.decode()
        assert 'data-testid="next-end"' not in page, username
        response = client.post(
            reverse("end_participation", args=[p.screening_number]),
            {"status": "completed", "ended_on": today().isoformat()},
        )
        assert response.status_code in (403, 404), username
    p.refresh_from_db()
    assert p.status == "randomized"


# A locked database or a step that no longer applies


def test_a_locked_database_is_said_on_the_form_and_keeps_what_was_typed(trial):
    from hepatrial.edc.roles import Role
    from hepatrial.edc.services.lock import lock_database

    p = trial.screen()
    participants.assess_eligibility(trial.coordinator, p.screening_number, QUALIFYING)
    lock_database(trial[Role.ADMINISTRATOR], "final analysis")
    signed = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = client_for("coordinator").post(
        reverse("consent", args=[p.screening_number]),
        {"document_version": "ICF v1.0", "signed_at": signed},
    )
    body = response.content.decode()
    assert response.status_code == 403
    assert 'data-testid="consent-form"' in body
    assert 'value="ICF v1.0"' in body and f'value="{signed}"' in body
    p.refresh_from_db()
    assert p.status == "eligible"


def test_the_checklist_of_a_randomized_participant_can_no_longer_change(trial):
    p, _ = trial.randomized()
    client = client_for("coordinator")
    url = reverse("eligibility", args=[p.screening_number])
    assert 'data-testid="eligibility-closed"' in client.get(url).content.decode()
    response = client.post(url, QUALIFYING | {"reason": "re-check"})
    assert response.status_code == 409
    assert 'data-testid="form-errors"' in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_the_same_moment_allocate_once(trial):
    p = trial.consented()
    url = reverse("randomization", args=[p.screening_number])
    clients = [client_for("coordinator"), client_for("coordinator")]
    barrier = threading.Barrier(2)

    def click(client: Client) -> int:
        try:
            barrier.wait()
            return client.post(url, {"confirm": "yes"}).status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(click, clients))
    assert statuses == [302, 409]
    assert AllocationSlot.objects.filter(participant__isnull=False).count() == 1


def test_the_randomization_read_gives_the_arm_only_to_the_cell_therapy_team(trial):
    from hepatrial.edc.roles import Role
    from hepatrial.edc.services.enrolment_steps import randomization_step

    p, _ = trial.randomized()
    for role in (Role.COORDINATOR, Role.INVESTIGATOR, Role.MONITOR, Role.OUTCOME_ASSESSOR):
        step = randomization_step(trial[role], p.screening_number)
        assert step.arm is None and step.randomization_number == p.randomization_number, role
    unblinded = randomization_step(trial[Role.CELL_THERAPY], p.screening_number)
    assert unblinded.arm.code == AllocationSlot.objects.get(participant=p).arm
