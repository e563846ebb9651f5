"""`hepatrial protocol import-redcap` writes the protocol and its report, or says what is wrong."""

from __future__ import annotations

from hepatrial.cli import main
from tests.interop.redcap_files import redcap_file


def test_the_command_writes_a_checked_protocol_and_a_report_beside_it(tmp_path, capsys):
    out = tmp_path / "trial.yaml"
    status = main(
        [
            "protocol",
            "import-redcap",
            str(redcap_file("redcapr_validation_types.csv")),
            "--out",
            str(out),
        ]
    )
    stdout = capsys.readouterr().out
    assert status == 0
    assert "imported 50 REDCap fields into 48 items on 1 forms" in stdout
    assert "not imported" in stdout and "validation" in stdout
    report = (tmp_path / "trial.import-report.md").read_text(encoding="utf-8")
    assert "`f_sql` dynamic SQL field" in report
    assert main(["protocol", "check", str(out)]) == 0


def test_bad_input_exits_non_zero_naming_the_row(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("Variable / Field Name,Form Name,Field Type,Field Label\nx,f,box,X\n")
    status = main(["protocol", "import-redcap", str(bad), "--out", str(tmp_path / "o.yaml")])
    assert status == 1
    assert (
        f"{bad}: row 2, column 'Field Type': 'box' is not a REDCap field type"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "o.yaml").exists()


def test_a_missing_file_exits_non_zero(tmp_path, capsys):
    status = main(
        ["protocol", "import-redcap", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o.yaml")]
    )
    assert status == 1
    assert "none.csv: No such file or directory" in capsys.readouterr().err
