"""The analysis datasets in the formats statisticians open: SAS transport, Stata, SPSS, Parquet.

Each file carries the variable labels of :data:`hepatrial.analysis.datasets.SPECS` and value
labels where the spec lists the values a variable takes (flags Y/N, ``allowed`` codes):

========  ============  ==============================================================
format    files         labels
========  ============  ==============================================================
csv       ``adsl.csv``  none in the file: ``read_adam.R`` / ``read_adam.sas`` attach them
sas       ``adsl.xpt``  SAS transport **version 5** (the FDA's format; ``.sas7bdat`` cannot
                        be written by open-source tools). Version 5 allows names of 8
                        characters and labels of 40: longer names are shortened
                        (``UNBLINDFL`` → ``UNBLNDFL``) and labels cut, and
                        ``read_adam.sas`` restores both. Transport files hold no formats,
                        so the value labels are ``PROC FORMAT`` code in ``read_adam.sas``
stata     ``adsl.dta``  variable labels; Stata labels only numbers, so each coded text
                        variable is stored as 1, 2, ... with the codes as its value labels
                        (what Stata's ``encode`` does: ``decode`` gives the text back)
spss      ``adsl.sav``  variable labels; value labels on the text codes themselves
parquet   ``adsl.parquet``  each field's metadata: ``label`` and ``value_labels`` (JSON)
========  ============  ==============================================================

Dates are dates in every format (SAS and SPSS date formats, Stata ``%td``, Parquet
``date32``). Nothing here imports Django.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hepatrial.analysis.datasets import FLAG, AdamDatasets, Column, DatasetSpec, write_adam

FORMATS = ("csv", "sas", "stata", "spss", "parquet")
EXTENSIONS = {"csv": "csv", "sas": "xpt", "stata": "dta", "spss": "sav", "parquet": "parquet"}

VALUE_TEXT: dict[str, dict[str, str]] = {
    "FLAG": {"Y": "Yes", "N": "No"},
    "SEX": {"M": "Male", "F": "Female"},
    "CNSR": {"0": "Event of interest", "1": "Censored or competing event"},
    "EVNTCD": {"0": "Censored", "1": "Event of interest", "2": "Competing event"},
    "CPCLSBL": {"A": "Child-Pugh class A", "B": "Child-Pugh class B", "C": "Child-Pugh class C"},
    "AETOXGR": {g: f"CTCAE grade {g}" for g in "12345"},
}
"""What a code means, where the code alone does not say it; other codes label themselves."""

XPT_NAME = 8
XPT_LABEL = 40


class FormatError(ValueError):
    """A dataset that cannot be written in the asked format; names dataset and variable."""


def value_labels(column: Column) -> dict[str, str]:
    """Code → text for a flag or a column with allowed values; empty for the others."""
    codes = FLAG if column.kind == "flag" else column.allowed
    if not codes:
        return {}
    text = VALUE_TEXT.get("FLAG" if column.kind == "flag" else column.name, {})
    return {code: text.get(code, code) for code in codes}


def xpt_name(name: str, taken: Iterable[str] = ()) -> str:
    """A SAS version 5 name (8 characters): vowels after the first letter dropped from the
    right, then cut; a digit added if that name is taken."""
    taken = set(taken)
    short = name.upper()
    while len(short) > XPT_NAME:
        vowel = max((i for i, ch in enumerate(short) if ch in "AEIOU" and i > 0), default=None)
        if vowel is None:
            short = short[:XPT_NAME]
            break
        short = short[:vowel] + short[vowel + 1 :]
    n = 1
    base = short
    while short in taken:
        short = f"{base[: XPT_NAME - len(str(n))]}{n}"
        n += 1
    return short


def xpt_label(label: str) -> str:
    """A version 5 label: ASCII, at most 40 characters (cut with ``...``)."""
    text = label.encode("ascii", "replace").decode("ascii")
    return text if len(text) <= XPT_LABEL else text[: XPT_LABEL - 3] + "..."


@dataclass(frozen=True)
class Variable:
    """One column as written: its name in the file, full label, kind and value labels."""

    name: str
    file_name: str
    label: str
    kind: str
    values: dict[str, str]


def variables(spec: DatasetSpec, df: pd.DataFrame, fmt: str) -> list[Variable]:
    """The columns of ``df`` (spec order, extra columns after) as written in ``fmt``."""
    known = {c.name: c for c in spec.columns}
    names = [c.name for c in spec.columns if c.name in df.columns]
    names += [c for c in df.columns if c not in known]
    out: list[Variable] = []
    taken: set[str] = set()
    for name in names:
        column = known.get(name, Column(name, "text", name))
        file_name = xpt_name(name, taken) if fmt == "sas" else name
        taken.add(file_name)
        out.append(Variable(name, file_name, column.label, column.kind, value_labels(column)))
    return out


def _dates(series: pd.Series) -> pd.Series:
    """datetime64 → ``datetime.date`` objects (None when missing): the writers' date type."""
    return pd.to_datetime(series).dt.date.astype(object).where(series.notna(), None)


def _numbers(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").astype(float)


def _texts(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").map(str)


def _frame(df: pd.DataFrame, columns: list[Variable], fmt: str) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for v in columns:
        values = df[v.name]
        if v.kind == "date":
            out[v.file_name] = _dates(values)
        elif v.kind in ("int", "float"):
            out[v.file_name] = _numbers(values)
        elif fmt == "stata" and v.values:
            codes = {code: float(i) for i, code in enumerate(v.values, start=1)}
            text = values.astype(object).where(values.notna(), None)
            unknown = sorted({t for t in text.dropna() if t not in codes})
            if unknown:
                raise FormatError(f"{v.name}: values {unknown} are not among {list(v.values)}")
            out[v.file_name] = text.map(lambda t, c=codes: c.get(t, np.nan)).astype(float)
        else:
            out[v.file_name] = _texts(values)
    return out


def _numeric_labels(v: Variable, fmt: str) -> dict[float, str] | None:
    """Value labels keyed as the file stores the values."""
    if not v.values:
        return None
    if v.kind == "int":
        return {float(code): text for code, text in v.values.items()}
    if fmt == "stata":
        return {float(i): code for i, code in enumerate(v.values, start=1)}
    return None


def stata_version(frame: pd.DataFrame, columns: list[Variable]) -> int:
    """12 (readable by every Stata and by R's foreign) when every text and label is ASCII of
    at most 244 bytes; otherwise 15, whose files are UTF-8 (Stata 14 and later)."""
    texts = [v.label for v in columns] + [t for v in columns for t in v.values.values()]
    for v in columns:
        if frame[v.file_name].dtype == object and v.kind != "date":
            texts += frame[v.file_name].tolist()
    fits = all(isinstance(t, str) and t.isascii() and len(t) <= 244 for t in texts)
    return 12 if fits else 15


def write_dataset(
    spec: DatasetSpec, df: pd.DataFrame, folder: Path, fmt: str
) -> tuple[Path, list[Variable]]:
    """Write one dataset in ``fmt``; returns the file and its variables."""
    import pyreadstat

    columns = variables(spec, df, fmt)
    frame = _frame(df.reset_index(drop=True), columns, fmt)
    path = folder / f"{spec.filename.rsplit('.', 1)[0]}.{EXTENSIONS[fmt]}"
    dataset_label = f"{spec.name}: {spec.structure}"
    if fmt == "sas":
        for v in columns:
            if v.kind not in ("int", "float", "date"):
                longest = int(frame[v.file_name].map(lambda t: len(t.encode("utf-8"))).max() or 0)
                if longest > 200:
                    raise FormatError(f"{spec.name}.{v.name}: a value of {longest} bytes; SAS "
                                      "transport version 5 holds 200")  # fmt: skip
        pyreadstat.write_xport(
            frame, str(path), file_label=xpt_label(dataset_label), table_name=spec.name,
            column_labels={v.file_name: xpt_label(v.label) for v in columns},
            file_format_version=5,
        )  # fmt: skip
    elif fmt in ("stata", "spss"):
        labels = {v.file_name: v.label for v in columns}
        if fmt == "stata":
            value_sets = {v.file_name: lab for v in columns if (lab := _numeric_labels(v, fmt))}
            pyreadstat.write_dta(frame, str(path), file_label=dataset_label[:80],
                                 column_labels=labels, variable_value_labels=value_sets,
                                 version=stata_version(frame, columns))  # fmt: skip
        else:
            value_sets = {}
            for v in columns:
                if not v.values:
                    continue
                numeric = _numeric_labels(v, fmt)
                value_sets[v.file_name] = numeric if numeric else dict(v.values)
            pyreadstat.write_sav(
                frame, str(path), file_label=dataset_label, column_labels=labels,
                variable_value_labels=value_sets,
            )  # fmt: skip
    elif fmt == "parquet":
        _write_parquet(frame, columns, path, spec, dataset_label)
    else:
        raise FormatError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    return path, columns


def _write_parquet(
    frame: pd.DataFrame, columns: list[Variable], path: Path, spec: DatasetSpec, label: str
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = {"date": pa.date32(), "int": pa.int64(), "float": pa.float64()}
    fields, arrays = [], []
    for v in columns:
        values = frame[v.file_name].tolist()
        kind = kinds.get(v.kind, pa.string())
        if v.kind in ("int", "float"):
            values = [None if pd.isna(x) else (int(x) if v.kind == "int" else x) for x in values]
        elif v.kind != "date":
            values = [t if t != "" else None for t in values]
        meta = {"label": v.label}
        if v.values:
            meta["value_labels"] = json.dumps(v.values, ensure_ascii=False)
        fields.append(pa.field(v.name, kind, metadata=meta))
        arrays.append(pa.array(values, type=kind))
    schema = pa.schema(fields, metadata={"dataset": spec.name, "label": label})
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), path)


def write_formatted(datasets: AdamDatasets, folder: str | Path, fmt: str) -> list[Path]:
    """Write the four datasets in ``fmt`` with ``read_adam.R`` and ``read_adam.sas`` beside them."""
    from hepatrial.analysis.datasets import SPECS

    if fmt not in FORMATS:
        raise FormatError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, tuple[Path, list[Variable]]] = {}
    if fmt == "csv":
        write_adam(datasets, folder)
        for name, df in datasets.by_name().items():
            spec = SPECS[name]
            written[name] = (folder / spec.filename, variables(spec, df, fmt))
    else:
        for name, df in datasets.by_name().items():
            written[name] = write_dataset(SPECS[name], df, folder, fmt)
    (folder / "read_adam.R").write_text(r_snippet(written, fmt), encoding="utf-8")
    (folder / "read_adam.sas").write_text(sas_snippet(written, fmt), encoding="utf-8")
    return [path for path, _ in written.values()]


# --------------------------------------------------------------------------- R and SAS


def _r_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


R_READERS = {
    "csv": ('utils::read.csv(path, colClasses = "character", na.strings = "")',
            'utils::read.csv(path, colClasses = "character", na.strings = "")'),
    "sas": ("haven::read_xpt(path)", "foreign::read.xport(path)"),
    "stata": ("haven::read_dta(path)",
              "foreign::read.dta(path, convert.factors = FALSE, convert.dates = TRUE)"),
    "spss": ("haven::read_sav(path)",
             "foreign::read.spss(path, to.data.frame = TRUE, use.value.labels = FALSE)"),
    "parquet": ("arrow::read_parquet(path)", 'stop("reading Parquet needs the arrow package")'),
}  # fmt: skip
R_DATE_ORIGIN = {"sas": "days, 1960-01-01", "stata": "days, 1960-01-01",
                 "spss": "seconds, 1582-10-14"}  # fmt: skip
"""How foreign gives dates it does not convert (number of units since an origin)."""

R_TEMPLATE = """\
# Read the hepatrial analysis datasets with their variable labels (and value labels).
# Format: {fmt}. Usage: Rscript read_adam.R [FOLDER]
#   or, in R: adam_folder <- "FOLDER"; source("read_adam.R")
# Uses haven when it is installed, otherwise foreign (R's recommended package);
# HEPATRIAL_R_NO_HAVEN=1 in the environment forces foreign. Every column carries
# attr(, "label"); coded columns also attr(, "value_labels") (code = text).
args <- commandArgs(trailingOnly = TRUE)
folder <- if (length(args)) args[1] else if (exists("adam_folder")) adam_folder else "."
use_haven <- requireNamespace("haven", quietly = TRUE) && Sys.getenv("HEPATRIAL_R_NO_HAVEN") == ""
read_one <- function(path) {{
  if (use_haven) as.data.frame({haven}) else {foreign}
}}
encoded <- {encoded}  # Stata keeps coded text as 1, 2, ... in the order of the value labels
to_date <- function(column) {{
  if (is.character(column) || all(is.na(column))) return(as.Date(as.character(column)))
  if (inherits(column, "POSIXt")) return(as.Date(column))
  origin <- "{origin}"
  if (startsWith(origin, "seconds"))
    return(as.Date(as.POSIXct(column, origin = "1582-10-14", tz = "UTC")))
  as.Date(column, origin = "1960-01-01")
}}
with_labels <- function(df, names_in_file, labels, values, kinds) {{
  names(df)[match(toupper(names_in_file), toupper(names(df)))] <- names(labels)
  for (name in names(labels)) {{
    if (!name %in% names(df)) next
    column <- df[[name]]
    kind <- kinds[[name]]
    if (use_haven && inherits(column, "haven_labelled"))
      column <- as.vector(haven::zap_labels(column))
    if (is.factor(column)) column <- as.character(column)
    if (is.character(column)) {{
      column <- trimws(column, which = "right")
      column[!is.na(column) & column == ""] <- NA
    }}
    if (encoded && kind %in% c("text", "flag") && !is.null(values[[name]]) && is.numeric(column))
      column <- names(values[[name]])[column]
    if (kind == "date" && !inherits(column, "Date")) column <- to_date(column)
    if (kind %in% c("int", "float") && is.character(column)) column <- as.numeric(column)
    attr(column, "label") <- labels[[name]]
    if (!is.null(values[[name]])) attr(column, "value_labels") <- values[[name]]
    df[[name]] <- column
  }}
  df
}}
adam <- list()
{datasets}
for (name in names(adam)) {{
  cat(sprintf("%s: %d rows, %d variables\\n", name, nrow(adam[[name]]), ncol(adam[[name]])))
}}
"""


def _r_vector(pairs: Iterable[tuple[str, str]], function: str = "c") -> str:
    return f"{function}({', '.join(f'{_r_string(k)} = {_r_string(v)}' for k, v in pairs)})"


def r_snippet(written: dict[str, tuple[Path, list[Variable]]], fmt: str) -> str:
    """R code that reads the files with their labels: haven if installed, else foreign."""
    datasets = []
    for name, (path, columns) in written.items():
        values = ", ".join(
            f"{_r_string(v.name)} = {_r_vector(v.values.items())}" for v in columns if v.values
        )
        datasets += [
            f"adam${name.lower()} <- with_labels(",
            f"  read_one(file.path(folder, {_r_string(path.name)})),",
            f"  c({', '.join(_r_string(v.file_name) for v in columns)}),",
            f"  {_r_vector(((v.name, v.label) for v in columns), 'list')},",
            f"  list({values}),",
            f"  {_r_vector(((v.name, v.kind) for v in columns), 'list')}",
            ")",
        ]
    haven, foreign = R_READERS[fmt]
    return R_TEMPLATE.format(
        fmt=fmt, haven=haven, foreign=foreign, encoded="TRUE" if fmt == "stata" else "FALSE",
        origin=R_DATE_ORIGIN.get(fmt, "days, 1960-01-01"), datasets="\n".join(datasets),
    )  # fmt: skip


def _sas_format_name(v: Variable) -> str:
    base = re.sub(r"[^A-Z0-9]", "", v.name.upper())[:20]
    return f"{base}F" if v.kind == "int" else f"${base}F"


def _sas_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sas_snippet(written: dict[str, tuple[Path, list[Variable]]], fmt: str) -> str:
    """SAS code that reads the files, restores full names and labels and applies formats."""
    engine = {"stata": "STATA", "spss": "SAV", "csv": "CSV"}.get(fmt)
    lines = [
        "/* Read the hepatrial analysis datasets with their labels and value formats. */",
        f"/* Format: {fmt}. Set the folder below, then run the whole program. */",
        "%let adam = .;",
    ]
    if fmt == "parquet":
        lines.append("/* Parquet needs SAS Viya (LIBNAME ... PARQUET) or the CSV/XPT export. */")
    lines += ["", "proc format;"]
    done: set[str] = set()
    for _, columns in written.values():
        for v in columns:
            if not v.values or _sas_format_name(v) in done:
                continue
            done.add(_sas_format_name(v))
            pairs = " ".join(
                f"{code if v.kind == 'int' else _sas_quote(code)} = {_sas_quote(text)}"
                for code, text in v.values.items()
            )
            lines.append(f"  value {_sas_format_name(v)} {pairs};")
    lines += ["run;", ""]
    for name, (path, columns) in written.items():
        member = name.lower()
        if fmt == "sas":
            lines += [f"libname xpt{member} xport \"&adam/{path.name}\";",
                      f"data work.{member}; set xpt{member}.{name}; run;",
                      f"libname xpt{member} clear;"]  # fmt: skip
        elif engine is not None:
            lines += [f"proc import datafile=\"&adam/{path.name}\" out=work.{member} "
                      f"dbms={engine} replace;", "run;"]  # fmt: skip
        else:
            lines += [f"libname pq{member} parquet \"&adam\";",
                      f"data work.{member}; set pq{member}.{member}; run;"]  # fmt: skip
        renames = [f"{v.file_name}={v.name}" for v in columns if v.file_name != v.name]
        lines += [f"data work.{member};", f"  set work.{member}"
                  + (f"(rename=({' '.join(renames)}))" if renames else "") + ";"]  # fmt: skip
        lines += ["  label"] + [f"    {v.name} = {_sas_quote(v.label)}" for v in columns] + ["  ;"]
        formatted = [f"{v.name} {_sas_format_name(v)}." for v in columns if v.values]
        formatted += [f"{v.name} yymmdd10." for v in columns if v.kind == "date"]
        if formatted:
            lines.append(f"  format {' '.join(formatted)};")
        lines += ["run;", ""]
    return "\n".join(lines)
