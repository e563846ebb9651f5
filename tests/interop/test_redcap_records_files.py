"""REDCap records files read and written without a database: the flat export's layout, its
cells as values, and a protocol written as a REDCap project that imports back."""

from __future__ import annotations

import pytest

from hepatrial.interop.redcap import RedcapError, import_project
from hepatrial.interop.redcap_data import entered_value, infer_design, iso_date, read_records
from hepatrial.interop.redcap_export import (
    DICTIONARY_HEADER,
    FormInstance,
    StoredValue,
    arms_csv,
    build_project,
    dictionary_csv,
    events_csv,
    mapping_csv,
    records_rows,
    redcap_name,
)
from hepatrial.protocol import default_protocol_path, load_protocol, parse_protocol
from hepatrial.protocol.model import DataType, Item
from hepatrial.protocol.values import ValueStatus
from tests.interop.redcap_files import redcap_file

PROTOCOL = load_protocol(default_protocol_path()).protocol


def test_a_records_export_with_byte_order_mark_and_crlf_reads_by_spreadsheet_row(tmp_path):
    path = tmp_path / "records.csv"
    path.write_bytes(
        '\ufeffrecord_id,redcap_event_name,notes\r\n1,baseline_arm_1,"two\r\nlines"\r\n'
        "2,baseline_arm_1,x\r\n".encode()
    )
    records = read_records(path)
    assert records.record_column == "record_id" and records.longitudinal
    assert [(r.number, r.get("record_id")) for r in records.rows] == [(2, "1"), (3, "2")]
    assert records.rows[0].cells["notes"] == "two\r\nlines"


def test_a_records_file_with_a_repeated_column_names_row_and_column(tmp_path):
    path = tmp_path / "records.csv"
    path.write_text("record_id,age,age\n1,2,3\n")
    with pytest.raises(
        RedcapError, match=r"records.csv: row 1, column 'age': column 'age' appears"
    ):
        read_records(path)


def test_dates_in_redcaps_forms_become_iso_dates():
    assert iso_date("2015-04-02", "mdy") == "2015-04-02"
    assert iso_date("4/2/2015", "mdy") == "2015-04-02"
    assert iso_date("4/2/2015", "dmy") == "2015-02-04"
    assert iso_date("23/09/1983", "dmy") == "1983-09-23"
    assert iso_date("2015/4/2 9:05", "mdy") == "2015-04-02 09:05"
    assert iso_date("23/09/1983", "mdy") == "23/09/1983"  # no month 23: the save refuses it


def item(data_type: DataType, **kw) -> Item:
    return Item(oid="x", label={"en": "X", "zh": "X"}, data_type=data_type, **kw)


def test_cells_become_values_missing_codes_comma_decimals_and_units():
    number = item(DataType.FLOAT)
    assert entered_value(number, "1,5").text == "1.5"
    assert entered_value(number, "UNK").status == ValueStatus.UNKNOWN
    assert entered_value(number, "NA").status == ValueStatus.NOT_APPLICABLE
    assert entered_value(item(DataType.TEXT), "NA").text == "NA"
    choice = item(DataType.CHOICE, choices=[{"code": "NA", "label": {"en": "N/A", "zh": "N/A"}}])
    assert entered_value(choice, "NA").text == "NA"
    bili = item(DataType.FLOAT, quantity="bilirubin", units=["µmol/L", "mg/dL"],
                canonical_unit="µmol/L")  # fmt: skip
    choices = [{"code": str(n), "label": {"en": u, "zh": u}}
               for n, u in enumerate(["µmol/L", "mg/dL"], start=1)]  # fmt: skip
    unit = item(DataType.CHOICE, choices=choices)
    assert entered_value(bili, "1.2", unit_item=unit, unit_code="2").unit == "mg/dL"


def test_the_longitudinal_records_show_which_forms_each_event_holds():
    records = read_records(redcap_file("redcapr_longitudinal_data.csv"))
    columns = {"demographics": {"height", "sex", "gym___0"}, "visit_lab_data": {"vld1"}}
    design = infer_design(records, columns, "")
    assert design.forms_at["enrollment_arm_1"] == ["demographics"]
    assert "visit_lab_data" in design.forms_at["visit_1_arm_1"]
    assert "demographics" not in design.forms_at["dose_1_arm_1"]


def test_the_classic_project_with_repeating_instruments_is_recognized():
    records = read_records(redcap_file("rarelink_cdm_data.csv"))
    design = infer_design(records, {"rarelink_5_disease": {"disease_coding"}}, "RECORD")
    assert "rarelink_5_disease" in design.repeating_forms
    assert not design.repeating_events


def write_project(project, folder):
    files = {
        "dictionary.csv": dictionary_csv(project),
        "events.csv": events_csv(project),
        "arms.csv": arms_csv("All participants (blinded)"),
        "mapping.csv": mapping_csv(project),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return {name: folder / name for name in files}


def test_the_trial_as_a_redcap_project_imports_back_into_a_protocol_that_passes_check(tmp_path):
    project = build_project(PROTOCOL, leave_out={"F.INF"})
    paths = write_project(project, tmp_path)
    assert paths["dictionary.csv"].read_text().splitlines()[0].split(",")[0] == DICTIONARY_HEADER[0]
    imported = import_project(paths["dictionary.csv"], events=paths["events.csv"],
                              arms=paths["arms.csv"], mapping=paths["mapping.csv"])  # fmt: skip
    back = parse_protocol(imported.yaml()).protocol
    items = back.items()
    assert "record_id" in items and back.forms[0].items[0].oid == "record_id"
    for form in PROTOCOL.forms:
        if form.oid == "F.INF":
            continue
        twin = back.form(redcap_name(form.oid))
        assert twin.events == [project.event_of[e] for e in form.events if e in project.event_of]
        for original in form.items:
            copy = items[redcap_name(original.oid)]
            assert copy.data_type == original.data_type, original.oid
            assert copy.required == original.required
            assert [c.code for c in copy.choices] == [c.code for c in original.choices]
            if len(original.units) > 1:
                assert copy.units == original.units, original.oid
                assert f"{copy.oid}_units" in items
    assert not any("inf" in name for name in (f.oid for f in back.forms))
    assert back.randomization.method == "none"


def test_records_rows_hold_units_codes_missing_codes_and_repeating_instances():
    project = build_project(PROTOCOL, leave_out={"F.INF"})
    lab = FormInstance("SY-0001", "SCR", 0, "F.LAB", 0, [
        StoredValue("I.TBIL", "value", "2.9", "mg/dL", ""),
        StoredValue("I.ALB", "not_done", "", "", ""),
    ])  # fmt: skip
    aes = [FormInstance("SY-0001", "LOG", 0, "F.AE", n, [StoredValue("I.AETERM", "value",
                        f"event {n}", "", "")]) for n in (0, 1)]  # fmt: skip
    header, *rows = records_rows(project, [lab, *aes])
    screening = dict(zip(header, rows[0], strict=True))
    assert screening["i_tbil"] == "2.9" and screening["i_tbil_units"] == "2"
    assert screening["i_alb"] == "NASK"
    assert [(r[2], r[3]) for r in rows[1:]] == [("f_ae", "1"), ("f_ae", "2")]
