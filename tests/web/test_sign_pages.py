"""Pages of source-data verification and signatures: the monitor's buttons, the investigator's
sign pages, what each role sees, in English and Chinese; nothing of the infusions when blinded."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from hepatrial.edc.models import Signature, SourceVerification, User
from hepatrial.edc.roles import Role
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.signatures import sign
from hepatrial.protocol.values import EnteredValue as E
from tests.edc.test_journey import infusion_values

PASSWORD = "investigator-signs-42"


def client_for(username: str, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def consented(trial):
    user = User.objects.get(username="investigator")
    user.set_password(PASSWORD)
    user.save()
    return trial.consented()


def test_the_monitor_verifies_ticked_items_then_the_whole_form_from_the_form_page(consented):
    number = consented.screening_number
    form_url = reverse("visit_form", args=[number, "SCR", "F.LAB"])
    monitor = client_for("monitor")
    page = monitor.get(form_url).content.decode()
    assert 'data-testid="verify-whole-form"' in page and 'name="item" value="I.TBIL"' in page
    url = reverse("visit_form_verify", args=[number, "SCR", "F.LAB"])
    answer = monitor.post(url, {"scope": "items", "item": ["I.TBIL", "I.ALB"]})
    assert answer.status_code == 302 and answer["Location"] == form_url
    assert SourceVerification.objects.count() == 2
    page = monitor.get(form_url).content.decode()
    assert "Verified: 2 items." in page and "verified by monitor" in page
    monitor.post(url, {"scope": "form"})
    assert "2 of" not in monitor.get(form_url).content.decode()
    assert SourceVerification.objects.count() == 9


def test_nothing_ticked_comes_back_with_a_message(consented):
    number = consented.screening_number
    monitor = client_for("monitor", "zh-hans")
    url = reverse("visit_form_verify", args=[number, "SCR", "F.LAB"])
    answer = monitor.post(url, {"scope": "items"}, follow=True)
    assert "选择" in answer.content.decode() and not SourceVerification.objects.exists()


def test_a_change_after_verification_shows_on_the_form_and_participant_pages(trial, consented):
    number = consented.screening_number
    client_for("monitor").post(reverse("visit_verify", args=[number, "SCR"]))
    save_form(trial.coordinator, number, "SCR", "F.LAB", {"I.TBIL": E("43.2", "µmol/L")},
              base_version=1, reason="digits swapped")  # fmt: skip
    for language, words in (("en", "changed after verification by coordinator"),
                            ("zh-hans", "核查后由 coordinator")):  # fmt: skip
        coordinator = client_for("coordinator", language)
        form = coordinator.get(reverse("visit_form", args=[number, "SCR", "F.LAB"]))
        participant = coordinator.get(reverse("participant", args=[number]))
        for page in (form.content.decode(), participant.content.decode()):
            assert words in page and "49.6 µmol/L → 43.2 µmol/L" in page


def test_only_the_monitor_gets_verify_buttons_and_only_the_investigator_sign_buttons(consented):
    number = consented.screening_number
    pages = {u: client_for(u).get(reverse("participant", args=[number])).content.decode()
             for u in ("monitor", "investigator", "coordinator")}  # fmt: skip
    assert 'data-testid="verify-visit-SCR"' in pages["monitor"]
    assert 'data-testid="sign-casebook"' in pages["investigator"]
    assert 'data-testid="verify-visit-SCR"' not in pages["coordinator"]
    assert 'data-testid="sign-casebook"' not in pages["coordinator"]
    assert "Source data verified: 0 of" in pages["coordinator"]


def test_the_investigator_signs_the_casebook_with_the_password_and_sees_the_manifest(consented):
    number = consented.screening_number
    investigator = client_for("investigator")
    url = reverse("sign_casebook", args=[number])
    page = investigator.get(url).content.decode()
    assert "I approve the data of this casebook as accurate and complete." in page
    assert 'type="password"' in page and 'data-testid="printed-name">investigator<' in page
    wrong = investigator.post(url, {"meaning": "reviewed", "password": "guess"})
    assert wrong.status_code == 400 and "nothing was signed" in wrong.content.decode()
    assert 'value="reviewed" id="meaning-reviewed" checked' in wrong.content.decode()
    assert not Signature.objects.exists()
    right = investigator.post(url, {"meaning": "casebook_approved", "password": PASSWORD})
    assert right.status_code == 302
    page = client_for("monitor").get(reverse("participant", args=[number])).content.decode()
    assert 'data-testid="signature-valid"' in page and "Signature manifest" in page


def test_the_sign_pages_read_in_chinese(consented):
    number = consented.screening_number
    investigator = client_for("investigator", "zh-hans")
    page = investigator.get(reverse("sign_visit", args=[number, "SCR"])).content.decode()
    assert "我批准此访视的数据准确完整。" in page and "签名" in page
    page = investigator.get(reverse("sign_casebook", args=[number])).content.decode()
    assert "我批准此病例报告的数据准确完整。" in page


def test_a_voided_signature_says_so_and_who_changed_what(trial, consented):
    number = consented.screening_number
    sign(trial[Role.INVESTIGATOR], number, PASSWORD, "casebook_approved")
    save_form(trial.coordinator, number, "SCR", "F.LAB", {"I.TBIL": E("43.2", "µmol/L")},
              base_version=1, reason="digits swapped")  # fmt: skip
    page = client_for("investigator").get(reverse("participant", args=[number])).content.decode()
    assert "Signature void — re-sign" in page and "coordinator changed Total bilirubin" in page
    page = client_for("investigator", "zh-hans").get(reverse("participant", args=[number]))
    assert "签名已失效" in page.content.decode()


def test_blinded_pages_show_no_infusion_signature_or_verification(trial, consented):
    p, _ = trial.randomized(days_ago=5)
    number = p.screening_number
    save_form(trial[Role.CELL_THERAPY], number, "INF1", "F.INF", infusion_values(trial, 5),
              base_version=0, visit_date=trial.days_ago(5))  # fmt: skip
    monitor = client_for("monitor")
    page = monitor.get(reverse("participant", args=[number])).content.decode()
    assert "INF1" not in page and "F.INF" not in page
    assert monitor.post(reverse("visit_verify", args=[number, "INF1"])).status_code == 404
    assert monitor.post(reverse("visit_form_verify", args=[number, "INF1", "F.INF"])
                        ).status_code == 404  # fmt: skip
    investigator = client_for("investigator")
    assert investigator.get(reverse("sign_visit", args=[number, "INF1"])).status_code == 404


def test_the_dashboard_shows_verification_per_site(trial, consented):
    client_for("monitor").post(reverse("visit_verify", args=[consented.screening_number, "SCR"]))
    page = client_for("coordinator").get(reverse("dashboard")).content.decode()
    assert 'data-testid="sdv-site-SY"' in page and "100%" in page
