"""Every REDCap project in ../shared/redcap/ imports into a protocol that passes protocol check,
and the report names what was not converted."""

from __future__ import annotations

import csv
from functools import cache

import pytest

from hepatrial.interop.redcap import import_project
from hepatrial.protocol import parse_protocol
from tests.interop.redcap_files import redcap_file

PROJECTS = {
    "ccpuk_hantavirus": {},
    "redcapr_longitudinal": {"events": "_events", "arms": "_arms"},
    "redcapr_validation_types": {},
    "rarelink_cdm": {},
}


@cache
def imported(name: str):
    extra = {k: redcap_file(f"{name}{suffix}.csv") for k, suffix in PROJECTS[name].items()}
    return import_project(redcap_file(f"{name}.csv"), **extra)


def dictionary_rows(name: str) -> list[dict]:
    with open(redcap_file(f"{name}.csv"), encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def checked(name: str):
    """The imported YAML read back as `protocol check` reads it (slow for big files: once)."""
    return parse_protocol(imported(name).yaml(), f"{name}.yaml")


@pytest.fixture(params=sorted(PROJECTS))
def project(request):
    return request.param, imported(request.param), checked(request.param)


def test_the_imported_protocol_passes_protocol_check(project):
    name, result, loaded = project
    assert loaded.protocol.study.registry_id == f"REDCAP-{name}"
    assert result.counts["fields"] == len(dictionary_rows(name))


def test_every_field_becomes_an_item_or_is_named_in_the_report(project):
    name, result, loaded = project
    items = loaded.protocol.items()
    not_imported = {n.field for n in result.notes if n.topic == "not imported"}
    for row in dictionary_rows(name):
        field = row["Variable / Field Name"]
        expanded = [oid for oid in items if oid.startswith(f"{field}___")]
        assert field in items or expanded or field in not_imported, field


def test_every_branching_logic_and_calculation_is_in_the_report(project):
    name, result, _ = project
    rows = dictionary_rows(name)
    branching = {n.field for n in result.notes if n.topic == "branching logic"}
    calculations = {n.field for n in result.notes if n.topic == "calculations"}
    logic = "Branching Logic (Show field only if...)"
    assert branching == {r["Variable / Field Name"] for r in rows if r[logic].strip()}
    assert calculations == {r["Variable / Field Name"] for r in rows if r["Field Type"] == "calc"}


def test_the_report_lists_each_note_with_its_row_and_field(project):
    _, result, _ = project
    report = result.report()
    for note in result.notes:
        assert f"- {note}" in report
    assert "placeholders (not in REDCap)" in report and "translations" in report


def test_ccpuk_keeps_its_creatinine_unit_link_and_its_calc_expression():
    result = imported("ccpuk_hantavirus")
    items = checked("ccpuk_hantavirus").protocol.items()
    creatinine = items["labs_creatinine"]
    assert creatinine.units == ["µmol/L", "mg/dL"] and creatinine.canonical_unit == "µmol/L"
    assert creatinine.hard_range.low == 0 and creatinine.hard_range.high == 4421
    assert items["labs_creatinine_units"].data_type == "choice"
    assert items["labs_potassium"].units == []  # mmol/L, but potassium is not sodium
    assert items["labs_sodium"].units == ["mmol/L", "mEq/L"]
    calc = next(
        n for n in result.notes if n.field == "demog_calcage_days" and n.topic == "calculations"
    )
    assert 'datediff([demog_birthdate],[pres_date],"d")' in calc.message
    assert sum(1 for n in result.notes if n.topic == "branching logic") == 403
    assert items["inclu_disease___88"].data_type == "boolean"


def test_longitudinal_project_brings_its_arms_and_events():
    result = imported("redcapr_longitudinal")
    protocol = checked("redcapr_longitudinal").protocol
    assert [a.label.en for a in protocol.arms] == ["Drug A", "Drug B"]
    assert len(protocol.events) == 12
    assert protocol.event("deadline_to_opt_ou_arm_2").arms == ["ARM2"]
    items = protocol.items()
    assert items["first_name"].identifier and not items["age"].identifier
    assert items["creat_4"].data_type == "date"  # the source's own mistake, kept and flagged
    assert any(n.field == "creat_4" and n.topic == "source mistakes?" for n in result.notes)
    assert any("weekly_schedule" in n.message for n in result.notes if n.topic == "layout")
    assert items["specify_mood"].data_type == "integer"
    assert items["creat_b"].units == ["mg/dL"]
    assert any("no form-event mapping" in n.message for n in result.notes)


def test_validation_types_each_map_or_are_reported():
    result = imported("redcapr_validation_types")
    items = checked("redcapr_validation_types").protocol.items()
    noted = {n.field for n in result.notes if n.topic == "validation"}
    for row in dictionary_rows("redcapr_validation_types"):
        validation, field = (
            row["Text Validation Type OR Show Slider Number"],
            row["Variable / Field Name"],
        )
        if row["Field Type"] != "text" or not validation:
            continue
        typed = items[field].data_type != "text"
        assert typed or field in noted, (field, validation)
    assert items["v_datetime_seconds_ymd"].data_type == "datetime"
    assert items["f_slider"].hard_range.low == -1 and items["f_slider"].hard_range.high == 101
    assert {"f_file_upload", "f_signature", "f_sql", "f_descriptive"} <= {
        n.field for n in result.notes if n.topic == "not imported"
    }


def test_rarelink_keeps_string_codes_and_names_its_ontology_lookups():
    result = imported("rarelink_cdm")
    protocol = checked("rarelink_cdm").protocol
    codes = {c.code for item in protocol.items().values() for c in item.choices}
    assert "snomed_248152002" in codes and all(isinstance(c, str) for c in codes)
    assert sum(1 for n in result.notes if n.topic == "ontology lookups") == 26
    labels = [item.label.en for item in protocol.items().values()]
    assert not any("\u200b" in label or "<div" in label for label in labels)
