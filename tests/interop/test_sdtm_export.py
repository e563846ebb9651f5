"""``hepatrial export sdtm`` from a database with followed participants: files, blinding, audit."""

from __future__ import annotations

import json

import pyreadstat
import pytest

from hepatrial.cli import main
from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.models import AuditEvent
from hepatrial.edc.roles import Role
from hepatrial.edc.sdtm_export import export_sdtm
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.lock import lock_database
from tests.edc.conftest import E as Entered
from tests.interop.test_sdtm import arm_revealed, schema_errors

DOMAINS = ("dm", "ds", "mh", "ae", "ce", "pr", "lb", "rs", "sv", "ts", "ta", "te", "tv", "ti")


def _rows(path) -> dict[str, list[dict]]:
    """Each Dataset-JSON file of a folder as rows of column → value."""
    found = {}
    for file in sorted(path.glob("*.json")):
        if file.name == "define.json":
            continue
        document = json.loads(file.read_text("utf-8"))
        names = [c["name"] for c in document["columns"]]
        found[document["name"]] = [dict(zip(names, row, strict=True)) for row in document["rows"]]
    return found


def test_the_blinded_export_writes_every_domain_readable_valid_and_without_arms(
    trial, followed, tmp_path, capsys
):
    out = tmp_path / "sdtm"
    assert main(["export", "sdtm", "--out", str(out), "--as", "statistician"]) == 0
    assert "blinded SDTM (both)" in capsys.readouterr().out
    assert sorted(p.stem for p in out.glob("*.xpt")) == sorted(DOMAINS)
    for name in DOMAINS:
        frame, meta = pyreadstat.read_xport(str(out / f"{name}.xpt"))
        document = json.loads((out / f"{name}.json").read_text("utf-8"))
        assert schema_errors(document) == [], name
        assert meta.table_name == name.upper() and len(frame) == document["records"]
    rows = _rows(out)
    assert arm_revealed(rows) == []
    assert {r["ARMCD"] for r in rows["DM"]} == {"X", "Y"}
    assert len(rows["DM"]) == 6 and not (out / "ex.xpt").exists()
    assert {r["DSDECOD"] for r in rows["DS"]} >= {"INFORMED CONSENT OBTAINED", "RANDOMIZED",
                                                  "DEATH"}  # fmt: skip
    assert all(r["RFICDTC"] for r in rows["DM"])
    lab = next(r for r in rows["LB"] if r["LBTESTCD"] == "BILI")
    assert (lab["LBORRES"], lab["LBORRESU"], lab["LBSTRESU"]) == ("49.6", "umol/L", "umol/L")
    classes = {r["RSSTRESC"] for r in rows["RS"] if r["RSTESTCD"] == "CPS0107"}
    assert classes >= {"B", "A"}
    assert [r["CETERM"] for r in rows["CE"]] == ["Ascites"]
    assert [r["AETERM"] for r in rows["AE"]] == ["Fever"]
    define = json.loads((out / "define.json").read_text("utf-8"))
    assert define["Blinded"] is True and len(define["ItemGroups"]) == len(DOMAINS)
    exports = AuditEvent.objects.filter(action="export", object_id="sdtm")
    assert exports.count() == 1 and exports.get().context["blinded"] is True


def test_the_unblinded_export_needs_a_lock_and_then_has_exposure(trial, followed, tmp_path):
    with pytest.raises(NotAllowed, match="locked database"):
        export_sdtm(trial[Role.STATISTICIAN], tmp_path / "u", blinded=False)
    for role in (Role.COORDINATOR, Role.CELL_THERAPY, Role.DSMB):
        with pytest.raises(NotAllowed):
            export_sdtm(trial[role], tmp_path / "x")
    assert main(["export", "sdtm", "--out", str(tmp_path / "c"), "--as", "coordinator"]) == 1
    assert not (tmp_path / "c").exists()
    lock_database(trial[Role.ADMINISTRATOR], "final analysis")
    out = tmp_path / "u"
    assert main(["export", "sdtm", "--out", str(out), "--as", "statistician", "--unblinded",
                 "--format", "json"]) == 0  # fmt: skip
    rows = _rows(out)
    assert not list(out.glob("*.xpt"))
    assert {r["ARMCD"] for r in rows["DM"]} <= {"SINGLE", "DOUBLE"}
    assert len(rows["EX"]) == 6 and {r["EXROUTE"] for r in rows["EX"]} == {"INTRAVENOUS"}
    assert {r["AECAT"] for r in rows["AE"]} == {"", "INFUSION REACTION"}
    assert schema_errors(json.loads((out / "ex.json").read_text("utf-8"))) == []


def test_chinese_text_goes_to_dataset_json_and_stops_the_transport_files_by_name(
    trial, followed, tmp_path, capsys
):
    save_form(trial.coordinator, followed[1], "LOG", "F.AE", {
        "I.AETERM": Entered("发热"), "I.AESTDT": Entered(str(trial.days_ago(140))),
        "I.AEGRADE": Entered("1"), "I.AESER": Entered("no"), "I.AEREL": Entered("unlikely"),
    }, base_version=0, repeat=None)  # fmt: skip
    out = tmp_path / "both"
    assert main(["export", "sdtm", "--out", str(out), "--as", "statistician"]) == 1
    err = capsys.readouterr().err
    assert "AE.AETERM row" in err and "not ASCII" in err and "--format json" in err
    assert not out.exists() or not list(out.iterdir())
    assert not AuditEvent.objects.filter(action="export", object_id="sdtm").exists()
    assert main(["export", "sdtm", "--out", str(out), "--as", "statistician", "--format",
                 "json"]) == 0  # fmt: skip
    assert "发热" in {r["AETERM"] for r in _rows(out)["AE"]}


def test_the_export_reads_the_database_in_a_number_of_queries_that_does_not_grow(
    trial, followed, tmp_path
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.edc.conftest import CLINICAL_B, LABS_CLASS_B
    from tests.edc.test_export import visit

    def queries(name: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            export_sdtm(trial[Role.STATISTICIAN], tmp_path / name, formats=("json",))
        return len(captured.captured_queries)

    six = queries("six")
    for _ in range(3):
        participant, _ = trial.randomized(days_ago=30)
        visit(trial, participant.screening_number, "BL", LABS_CLASS_B, CLINICAL_B)
    assert queries("nine") == six
