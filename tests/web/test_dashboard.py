"""Dashboard, participant list and truthful visit states."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from bench.bench_web import bulk_participants
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hepatrial.edc.models import Participant, User, Visit
from hepatrial.edc.permissions import actor_for
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.roles import Role
from hepatrial.edc.services import participants as svc
from hepatrial.edc.services.dashboard import dashboard, projected_completion
from hepatrial.edc.services.listing import ParticipantFilter, participant_page
from hepatrial.edc.services.schedule import intervention_codes, visit_status
from hepatrial.edc.services.views import participant_detail
from tests.edc.conftest import QUALIFYING

pytestmark = pytest.mark.django_db


def client_for(username: str, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(User.objects.get(username=username))
    return client


def arm_words() -> list[str]:
    """Every text that would tell a blinded reader an arm: codes, labels, intervention visits."""
    protocol = active_protocol()[1].protocol
    words = []
    for arm in protocol.arms:
        words += [arm.code, arm.label.en, arm.label.zh]
        for i in arm.interventions:
            words += [i.code, i.label.en, i.label.zh]
    return words


def visible_text(page: str) -> str:
    """What a reader sees: the page without tags, attributes, scripts and styles."""
    return re.sub(r"<[^>]+>", " ", page.split("<body>", 1)[-1])


def hidden() -> set[str]:
    return intervention_codes(active_protocol()[1].protocol)


def without_protocol_arms(page: str) -> str:
    """The overview lists the protocol's arms for everyone; the rest must not show any."""
    if 'data-testid="arms"' not in page:
        return page
    return page.split('data-testid="arms"')[0] + page.split('data-testid="schedule"')[-1]


@pytest.fixture
def bulk(trial):
    bulk_participants(60, seed=5)
    return trial


# --- statuses that tell the truth -------------------------------------------------------------


def test_a_screen_failures_screening_visit_is_not_expected(trial):
    p = trial.screen(days_ago=20)
    failing = dict(QUALIFYING)
    first = next(iter(failing))
    failing[first] = "no" if failing[first] == "yes" else "yes"
    svc.assess_eligibility(trial.coordinator, p.screening_number, failing)
    view = participant_detail(trial.coordinator, p.screening_number)
    assert [v.status for v in view.visits] == ["not_expected"]
    page = client_for("coordinator").get(reverse("participant", args=[p.screening_number]))
    assert "status-overdue" not in page.content.decode()
    assert "not expected" in page.content.decode()


def test_visits_after_death_are_not_expected_and_those_before_are_missed(trial):
    p, _ = trial.randomized(days_ago=100)
    svc.end_participation(trial.coordinator, p.screening_number, "died", trial.days_ago(50),
                          "hepatorenal syndrome")  # fmt: skip
    view = participant_detail(trial.coordinator, p.screening_number)
    states = {v.event_oid: v.status for v in view.visits if v.target_date}
    assert "overdue" not in states.values()
    assert states["W1"] == "missed"  # its window closed on day 9, while alive
    assert states["W12"] == states["W24"] == "not_expected"
    page = client_for("coordinator", "zh-hans").get(
        reverse("participant", args=[p.screening_number])
    )
    assert "status-overdue" not in page.content.decode()


def test_a_participant_on_study_still_has_overdue_visits(trial):
    p, _ = trial.randomized(days_ago=100)
    w1 = Visit.objects.get(participant=p, event_oid="W1")
    assert visit_status(w1, participant=p) == "overdue"
    assert participant_page(trial.coordinator, ParticipantFilter(overdue=True)).total == 1


def test_the_demo_shows_no_overdue_rows_for_ended_or_failed_participants(trial):
    from hepatrial.edc.demo_trial import DemoLoader, active_allocation_list
    from hepatrial.simulate import simulate_trial

    protocol = active_protocol()[1].protocol
    records = simulate_trial(protocol, 10, 7, allocation=active_allocation_list(protocol))
    DemoLoader(records, progress=lambda m: None).run()
    client = client_for("coordinator")
    overdue = 0
    for p in Participant.objects.all():
        page = client.get(reverse("participant", args=[p.screening_number])).content.decode()
        overdue += page.count("status-overdue")
    assert overdue == 0


def test_end_of_study_and_event_log_rows_show_what_is_on_file(trial):
    from hepatrial.edc.services.forms import save_form
    from hepatrial.protocol.values import EnteredValue as E

    p, _ = trial.randomized(days_ago=100)
    c = trial.coordinator
    ae = {"I.AETERM": E("fever"), "I.AESTDT": E(str(trial.days_ago(60))), "I.AEGRADE": E("1"),
          "I.AESER": E("no"), "I.AEREL": E("unrelated")}  # fmt: skip
    save_form(c, p.screening_number, "LOG", "F.AE", ae, base_version=0, repeat=None)
    save_form(c, p.screening_number, "LOG", "F.AE", ae, base_version=0, repeat=None)
    eos = {"I.EOSDT": E(str(trial.days_ago(5))), "I.EOSSTAT": E("withdrawn"),
           "I.EOSREAS": E("moved away")}  # fmt: skip
    save_form(c, p.screening_number, "EOS", "F.EOS", eos, base_version=0)
    svc.end_participation(c, p.screening_number, "withdrawn", trial.days_ago(5), "moved away")
    page = client_for("coordinator").get(reverse("participant", args=[p.screening_number]))
    rows = re.findall(r'<tr class="status-recorded".*?</tr>', page.content.decode(), re.S)
    text = " ".join(rows)
    assert "Adverse event: 2" in text
    assert "Withdrawn" in text and "End of study: 1" in text
    zh = client_for("coordinator", "zh-hans").get(reverse("participant", args=[p.screening_number]))
    assert "不良事件：2" in zh.content.decode() or "不良事件: 2" in zh.content.decode()


# --- list: search, filters, pages --------------------------------------------------------------


def test_search_by_screening_and_randomization_number(bulk):
    p = Participant.objects.exclude(randomization_number="").order_by("id")[3]
    for query in (p.screening_number, p.randomization_number):
        listing = participant_page(bulk.coordinator, ParticipantFilter(query=query))
        assert [r.screening_number for r in listing.rows] == [p.screening_number]
    page = client_for("coordinator").get(reverse("participants"), {"q": p.randomization_number})
    assert p.screening_number in page.content.decode()
    assert "1 participant" in page.content.decode()


def test_status_stratum_and_overdue_filters(bulk):
    coordinator = bulk.coordinator
    died = participant_page(coordinator, ParticipantFilter(status="died"), per_page=500)
    assert died.total == Participant.objects.filter(status="died").count()
    assert {r.status for r in died.rows} <= {"died"}
    stratum = Participant.objects.exclude(stratum="").values_list("stratum", flat=True)[0]
    listing = participant_page(coordinator, ParticipantFilter(stratum=stratum), per_page=500)
    assert listing.total == Participant.objects.filter(stratum=stratum).count()
    assert stratum in listing.strata
    today = timezone.localdate()
    expected = {
        p.screening_number
        for p in Participant.objects.all()
        if any(visit_status(v, today, participant=p) == "overdue"
               for v in p.visits.all() if v.event_oid not in hidden())
    }  # fmt: skip
    overdue = participant_page(coordinator, ParticipantFilter(overdue=True), per_page=500)
    assert expected and {r.screening_number for r in overdue.rows} == expected


def test_pages_of_fifty(bulk):
    listing = participant_page(bulk.coordinator, page=2)
    assert listing.total == 60 and listing.pages == 2 and len(listing.rows) == 10
    client = client_for("coordinator")
    first = client.get(reverse("participants")).content.decode()
    assert first.count('<a href="/participants/SY-') == 50
    assert 'data-testid="next-page"' in first and "Page 1 of 2" in first
    second = client.get(reverse("participants"), {"page": "2"}).content.decode()
    assert second.count('<a href="/participants/SY-') == 10
    kept = client.get(reverse("participants"), {"status": "on_study", "page": "9"}).content
    assert b"status=on_study" in kept or b"No participant matches" in kept
    assert client.get(reverse("participants"), {"page": "x"}).status_code == 200


def test_the_list_is_translated(bulk):
    page = client_for("coordinator", "zh-hans").get(reverse("participants")).content.decode()
    page = visible_text(page)
    for english in ("Screening no.", "Next visit", "Overdue visits only", "Screen failed"):
        assert english not in page
    assert "筛选号" in page


# --- blinding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_blinded_roles_see_no_arm_on_the_dashboard_list_or_participant_pages(bulk, language):
    numbers = list(Participant.objects.order_by("id").values_list("screening_number", flat=True))
    words = arm_words()
    for username in ("coordinator", "investigator", "assessor", "monitor", "admin"):
        client = client_for(username, language)
        urls = [reverse("dashboard"), reverse("participants"), reverse("overview"),
                reverse("participants") + "?overdue=1"]  # fmt: skip
        urls += [reverse("participant", args=[n]) for n in numbers[:12]]
        for url in urls:
            page = without_protocol_arms(client.get(url).content.decode())
            leaked = [w for w in words if w in page]
            assert not leaked, f"{username} sees {leaked} on {url}"
            assert 'data-testid="arm-cell"' not in page and 'data-testid="dash-balance"' not in page


def test_the_cell_therapy_team_sees_the_arm_column_and_the_balance(bulk):
    client = client_for("celltherapy")
    listing = client.get(reverse("participants")).content.decode()
    assert 'data-testid="arm-cell"' in listing
    assert 'data-testid="dash-balance"' in client.get(reverse("dashboard")).content.decode()


# --- dashboard --------------------------------------------------------------------------------


def test_dashboard_counts_enrolment_failures_visits_and_events(bulk):
    data = dashboard(bulk.coordinator)
    people = Participant.objects.all()
    assert data.enrolment.randomized == people.exclude(randomization_date=None).count()
    assert data.enrolment.screened == people.count()
    assert data.enrolment.target == 92
    assert data.enrolment.projected_completion is not None
    assert sum(c.count for c in data.failures) == sum(
        len(p.failed_criteria) for p in people.filter(status="screen_failed")
    )
    assert data.overdue_count == participant_overdue_visits()
    assert len(data.overdue) == min(10, data.overdue_count)
    assert all(v.state == "overdue" for v in data.overdue)
    assert data.recent and data.balance is None
    page = client_for("coordinator").get(reverse("dashboard")).content.decode()
    assert 'data-testid="dash-overdue"' in page and "?overdue=1" in page
    assert data.failures[0].label.en in page


def participant_overdue_visits() -> int:
    today = timezone.localdate()
    return sum(
        visit_status(v, today, participant=v.participant) == "overdue"
        for v in Visit.objects.select_related("participant").exclude(event_oid__in=hidden())
    )


def test_the_dashboard_in_chinese(bulk):
    page = client_for("coordinator", "zh-hans").get(reverse("dashboard")).content.decode()
    page = visible_text(page)
    for english in ("Enrolment", "Screen failures by criterion", "Recent events", "overdue"):
        assert english not in page, english
    assert "入组" in page


def test_roles_without_participant_access_see_aggregate_enrolment_only(bulk):
    numbers = list(Participant.objects.values_list("screening_number", flat=True))
    for username in ("statistician", "dsmb"):
        page = client_for(username).get(reverse("dashboard")).content.decode()
        assert 'data-testid="dash-enrolment"' in page and 'data-testid="aggregate-only"' in page
        assert not [n for n in numbers if n in page]
    assert b'data-testid="dash-balance"' in client_for("dsmb").get(reverse("dashboard")).content
    statistician = client_for("statistician").get(reverse("dashboard")).content.decode()
    assert 'data-testid="dash-balance"' not in statistician


def test_projected_completion_follows_the_rate_so_far():
    today = dt.date(2025, 1, 1)
    since = today - dt.timedelta(days=99)
    assert projected_completion(92, 46, since, today) == today + dt.timedelta(days=100)
    assert projected_completion(92, 0, since, today) is None
    assert projected_completion(92, 92, since, today, reached_on=since) == since


def test_the_dashboard_is_linked_first_in_the_menu(trial):
    page = client_for("coordinator").get(reverse("overview")).content.decode()
    assert 'data-testid="nav-dashboard"' in page


# --- a bounded number of queries --------------------------------------------------------------


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("username", ["coordinator", "celltherapy"])
def test_pages_issue_as_many_queries_for_60_participants_as_for_10(trial, username):
    bulk_participants(10, seed=2)
    client = client_for(username)
    ten = Participant.objects.order_by("id").first().screening_number
    urls = {
        "list": reverse("participants"),
        "overdue": reverse("participants") + "?overdue=1",
        "search": reverse("participants") + "?q=SY",
        "dashboard": reverse("dashboard"),
        "participant": reverse("participant", args=[ten]),
    }
    client.get(urls["list"])
    small = {name: queries(client, url) for name, url in urls.items()}
    bulk_participants(50, seed=3)
    large = {name: queries(client, url) for name, url in urls.items()}
    assert large == small


def test_the_statisticians_dashboard_is_bounded_too(trial):
    bulk_participants(10, seed=2)
    client = client_for("statistician")
    client.get(reverse("dashboard"))
    small = queries(client, reverse("dashboard"))
    bulk_participants(50, seed=3)
    assert queries(client, reverse("dashboard")) == small


def test_an_actor_with_two_sites_sees_both_in_the_list(trial, other_site):
    from hepatrial.edc.models import Membership, Site

    Membership.objects.create(
        user=User.objects.get(username="dl-coordinator"), site=Site.objects.get(code="SY"),
        role=Role.COORDINATOR,
    )  # fmt: skip
    trial.screen()
    actor = actor_for(User.objects.get(username="dl-coordinator"))
    assert participant_page(actor).total == 1


def test_a_deviation_is_shown_in_the_readers_language(trial):
    from hepatrial.edc.services.forms import save_form
    from tests.edc.conftest import CLINICAL_B

    p, _ = trial.randomized(days_ago=100)
    late = p.randomization_date + dt.timedelta(days=20)
    save_form(trial.coordinator, p.screening_number, "W1", "F.CLIN", CLINICAL_B, base_version=0,
              visit_date=late)  # fmt: skip
    url = reverse("participant", args=[p.screening_number])
    english = visible_text(client_for("coordinator").get(url).content.decode())
    assert "Visit outside its window · Week 1" in english
    chinese = visible_text(client_for("coordinator", "zh-hans").get(url).content.decode())
    assert "访视超出时间窗 · 第1周" in chinese
    assert "window" not in chinese and "done on" not in chinese


def test_a_user_without_a_role_is_told_in_their_language(trial, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="a-long-password-3")
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(user)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 403
    assert "您的角色不包含入组报告" in response.content.decode()
    listing = client.get(reverse("participants"))
    assert listing.status_code == 403 and "您的角色无权查看单个受试者" in listing.content.decode()
