"""The SDTM datasets as files: SAS transport v5, Dataset-JSON 1.1, and a define-style JSON.

``pyreadstat.write_xport(..., file_format_version=5)`` writes what it is given: it does not
refuse a variable name of nine characters, a label of 41, a character value of 201 bytes or a
Chinese letter, and SAS or a regulator's validator then fails on the file. :func:`v5_problems`
checks those limits first and :func:`write_xpt` refuses with every problem named by dataset,
variable (and row); Dataset-JSON has no such limits and keeps the text as entered.

Dataset-JSON follows the CDISC Dataset-JSON 1.1 schema (``dataset.schema.json`` of
cdisc-org/DataExchange-DatasetJson): one file per dataset, columns with ``itemOID``, ``name``,
``label``, ``dataType`` (and ``length``, ``keySequence``), rows as arrays in column order,
missing values as ``null``. The metadata file ``define.json`` is JSON shaped like Define-XML's
ItemGroupDef/ItemDef: every dataset and variable with label, type, length, codelist, origin.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hepatrial.interop.sdtm import Dataset, Variable

MAX_NAME, MAX_LABEL, MAX_CHAR, MAX_DATASET_NAME = 8, 40, 200, 8
DATASET_JSON_VERSION = "1.1.0"


@dataclass(frozen=True)
class Columns:
    """A dataset's values column by column, with each column's Dataset-JSON type and length.

    Read once per dataset and shared by the v5 check, both writers and the define file: at
    10,000 participants LB and RS hold a million rows, and reading each column again for every
    use was most of the export's time.
    """

    values: dict[str, list]
    kinds: dict[str, str]
    lengths: dict[str, int]


def columns_of(dataset: Dataset) -> Columns:
    values, kinds, lengths = {}, {}, {}
    for var in dataset.variables:
        column = values[var.name] = dataset.column(var.name)
        kinds[var.name] = _kind(var, column)
        lengths[var.name] = _length(var, column)
    return Columns(values, kinds, lengths)


class TransportLimitError(ValueError):
    """A dataset breaks a limit of SAS transport version 5; the message names each problem."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:20])
        more = len(self.problems) - 20
        super().__init__(
            "SAS transport v5 cannot hold these datasets (use --format json, which keeps "
            f"any text):\n{shown}" + (f"\n  ... and {more} more" if more > 0 else "")
        )


def _nbytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _is_ascii(text: str) -> bool:
    return text.isascii()


def v5_problems(dataset: Dataset, columns: Columns | None = None) -> list[str]:
    """Every breach of the v5 limits: names ≤ 8, labels ≤ 40, ASCII, character values ≤ 200."""
    columns = columns or columns_of(dataset)
    problems = []
    name = dataset.name
    if len(name) > MAX_DATASET_NAME or not name.isascii() or not name.isidentifier():
        problems.append(f"dataset {name!r}: a v5 dataset name is at most {MAX_DATASET_NAME} "
                        "ASCII letters, digits or underscores")  # fmt: skip
    if len(dataset.label) > MAX_LABEL or not _is_ascii(dataset.label):
        problems.append(f"dataset {name}: label {dataset.label!r} is longer than {MAX_LABEL} "
                        "characters or not ASCII")  # fmt: skip
    for var in dataset.variables:
        if len(var.name) > MAX_NAME or not var.name.isascii() or not var.name.isidentifier():
            problems.append(f"{name}.{var.name}: a v5 variable name is at most {MAX_NAME} "
                            "ASCII letters, digits or underscores")  # fmt: skip
        if len(var.label) > MAX_LABEL or not _is_ascii(var.label):
            problems.append(f"{name}.{var.name}: label {var.label!r} ({len(var.label)} "
                            f"characters) is longer than {MAX_LABEL} or not ASCII")  # fmt: skip
        if var.type != "Char":
            continue
        texts = [v for v in columns.values[var.name] if isinstance(v, str)]
        if "".join(texts).isascii() and max(map(len, texts), default=0) <= MAX_CHAR:
            continue  # the common case, checked at C speed; the loop below names each breach
        for number, row in enumerate(dataset.rows, start=1):
            value = row.get(var.name)
            if not isinstance(value, str) or not value:
                continue
            if not _is_ascii(value):
                problems.append(f"{name}.{var.name} row {number}: {value[:40]!r} is not ASCII")
            elif len(value) > MAX_CHAR:
                problems.append(f"{name}.{var.name} row {number}: {len(value)} characters, "
                                f"more than {MAX_CHAR}")  # fmt: skip
    return problems


def length(dataset: Dataset, var: Variable) -> int:
    """A character variable's length in bytes (UTF-8), at least 1; 8 for a number."""
    return _length(var, dataset.column(var.name))


def _length(var: Variable, column: list) -> int:
    if var.type != "Char":
        return 8
    texts = [v for v in column if isinstance(v, str)]
    if "".join(texts).isascii():
        return max(1, max(map(len, texts), default=0))
    return max([1, *map(_nbytes, texts)])


def _frame(dataset: Dataset, columns: Columns):
    import pandas as pd

    frame = {}
    for var in dataset.variables:
        values = columns.values[var.name]
        if var.type == "Char":
            frame[var.name] = pd.Series([v if isinstance(v, str) else "" for v in values],
                                        dtype=object)  # fmt: skip
        else:
            frame[var.name] = pd.Series(
                [float(v) if v is not None else math.nan for v in values], dtype="float64"
            )
    return pd.DataFrame(frame, columns=[var.name for var in dataset.variables])


def write_xpt(dataset: Dataset, path: Path, columns: Columns | None = None) -> None:
    """``DATASET.xpt`` in SAS transport version 5; refuses a dataset v5 cannot hold."""
    import pyreadstat

    columns = columns or columns_of(dataset)
    problems = v5_problems(dataset, columns)
    if problems:
        raise TransportLimitError(problems)
    pyreadstat.write_xport(
        _frame(dataset, columns), str(path), file_label=dataset.label,
        column_labels=[var.label for var in dataset.variables],
        table_name=dataset.name, file_format_version=5,
    )  # fmt: skip


def check_transport(datasets: Iterable[Dataset]) -> None:
    """Refuse, before anything is written, when any dataset breaks a v5 limit."""
    problems = [p for d in datasets for p in v5_problems(d)]
    if problems:
        raise TransportLimitError(problems)


@dataclass(frozen=True)
class FileInfo:
    """What each Dataset-JSON file says about where it comes from."""

    study: str
    created: dt.datetime
    source_version: str
    originator: str = "hepatrial"
    metadata_version: str = "MDV.SDTM"
    last_modified: dt.datetime | None = None


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def data_type(var: Variable, dataset: Dataset) -> str:
    """Dataset-JSON dataType: ``integer`` for a number column of whole numbers, else ``double``."""
    return _kind(var, dataset.column(var.name))


def _kind(var: Variable, column: list) -> str:
    if var.type == "Char":
        return "string"
    numbers = np.asarray([v for v in column if v is not None], dtype=float)
    whole = np.isfinite(numbers) & (numbers == np.floor(numbers))
    return "integer" if bool(whole.all()) else "double"


def item_oid(dataset: Dataset, var: Variable) -> str:
    return f"IT.{dataset.name}.{var.name}"


_JSON_VALUE = {"integer": int, "double": float, "string": str}


def _json_column(values: list, kind: str) -> list:
    convert = _JSON_VALUE[kind]
    if kind == "string" and all(type(v) is str for v in values):
        return values
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else convert(v)
            for v in values]  # fmt: skip


def dataset_json(dataset: Dataset, info: FileInfo, columns: Columns | None = None) -> dict:
    """The Dataset-JSON 1.1 document of one dataset."""
    facts = columns or columns_of(dataset)
    columns_meta = []
    for var in dataset.variables:
        kind = facts.kinds[var.name]
        column = {"itemOID": item_oid(dataset, var), "name": var.name, "label": var.label,
                  "dataType": kind}  # fmt: skip
        if kind == "string":
            column["length"] = facts.lengths[var.name]
        if var.key:
            column["keySequence"] = var.key
        columns_meta.append(column)
    converted = [_json_column(facts.values[v.name], facts.kinds[v.name]) for v in dataset.variables]
    rows = [list(row) for row in zip(*converted, strict=True)] if converted else []
    document = {
        "datasetJSONCreationDateTime": _stamp(info.created),
        "datasetJSONVersion": DATASET_JSON_VERSION,
        "fileOID": f"HP.{info.study}.SDTM.{dataset.name}.{info.created:%Y%m%dT%H%M%S}",
        "originator": info.originator,
        "sourceSystem": {"name": "hepatrial", "version": info.source_version},
        "studyOID": info.study, "metaDataVersionOID": info.metadata_version,
        "metaDataRef": "define.json", "itemGroupOID": f"IG.{dataset.name}",
        "records": len(rows), "name": dataset.name, "label": dataset.label,
        "columns": columns_meta, "rows": rows,
    }  # fmt: skip
    if info.last_modified:
        document["dbLastModifiedDateTime"] = _stamp(info.last_modified)
    return document


def write_dataset_json(
    dataset: Dataset, path: Path, info: FileInfo, columns: Columns | None = None
) -> None:
    document = dataset_json(dataset, info, columns)
    path.write_text(json.dumps(document, ensure_ascii=False) + "\n", "utf-8")


CODELISTS = {
    "NY": "No Yes Response (C66742)", "SEX": "Sex (C66731)", "AGEU": "Age Unit (C66781)",
    "LBTESTCD": "Laboratory Test Code (C65047)", "LBTEST": "Laboratory Test Name (C67154)",
    "UNIT": "Unit (C71620)", "UNIT (UCUM)": "UCUM code of the standard unit",
    "ROUTE": "Route of Administration (C66729)", "AESEV": "Severity/Intensity Scale (C66769)",
    "NCOMPLT/PROTMLST": "Completion/Reason for Non-Completion (C66727), Protocol Milestone",
    "DSCAT": "Category for Disposition Event (C74558)", "EPOCH": "Epoch (C99079)",
    "TSPARMCD": "Trial Summary Parameter Test Code (C66738)",
    "TSPARM": "Trial Summary Parameter Test Name (C67152)",
    "IECAT": "Category for Inclusion/Exclusion (C66797)",
    "SPECTYPE": "Specimen Type (C78734)",
    "CPS01TC": "Child-Pugh Classification Clinical Classification Test Code",
    "CPS01TN": "Child-Pugh Classification Clinical Classification Test Name",
    "LOINC": "LOINC", "TOXGRV (CTCAE)": "CTCAE grade 1-5",
    "COUNTRY (ISO 3166-1 alpha-3)": "ISO 3166-1 alpha-3",
    "REL (sponsor-extended)": "Causality, the values of the ADaM export (AEREL)",
    "ARMCD": "The protocol's arm codes (coded X, Y when blinded)",
}  # fmt: skip
"""What each codelist name in the variables stands for (docs/sdtm.md names the sources)."""


def define(datasets: Sequence[Dataset], info: FileInfo, *, blinded: bool,
           formats: Sequence[str], facts: Sequence[tuple[dict, dict]] | None = None,
           ) -> dict:  # fmt: skip
    """Define-style metadata (JSON): every dataset and variable the export wrote.

    ``facts``: each dataset's (kinds, lengths) by variable when the caller has them already.
    """
    groups = []
    used = set()
    if facts is None:
        facts = [(c.kinds, c.lengths) for c in map(columns_of, datasets)]
    for d, (kinds, lengths) in zip(datasets, facts, strict=True):
        items = []
        for var in d.variables:
            if var.codelist:
                used.add(var.codelist)
            items.append({
                "OID": item_oid(d, var), "Name": var.name, "Label": var.label,
                "SASType": var.type, "DataType": kinds[var.name], "Length": lengths[var.name],
                "KeySequence": var.key or None, "CodeList": var.codelist or None,
                "Origin": var.origin,
            })  # fmt: skip
        groups.append({
            "OID": f"IG.{d.name}", "Name": d.name, "Label": d.label, "Class": d.category,
            "Structure": d.structure, "Records": len(d.rows),
            "Keys": [var.name for var in sorted(d.variables, key=lambda x: x.key) if var.key],
            "Files": [f"{d.name.lower()}.{ext}" for ext in formats],
            "Items": items,
        })  # fmt: skip
    return {
        "FileType": "define-like metadata (JSON, shaped as Define-XML ItemGroupDef/ItemDef)",
        "StudyOID": info.study, "MetaDataVersionOID": info.metadata_version,
        "CreationDateTime": _stamp(info.created), "SourceSystem": "hepatrial",
        "SourceSystemVersion": info.source_version, "StandardName": "SDTMIG",
        "Blinded": blinded, "ItemGroups": groups,
        "CodeLists": {name: CODELISTS.get(name, name) for name in sorted(used)},
        "Documentation": "docs/sdtm.md",
    }  # fmt: skip


def write_all(
    datasets: Sequence[Dataset], out: Path, info: FileInfo, *, blinded: bool,
    formats: Sequence[str] = ("xpt", "json"),
) -> list[Path]:  # fmt: skip
    """Write every dataset in each format and ``define.json``; checks v5 before writing any.

    Each dataset's columns are read once (:class:`Columns`) and dropped once it is written.
    """
    if "xpt" in formats:
        check_transport(datasets)
    out.mkdir(parents=True, exist_ok=True)
    written, facts = [], []
    for d in datasets:
        columns = columns_of(d)
        facts.append((columns.kinds, columns.lengths))
        if "xpt" in formats:
            path = out / f"{d.name.lower()}.xpt"
            write_xpt(d, path, columns)
            written.append(path)
        if "json" in formats:
            path = out / f"{d.name.lower()}.json"
            write_dataset_json(d, path, info, columns)
            written.append(path)
    path = out / "define.json"
    document = define(datasets, info, blinded=blinded, formats=formats, facts=facts)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", "utf-8")
    written.append(path)
    return written
