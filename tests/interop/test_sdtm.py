"""SDTM from participant records, without a database: the builder, v5 limits, XPT, Dataset-JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from functools import cache
from pathlib import Path

import jsonschema_rs
import pyreadstat
import pytest

from hepatrial.analysis.derive import DerivedEntry, FormEntry, ParticipantData, Value
from hepatrial.interop.sdtm import FormDetail, SubjectFacts, build_sdtm, study_day
from hepatrial.interop.sdtm_files import (
    FileInfo,
    TransportLimitError,
    dataset_json,
    v5_problems,
    write_all,
    write_xpt,
)
from hepatrial.protocol import default_protocol_path, load_protocol
from tests.conftest import unavailable

PROTOCOL = load_protocol(default_protocol_path()).protocol
STANDARDS = Path(__file__).resolve().parents[2].parent / "shared" / "standards"
SCHEMA = STANDARDS / "dataset-json-1.1" / "dataset.schema.json"
ARM_CODES = {"SINGLE", "DOUBLE"}
ARM_LABELS = ("Single infusion", "Double infusion", "infusion 2", "INF2")
DAY0 = dt.date(2024, 4, 1)
INFO = FileInfo("NCT06242405", dt.datetime(2024, 11, 1, 8, 30, tzinfo=dt.UTC), "test")


@cache
def _validator():
    return jsonschema_rs.validator_for(json.loads(SCHEMA.read_text("utf-8")))


def schema_errors(document: dict) -> list[str]:
    if not SCHEMA.is_file():
        unavailable(f"{SCHEMA} is not here (the CDISC schemas sit beside the repository)")
    return [f"{e.instance_path}: {e.message}" for e in _validator().iter_errors(document)]


def _v(text, number=None, entered=""):
    return Value(text, number, entered or text)


LABS = {
    "I.ALT": _v("45", 45.0), "I.AST": _v("60", 60.0), "I.ALP": _v("130", 130.0),
    "I.TBIL": _v("49.6", 49.6), "I.ALB": _v("2.9", 29.0), "I.PT": _v("17", 17.0),
    "I.INR": _v("1.8", 1.8), "I.CREAT": _v("80", 80.0), "I.SODIUM": _v("134", 134.0),
}  # fmt: skip
"""Albumin typed as 2.9 g/dL (29 g/L); Child-Pugh 2 + 2 + 2 points, mild ascites 2, no HE 1."""
UNITS = {"I.TBIL": "µmol/L", "I.ALB": "g/dL", "I.ALT": "U/L", "I.CREAT": "µmol/L"}


def _participant(subject="SY-0001", arm="DOUBLE", *, ae_term="Fever", reaction=True):
    day = DAY0
    clinical = {"I.ASCITES": _v("mild"), "I.HEGRADE": _v("0"), "I.DIALYSIS": _v("false")}
    forms = [
        FormEntry(
            "SCR",
            "F.DM",
            day - dt.timedelta(days=7),
            {
                "I.AGE": _v("54", 54.0),
                "I.SEX": _v("M"),
                "I.ETIOL": _v("HBV"),
            },
        ),  # fmt: skip
        FormEntry("SCR", "F.LAB", day - dt.timedelta(days=7), dict(LABS)),
        FormEntry("SCR", "F.CLIN", day - dt.timedelta(days=7), dict(clinical)),
        FormEntry(
            "INF1",
            "F.INF",
            day,
            {
                "I.INFDTC": _v(f"{day} 09:00"),
                "I.INFDOSE": _v("1.0", 1.0),
                "I.INFREACT": _v("false"),
            },
        ),  # fmt: skip
        FormEntry(
            "INF2",
            "F.INF",
            day + dt.timedelta(days=28),
            {
                "I.INFDTC": _v(f"{day + dt.timedelta(days=28)} 10:30"),
                "I.INFDOSE": _v("1.1", 1.1),
                "I.INFREACT": _v("true"),
                "I.INFREACTD": _v("chills and fever"),
            },
        ),  # fmt: skip
        FormEntry("W4", "F.LAB", day + dt.timedelta(days=28), dict(LABS)),
        FormEntry("UNS", "F.LAB", day + dt.timedelta(days=40), {"I.ALT": _v("50", 50.0)}),
        FormEntry(
            "LOG",
            "F.AE",
            None,
            {
                "I.AETERM": _v(ae_term),
                "I.AESTDT": _v("2024-04-10"),
                "I.AEGRADE": _v("2"),
                "I.AESER": _v("false"),
                "I.AEREL": _v("possible"),
            },
        ),  # fmt: skip
        FormEntry(
            "LOG",
            "F.DECOMP",
            None,
            {
                "I.DCTYPE": _v("ascites"),
                "I.DCSTDT": _v("2024-05-02"),
                "I.DCSEV": _v("moderate"),
                "I.DCHOSP": _v("true"),
            },
        ),  # fmt: skip
        FormEntry("EOS", "F.LTX", None, {"I.LTXDT": _v("2024-06-01")}),
    ]
    if not reaction:
        forms[4].values["I.INFREACT"] = _v("false")
    scr = day - dt.timedelta(days=7)
    derived = [
        DerivedEntry("SCR", scr, "D.CPSCORE", 9.0),
        DerivedEntry("SCR", scr, "D.CPCLASS", None, "B"),
    ]
    end = dt.date(2024, 6, 1)
    person = ParticipantData(
        subject, "SY", day, arm, "B", status="transplanted", ended_on=end, forms=forms,
        derived=derived,
    )  # fmt: skip
    details = [
        FormDetail(1 if f.event == "UNS" else 0, {k: u for k, u in UNITS.items() if k in f.values})
        for f in forms
    ]
    facts = SubjectFacts(consented_on=scr, screened_on=scr, end_reason="", forms=details)
    return person, facts


def _build(blinded=False, **kwargs):
    one, facts_one = _participant(**kwargs)
    two, facts_two = _participant("SY-0002", "SINGLE")
    two.forms = [f for f in two.forms if f.event != "INF2"]
    facts_two = dataclasses.replace(facts_two, forms=[
        d for f, d in zip(_participant()[0].forms, facts_two.forms, strict=True)
        if f.event != "INF2"
    ])  # fmt: skip
    codes = {"SINGLE": "Y", "DOUBLE": "X"} if blinded else None
    datasets = build_sdtm(PROTOCOL, [one, two], facts={"SY-0001": facts_one,
                                                       "SY-0002": facts_two},
                          arm_codes=codes)  # fmt: skip
    return {d.name: d for d in datasets}


def test_every_domain_is_built_with_its_variables_in_order():
    data = _build()
    assert list(data) == ["DM", "DS", "MH", "AE", "CE", "PR", "EX", "LB", "RS", "SV", "TS", "TA",
                          "TE", "TV", "TI"]  # fmt: skip
    for d in data.values():
        assert [var.name for var in d.variables][:2] == ["STUDYID", "DOMAIN"]
        assert all(set(row) == {var.name for var in d.variables} for row in d.rows), d.name
        assert {row["DOMAIN"] for row in d.rows} <= {d.name}


def test_demographics_and_reference_dates():
    dm = _build()["DM"].rows[0]
    assert dm["USUBJID"] == "NCT06242405-SY-0001" and dm["SUBJID"] == "SY-0001"
    assert (dm["AGE"], dm["AGEU"], dm["SEX"], dm["COUNTRY"]) == (54, "YEARS", "M", "CHN")
    assert (dm["ARMCD"], dm["ARM"], dm["ACTARMCD"]) == ("DOUBLE", "Double infusion", "DOUBLE")
    assert dm["RFSTDTC"] == "2024-04-01" and dm["RFXSTDTC"] == "2024-04-01T09:00"
    assert dm["RFXENDTC"] == "2024-04-29T10:30"
    assert dm["RFICDTC"] == "2024-03-25" and dm["RFPENDTC"] == "2024-06-01"


def test_study_day_has_no_day_zero():
    assert [study_day(DAY0 + dt.timedelta(days=d), DAY0) for d in (-7, -1, 0, 1, 28)] == [
        -7, -1, 1, 2, 29,
    ]  # fmt: skip


def test_laboratory_results_carry_cdisc_codes_loinc_the_unit_typed_and_the_standard_unit():
    lb = _build()["LB"].rows
    albumin = next(r for r in lb if r["LBTESTCD"] == "ALB" and r["VISIT"] == "Screening")
    assert (albumin["LBTEST"], albumin["LBLOINC"]) == ("Albumin", "1751-7")
    assert (albumin["LBORRES"], albumin["LBORRESU"]) == ("2.9", "g/dL")
    assert (albumin["LBSTRESN"], albumin["LBSTRESU"]) == (29, "g/L")
    assert albumin["LBDY"] == -7 and albumin["LBDTC"] == "2024-03-25"
    bili = next(r for r in lb if r["LBTESTCD"] == "BILI")
    assert (bili["LBORRESU"], bili["LBSTRESU"], bili["LBLOINC"]) == ("umol/L", "umol/L", "1975-2")
    codes = {r["LBTESTCD"] for r in lb}
    assert codes == {"ALT", "AST", "ALP", "BILI", "ALB", "PT", "INR", "CREAT", "SODIUM"}
    inr = next(r for r in lb if r["LBTESTCD"] == "INR")
    assert inr["LBTEST"] == "Prothrombin Intl. Normalized Ratio" and inr["LBCAT"] == "COAGULATION"
    unscheduled = next(r for r in lb if r["VISIT"].startswith("Unscheduled"))
    assert unscheduled["VISIT"] == "Unscheduled visit 1"
    assert unscheduled["VISITNUM"] != math.floor(unscheduled["VISITNUM"])


def test_child_pugh_is_the_cps01_instrument_whose_item_points_add_up_to_the_score():
    rs = [r for r in _build()["RS"].rows if r["USUBJID"].endswith("0001")]
    by_code = {r["RSTESTCD"]: r for r in rs}
    assert {r["RSCAT"] for r in rs} == {"CHILD-PUGH CLASSIFICATION"}
    assert set(by_code) == {"CPS0101", "CPS0102", "CPS0103", "CPS0104", "CPS0105B", "CPS0106",
                            "CPS0107"}  # fmt: skip
    assert by_code["CPS0103"]["RSTEST"] == "CPS01-Serum Bilirubin"
    assert (by_code["CPS0104"]["RSORRES"], by_code["CPS0104"]["RSORRESU"]) == ("2.9", "g/dL")
    assert by_code["CPS0102"]["RSORRES"] == "Mild"
    items = sum(by_code[c]["RSSTRESN"] for c in ("CPS0101", "CPS0102", "CPS0103", "CPS0104",
                                                 "CPS0105B"))  # fmt: skip
    assert items == by_code["CPS0106"]["RSSTRESN"] == 9
    assert by_code["CPS0107"]["RSSTRESC"] == "B"


def test_events_exposure_procedures_disposition_history_and_visits():
    data = _build()
    ex = [r for r in data["EX"].rows if r["USUBJID"].endswith("0001")]
    assert [(r["EXDOSE"], r["EXDOSU"], r["EXROUTE"], r["EXSTDTC"]) for r in ex] == [
        (1, "10^6 cells/kg", "INTRAVENOUS", "2024-04-01T09:00"),
        (1.1, "10^6 cells/kg", "INTRAVENOUS", "2024-04-29T10:30"),
    ]  # fmt: skip
    ce = data["CE"].rows[0]
    assert (ce["CETERM"], ce["CECAT"], ce["CESEV"], ce["CESHOSP"]) == (
        "Ascites", "HEPATIC DECOMPENSATION", "MODERATE", "Y")  # fmt: skip
    assert data["PR"].rows[0]["PRTRT"] == "LIVER TRANSPLANTATION"
    ds = [(r["DSDECOD"], r["DSCAT"]) for r in data["DS"].rows if r["USUBJID"].endswith("0001")]
    assert ds == [("INFORMED CONSENT OBTAINED", "PROTOCOL MILESTONE"),
                  ("RANDOMIZED", "PROTOCOL MILESTONE"), ("OTHER", "DISPOSITION EVENT")]  # fmt: skip
    assert data["MH"].rows[0]["MHTERM"] == "Hepatitis B"
    ae = [r for r in data["AE"].rows if r["USUBJID"].endswith("0001")]
    assert [(r["AETERM"], r["AESEV"], r["AEREL"], r["AECAT"]) for r in ae] == [
        ("chills and fever", "", "", "INFUSION REACTION"),
        ("Fever", "MODERATE", "POSSIBLE", ""),
    ]  # fmt: skip
    sv = [r["VISIT"] for r in data["SV"].rows if r["USUBJID"].endswith("0001")]
    assert sv == ["Screening", "UC-MSC infusion 1", "UC-MSC infusion 2", "Week 4",
                  "Unscheduled visit 1"]  # fmt: skip


def test_trial_design_comes_from_the_protocol():
    data = _build()
    ts = {r["TSPARMCD"]: r["TSVAL"] for r in data["TS"].rows}
    assert ts["REGID"] == "NCT06242405" and ts["PLANSUB"] == "92" and ts["NARMS"] == "2"
    assert ts["TBLIND"] == "SINGLE BLIND" and ts["RANDOM"] == "Y" and ts["LENGTH"] == "P168D"
    ti = data["TI"].rows
    assert len(ti) == len(PROTOCOL.eligibility) and ti[0]["IECAT"] == "INCLUSION"
    assert {r["IETESTCD"] for r in ti} >= {"INC01", "EXC11"}
    ta = [(r["ARMCD"], r["ETCD"]) for r in data["TA"].rows]
    assert ta == [("SINGLE", "SCRN"), ("SINGLE", "INF1"), ("SINGLE", "FU"),
                  ("DOUBLE", "SCRN"), ("DOUBLE", "INF1"), ("DOUBLE", "INF2"),
                  ("DOUBLE", "FU")]  # fmt: skip
    assert {r["ETCD"] for r in data["TE"].rows} == {"SCRN", "INF1", "INF2", "FU"}
    tv = {r["VISIT"]: r for r in data["TV"].rows}
    assert tv["Week 24"]["VISITDY"] == 169 and tv["UC-MSC infusion 2"]["ARMCD"] == "DOUBLE"
    assert tv["UC-MSC infusion 1"]["ARMCD"] == ""


def arm_revealed(rows_by_dataset) -> list[str]:
    """Cells that are an arm code or name an arm (``SINGLE BLIND`` in TS is the masking)."""
    return [
        f"{name}.{column}={value!r}"
        for name, rows in rows_by_dataset.items()
        for row in rows
        for column, value in row.items()
        if isinstance(value, str) and (value in ARM_CODES or any(w in value for w in ARM_LABELS))
    ]


def test_blinded_datasets_code_the_arms_and_leave_out_what_tells_them_apart():
    data = _build(blinded=True)
    assert "EX" not in data
    assert arm_revealed({name: d.rows for name, d in data.items()}) == []
    assert arm_revealed({name: d.rows for name, d in _build().items()})
    assert {r["ARMCD"] for r in data["DM"].rows} == {"X", "Y"}
    assert {r["RFXENDTC"] for r in data["DM"].rows} == {""}
    assert not [r for r in data["AE"].rows if r["AECAT"] == "INFUSION REACTION"]
    assert not [r for r in data["SV"].rows if "infusion" in r["VISIT"]]
    paths = {arm: [r["ETCD"] for r in data["TA"].rows if r["ARMCD"] == arm] for arm in "XY"}
    assert paths["X"] == paths["Y"] == ["SCRN", "TRT"]


def test_transport_v5_limits_name_the_dataset_and_variable():
    data = _build()
    dm = data["DM"]
    renamed = dataclasses.replace(dm.variables[-1], name="RANDOMDTC")
    bad_name = dataclasses.replace(dm, variables=[*dm.variables[:-1], renamed])
    assert any("DM.RANDOMDTC" in p and "at most 8" in p for p in v5_problems(bad_name))
    long_label = dataclasses.replace(dm.variables[0], label="Study Identifier " * 3)
    labelled = dataclasses.replace(dm, variables=[long_label, *dm.variables[1:]])
    assert any("DM.STUDYID: label" in p for p in v5_problems(labelled))
    assert any("dataset 'DEMOGRAPH'" in p
               for p in v5_problems(dataclasses.replace(dm, name="DEMOGRAPH")))  # fmt: skip
    chinese = _build(ae_term="发热", reaction=False)["AE"]
    problems = v5_problems(chinese)
    assert problems == [
        "AE.AETERM row 1: '发热' is not ASCII",
        "AE.AEDECOD row 1: '发热' is not ASCII",
    ]
    long = dataclasses.replace(chinese, rows=[{**chinese.rows[0], "AETERM": "x" * 201,
                                               "AEDECOD": "X"}])  # fmt: skip
    assert v5_problems(long) == ["AE.AETERM row 1: 201 characters, more than 200"]
    with pytest.raises(TransportLimitError, match="AE.AETERM row 1"):
        write_xpt(chinese, Path("/nonexistent/ae.xpt"))


def test_xpt_files_read_back_as_written(tmp_path):
    data = _build()
    write_all(list(data.values()), tmp_path, INFO, blinded=False, formats=("xpt",))
    for d in data.values():
        frame, meta = pyreadstat.read_xport(str(tmp_path / f"{d.name.lower()}.xpt"))
        assert meta.table_name == d.name and meta.file_label == d.label
        assert list(frame.columns) == [var.name for var in d.variables]
        assert meta.column_labels == [var.label for var in d.variables]
        for var in d.variables:
            written = d.column(var.name)
            read = list(frame[var.name])
            if var.type == "Char":
                assert read == [x or "" for x in written], (d.name, var.name)
            else:
                assert [None if math.isnan(x) else x for x in read] == [
                    None if x is None else float(x) for x in written
                ], (d.name, var.name)


def test_dataset_json_is_valid_against_the_official_schema_and_keeps_chinese(tmp_path):
    data = _build(ae_term="发热")
    write_all(list(data.values()), tmp_path, INFO, blinded=False, formats=("json",))
    for d in data.values():
        document = json.loads((tmp_path / f"{d.name.lower()}.json").read_text("utf-8"))
        assert schema_errors(document) == [], d.name
        assert document["records"] == len(d.rows) == len(document["rows"])
        assert [c["name"] for c in document["columns"]] == [var.name for var in d.variables]
    ae = json.loads((tmp_path / "ae.json").read_text("utf-8"))
    term = [c["name"] for c in ae["columns"]].index("AETERM")
    assert "发热" in [row[term] for row in ae["rows"]]
    assert not (tmp_path / "ae.xpt").exists()
    broken = dataset_json(data["DM"], INFO)
    del broken["columns"]
    broken["datasetJSONVersion"] = "1.0"
    assert len(schema_errors(broken)) == 2


def test_define_describes_every_dataset_and_variable(tmp_path):
    data = _build()
    write_all(list(data.values()), tmp_path, INFO, blinded=False)
    define = json.loads((tmp_path / "define.json").read_text("utf-8"))
    groups = {g["Name"]: g for g in define["ItemGroups"]}
    assert set(groups) == set(data)
    for name, d in data.items():
        items = groups[name]["Items"]
        assert [i["Name"] for i in items] == [var.name for var in d.variables]
        assert all(i["Label"] and i["Origin"] and i["Length"] >= 1 for i in items)
        assert groups[name]["Files"] == [f"{name.lower()}.xpt", f"{name.lower()}.json"]
    lbtestcd = next(i for i in groups["LB"]["Items"] if i["Name"] == "LBTESTCD")
    assert lbtestcd["CodeList"] == "LBTESTCD" and "C65047" in define["CodeLists"]["LBTESTCD"]
    assert groups["DM"]["Keys"] == ["STUDYID", "USUBJID"]
