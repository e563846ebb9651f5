"""The analysis datasets as SAS transport, Stata, SPSS and Parquet files: each reads back with
the same rows, variable labels and value labels, and R reads them with the snippet beside them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest

from hepatrial.analysis.datasets import SPECS
from hepatrial.analysis.formats import (
    FormatError,
    value_labels,
    write_formatted,
    xpt_label,
    xpt_name,
)
from hepatrial.protocol import default_protocol_path, load_protocol
from hepatrial.simulate import simulate_trial
from hepatrial.simulate.adam import to_adam
from tests.conftest import unavailable

READERS = {"sas": pyreadstat.read_xport, "stata": pyreadstat.read_dta, "spss": pyreadstat.read_sav}


@pytest.fixture(scope="module")
def datasets():
    protocol = load_protocol(default_protocol_path()).protocol
    return to_adam(simulate_trial(protocol, n_participants=16, seed=7), protocol)


@pytest.fixture(scope="module")
def folders(datasets, tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    for fmt in ("csv", "sas", "stata", "spss", "parquet"):
        write_formatted(datasets, root / fmt, fmt)
    return root


def cells(values: pd.Series, kind: str) -> list[str]:
    """Values as comparable text: dates ISO, numbers rounded, missing as ''."""
    if kind == "date":
        return ["" if pd.isna(v) or v == "" else pd.Timestamp(v).date().isoformat() for v in values]
    if kind in ("int", "float"):
        return ["" if pd.isna(v) else f"{float(v):.6g}" for v in pd.to_numeric(values)]
    return ["" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
            for v in values]  # fmt: skip


def expected(datasets, name: str) -> dict[str, list[str]]:
    spec = SPECS[name]
    df = datasets.by_name()[name]
    return {c.name: cells(df[c.name], c.kind) for c in spec.columns if c.name in df.columns}


@pytest.mark.parametrize("fmt", ["sas", "stata", "spss"])
def test_each_statistical_package_file_reads_back_with_the_same_rows_and_labels(
    datasets, folders, fmt
):
    extension = {"sas": "xpt", "stata": "dta", "spss": "sav"}[fmt]
    for name, spec in SPECS.items():
        frame, meta = READERS[fmt](str(folders / fmt / f"{name.lower()}.{extension}"))
        labels = meta.column_names_to_labels
        file_names = {c.name: xpt_name(c.name) if fmt == "sas" else c.name for c in spec.columns}
        want = expected(datasets, name)
        assert len(frame) == len(datasets.by_name()[name])
        for column in spec.columns:
            if column.name not in want:
                continue
            in_file = file_names[column.name]
            label = xpt_label(column.label) if fmt == "sas" else column.label
            assert labels[in_file] == label, (name, column.name)
            values = frame[in_file]
            if fmt == "stata" and column.kind in ("text", "flag") and value_labels(column):
                codes = meta.variable_value_labels[in_file]
                values = values.map(lambda v, c=codes: c.get(v, ""))
            assert cells(values, column.kind) == want[column.name], (fmt, name, column.name)


def test_value_labels_of_flags_and_codes_are_in_the_stata_and_spss_files(folders):
    _, sav = pyreadstat.read_sav(str(folders / "spss" / "adsl.sav"), metadataonly=True)
    assert sav.variable_value_labels["ITTFL"] == {"Y": "Yes", "N": "No"}
    assert sav.variable_value_labels["SEX"] == {"M": "Male", "F": "Female"}
    _, tte = pyreadstat.read_sav(str(folders / "spss" / "adtte.sav"), metadataonly=True)
    assert tte.variable_value_labels["EVNTCD"] == {
        0.0: "Censored",
        1.0: "Event of interest",
        2.0: "Competing event",
    }
    _, dta = pyreadstat.read_dta(str(folders / "stata" / "adsl.dta"), metadataonly=True)
    assert dta.variable_value_labels["SEX"] == {1: "M", 2: "F"}


def test_parquet_keeps_types_labels_and_value_labels_as_field_metadata(datasets, folders):
    for name, spec in SPECS.items():
        table = pq.read_table(folders / "parquet" / f"{name.lower()}.parquet")
        assert table.schema.metadata[b"dataset"] == name.encode()
        frame = table.to_pandas()
        want = expected(datasets, name)
        for column in spec.columns:
            if column.name not in want:
                continue
            meta = table.schema.field(column.name).metadata
            assert meta[b"label"].decode() == column.label
            if value_labels(column):
                assert json.loads(meta[b"value_labels"]) == value_labels(column)
            assert cells(frame[column.name], column.kind) == want[column.name]
    assert str(pq.read_schema(folders / "parquet" / "adsl.parquet").field("RANDDT").type) == (
        "date32[day]"
    )


def test_sas_transport_names_and_labels_fit_version_5_and_the_sas_program_restores_them(folders):
    _, meta = pyreadstat.read_xport(str(folders / "sas" / "adsl.xpt"), metadataonly=True)
    assert all(len(n) <= 8 for n in meta.column_names)
    assert all(len(label) <= 40 for label in meta.column_labels)
    assert "UNBLNDFL" in meta.column_names
    program = (folders / "sas" / "read_adam.sas").read_text()
    assert "rename=(UNBLNDFL=UNBLINDFL)" in program
    assert "STRATAR = 'Randomization stratum as randomized (Child-Pugh class)'" in program
    assert "value $FLAGF" not in program and "value $ITTFLF 'Y' = 'Yes' 'N' = 'No';" in program
    assert "format" in program and "RANDDT yymmdd10." in program


def test_version_5_names_are_shortened_without_clashes():
    assert xpt_name("UNBLINDFL") == "UNBLNDFL"
    assert xpt_name("USUBJID") == "USUBJID"
    assert xpt_name("UNBLINDFL", taken={"UNBLNDFL"}) == "UNBLNDF1"
    assert xpt_label("x" * 50) == "x" * 37 + "..."


def test_an_unknown_format_is_refused(datasets, tmp_path):
    with pytest.raises(FormatError, match="unknown format 'xls'"):
        write_formatted(datasets, tmp_path, "xls")


R_CHECK = """
source("read_adam.R")
a <- adam$adsl
stopifnot(attr(a$UNBLINDFL, "label") == "Participant unblinded before end of study")
stopifnot(identical(attr(a$SEX, "value_labels"), c(M = "Male", F = "Female")))
stopifnot(inherits(a$RANDDT, "Date"), is.numeric(adam$adtte$CNSR))
cat(nrow(a), nrow(adam$adlb), nrow(adam$adtte), nrow(adam$adae), "\\n")
cat(a$USUBJID[1], a$SEX[1], format(a$RANDDT[1]), adam$adtte$CNSR[1], "\\n")
"""


@pytest.mark.parametrize("fmt", ["stata", "spss", "sas", "csv"])
@pytest.mark.parametrize("reader", ["haven", "foreign"])
def test_r_reads_the_files_with_the_snippet_and_its_labels(datasets, folders, fmt, reader):
    if shutil.which("Rscript") is None:
        unavailable("R is not installed")
    env = os.environ | {"HEPATRIAL_R_NO_HAVEN": "1" if reader == "foreign" else ""}
    done = subprocess.run(["Rscript", "-e", R_CHECK], cwd=folders / fmt, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    counts, first = done.stdout.strip().splitlines()[-2:]
    sizes = [len(df) for df in datasets.by_name().values()]
    assert counts.split() == [str(n) for n in sizes]
    adsl, adtte = datasets.adsl, datasets.adtte
    assert first.split() == [adsl.USUBJID[0], adsl.SEX[0], adsl.RANDDT[0].date().isoformat(),
                             str(adtte.CNSR[0])]  # fmt: skip
