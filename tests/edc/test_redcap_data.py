"""``hepatrial import redcap-data`` and ``export redcap``: REDCap records entered through the
services into the protocol imported from the same project, each bad row refused by number,
column and reason; and a hepatrial trial written as a REDCap project that loads back."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest

from hepatrial.cli import main
from hepatrial.edc.demo_accounts import ensure_demo_accounts
from hepatrial.edc.models import AuditEvent, FormRecord, ItemValue, Participant, User
from hepatrial.edc.permissions import actor_for
from hepatrial.edc.protocols import install_protocol
from hepatrial.edc.redcap_load import load_redcap_records
from hepatrial.interop.redcap import import_project
from hepatrial.protocol import parse_protocol
from tests.edc.test_export import followed  # noqa: F401  (fixture)
from tests.interop.redcap_files import redcap_file


def install_redcap_project(name: str, **files):
    paths = {key: redcap_file(value) for key, value in files.items()}
    imported = import_project(redcap_file(f"{name}.csv"), records=redcap_file(f"{name}_data.csv"),
                              **paths)  # fmt: skip
    loaded = parse_protocol(imported.yaml(), name)
    install_protocol(loaded)
    ensure_demo_accounts()
    return loaded.protocol


def coordinator():
    return actor_for(User.objects.get(username="coordinator"))


def value(record: str, item: str, event: str | None = None) -> ItemValue:
    """The value of ``item`` in the participant loaded from the longitudinal record ``record``."""
    record_id = ItemValue.objects.get(item_oid="study_id", text=record)
    participant = record_id.form_record.visit.participant
    rows = ItemValue.objects.filter(item_oid=item, form_record__visit__participant=participant)
    if event:
        rows = rows.filter(form_record__visit__event_oid=event)
    return rows.get()


@pytest.fixture
def longitudinal(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return install_redcap_project(
        "redcapr_longitudinal", events="redcapr_longitudinal_events.csv",
        arms="redcapr_longitudinal_arms.csv",
    )  # fmt: skip


def test_the_longitudinal_project_loads_every_row_by_event(longitudinal):
    summary = load_redcap_records(coordinator(), redcap_file("redcapr_longitudinal_data.csv"))
    assert (summary.rows, summary.loaded, summary.refused_rows, summary.created) == (18, 18, 0, 3)
    assert summary.ignored_columns == {"patient_document": 1}  # a file field: not an item
    assert value("100", "height", "enrollment_arm_1").text == "160"
    assert value("100", "gym___0").normalized_text == "true"
    assert value("100", "gym___1").normalized_text == "false"
    assert value("304", "sex").normalized_text == "0"
    participant = Participant.objects.get(screening_number="SITE1-0001")
    assert participant.status == "consented" and participant.randomization_date is None
    changes = AuditEvent.objects.filter(object_type="itemvalue")
    reasons = set(changes.values_list("reason", flat=True))
    assert all(r.startswith("imported from REDCap file redcapr_longitudinal_data.csv, row ")
               for r in reasons)  # fmt: skip


def test_loading_the_same_export_again_creates_and_changes_nothing(longitudinal):
    load_redcap_records(coordinator(), redcap_file("redcapr_longitudinal_data.csv"))
    versions = sorted(FormRecord.objects.values_list("pk", "version"))
    again = load_redcap_records(coordinator(), redcap_file("redcapr_longitudinal_data.csv"))
    assert (again.loaded, again.created, again.refused_rows) == (18, 0, 0)
    assert sorted(FormRecord.objects.values_list("pk", "version")) == versions
    assert Participant.objects.count() == 3


def test_bad_rows_are_refused_by_row_and_column_and_the_rest_load(longitudinal, tmp_path):
    source = redcap_file("redcapr_longitudinal_data.csv")
    with open(source, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    rows[2][header.index("redcap_event_name")] = "visit_9_arm_1"  # spreadsheet row 3
    rows[3][header.index("vld1")] = "1.2.3"  # row 4: visit_1_arm_1's lab value
    rows[4][header.index("height")] = "170"  # row 5: dose_2_arm_1 has no demographics
    bad = tmp_path / "records.csv"
    with open(bad, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)
    summary = load_redcap_records(coordinator(), bad)
    assert (summary.loaded, summary.refused_rows) == (15, 3)
    named = {(r.row, r.column, r.code) for r in summary.refused}
    assert (3, "redcap_event_name", "event.unknown") in named
    assert (4, "vld1", "value.not_a_number") in named
    assert (5, "height", "form.not_at_event") in named
    assert summary.by_reason() == {"event.unknown": 1, "value.not_a_number": 1,
                                   "form.not_at_event": 1}  # fmt: skip
    assert "records.csv: row 4 (record 100, event visit_1_arm_1), column 'vld1': " in (
        "\n".join(summary.problems())
    )
    assert not ItemValue.objects.filter(item_oid="vld1", text="1.2.3").exists()


def test_every_validation_type_project_loads_its_record(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    install_redcap_project("redcapr_validation_types")
    summary = load_redcap_records(coordinator(), redcap_file("redcapr_validation_types_data.csv"))
    assert (summary.loaded, summary.refused_rows, summary.created) == (1, 0, 1)
    assert set(summary.ignored_columns) == {"f_file_upload", "f_signature", "f_sql"}


def test_the_repeating_instrument_project_loads_with_each_refused_row_named(db, settings, tmp_path,
                                                                           capsys):  # fmt: skip
    settings.VAR_DIR = tmp_path
    install_redcap_project("rarelink_cdm")
    code = main(["import", "redcap-data", str(redcap_file("rarelink_cdm_data.csv")),
                 "--as", "coordinator"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 1
    assert "rarelink_cdm_data.csv: 68 rows: 52 loaded, 16 refused; 5 participants created" in out
    assert "refused   11  value.required" in out and "refused    5  form.unknown" in out
    refused_lines = [line for line in err.splitlines() if "(record " in line]
    rows = {int(line.split(": row ")[1].split()[0]) for line in refused_lines}
    assert len(rows) == 16
    assert all(", column '" in line for line in refused_lines)
    assert (
        "rarelink_cdm_data.csv: row 69 (record 105, event RECORD), column "
        "'redcap_repeat_instrument': 'rarelink_6_3_family_history' is not a form"
    ) in err
    disease = FormRecord.objects.filter(form_oid="rarelink_5_disease")
    instances = disease.values_list("repeat", flat=True)
    assert max(instances) >= 1  # repeating instances kept apart


def hepatrial(args: list[str], var_dir) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",
                                                          "DJANGO_SETTINGS_MODULE")}  # fmt: skip
    env["HEPATRIAL_VAR_DIR"] = str(var_dir)
    return subprocess.run([sys.executable, "-m", "hepatrial.cli", *args], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip


def read_rows(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_trial_exported_to_redcap_loads_into_a_fresh_database_with_the_same_values(
    trial, followed, tmp_path,  # noqa: F811
):  # fmt: skip
    out = tmp_path / "redcap"
    assert main(["export", "redcap", "--out", str(out), "--as", "statistician"]) == 0
    assert AuditEvent.objects.filter(action="export", object_id="redcap").exists()
    original = read_rows(out / "records.csv")
    text = "\n".join(p.read_text() for p in out.glob("*.csv"))
    assert "f_inf" not in text and "Single infusion" not in text  # blinded: no infusion form
    protocol = tmp_path / "trial.yaml"
    fresh = tmp_path / "fresh"
    names = ("data_dictionary", "events", "arms", "instrument_designations", "records")
    files = {name: str(out / f"{name}.csv") for name in names}
    done = hepatrial(["protocol", "import-redcap", files["data_dictionary"],
                      "--events", files["events"], "--arms", files["arms"],
                      "--mapping", files["instrument_designations"],
                      "--records", files["records"], "--out", str(protocol)], fresh)  # fmt: skip
    assert done.returncode == 0, done.stderr
    again_dir = str(tmp_path / "again")
    for args in (["init", "--protocol", str(protocol), "--demo-accounts"],
                 ["import", "redcap-data", files["records"], "--as", "coordinator"],
                 ["export", "redcap", "--out", again_dir, "--as", "statistician"]):  # fmt: skip
        done = hepatrial(args, fresh)
        assert done.returncode == 0, done.stdout + done.stderr
    assert (
        f"{len(original)} rows: {len(original)} loaded, 0 refused"
        in hepatrial(
            ["import", "redcap-data", str(out / "records.csv"), "--as", "coordinator"], fresh
        ).stdout
    )
    again = read_rows(tmp_path / "again" / "records.csv")
    assert len(again) == len(original)
    assert again == original  # the REDCap record IDs too: the imported protocol keeps them
