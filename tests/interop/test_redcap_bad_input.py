"""A file that is not a usable REDCap dictionary gets an error naming the row and column."""

from __future__ import annotations

import pytest

from hepatrial.interop.redcap import RedcapError, import_project, read_dictionary

HEADER = (
    '"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
    '"Choices, Calculations, OR Slider Labels","Field Note",'
    '"Text Validation Type OR Show Slider Number","Text Validation Min","Text Validation Max"'
)


def dictionary(*rows: str) -> str:
    return "\r\n".join([HEADER, *rows]) + "\r\n"


def error(text: str) -> str:
    with pytest.raises(RedcapError) as caught:
        read_dictionary(text, "dict.csv")
    return str(caught.value)


def test_a_file_that_is_not_a_dictionary_says_so():
    message = error("name,age\nAnn,3\n")
    assert message.startswith("dict.csv: row 1: not a REDCap data dictionary")


def test_a_missing_column_is_named():
    message = error('"Variable / Field Name","Form Name","Field Label"\nx,f,X\n')
    assert message == "dict.csv: row 1: missing column 'Field Type'"


def test_an_unknown_field_type_names_row_and_column():
    message = error(dictionary("record_id,f,,text,ID,,,,,", "age,f,,numbr,Age,,,,,"))
    assert message.startswith("dict.csv: row 3, column 'Field Type': 'numbr' is not a REDCap field")


def test_a_duplicate_field_names_the_first_row():
    message = error(dictionary("age,f,,text,Age,,,,,", "age,f,,text,Age again,,,,,"))
    assert (
        message
        == "dict.csv: row 3, column 'Variable / Field Name': 'age' is already defined in row 2"
    )


def test_a_row_with_too_many_cells_is_refused():
    message = error(dictionary("age,f,,text,Age,,,,,,surplus"))
    assert message == "dict.csv: row 2: has 11 cells but the header has 10"


def test_an_invalid_field_name_is_refused():
    message = error(dictionary("Age-1,f,,text,Age,,,,,"))
    assert "row 2, column 'Variable / Field Name': 'Age-1' is not a REDCap field name" in message


def test_a_dictionary_with_a_bom_and_a_multiline_label_reads():
    fields = read_dictionary("\ufeff" + dictionary('notes_1,f,,notes,"Two\r\nlines",,,,,'))
    assert fields[0].field_label == "Two\r\nlines" and fields[0].row == 2


def test_a_bad_events_file_names_its_row(tmp_path):
    (tmp_path / "d.csv").write_text(dictionary("age,f,,text,Age,,,integer,0,120"), encoding="utf-8")
    (tmp_path / "e.csv").write_text(
        "event_name,arm_num\nBaseline,1\nWeek 1,one\n", encoding="utf-8"
    )
    with pytest.raises(RedcapError) as caught:
        import_project(tmp_path / "d.csv", events=tmp_path / "e.csv")
    assert (
        str(caught.value) == f"{tmp_path / 'e.csv'}: row 3, column 'arm_num': 'one' is not a number"
    )


def test_a_mapping_to_an_unknown_form_is_refused(tmp_path):
    (tmp_path / "d.csv").write_text(dictionary("age,f,,text,Age,,,integer,0,120"), encoding="utf-8")
    (tmp_path / "e.csv").write_text("event_name,arm_num\nBaseline,1\n", encoding="utf-8")
    (tmp_path / "m.csv").write_text(
        "arm_num,unique_event_name,form\n1,baseline_arm_1,f\n1,baseline_arm_1,labs\n",
        encoding="utf-8",
    )
    with pytest.raises(RedcapError) as caught:
        import_project(tmp_path / "d.csv", events=tmp_path / "e.csv", mapping=tmp_path / "m.csv")
    assert "m.csv: row 3, column 'form': unknown form 'labs'" in str(caught.value)


def test_a_small_project_with_mapping_puts_forms_on_their_events(tmp_path):
    (tmp_path / "d.csv").write_text(
        dictionary(
            "age,f,,text,Age (years),,,integer,0,120", 'sex,f,,radio,Sex,"F, Female | M, Male",,,,'
        ),
        encoding="utf-8",
    )
    (tmp_path / "e.csv").write_text(
        "event_name,arm_num,day_offset,offset_min,offset_max\nBaseline,1,0,0,0\nWeek 1,1,7,2,2\n",
        encoding="utf-8",
    )
    (tmp_path / "m.csv").write_text(
        "arm_num,unique_event_name,form\n1,week_1_arm_1,f\n", encoding="utf-8"
    )
    result = import_project(
        tmp_path / "d.csv", events=tmp_path / "e.csv", mapping=tmp_path / "m.csv"
    )
    forms = result.document["forms"]
    assert forms[0]["events"] == ["week_1_arm_1"]
    assert [e["kind"] for e in result.document["events"]] == ["scheduled", "scheduled"]
    age = forms[0]["items"][0]
    assert age["quantity"] == "age" and age["hard_range"] == {"low": 0.0, "high": 120.0}
    assert forms[0]["items"][1]["choices"][1]["code"] == "M"
