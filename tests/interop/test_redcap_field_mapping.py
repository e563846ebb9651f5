"""REDCap field types, validations, choices and units map to protocol items as documented."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hepatrial.interop.redcap import (
    find_quantity,
    label_units,
    parse_choices,
    parse_date_limit,
    parse_number,
    plain,
    text_type,
)


@pytest.mark.parametrize(
    ("validation", "data_type"),
    [
        ("", "text"),
        ("integer", "integer"),
        ("int", "integer"),
        ("number", "float"),
        ("float", "float"),
        ("number_2dp", "float"),
        ("number_3dp_comma_decimal", "float"),
        ("date_ymd", "date"),
        ("date_dmy", "date"),
        ("date_mdy", "date"),
        ("datetime_dmy", "datetime"),
        ("datetime_seconds_mdy", "datetime"),
        ("email", "text"),
        ("time_mm_ss", "text"),
        ("postalcode_germany", "text"),
        ("no_such_validation", "text"),
    ],
)
def test_each_text_validation_has_a_data_type(validation, data_type):
    assert text_type(validation).data_type == data_type


@pytest.mark.parametrize(
    "validation", ["email", "phone", "ssn", "time", "vmrn", "number_1dp", "date_dmy", "weird"]
)
def test_a_validation_the_protocol_cannot_enforce_carries_a_note(validation):
    assert text_type(validation).notes


@pytest.mark.parametrize("validation", ["integer", "number", "date_ymd", "datetime_ymd", ""])
def test_a_validation_kept_exactly_carries_no_note(validation):
    assert text_type(validation).notes == ()


def test_choices_split_on_the_first_comma_and_keep_string_codes():
    choices, problems = parse_choices("1, Type 1| 2, Type 2 |11,Phenylephrine| 007, a, b\n")
    assert choices == [("1", "Type 1"), ("2", "Type 2"), ("11", "Phenylephrine"), ("007", "a, b")]
    assert problems == []


def test_a_repeated_or_commaless_choice_is_reported():
    choices, problems = parse_choices("1, Yes | 1, Again | Maybe")
    assert choices == [("1", "Yes"), ("Maybe", "Maybe")]
    assert len(problems) == 2 and "twice" in problems[0] and "no comma" in problems[1]


codes = st.from_regex(r"[a-z0-9_\-]{1,12}", fullmatch=True)
labels = st.text(
    st.characters(blacklist_characters="|\r\n", blacklist_categories=["Cs"]), min_size=1
)


@given(st.dictionaries(codes, labels.filter(lambda s: s.strip()), min_size=1, max_size=8))
def test_any_written_choice_list_reads_back(written):
    text = " | ".join(f"{code}, {label}" for code, label in written.items())
    choices, problems = parse_choices(text)
    assert problems == []
    assert choices == [(code, label.strip()) for code, label in written.items()]


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("1/1/1900", "dmy", dt.date(1900, 1, 1)),
        ("31-12-2020", "dmy", dt.date(2020, 12, 31)),
        ("12/31/2020", "mdy", dt.date(2020, 12, 31)),
        ("2020-12-31", "ymd", dt.date(2020, 12, 31)),
        ("today", "dmy", None),
        ("31/31/2020", "dmy", None),
    ],
)
def test_date_limits_are_read_in_the_fields_own_order(text, order, expected):
    assert parse_date_limit(text, order) == expected


@pytest.mark.parametrize(
    ("text", "expected"), [("0", 0.0), ("-9", -9.0), ("999999.99", 999999.99), ("1,5", 1.5)]
)
def test_numeric_limits_parse(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["today", "[other_field]", "nan", "inf", ""])
def test_non_numeric_limits_are_refused(text):
    assert parse_number(text) is None


def test_units_in_a_label_need_the_quantity_named():
    assert label_units("Sodium (mmol/L or mEq/L)") == ["mmol/L", "mEq/L"]
    assert find_quantity(["mmol/L", "mEq/L"], "Sodium labs_sodium") == (
        "sodium",
        ["mmol/L", "mEq/L"],
    )
    assert find_quantity(["mmol/L", "mEq/L"], "Potassium labs_potassium") is None
    assert find_quantity(["umol/l", "mg/dl"], "Creatinine creat") == (
        "creatinine",
        ["µmol/L", "mg/dL"],
    )
    assert find_quantity(["%"], "Oxygen saturation spo2") == ("percent", ["%"])
    assert find_quantity(["°F"], "Highest temperature") is None


def test_a_label_without_a_trailing_parenthesis_has_no_unit():
    assert label_units("Creatinine, mg/dL") == []
    assert label_units("Ferritin (µg/L or ng/mL)") == ["µg/L", "ng/mL"]


def test_labels_lose_html_entities_and_invisible_characters():
    assert plain('<div class="rich-text-field-label"><p>A &amp; B</p>\n</div>') == "A & B"
    assert plain("\u200bField note") == "Field note"
