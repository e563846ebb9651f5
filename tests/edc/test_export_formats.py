"""``hepatrial export adam --format``: the blinded datasets from the database in each package's
format, read back with their labels."""

from __future__ import annotations

import pyarrow.parquet as pq
import pyreadstat
import pytest

from hepatrial.cli import main
from tests.edc.test_export import ARM_WORDS, followed  # noqa: F401  (fixture)


@pytest.mark.parametrize(
    ("fmt", "extension"),
    [("sas", "xpt"), ("stata", "dta"), ("spss", "sav"), ("parquet", "parquet")],
)
def test_export_adam_in_a_statistical_format_reads_back_blinded_with_labels(
    trial, followed, tmp_path, fmt, extension,  # noqa: F811
):  # fmt: skip
    out = tmp_path / fmt
    assert main(["export", "adam", "--out", str(out), "--as", "statistician", "--format", fmt]) == 0
    assert {p.name for p in out.glob("read_adam.*")} == {"read_adam.R", "read_adam.sas"}
    path = out / f"adsl.{extension}"
    if fmt == "parquet":
        table = pq.read_table(path)
        frame = table.to_pandas()
        assert table.schema.field("ITTFL").metadata[b"label"] == b"Intent-to-treat population flag"
    else:
        reader = {"sas": pyreadstat.read_xport, "stata": pyreadstat.read_dta,
                  "spss": pyreadstat.read_sav}[fmt]  # fmt: skip
        options = {"apply_value_formats": True} if fmt == "stata" else {}
        frame, meta = reader(str(path), **options)
        assert meta.column_names_to_labels["USUBJID"] == "Unique subject identifier"
    assert len(frame) == 6
    assert set(frame["ARMCD"]) == {"X", "Y"}
    text = frame.astype(str).to_string()
    assert not [w for w in ARM_WORDS if w in text]


def test_export_adam_refuses_an_unknown_format(trial, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["export", "adam", "--out", str(tmp_path), "--as", "statistician", "--format", "xls"])
    assert "invalid choice: 'xls'" in capsys.readouterr().err
