"""Visit form pages: generated from the protocol, and nothing typed is ever lost."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from hepatrial.edc.models import AuditEvent, DerivedValue, FormRecord, ItemValue, User, Visit
from hepatrial.edc.roles import Role
from hepatrial.edc.services.forms import save_form
from tests.edc.conftest import CLINICAL_B, LABS_CLASS_B, VITALS
from tests.edc.conftest import E as Entered

PASSWORD = "a-long-password-for-tests"


def client_for(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def url(number: str, event: str, form: str, **query) -> str:
    base = reverse("visit_form", args=[number, event, form])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def posted(values: dict, **extra) -> dict:
    """Form fields for ``values`` (item OID → EnteredValue), as the page names them."""
    data = {"base_version": "0", "submission_id": uuid.uuid4().hex}
    for oid, value in values.items():
        data[oid] = value.text
        data[f"{oid}.status"] = value.status.value
        if value.unit:
            data[f"{oid}.unit"] = value.unit
    return data | extra


def field_value(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no input {name}"
    return match.group(1)


@pytest.fixture
def on_study(trial):
    participant, _ = trial.randomized(days_ago=28)
    return participant.screening_number


def test_inputs_are_named_by_item_oid_with_the_canonical_unit_preselected(trial, on_study):
    page = client_for("coordinator").get(url(on_study, "W4", "F.LAB")).content.decode()
    for item in ("I.ALT", "I.TBIL", "I.CREAT", "I.INR"):
        assert f'name="{item}"' in page and f'<label for="id_{item}"' in page
        assert f'name="{item}.status"' in page
    unit = re.search(r'<select class="unit" id="id_I.TBIL.unit" name="I.TBIL.unit">(.*?)</select>',
                     page, re.S).group(1)  # fmt: skip
    assert '<option value="µmol/L" selected>' in unit and '<option value="mg/dL">' in unit
    assert 'name="base_version" value="0"' in page
    assert re.search(r'name="submission_id" value="[0-9a-f]{32}"', page)
    assert 'data-testid="window"' in page
    assert (
        'hx-post="' in page and 'hx-trigger="input changed delay:400ms, change delay:400ms"' in page
    )


def test_choice_and_boolean_items_are_radio_buttons_with_localized_labels(trial, on_study):
    client = client_for("coordinator")
    page = client.get(url(on_study, "W4", "F.CLIN")).content.decode()
    assert 'type="radio" name="I.ASCITES" value="mild"' in page
    assert 'name="I.DIALYSIS" value="yes"' in page and 'name="I.DIALYSIS" value="no"' in page
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(url(on_study, "W4", "F.CLIN")).content.decode()
    assert "中重度" in chinese and "临床评估" in chinese and "保存" in chinese


def test_a_type_error_comes_back_inline_with_every_typed_value(trial, on_study):
    client = client_for("coordinator")
    typed = dict(LABS_CLASS_B, **{"I.TBIL": Entered("4９.x", "µmol/L")})
    response = client.post(
        url(on_study, "W4", "F.LAB"), posted(typed, visit_date=str(trial.days_ago(0)))
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-testid="error-I.TBIL"' in page
    assert field_value(page, "I.TBIL") == "4９.x"
    assert field_value(page, "I.ALT") == "45" and field_value(page, "I.SODIUM") == "134"
    assert 'data-testid="error-I.ALT"' not in page
    assert not FormRecord.objects.filter(form_oid="F.LAB", visit__event_oid="W4").exists()


def test_a_missing_required_item_and_a_hard_range_error_are_shown_beside_the_items(trial, on_study):
    typed = {k: v for k, v in LABS_CLASS_B.items() if k != "I.ALB"}
    typed["I.CREAT"] = Entered("9000", "µmol/L")
    response = client_for("coordinator").post(
        url(on_study, "W4", "F.LAB"), posted(typed, visit_date=str(trial.days_ago(0)))
    )
    page = response.content.decode()
    assert 'data-testid="error-I.ALB"' in page and 'data-testid="error-I.CREAT"' in page
    assert field_value(page, "I.CREAT") == "9000"


def test_an_unusual_value_is_saved_once_confirmed(trial, on_study):
    client = client_for("coordinator")
    typed = dict(LABS_CLASS_B, **{"I.ALT": Entered("2500", "U/L")})
    data = posted(typed, visit_date=str(trial.days_ago(0)))
    first = client.post(url(on_study, "W4", "F.LAB"), data)
    page = first.content.decode()
    assert first.status_code == 400
    assert 'name="I.ALT.confirm"' in page and 'name="I.TBIL.confirm"' not in page
    second = client.post(url(on_study, "W4", "F.LAB"), data | {"I.ALT.confirm": "1"})
    assert second.status_code == 302
    saved = ItemValue.objects.get(form_record__visit__event_oid="W4", item_oid="I.ALT")
    assert saved.number == 2500 and saved.warnings


def test_a_confirmed_value_keeps_its_box_when_another_item_is_refused(trial, on_study):
    typed = {k: v for k, v in LABS_CLASS_B.items() if k != "I.ALB"}
    typed["I.ALT"] = Entered("2500", "U/L")
    data = posted(typed, visit_date=str(trial.days_ago(0))) | {"I.ALT.confirm": "1"}
    page = client_for("coordinator").post(url(on_study, "W4", "F.LAB"), data).content.decode()
    assert 'data-testid="error-I.ALB"' in page and 'data-testid="error-I.ALT"' not in page
    assert 'name="I.ALT.confirm" value="1" checked' in page
    assert 'hx-trigger="input changed delay:400ms, change delay:400ms, load"' in page


def test_a_change_to_saved_data_needs_a_reason(trial, on_study):
    client = client_for("coordinator")
    form = url(on_study, "W4", "F.LAB")
    client.post(form, posted(LABS_CLASS_B, visit_date=str(trial.days_ago(0))))
    page = client.get(form).content.decode()
    assert 'name="reason"' in page and 'name="base_version" value="1"' in page
    assert 'data-testid="field-reason" hidden' in page
    assert field_value(page, "I.TBIL") == "49.6"
    changed = posted(dict(LABS_CLASS_B, **{"I.TBIL": Entered("3.1", "mg/dL")}), base_version="1")
    refused = client.post(form, changed)
    assert refused.status_code == 400 and 'data-testid="error-reason"' in refused.content.decode()
    assert 'data-testid="field-reason" hidden' not in refused.content.decode()
    assert field_value(refused.content.decode(), "I.TBIL") == "3.1"
    done = client.post(form, changed | {"reason": "transcription error"})
    assert done.status_code == 302
    event = AuditEvent.objects.filter(item="I.TBIL", action="change").get()
    assert event.reason == "transcription error" and event.new_value == "3.1 mg/dL"


def test_derived_scores_are_previewed_without_saving_and_shown_after_save(trial, on_study):
    client = client_for("coordinator")
    client.post(
        url(on_study, "W4", "F.CLIN"), posted(CLINICAL_B, visit_date=str(trial.days_ago(0)))
    )
    preview = client.post(
        reverse("visit_form_preview", args=[on_study, "W4", "F.LAB"]), posted(LABS_CLASS_B)
    )
    fragment = preview.content.decode()
    assert preview.status_code == 200 and 'data-testid="score-D.MELD"' in fragment
    assert not ItemValue.objects.filter(form_record__visit__event_oid="W4", item_oid="I.TBIL")
    shown = {
        oid: re.search(rf'data-testid="score-{re.escape(oid)}".*?<strong>([^<]*)</strong>',
                       fragment, re.S).group(1)
        for oid in ("D.MELD", "D.MELDNA", "D.CPSCORE", "D.CPCLASS")
    }  # fmt: skip
    saved = client.post(url(on_study, "W4", "F.LAB"), posted(LABS_CLASS_B), follow=True)
    page = saved.content.decode()
    assert 'data-testid="saved-scores"' in page
    visit = Visit.objects.get(participant__screening_number=on_study, event_oid="W4")
    stored = {
        d.item_oid: d.text or f"{d.number:.0f}" for d in DerivedValue.objects.filter(visit=visit)
    }
    assert {oid: stored[oid] for oid in shown} == shown
    assert shown["D.CPCLASS"] == "B"


def test_the_preview_counts_an_item_cleared_on_the_form_as_missing(trial, on_study):
    client = client_for("coordinator")
    typed = {k: v for k, v in LABS_CLASS_B.items() if k != "I.INR"}
    preview = client.post(reverse("visit_form_preview", args=[on_study, "W4", "F.LAB"]),
                          posted(typed))  # fmt: skip
    fragment = preview.content.decode()
    meld = re.search(r'data-testid="score-D.MELD".*?</div>', fragment, re.S).group(0)
    assert "<strong>" not in meld and "INR" in meld


def test_a_stale_version_keeps_the_typed_values_and_lists_what_changed(trial, on_study):
    client = client_for("coordinator")
    form = url(on_study, "W4", "F.LAB")
    client.post(form, posted(LABS_CLASS_B, visit_date=str(trial.days_ago(0))))
    assessor = trial[Role.OUTCOME_ASSESSOR]
    save_form(assessor, on_study, "W4", "F.LAB", {"I.ALT": Entered("52", "U/L")}, base_version=1,
              reason="lab re-run")  # fmt: skip
    mine = posted(dict(LABS_CLASS_B, **{"I.AST": Entered("61", "U/L")}), base_version="1",
                  reason="corrected AST")  # fmt: skip
    response = client.post(form, mine)
    page = response.content.decode()
    assert response.status_code == 409
    assert field_value(page, "I.AST") == "61"
    changes = re.search(r'data-testid="changes">(.*?)</ul>', page, re.S).group(1)
    assert "I.ALT" in changes and "52" in changes
    assert 'name="base_version" value="2"' in page
    again = client.post(form, mine | {"base_version": "2"})
    assert again.status_code == 302
    record = FormRecord.objects.get(form_oid="F.LAB", visit__event_oid="W4")
    assert record.version == 3
    values = {v.item_oid: v.text for v in record.values.all()}
    assert values["I.AST"] == "61" and values["I.ALT"] == "45"


def test_a_double_submit_saves_once(trial, on_study):
    client = client_for("coordinator")
    data = posted(LABS_CLASS_B, visit_date=str(trial.days_ago(0)))
    first = client.post(url(on_study, "W4", "F.LAB"), data)
    second = client.post(url(on_study, "W4", "F.LAB"), data)
    assert first.status_code == second.status_code == 302
    assert FormRecord.objects.get(form_oid="F.LAB", visit__event_oid="W4").version == 1
    assert AuditEvent.objects.filter(item="I.TBIL", context__event="W4").count() == 1
    assert "already saved" in client.get(second.url).content.decode()


def test_each_page_render_has_a_fresh_submission_id(trial, on_study):
    client = client_for("coordinator")
    pages = [client.get(url(on_study, "W4", "F.LAB")).content.decode() for _ in range(2)]
    assert field_value(pages[0], "submission_id") != field_value(pages[1], "submission_id")


def test_a_visit_outside_its_window_shows_a_deviation_notice(trial, on_study):
    client = client_for("coordinator")
    late = posted(LABS_CLASS_B, visit_date=str(trial.days_ago(20)))
    page = client.post(url(on_study, "W4", "F.LAB"), late, follow=True).content.decode()
    assert 'data-testid="deviations"' in page and "before its window opens" in page


def test_adverse_events_are_new_records_at_the_event_log(trial, on_study):
    client = client_for("coordinator")
    ae = {"I.AETERM": Entered("Fever"), "I.AESTDT": Entered(str(trial.days_ago(3))),
          "I.AEGRADE": Entered("1"), "I.AESER": Entered("no"),
          "I.AEREL": Entered("possible")}  # fmt: skip
    new = url(on_study, "LOG", "F.AE", repeat="new")
    page = client.get(new).content.decode()
    assert 'name="visit_date"' not in page and 'name="I.AETERM"' in page
    first = client.post(new, posted(ae))
    assert first.status_code == 302 and first.url.endswith("?repeat=0")
    second = client.post(new, posted(ae | {"I.AETERM": Entered("Rash")}))
    assert second.url.endswith("?repeat=1")
    record = client.get(second.url).content.decode()
    assert field_value(record, "I.AETERM") == "Rash" and "Fever" in record
    participant_page = client.get(reverse("participant", args=[on_study])).content.decode()
    assert "Fever" in participant_page and "Rash" in participant_page
    assert client.get(url(on_study, "LOG", "F.AE", repeat=7)).status_code == 404


def test_the_end_of_study_forms_are_generated_too(trial, on_study):
    client = client_for("coordinator")
    page = client.get(reverse("participant", args=[on_study])).content.decode()
    for form in ("F.DEATH", "F.LTX", "F.EOS"):
        assert url(on_study, "EOS", form) in page
    death = {"I.DTHDT": Entered(str(trial.days_ago(40))), "I.DTHCAUS": Entered("liver failure")}
    response = client.post(url(on_study, "EOS", "F.DEATH"), posted(death))
    assert response.status_code == 400
    assert 'data-testid="error-I.DTHDT"' in response.content.decode()


def test_the_infusion_form_is_for_the_cell_therapy_team_only(trial, on_study):
    infusion = url(on_study, "INF1", "F.INF")
    for username in ("coordinator", "investigator", "assessor", "monitor"):
        client = client_for(username)
        assert client.get(infusion).status_code == 404, username
        assert client.post(infusion, posted(VITALS)).status_code == 404, username
        preview = reverse("visit_form_preview", args=[on_study, "INF1", "F.INF"])
        assert client.post(preview, posted(VITALS)).status_code == 404, username
        page = client.get(reverse("participant", args=[on_study])).content.decode()
        assert "F.INF" not in page and "INF1" not in page and "UC-MSC" not in page, username
    cell_team = client_for("celltherapy")
    assert cell_team.get(infusion).status_code == 200
    page = cell_team.get(reverse("participant", args=[on_study])).content.decode()
    assert infusion in page


def test_the_cell_therapy_team_records_an_infusion(trial, on_study):
    client = client_for("celltherapy")
    values = dict(VITALS, **{
        "I.INFDTC": Entered(f"{trial.days_ago(28)}T09:30"), "I.INFWT": Entered("68", "kg"),
        "I.INFDOSE": Entered("1.0", "10^6/kg"), "I.INFLOT": Entered("LOT-1"),
        "I.INFVIAB": Entered("95", "%"), "I.INFREACT": Entered("no"),
    })  # fmt: skip
    response = client.post(url(on_study, "INF1", "F.INF"),
                           posted(values, visit_date=str(trial.days_ago(28))))  # fmt: skip
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert field_value(page, "I.INFLOT") == "LOT-1"
    assert 'name="I.INFDTC" value="' + f"{trial.days_ago(28)}T09:30" in page


def test_another_sites_participant_is_not_found(trial, on_study, other_site):
    outsider = Client()
    outsider.force_login(User.objects.get(username="dl-coordinator"))
    assert outsider.get(url(on_study, "W4", "F.LAB")).status_code == 404
    assert outsider.post(url(on_study, "W4", "F.LAB"), posted(LABS_CLASS_B)).status_code == 404
    preview = reverse("visit_form_preview", args=[on_study, "W4", "F.LAB"])
    assert outsider.post(preview, posted(LABS_CLASS_B)).status_code == 404


def test_unknown_forms_events_and_records_are_not_found(trial, on_study):
    client = client_for("coordinator")
    assert client.get(url(on_study, "W4", "F.NOPE")).status_code == 404
    assert client.get(url(on_study, "W5", "F.LAB")).status_code == 404
    assert client.get(url(on_study, "W4", "F.AE")).status_code == 404
    assert client.get(url(on_study, "W4", "F.LAB", repeat="x")).status_code == 404


def test_a_monitor_reads_a_form_but_cannot_save_it(trial, on_study):
    monitor = client_for("monitor")
    page = monitor.get(url(on_study, "SCR", "F.LAB")).content.decode()
    assert '<fieldset class="items" disabled>' in page and 'data-testid="save"' not in page
    assert monitor.post(url(on_study, "SCR", "F.LAB"), posted(LABS_CLASS_B)).status_code == 403


def test_an_expired_sign_in_keeps_what_was_typed(trial, on_study):
    user = User.objects.get(username="coordinator")
    user.set_password(PASSWORD)
    user.save()
    client = Client()
    form = url(on_study, "W4", "F.LAB")
    typed = dict(LABS_CLASS_B, **{"I.TBIL": Entered("51.3", "µmol/L")})
    response = client.post(form, posted(typed, visit_date=str(trial.days_ago(0))))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert not FormRecord.objects.filter(form_oid="F.LAB", visit__event_oid="W4").exists()
    credentials = {"username": "coordinator", "password": PASSWORD, "next": form}
    signed_in = client.post(reverse("login") + "?next=" + form, credentials)
    assert signed_in.status_code == 302 and signed_in.url == form
    page = client.get(form).content.decode()
    assert field_value(page, "I.TBIL") == "51.3" and field_value(page, "I.ALT") == "45"
    assert "nothing was saved yet" in page
    assert field_value(page, "visit_date") == str(trial.days_ago(0))
    assert field_value(client.get(form).content.decode(), "I.TBIL") == ""


def test_the_preview_needs_a_sign_in_but_sends_no_login_page(trial, on_study):
    preview = reverse("visit_form_preview", args=[on_study, "W4", "F.LAB"])
    assert Client().post(preview, posted(LABS_CLASS_B)).status_code == 401


ALLOWED_LATIN = {
    "ALT", "AST", "ALP", "INR", "West", "Haven", "MELD", "Na", "Child", "Pugh", "ALBI", "CTCAE",
    "U", "L", "µmol", "mg", "dL", "g", "µkat", "mmol", "mEq", "s", "SY", "B",
}  # fmt: skip
"""Latin words a Chinese page may show: abbreviations in the protocol's own labels, units, the
site code of screening numbers, a Child-Pugh class."""


def english_left(html: str, start: str, end: str) -> set[str]:
    part = html[html.index(start) : html.index(end, html.index(start))]
    part = re.sub(r"<code>.*?</code>", " ", part, flags=re.S)
    part = re.sub(r"<script.*?</script>|<[^>]+>", " ", part, flags=re.S)
    part = re.sub(r"&[a-z]+;|&#\d+;", " ", part)
    return set(re.findall(r"[A-Za-zµ]+", part)) - ALLOWED_LATIN


def test_chinese_form_pages_show_no_english_of_their_own(trial, on_study):
    client = client_for("coordinator")
    client.cookies["django_language"] = "zh-hans"
    client.post(
        url(on_study, "W4", "F.LAB"), posted(LABS_CLASS_B, visit_date=str(trial.days_ago(0)))
    )
    for page_url in (
        url(on_study, "W4", "F.LAB"),
        url(on_study, "W4", "F.CLIN"),
        url(on_study, "LOG", "F.AE", repeat="new"),
        url(on_study, "EOS", "F.EOS"),
    ):
        page = client.get(page_url).content.decode()
        assert english_left(page, "<main", "</main>") == set(), page_url
    participant = client.get(reverse("participant", args=[on_study])).content.decode()
    assert english_left(participant, '<section class="card capture-entry"', "</section>") == set()
    preview = reverse("visit_form_preview", args=[on_study, "W4", "F.LAB"])
    typed = {k: v for k, v in LABS_CLASS_B.items() if k not in ("I.INR", "I.TBIL")}
    fragment = client.post(preview, posted(typed)).content.decode()
    assert "总胆红素、国际标准化比值" in fragment


def test_a_refusal_for_the_whole_form_is_shown_above_it(trial):
    number = trial.consented().screening_number
    ae = {"I.AETERM": Entered("Headache"), "I.AESTDT": Entered(str(trial.days_ago(1)))}
    response = client_for("coordinator").post(url(number, "LOG", "F.AE", repeat="new"), posted(ae))
    page = response.content.decode()
    assert response.status_code == 409
    assert 'data-testid="error-form"' in page and field_value(page, "I.AETERM") == "Headache"


def test_every_link_of_the_enter_data_card_opens_for_every_role(trial):
    from hepatrial.edc.demo_trial import DemoLoader, active_allocation_list
    from hepatrial.edc.protocols import active_protocol
    from hepatrial.simulate import simulate_trial

    protocol = active_protocol()[1].protocol
    records = simulate_trial(protocol, 6, 5, allocation=active_allocation_list(protocol))
    DemoLoader(records, progress=lambda m: None).run()
    opened = 0
    for username in ("coordinator", "celltherapy", "monitor"):
        client = client_for(username)
        for n in range(1, 7):
            page = client.get(reverse("participant", args=[f"SY-{n:04d}"])).content.decode()
            card = page[page.find('<section class="card capture-entry"') :]
            card = card[: card.find("</section>")]
            for link in set(re.findall(r'href="([^"]*/forms/[^"]*)"', card)):
                response = client.get(link.replace("&amp;", "&"))
                assert response.status_code == 200, (username, link)
                opened += 1
    assert opened > 50
