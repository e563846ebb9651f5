"""The web renders a service's problem in the reader's language, from its code and parameters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils.translation import gettext, override

import hepatrial.edc.services.allocation
import hepatrial.edc.services.derive
import hepatrial.edc.services.enrolment
import hepatrial.edc.services.forms
import hepatrial.edc.services.lock
import hepatrial.edc.services.participants  # noqa: F401  (each registers its codes)
from hepatrial.edc.errors import NotAllowed, StaleForm, ValidationFailed
from hepatrial.edc.models import ParticipantStatus
from hepatrial.edc.permissions import Action
from hepatrial.edc.roles import Role
from hepatrial.edc.services.schedule import WindowSide
from hepatrial.problems import MESSAGES, Problem
from hepatrial.protocol import default_protocol_path, load_protocol
from hepatrial.protocol.values import EnteredValue, InvalidValue, check_value
from hepatrial.web.errors import error_text, field_errors, problem_text, stale_changes, status_for

PROTOCOL = load_protocol(default_protocol_path()).protocol
WEEK4 = PROTOCOL.event("W4").label
TODAY = dt.date(2026, 3, 2)


def invalid(oid: str, text: str, unit: str | None = None) -> Problem:
    with pytest.raises(InvalidValue) as caught:
        check_value(PROTOCOL.items()[oid], EnteredValue(text, unit))
    return caught.value.problem


def test_a_value_below_the_hard_range_in_chinese():
    problem = invalid("I.ALB", "0.3", "g/dL")
    with override("zh-hans"):
        assert problem_text(problem) == "3 g/L 低于可能的最低值 5 g/L"
    with override("en"):
        assert problem_text(problem) == "3 g/L is below the lowest possible value 5 g/L"


def test_roles_actions_and_statuses_are_translated_inside_the_message():
    refused = NotAllowed(Problem("permission.not_allowed", role=Role.COORDINATOR,
                                 action=Action.ENTER_INTERVENTION, site="SY"))  # fmt: skip
    status = Problem("consent.requires_eligibility", participant="SY-0001",
                     status=ParticipantStatus.SCREEN_FAILED)  # fmt: skip
    with override("zh-hans"):
        assert error_text(refused) == "您在 SY 中心的角色为临床研究协调员，无权记录输注"
        assert problem_text(status).startswith("SY-0001 当前状态为筛选失败：")
    assert status_for(refused) == 403


def test_a_protocol_label_parameter_is_shown_in_the_readers_language():
    deviation = Problem("deviation.visit_out_of_window", event=WEEK4, on=TODAY, days=3,
                        side=WindowSide.AFTER)  # fmt: skip
    assert deviation == "Week 4 done on 2026-03-02, 3 day(s) after its window closed"
    with override("zh-hans"):
        assert problem_text(deviation) == "第4周于 2026-03-02 完成，晚于访视窗结束 3 天"


def test_a_stored_deviation_reads_the_same_after_json():
    deviation = Problem("deviation.visit_out_of_window", event=WEEK4, on=TODAY, days=3,
                        side=WindowSide.BEFORE)  # fmt: skip
    stored = deviation.to_json()
    assert stored["params"]["event"] == {"en": "Week 4", "zh": "第4周"}
    again = Problem.from_json(stored)
    with override("zh-hans"):
        assert problem_text(again) == problem_text(deviation)


def test_field_errors_and_lists_use_chinese_punctuation():
    error = ValidationFailed({
        "I.TBIL": invalid("I.TBIL", "49.6"),
        "visit_date": Problem("date.in_future", date=TODAY),
        "reason": "an old plain message",
    })  # fmt: skip
    with override("zh-hans"):
        errors = field_errors(error)
    assert errors == {
        "I.TBIL": "缺少单位：请选择 µmol/L、mg/dL 之一",
        "visit_date": "2026-03-02 晚于今天",
        "reason": "an old plain message",
    }
    assert status_for(error) == 400


def test_a_stale_form_lists_what_changed_in_chinese():
    at = dt.datetime(2026, 3, 2, 9, 30)
    change = Problem("form.item_changed", item="I.ALT", old=Problem("form.value_empty"),
                     new="52 U/L", user="assessor", at=at)  # fmt: skip
    form = PROTOCOL.form("F.LAB").label
    problem = Problem("form.stale", form=form, event=WEEK4, base_version=1, current_version=2,
                      changes=[change, change])  # fmt: skip
    stale = StaleForm(problem, 2, [change])
    assert "from (empty) to 52 U/L" in str(stale)
    with override("zh-hans"):
        assert stale_changes(stale) == [
            "I.ALT 由 assessor 于 2026-03-02 09:30 从 （空） 改为 52 U/L"
        ]
        text = error_text(stale)
    assert text.startswith(f"您打开第4周的{form.zh}后")
    assert text.endswith("；".join(stale_changes_zh(stale) * 2))
    assert status_for(stale) == 409


def stale_changes_zh(stale: StaleForm) -> list[str]:
    with override("zh-hans"):
        return stale_changes(stale)


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_code_has_a_chinese_translation(code):
    with override("zh-hans"):
        translated = gettext(MESSAGES[code])
    assert translated != MESSAGES[code] or code in ("message", "problems.several"), code


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_in_english_the_web_says_what_the_problem_says(code):
    template = MESSAGES[code]
    names = {part.split(")")[0] for part in template.split("%(")[1:]}
    problem = Problem(code, **{name: f"<{name}>" for name in names})
    with override("en"):
        assert problem_text(problem) == problem


def test_roles_actions_and_statuses_have_chinese_labels():
    from hepatrial.edc.models import Visit
    from hepatrial.edc.permissions import ACTION_LABELS
    from hepatrial.edc.roles import ROLE_LABELS
    from hepatrial.edc.services.schedule import VISIT_STATUS_LABELS

    labels = [*ROLE_LABELS.values(), *ACTION_LABELS.values(), *VISIT_STATUS_LABELS.values()]
    labels += [s.label for s in ParticipantStatus] + [s.label for s in Visit.Status]
    with override("en"):
        english = [str(label) for label in labels]
    with override("zh-hans"):
        chinese = [str(label) for label in labels]
    untranslated = [en for en, zh in zip(english, chinese, strict=True) if en == zh]
    assert untranslated == []
