"""Visit forms in a real browser, in English and Chinese: labs in µmol/L with the scores shown as
they are typed, a correction with a reason, an adverse event, both infusions of a double-arm
participant, and two ways of losing nothing (a conflict, an expired sign-in)."""

from __future__ import annotations

import pytest

from hepatrial.edc.models import AllocationSlot, FormRecord, ItemValue, User
from tests.edc.conftest import trial  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-password-for-browsers"
LANGUAGES = ["en", "zh-hans"]
WORDS = {
    "en": {"labs": "Liver laboratory tests", "save": "Save", "saved": "Saved"},
    "zh-hans": {"labs": "肝功能实验室检查", "save": "保存", "saved": "已保存"},
}
LABS = {
    "I.ALT": "45", "I.AST": "60", "I.ALP": "130", "I.TBIL": "49.6", "I.ALB": "29",
    "I.PT": "17", "I.INR": "1.8", "I.CREAT": "80", "I.SODIUM": "134",
}  # fmt: skip


@pytest.fixture
def passwords(trial):  # noqa: F811
    for user in User.objects.all():
        user.set_password(PASSWORD)
        user.save()
    return trial


def open_context(browser, live_server, language: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def sign_in(page, live_server, username: str, next_url: str = "/") -> None:
    page.goto(live_server.url + "/accounts/login/?next=" + next_url)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=sign-in]")
    page.wait_for_load_state()


def fits_390(page) -> bool:
    page.set_viewport_size({"width": 390, "height": 844})
    fits = page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})
    return fits


def card_fits_390(page) -> bool:
    """The Enter data card fits (the participant page's own visit table is not this area's)."""
    page.set_viewport_size({"width": 390, "height": 844})
    fits = page.evaluate(
        """() => { const card = document.querySelector('[data-testid=enter-data]');
                   return card.getBoundingClientRect().right <= 390
                          && card.scrollWidth <= card.clientWidth; }"""
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    return fits


def fill_labs(page, labs: dict[str, str]) -> None:
    for oid, value in labs.items():
        page.fill(f'[name="{oid}"]', value)


def form_url(number: str, event: str, form: str) -> str:
    return f"/participants/{number}/visits/{event}/forms/{form}/"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_coordinator_enters_visits_corrects_a_value_and_records_an_adverse_event(
    live_server, browser, passwords, language
):
    participant, _ = passwords.randomized(days_ago=28)
    number = participant.screening_number
    words = WORDS[language]
    context, page = open_context(browser, live_server, language)
    sign_in(page, live_server, "coordinator", f"/participants/{number}/")
    page.click('[data-testid=entry-BL] a[href$="/F.LAB/"]')
    assert words["labs"] in page.inner_text("[data-testid=form-title]")
    assert page.input_value('[name="I.TBIL.unit"]') == "µmol/L"
    assert page.input_value('[name="I.CREAT.unit"]') == "µmol/L"
    page.fill('[name="visit_date"]', str(passwords.days_ago(28)))
    fill_labs(page, LABS)
    page.wait_for_selector('[data-testid="score-D.MELD"] strong')
    previewed = page.inner_text('[data-testid="score-D.MELD"] strong')
    assert not ItemValue.objects.filter(form_record__visit__event_oid="BL").exists()
    assert fits_390(page)
    page.click("[data-testid=save]")
    saved = page.inner_text("[data-testid=saved-scores]")
    assert previewed in saved and words["saved"] in page.inner_text("[data-testid=saved]")

    page.goto(live_server.url + form_url(number, "BL", "F.CLIN"))
    page.check('input[name="I.ASCITES"][value="mild"]')
    page.select_option('[name="I.HEGRADE"]', "0")
    page.check('input[name="I.DIALYSIS"][value="no"]')
    page.wait_for_selector('[data-testid="score-D.CPCLASS"] strong')
    assert page.inner_text('[data-testid="score-D.CPCLASS"] strong') == "B"
    page.check('input[name="I.ASCITES"][value="moderate_severe"]')
    page.wait_for_selector('[data-testid="score-D.CPCLASS"] strong:text-is("C")')
    page.check('input[name="I.ASCITES"][value="mild"]')  # a radio chosen before, chosen again
    page.wait_for_selector('[data-testid="score-D.CPCLASS"] strong:text-is("B")')
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=saved]")

    page.goto(live_server.url + f"/participants/{number}/")
    page.click('[data-testid=entry-W4] a[href$="/F.LAB/"]')
    page.fill('[name="visit_date"]', str(passwords.days_ago(0)))
    fill_labs(page, LABS | {"I.TBIL": "85.5", "I.CREAT": "150"})
    page.wait_for_selector('[data-testid="score-D.MELD"] strong')
    page.click("[data-testid=save]")
    assert page.inner_text("[data-testid=saved-scores]")

    assert not page.is_visible('[name="reason"]')
    page.fill('[name="I.TBIL"]', "68.4")
    assert page.is_visible('[name="reason"]')
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=error-reason]")
    assert page.input_value('[name="I.TBIL"]') == "68.4"
    page.fill('[name="reason"]', "transcription error" if language == "en" else "抄写错误")
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=saved]")
    stored = ItemValue.objects.get(form_record__visit__event_oid="W4", item_oid="I.TBIL")
    assert stored.text == "68.4" and stored.unit_entered == "µmol/L"

    page.goto(live_server.url + f"/participants/{number}/")
    page.click("[data-testid='new-F.AE']")
    page.fill('[name="I.AETERM"]', "Fever" if language == "en" else "发热")
    page.fill('[name="I.AESTDT"]', str(passwords.days_ago(2)))
    page.select_option('[name="I.AEGRADE"]', "1")
    page.check('input[name="I.AESER"][value="no"]')
    page.select_option('[name="I.AEREL"]', "possible")
    assert fits_390(page)
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=saved]")
    page.goto(live_server.url + f"/participants/{number}/")
    assert ("Fever" if language == "en" else "发热") in page.inner_text("[data-testid='log-F.AE']")
    assert card_fits_390(page)
    context.close()


def double_arm_participant(trial) -> str:  # noqa: F811
    for _ in range(12):
        participant, _ = trial.randomized(days_ago=28)
        if AllocationSlot.objects.get(participant=participant).arm == "DOUBLE":
            return participant.screening_number
    raise AssertionError("no double-arm allocation in 12 randomizations")


def fill_infusion(page, on: str) -> None:
    page.fill('[name="visit_date"]', on)
    page.fill('[name="I.INFDTC"]', f"{on}T09:30")
    values = {
        "I.INFWT": "68",
        "I.INFDOSE": "1.0",
        "I.INFLOT": "UC-2026-01",
        "I.INFVIAB": "96",
        "I.INFSBP0": "118",
        "I.INFDBP0": "72",
        "I.INFHR0": "80",
        "I.INFTEMP0": "36.6",
        "I.INFSBP1": "121",
        "I.INFDBP1": "75",
        "I.INFHR1": "82",
        "I.INFTEMP1": "36.8",
    }
    fill_labs(page, values)
    page.check('input[name="I.INFREACT"][value="no"]')


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_cell_therapy_team_records_both_infusions(live_server, browser, passwords, language):
    number = double_arm_participant(passwords)
    context, page = open_context(browser, live_server, language)
    sign_in(page, live_server, "celltherapy", f"/participants/{number}/")
    page.click('[data-testid=entry-INF1] a[href$="/F.INF/"]')
    fill_infusion(page, str(passwords.days_ago(28)))
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=saved]")
    page.goto(live_server.url + f"/participants/{number}/")
    page.click('[data-testid=entry-INF2] a[href$="/F.INF/"]')
    fill_infusion(page, str(passwords.days_ago(0)))
    assert fits_390(page)
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=saved]")
    records = FormRecord.objects.filter(
        form_oid="F.INF", visit__participant__screening_number=number
    )
    assert sorted(r.visit.event_oid for r in records) == ["INF1", "INF2"]
    context.close()

    blinded, page = open_context(browser, live_server, language)
    sign_in(page, live_server, "coordinator", f"/participants/{number}/")
    assert "F.INF" not in page.content()
    response = page.goto(live_server.url + form_url(number, "INF2", "F.INF"))
    assert response.status == 404
    blinded.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_conflict_keeps_the_typed_values(live_server, browser, passwords, language):
    participant, _ = passwords.randomized(days_ago=28)
    url = form_url(participant.screening_number, "W4", "F.LAB")
    first, mine = open_context(browser, live_server, language)
    second, theirs = open_context(browser, live_server, language)
    sign_in(mine, live_server, "coordinator", url)
    sign_in(theirs, live_server, "assessor", url)
    for page in (mine, theirs):
        page.fill('[name="visit_date"]', str(passwords.days_ago(0)))
    fill_labs(theirs, LABS)
    theirs.click("[data-testid=save]")
    theirs.wait_for_selector("[data-testid=saved]")
    fill_labs(mine, LABS | {"I.TBIL": "51.3"})
    mine.click("[data-testid=save]")
    mine.wait_for_selector("[data-testid=changes]")
    assert "I.TBIL" in mine.inner_text("[data-testid=changes]")
    assert mine.input_value('[name="I.TBIL"]') == "51.3"
    assert mine.input_value('[name="I.SODIUM"]') == "134"
    mine.fill('[name="reason"]', "repeat sample" if language == "en" else "复查结果")
    mine.click("[data-testid=save]")
    mine.wait_for_selector("[data-testid=saved]")
    stored = ItemValue.objects.get(form_record__visit__event_oid="W4", item_oid="I.TBIL")
    assert stored.text == "51.3"
    first.close()
    second.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_expired_sign_in_keeps_the_typed_values(live_server, browser, passwords, language):
    participant, _ = passwords.randomized(days_ago=28)
    url = form_url(participant.screening_number, "W4", "F.LAB")
    context, page = open_context(browser, live_server, language)
    sign_in(page, live_server, "coordinator", url)
    page.fill('[name="visit_date"]', str(passwords.days_ago(0)))
    fill_labs(page, LABS | {"I.TBIL": "47.9"})
    kept = [c for c in context.cookies() if c["name"] != "sessionid"]
    context.clear_cookies()
    context.add_cookies(kept)
    page.click("[data-testid=save]")
    page.wait_for_selector("#id_username")
    assert not FormRecord.objects.filter(form_oid="F.LAB", visit__event_oid="W4").exists()
    page.fill("#id_username", "coordinator")
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=sign-in]")
    page.wait_for_selector("[data-testid=notice]")
    assert page.input_value('[name="I.TBIL"]') == "47.9"
    assert page.input_value('[name="visit_date"]') == str(passwords.days_ago(0))
    assert WORDS[language]["save"] in page.inner_text("[data-testid=save]")
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=saved]")
    stored = ItemValue.objects.get(form_record__visit__event_oid="W4", item_oid="I.TBIL")
    assert stored.text == "47.9"
    context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_form_is_filled_and_saved_with_the_keyboard_alone(
    live_server, browser, passwords, language
):
    participant, _ = passwords.randomized(days_ago=28)
    number = participant.screening_number
    context, page = open_context(browser, live_server, language)
    sign_in(page, live_server, "coordinator", f"/participants/{number}/")
    page.click("[data-testid='new-visit-UNS'] a[href$='/F.CLIN/']")
    page.focus('input[name="I.ASCITES"][value="none"]')
    page.keyboard.press("Space")
    page.keyboard.press("ArrowRight")  # none → mild
    page.keyboard.press("Tab")  # the ascites data status
    page.keyboard.press("Tab")  # the encephalopathy grade
    page.keyboard.press("ArrowDown")  # — → 0
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the dialysis radio buttons: "yes" has the focus
    page.keyboard.press("ArrowRight")  # → no
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # the save button
    assert page.evaluate("document.activeElement.dataset.testid") == "save"
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=saved]")
    record = FormRecord.objects.get(form_oid="F.CLIN", visit__event_oid="UNS")
    saved = {v.item_oid: v.normalized_text for v in record.values.all()}
    assert saved == {"I.ASCITES": "mild", "I.HEGRADE": "0", "I.DIALYSIS": "false"}
    context.close()
