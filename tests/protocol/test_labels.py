"""A protocol label maps languages to texts; a language it lacks falls back to English."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hepatrial.protocol import parse_protocol
from hepatrial.protocol.model import Label
from tests.protocol.test_protocol_check import SHIPPED, broken

SCREENING = Label(en="Screening", zh="筛选期", ja="スクリーニング", zh_hant="篩選期")

texts = st.text(min_size=1, max_size=12).filter(lambda t: t.strip() == t and t.strip())
languages = st.from_regex(r"[a-z]{2,3}(_[a-z0-9]{2,8}){0,2}", fullmatch=True)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Screening"),
        ("en-GB", "Screening"),
        ("zh-hans", "筛选期"),
        ("zh-Hans", "筛选期"),
        ("zh", "筛选期"),
        ("zh-CN", "筛选期"),
        ("zh-Hant", "篩選期"),
        ("zh_hant", "篩選期"),
        ("zh-TW", "篩選期"),
        ("zh-Hant-HK", "篩選期"),
        ("ja", "スクリーニング"),
        ("fr", "Screening"),
        ("", "Screening"),
    ],
)
def test_the_best_text_for_a_language(language, text):
    assert SCREENING.text(language) == text


def test_traditional_chinese_falls_back_to_chinese_when_the_label_has_none():
    assert Label(en="Week 4", zh="第4周").text("zh-Hant") == "第4周"


def test_a_further_language_needs_no_schema_change():
    label = Label.model_validate({"en": "Week 4", "zh": "第4周", "ja": " 第4週 "})
    assert label.texts() == {"en": "Week 4", "zh": "第4周", "ja": "第4週"}


@pytest.mark.parametrize(
    "extra",
    [{"ja": ""}, {"ja": "  "}, {"ja": 4}, {"Japanese": "第4週"}, {"j": "x"}, {"ja jp": "x"}],
)
def test_a_further_language_must_be_a_language_with_a_text(extra):
    with pytest.raises(ValidationError):
        Label.model_validate({"en": "Week 4", "zh": "第4周", **extra})


def test_english_and_chinese_stay_required():
    with pytest.raises(ValidationError):
        Label.model_validate({"en": "Week 4", "ja": "第4週"})


def test_a_protocol_file_may_add_a_language_to_a_label():
    text = SHIPPED.replace(
        "label: {en: Week 4, zh: 第4周}", "label: {en: Week 4, zh: 第4周, ja: 第4週}"
    )
    week4 = parse_protocol(text, "protocols/x.yaml").protocol.event("W4")
    assert (week4.label.text("ja"), week4.label.text("zh-hans")) == ("第4週", "第4周")


def test_other_models_still_refuse_unknown_keys():
    _, issues = broken("    ratio: 1\n", "    ratio: 1\n    ja: 2\n")
    assert "unknown key 'ja'" in str(issues[0])


@given(en=texts, zh=texts, extra=st.dictionaries(languages, texts, max_size=4))
def test_every_language_reads_its_own_text(en, zh, extra):
    extra = {k: v for k, v in extra.items() if k not in ("en", "zh")}
    label = Label.model_validate({"en": en, "zh": zh, **extra})
    for language, text in label.texts().items():
        assert label.text(language) == text
        assert label.text(language.upper().replace("_", "-")) == text


@given(en=texts, zh=texts, extra=st.dictionaries(languages, texts, max_size=4),
       language=st.text(max_size=16))  # fmt: skip
def test_any_language_gets_one_of_the_labels_texts(en, zh, extra, language):
    extra = {k: v for k, v in extra.items() if k not in ("en", "zh")}
    label = Label.model_validate({"en": en, "zh": zh, **extra})
    assert label.text(language) in label.texts().values()


@given(language=languages.filter(lambda lang: lang.split("_")[0] not in ("en", "zh")))
def test_a_region_or_script_the_label_lacks_falls_back_to_the_language(language):
    base = language.split("_")[0]
    label = Label.model_validate({"en": "en text", "zh": "zh text", base: "base text"})
    assert label.text(language) == "base text"
    assert label.text(f"{language}-x1") == "base text"
