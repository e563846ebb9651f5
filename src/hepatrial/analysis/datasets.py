"""Analysis datasets (ADaM-style) that every hepatrial analysis reads.

Four CSV files make one analysis folder: ``adsl.csv`` (one row per participant), ``adlb.csv``
(one row per participant x parameter x record, basic data structure), ``adtte.csv`` (one row per
participant x time-to-event parameter) and ``adae.csv`` (one row per adverse event). Names follow
CDISC ADaM (ADaMIG v1.3 and the ADTTE/OCCDS structures) where a standard variable exists; the
few trial-specific variables are listed as such in ``docs/datasets.md``.

Conventions
-----------
* Dates are ISO 8601 ``YYYY-MM-DD``; an empty cell is a missing value.
* Study day counts from randomization, which is also the day of the first infusion:
  ``ADY = ADT - RANDDT`` in days, so randomization is day 0 (as in the protocol's schedule;
  SDTM's "no day 0" rule is deliberately not used).
* Flags are ``Y``/``N``.
* ADTTE: ``CNSR`` is 0 for the event of interest and 1 otherwise (ADaM); ``EVNTCD`` refines the
  censored rows: 0 censored, 1 event of interest, 2 competing event.

The visit-window rules used by the database export are the pure functions
:func:`assign_visit`, :func:`derive_analysis_flags` and :func:`baseline_record`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

FLAG = ("Y", "N")


@dataclass(frozen=True)
class Column:
    """One variable of an analysis dataset.

    ``kind`` is one of ``text``, ``float``, ``int``, ``date``, ``flag``. ``required`` columns must
    be present in the file; ``nullable=False`` columns must also be filled on every row.
    """

    name: str
    kind: str
    label: str
    required: bool = True
    nullable: bool = True
    allowed: tuple[str, ...] | None = None
    note: str = ""


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    filename: str
    structure: str
    keys: tuple[str, ...]
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, kind: str, label: str, **kw: object) -> Column:
    return Column(name, kind, label, **kw)  # type: ignore[arg-type]


LAB_PARAMS: dict[str, tuple[str, str]] = {  # a catalogue of common codes; plans declare more
    "ALT": ("Alanine aminotransferase (U/L)", "U/L"),
    "AST": ("Aspartate aminotransferase (U/L)", "U/L"),
    "ALP": ("Alkaline phosphatase (U/L)", "U/L"),
    "BILI": ("Total bilirubin (umol/L)", "umol/L"),
    "ALB": ("Albumin (g/L)", "g/L"),
    "PT": ("Prothrombin time (s)", "s"),
    "INR": ("International normalized ratio", "1"),
    "CREAT": ("Creatinine (umol/L)", "umol/L"),
    "SODIUM": ("Sodium (mmol/L)", "mmol/L"),
    "MELD": ("MELD score", "1"),
    "MELDNA": ("MELD-Na score", "1"),
    "MELD3": ("MELD 3.0 score", "1"),
    "CPSCORE": ("Child-Pugh score", "1"),
    "CPCLASS": ("Child-Pugh class (AVAL 1=A, 2=B, 3=C)", "1"),
    "ALBI": ("ALBI score", "1"),
}
"""Common ADLB parameter codes with their PARAM text and canonical unit (AVALU). A plan may
analyse any other code and declare its label and unit (``hepatrial.analysis.plan.Parameter``)."""

CP_CLASS_CODE = {"A": 1.0, "B": 2.0, "C": 3.0}

TTE_PARAMS: dict[str, str] = {
    "DEATH": "Time to death from any cause (days)",
    "LTX": "Time to liver transplant (days); competing event: death",
    "DECOMP": "Time to first hepatic decompensation (days); competing: death, transplant",
    "GIBLEED": "Time to first gastrointestinal bleeding (days); competing: death, transplant",
    "ASCITES": "Time to first new or worsening ascites (days); competing: death, transplant",
    "HE": "Time to first hepatic encephalopathy (days); competing: death, transplant",
    "TFS": "Transplant-free survival: time to death or transplant (days)",
}

ADSL = DatasetSpec(
    "ADSL",
    "adsl.csv",
    "One record per randomized participant",
    ("USUBJID",),
    (
        _c("STUDYID", "text", "Study identifier", required=False),
        _c("USUBJID", "text", "Unique subject identifier", nullable=False),
        _c("SUBJID", "text", "Subject identifier for the study", required=False),
        _c("SITEID", "text", "Study site identifier", nullable=False),
        _c("ARMCD", "text", "Planned arm code (randomized)", nullable=False),
        _c("ARM", "text", "Description of planned arm", nullable=False),
        _c("ACTARMCD", "text", "Actual arm code (infusions received); empty if none"),
        _c("TRT01P", "text", "Planned treatment for period 01 (label)", nullable=False),
        _c("TRT01A", "text", "Actual treatment for period 01 (label); empty if none"),
        _c(
            "STRATAR",
            "text",
            "Randomization stratum as randomized (Child-Pugh class)",
            nullable=False,
        ),
        _c("ITTFL", "flag", "Intent-to-treat population flag", nullable=False),
        _c("PPROTFL", "flag", "Per-protocol population flag", nullable=False),
        _c("SAFFL", "flag", "Safety population flag", nullable=False),
        _c("RANDDT", "date", "Date of randomization (study day 0)", nullable=False),
        _c("TRTSDT", "date", "Date of first infusion", required=False),
        _c("TRTEDT", "date", "Date of last infusion", required=False),
        _c("NINF", "int", "Number of infusions received", required=False),
        _c("AGE", "float", "Age at randomization (years)", nullable=False),
        _c("SEX", "text", "Sex", nullable=False, allowed=("M", "F")),
        _c("ETIOLOGY", "text", "Etiology of liver disease", nullable=False),
        _c("CPCLSBL", "text", "Baseline Child-Pugh class", nullable=False, allowed=("A", "B", "C")),
        _c("CPSCRBL", "float", "Baseline Child-Pugh score (5-15)"),
        _c("MELDBL", "float", "Baseline MELD score"),
        _c(
            "EOSSTT",
            "text",
            "End of study status",
            nullable=False,
            allowed=("COMPLETED", "DISCONTINUED", "ONGOING"),
        ),
        _c("DCSREAS", "text", "Reason for discontinuation from study"),
        _c("EOSDT", "date", "End of study date"),
        _c("DTHFL", "flag", "Subject death flag", required=False),
        _c("DTHDT", "date", "Date of death"),
        _c("LTXFL", "flag", "Liver transplant flag", required=False),
        _c("LTXDT", "date", "Date of liver transplant"),
        _c("LSTALVDT", "date", "Date last known alive", nullable=False),
        _c("UNBLINDFL", "flag", "Participant unblinded before end of study", nullable=False),
    ),
)

ADLB = DatasetSpec(
    "ADLB",
    "adlb.csv",
    "One record per participant, parameter and analysis record (BDS)",
    ("USUBJID", "PARAMCD", "ADT", "AVISITN"),
    (
        _c("STUDYID", "text", "Study identifier", required=False),
        _c("USUBJID", "text", "Unique subject identifier", nullable=False),
        _c("PARAMCD", "text", "Parameter code", nullable=False),
        _c("PARAM", "text", "Parameter", nullable=False),
        _c("AVAL", "float", "Analysis value (CPCLASS: 1=A, 2=B, 3=C)"),
        _c(
            "AVALC",
            "text",
            "Analysis value (character); Child-Pugh class letter",
            note="Required to be A/B/C on CPCLASS rows with a value; empty otherwise",
        ),
        _c("AVALU", "text", "Analysis value unit (canonical)", required=False),
        _c("BASE", "float", "Baseline value"),
        _c("CHG", "float", "Change from baseline (AVAL - BASE)"),
        _c("ADT", "date", "Analysis date", nullable=False),
        _c("ADY", "int", "Analysis relative day (ADT - RANDDT)", nullable=False),
        _c("AVISIT", "text", "Analysis visit"),
        _c("AVISITN", "float", "Analysis visit (N): target study day"),
        _c("ABLFL", "flag", "Baseline record flag"),
        _c("ANL01FL", "flag", "Analysis flag 01: the record analysed at its visit"),
        _c("DTYPE", "text", "Derivation type (empty for observed)", required=False),
    ),
)

ADTTE = DatasetSpec(
    "ADTTE",
    "adtte.csv",
    "One record per participant and time-to-event parameter",
    ("USUBJID", "PARAMCD"),
    (
        _c("STUDYID", "text", "Study identifier", required=False),
        _c("USUBJID", "text", "Unique subject identifier", nullable=False),
        _c("PARAMCD", "text", "Parameter code", nullable=False),
        _c("PARAM", "text", "Parameter", nullable=False),
        _c("AVAL", "float", "Analysis value: days from STARTDT to ADT", nullable=False),
        _c(
            "CNSR",
            "int",
            "Censor: 0 event of interest, 1 otherwise",
            nullable=False,
            allowed=("0", "1"),
        ),
        _c(
            "EVNTCD",
            "int",
            "Event code: 0 censored, 1 event of interest, 2 competing event",
            nullable=False,
            allowed=("0", "1", "2"),
        ),
        _c("EVNTDESC", "text", "Event or censoring description", required=False),
        _c("STARTDT", "date", "Time-to-event origin date (randomization)", nullable=False),
        _c("ADT", "date", "Date of event, competing event or censoring", nullable=False),
    ),
)

ADAE = DatasetSpec(
    "ADAE",
    "adae.csv",
    "One record per adverse event (OCCDS)",
    ("USUBJID", "AESEQ"),
    (
        _c("STUDYID", "text", "Study identifier", required=False),
        _c("USUBJID", "text", "Unique subject identifier", nullable=False),
        _c("AESEQ", "int", "Sequence number", nullable=False),
        _c("AETERM", "text", "Reported term", nullable=False),
        _c("AEDECOD", "text", "Dictionary-derived term", nullable=False),
        _c("AEBODSYS", "text", "Body system or organ class", required=False),
        _c("AESEV", "text", "Severity", allowed=("MILD", "MODERATE", "SEVERE")),
        _c("AETOXGR", "int", "CTCAE grade (1-5)", allowed=("1", "2", "3", "4", "5")),
        _c("AESER", "flag", "Serious event", nullable=False),
        _c(
            "AEREL",
            "text",
            "Causality to study treatment",
            allowed=("NOT RELATED", "UNLIKELY", "POSSIBLE", "PROBABLE", "DEFINITE"),
        ),
        _c("ASTDT", "date", "Analysis start date"),
        _c("ASTDY", "int", "Analysis start relative day (ASTDT - RANDDT)"),
        _c("AENDT", "date", "Analysis end date", required=False),
        _c("TRTEMFL", "flag", "Treatment-emergent flag", nullable=False),
        _c("INFRFL", "flag", "Infusion-related reaction flag", nullable=False),
    ),
)

SPECS: dict[str, DatasetSpec] = {s.name: s for s in (ADSL, ADLB, ADTTE, ADAE)}


@dataclass
class AdamDatasets:
    """The four analysis datasets, typed (dates as ``datetime64``, flags as ``Y``/``N``)."""

    adsl: pd.DataFrame
    adlb: pd.DataFrame
    adtte: pd.DataFrame
    adae: pd.DataFrame

    def by_name(self) -> dict[str, pd.DataFrame]:
        return {"ADSL": self.adsl, "ADLB": self.adlb, "ADTTE": self.adtte, "ADAE": self.adae}


@dataclass(frozen=True)
class Issue:
    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f" column {self.column}"
        return f"{where}: {self.message}"


class AdamValidationError(ValueError):
    """Raised by :func:`validate` / :func:`read_adam` with every issue found.

    ``row`` numbers are 1-based data rows (the header is row 0), i.e. line ``row + 1`` of the CSV.
    """

    def __init__(self, issues: Sequence[Issue]):
        self.issues = list(issues)
        shown = "\n".join(f"  {i}" for i in self.issues[:50])
        more = f"\n  ... and {len(self.issues) - 50} more" if len(self.issues) > 50 else ""
        super().__init__(f"{len(self.issues)} problem(s) in the analysis datasets:\n{shown}{more}")


def _stripped(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Values as stripped text (vectorized) and the mask of blank cells."""
    arr = series.astype(object).where(series.notna(), "").to_numpy(dtype=str)
    text = np.char.strip(arr)
    blank = pd.Series(text == "", index=series.index)
    return pd.Series(text, index=series.index, dtype=object).where(~blank, None), blank


def _coerce(
    spec: DatasetSpec,
    raw: pd.DataFrame,
    issues: list[Issue],
    required: set[str] | None = None,
    filename: str | None = None,
) -> pd.DataFrame:
    """Type each column of ``raw`` by its spec and record issues (row = 1-based data row).

    ``required`` names the columns the analysis uses (:func:`required_columns`); only those
    must be present, filled where the spec says so and within their allowed values. Without
    it every column the spec marks required is (the full check of an export).
    """
    out = raw.copy()
    filename = filename or spec.filename
    needed = {c.name for c in spec.columns if c.required} if required is None else required
    strict = needed if required is not None else {c.name for c in spec.columns}
    missing = [c.name for c in spec.columns if c.name in needed and c.name not in raw.columns]
    missing += sorted(needed - set(spec.names) - set(raw.columns))
    for name in missing:
        issues.append(Issue(filename, None, name, "required column is missing"))
    for col in spec.columns:
        if col.name not in raw.columns:
            if required is not None:
                out[col.name] = pd.Series(
                    pd.NaT if col.kind == "date" else np.nan if col.kind in ("float", "int")
                    else None, index=raw.index, dtype=_empty_dtype(col.kind),
                )  # fmt: skip
            continue
        values = raw[col.name]
        text, blank = _stripped(values)
        if col.name not in strict:
            col = dataclasses.replace(col, nullable=True, allowed=None)
        if not col.nullable:
            for idx in np.flatnonzero(blank.to_numpy()):
                issues.append(Issue(filename, int(idx) + 1, col.name, "value is required"))
        if col.kind in ("float", "int"):
            num = pd.to_numeric(text, errors="coerce")
            bad = num.isna() & ~blank
            expected = "an integer" if col.kind == "int" else "a number"
            if col.kind == "int":
                bad |= num.notna() & (num != np.round(num))
            for idx in np.flatnonzero(bad.to_numpy()):
                issues.append(
                    Issue(
                        filename,
                        int(idx) + 1,
                        col.name,
                        f"{text.iloc[idx]!r} is not {expected}",
                    )
                )
            typed = num.astype(float) if col.kind == "float" else num.astype("Int64")
            out[col.name] = typed
            if col.allowed is not None:
                allowed = {float(a) for a in col.allowed}
                outside = num.notna() & ~num.isin(allowed)
                for idx in np.flatnonzero(outside.to_numpy()):
                    issues.append(
                        Issue(
                            filename,
                            int(idx) + 1,
                            col.name,
                            f"{text.iloc[idx]!r} is not one of {list(col.allowed)}",
                        )
                    )
        elif col.kind == "date":
            dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
            for idx in np.flatnonzero((dates.isna() & ~blank).to_numpy()):
                issues.append(
                    Issue(
                        filename,
                        int(idx) + 1,
                        col.name,
                        f"{text.iloc[idx]!r} is not a YYYY-MM-DD date",
                    )
                )
            out[col.name] = dates
        else:
            allowed = FLAG if col.kind == "flag" else col.allowed
            if allowed is not None:
                outside = ~blank & ~text.isin(list(allowed)).fillna(False)
                for idx in np.flatnonzero(outside.to_numpy()):
                    issues.append(
                        Issue(
                            filename,
                            int(idx) + 1,
                            col.name,
                            f"{text.iloc[idx]!r} is not one of {list(allowed)}",
                        )
                    )
            out[col.name] = text.astype(object).where(~blank, None)
    return out


def _empty_dtype(kind: str) -> str:
    return {"date": "datetime64[ns]", "float": "float64", "int": "Int64"}.get(kind, "object")


def _rows(mask: pd.Series) -> list[int]:
    return [int(i) + 1 for i in np.flatnonzero(mask.to_numpy())]


def _cross_checks(
    data: dict[str, pd.DataFrame], issues: list[Issue], names: Mapping[str, str]
) -> None:
    adsl, adlb, adtte, adae = (data.get(k) for k in ("ADSL", "ADLB", "ADTTE", "ADAE"))
    if adsl is not None and "USUBJID" in adsl:
        dup = adsl["USUBJID"].duplicated(keep="first") & adsl["USUBJID"].notna()
        for r in _rows(dup):
            issues.append(Issue(names["ADSL"], r, "USUBJID", "duplicate participant"))
        known = set(adsl["USUBJID"].dropna())
        for name, df in (("ADLB", adlb), ("ADTTE", adtte), ("ADAE", adae)):
            if df is None or "USUBJID" not in df:
                continue
            unknown = df["USUBJID"].notna() & ~df["USUBJID"].isin(known)
            for r in _rows(unknown):
                issues.append(
                    Issue(
                        names[name],
                        r,
                        "USUBJID",
                        f"{df['USUBJID'].iloc[r - 1]!r} is not in {names['ADSL']}",
                    )
                )
    if adtte is not None and {"USUBJID", "PARAMCD"} <= set(adtte.columns):
        dup = adtte.duplicated(["USUBJID", "PARAMCD"], keep="first")
        for r in _rows(dup):
            issues.append(Issue(names["ADTTE"], r, "PARAMCD", "second record for this participant"))
    if adtte is not None and {"CNSR", "EVNTCD"} <= set(adtte.columns):
        bad = (
            adtte["CNSR"].notna()
            & adtte["EVNTCD"].notna()
            & ((adtte["CNSR"] == 0) != (adtte["EVNTCD"] == 1))
        )
        for r in _rows(bad.fillna(False)):
            issues.append(
                Issue(names["ADTTE"], r, "CNSR", "CNSR must be 0 exactly when EVNTCD is 1")
            )
    if adtte is not None and "AVAL" in adtte:
        for r in _rows((adtte["AVAL"] < 0).fillna(False)):
            issues.append(Issue(names["ADTTE"], r, "AVAL", "time to event is negative"))
    if adlb is not None and {"PARAMCD", "AVALC", "AVAL"} <= set(adlb.columns):
        cp = adlb["PARAMCD"] == "CPCLASS"
        letters = adlb["AVALC"].map(CP_CLASS_CODE)
        bad = cp & adlb["AVAL"].notna() & (letters != adlb["AVAL"])
        for r in _rows(bad.fillna(True) & cp):
            issues.append(
                Issue(
                    names["ADLB"], r, "AVALC", "CPCLASS rows need AVALC A/B/C matching AVAL 1/2/3"
                )
            )
    if adlb is not None and {"ANL01FL", "AVISITN"} <= set(adlb.columns):
        bad = (adlb["ANL01FL"] == "Y") & adlb["AVISITN"].isna()
        for r in _rows(bad):
            issues.append(Issue(names["ADLB"], r, "AVISITN", "analysed record without a visit"))
    if adlb is not None and {"USUBJID", "PARAMCD", "AVISITN", "ANL01FL"} <= set(adlb.columns):
        anl = adlb[adlb["ANL01FL"] == "Y"]
        dup = anl.duplicated(["USUBJID", "PARAMCD", "AVISITN"], keep="first")
        for idx in anl.index[dup.to_numpy()]:
            issues.append(
                Issue(
                    names["ADLB"],
                    int(adlb.index.get_loc(idx)) + 1,
                    "ANL01FL",
                    "more than one analysed record at this visit",
                )
            )


def required_columns(plan) -> dict[str, set[str]]:
    """Per dataset, the columns the analyses of ``plan`` read (an empty set: file not needed).

    ADSL always needs USUBJID and ARMCD; the rest follows the endpoints: their population flags,
    covariates, strata and intercurrent-event dates (with RANDDT to date them); ADLB the
    columns of the proportion and change analyses; ADTTE those of the time-to-event ones; ADAE
    those of the adverse-event tables when the plan has a safety population.
    """
    adsl = {"USUBJID", "ARMCD"}
    adlb: set[str] = set()
    adtte: set[str] = set()
    adae: set[str] = set()
    lab = {"USUBJID", "PARAMCD", "AVAL", "AVISITN", "ANL01FL"}
    for e in plan.endpoints:
        adsl.add(e.population)
        adsl |= set(plan.covariates_of(e)) | set(e.strata) | set(e.exclude_after)
        dated = set(e.composite_events) | set(e.hypothetical_events)
        if dated:
            adsl |= dated | {"RANDDT"}
        if "per_protocol" in e.sensitivity and plan.per_protocol_population:
            adsl.add(plan.per_protocol_population)
        if e.kind == "proportion":
            adlb |= lab | {"AVALC", "ABLFL"}
        elif e.kind == "change_from_baseline":
            adlb |= lab | {"BASE", "ABLFL"} | ({"ADT"} if e.exclude_after else set())
        else:
            adtte |= {"USUBJID", "PARAMCD", "AVAL", "EVNTCD"}
    if plan.safety_population:
        adsl.add(plan.safety_population)
        adae |= {"USUBJID", "AEDECOD", "AESER", "AETOXGR", "AEREL", "TRTEMFL", "INFRFL"}
    return {"ADSL": adsl, "ADLB": adlb, "ADTTE": adtte, "ADAE": adae}


def validate(
    frames: Mapping[str, pd.DataFrame],
    plan=None,
    filenames: Mapping[str, str] | None = None,
) -> AdamDatasets:
    """Type and check raw (string) frames keyed ``ADSL``/``ADLB``/``ADTTE``/``ADAE``.

    With ``plan`` (:class:`hepatrial.analysis.plan.AnalysisPlan`) only the columns its
    analyses read are required (:func:`required_columns`) and a dataset it does not read may be
    absent (an empty one stands in); without, every column the specification marks required.
    ``filenames`` names each dataset's file in the messages.

    Raises
    ------
    AdamValidationError
        listing every problem, each naming file, row and column.
    """
    names = {name: spec.filename for name, spec in SPECS.items()} | dict(filenames or {})
    required = required_columns(plan) if plan is not None else None
    issues: list[Issue] = []
    typed: dict[str, pd.DataFrame] = {}
    for name, spec in SPECS.items():
        needed = required[name] if required is not None else None
        if name not in frames:
            if needed is None or needed:
                issues.append(Issue(names[name], None, None, "file is missing"))
                continue
            frame = pd.DataFrame(columns=[])
        else:
            frame = frames[name].reset_index(drop=True)
        typed[name] = _coerce(spec, frame, issues, needed, names[name])
    _cross_checks(typed, issues, names)
    if issues:
        raise AdamValidationError(issues)
    return AdamDatasets(typed["ADSL"], typed["ADLB"], typed["ADTTE"], typed["ADAE"])


def find_dataset_files(folder: str | Path) -> tuple[dict[str, Path], list[Issue]]:
    """Each dataset's file in ``folder``, its name matched without regard to case
    (``ADSL.csv``, ``adsl.csv``, ``Adsl.CSV``); two files matching one name are an issue."""
    folder = Path(folder)
    found: dict[str, Path] = {}
    issues: list[Issue] = []
    entries = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    for name, spec in SPECS.items():
        matches = [p for p in entries if p.name.lower() == spec.filename]
        if len(matches) > 1:
            issues.append(Issue(spec.filename, None, None, "two files match in "
                                f"{folder}: {' and '.join(p.name for p in matches)}"))  # fmt: skip
        elif matches:
            found[name] = matches[0]
    return found, issues


def read_adam(folder: str | Path, plan=None) -> AdamDatasets:
    """Read and validate ``adsl.csv``, ``adlb.csv``, ``adtte.csv`` and ``adae.csv``.

    File names match in any case. With ``plan``, a file the plan's analyses do not read may be
    absent and only the columns they read are required (:func:`validate`).
    """
    folder = Path(folder)
    files, issues = find_dataset_files(folder)
    required = required_columns(plan) if plan is not None else None
    frames: dict[str, pd.DataFrame] = {}
    for name, spec in SPECS.items():
        if name not in files:
            if required is None or required[name]:
                where = f"file not found in {folder} (any case of the name)"
                issues.append(Issue(spec.filename, None, None, where))
            continue
        frames[name] = pd.read_csv(files[name], dtype=str, keep_default_na=False, encoding="utf-8")
    if issues:
        raise AdamValidationError(issues)
    return validate(frames, plan, {name: path.name for name, path in files.items()})


def _to_text(df: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    extra = [c for c in df.columns if c not in spec.names]
    for name in [*spec.names, *extra]:
        if name not in df.columns:
            continue
        col = spec.column(name) if name in spec.names else None
        values = df[name]
        if col is not None and col.kind == "date":
            out[name] = pd.to_datetime(values).dt.strftime("%Y-%m-%d").fillna("")
        elif col is not None and col.kind == "int":
            out[name] = values.map(lambda v: "" if pd.isna(v) else str(int(v)))
        elif col is not None and col.kind == "float":
            out[name] = values.map(lambda v: "" if pd.isna(v) else repr(float(v)))
        else:
            out[name] = values.map(lambda v: "" if v is None or pd.isna(v) else str(v))
    return out


def write_adam(datasets: AdamDatasets, folder: str | Path) -> None:
    """Write the four datasets as UTF-8 CSV (spec column order first, extra columns after)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in datasets.by_name().items():
        spec = SPECS[name]
        _to_text(df, spec).to_csv(folder / spec.filename, index=False, encoding="utf-8")


# --------------------------------------------------------------------------- visit windows


@dataclass(frozen=True)
class VisitWindow:
    """A scheduled analysis visit: target study day and allowed days before/after it."""

    name: str
    day: int
    before: int = 0
    after: int = 0

    def contains(self, study_day: float) -> bool:
        return self.day - self.before <= study_day <= self.day + self.after


@dataclass(frozen=True)
class VisitSchedule:
    """Baseline plus post-baseline windows. Baseline: last value on or before ``baseline_day``."""

    windows: tuple[VisitWindow, ...] = field(default_factory=tuple)
    baseline_name: str = "Baseline"
    baseline_day: int = 0


def assign_visit(study_day: float, windows: Iterable[VisitWindow]) -> VisitWindow | None:
    """The post-baseline analysis visit of a record taken on ``study_day``.

    Rule: among the windows that contain the day, the one whose target is nearest; on a tie the
    earlier visit. A day outside every window gets no visit (``None``).
    """
    if study_day is None or (isinstance(study_day, float) and math.isnan(study_day)):
        return None
    best: VisitWindow | None = None
    for w in sorted(windows, key=lambda w: w.day):
        if not w.contains(study_day):
            continue
        if best is None or abs(study_day - w.day) < abs(study_day - best.day):
            best = w
    return best


def baseline_record(
    study_days: Sequence[float], values: Sequence[float], day: int = 0
) -> int | None:
    """Index of the baseline record: the last non-missing value with study day <= ``day``.

    Ties on the same day keep the later position in the input (the later record).
    """
    best: int | None = None
    for i, (d, v) in enumerate(zip(study_days, values)):
        if d is None or v is None or pd.isna(d) or pd.isna(v) or d > day:
            continue
        if best is None or d >= study_days[best]:
            best = i
    return best


def derive_analysis_flags(records: pd.DataFrame, schedule: VisitSchedule) -> pd.DataFrame:
    """Derive AVISIT, AVISITN, ABLFL, ANL01FL, BASE and CHG for raw lab records.

    ``records`` needs USUBJID, PARAMCD, ADY and AVAL (plus AVALC for CPCLASS, optional). Per
    participant and parameter: the baseline record (:func:`baseline_record`) gets AVISIT
    "Baseline", AVISITN = baseline day and ABLFL = ANL01FL = "Y". Each post-baseline record gets
    the visit from :func:`assign_visit`; at each visit the record nearest the target day is
    analysed (ANL01FL "Y"), ties going to the earlier day. Records with missing AVAL are never
    analysed. BASE/CHG are filled on every record of a participant/parameter with a baseline.
    """
    df = records.copy().reset_index(drop=True)
    day = pd.to_numeric(df["ADY"], errors="coerce").to_numpy(float)
    val = pd.to_numeric(df["AVAL"], errors="coerce").to_numpy(float)
    key = df.groupby(["USUBJID", "PARAMCD"], sort=False, dropna=False).ngroup().to_numpy()
    pos = np.arange(len(df))
    avisit = np.full(len(df), None, dtype=object)
    avisitn = np.full(len(df), np.nan)
    ablfl = np.full(len(df), None, dtype=object)
    anl = np.full(len(df), "N", dtype=object)

    # baseline: last non-missing value on or before the baseline day (later record on a tie)
    cand = np.flatnonzero(~np.isnan(val) & (day <= schedule.baseline_day))
    order = np.lexsort((pos[cand], day[cand], key[cand]))
    ranked = cand[order]
    last = ranked[np.r_[key[ranked][1:] != key[ranked][:-1], True]] if ranked.size else ranked
    avisit[last], avisitn[last] = schedule.baseline_name, float(schedule.baseline_day)
    ablfl[last], anl[last] = "Y", "Y"
    base = np.full(key.max() + 1 if len(df) else 0, np.nan)
    base[key[last]] = val[last]

    # post-baseline visits: nearest target among the windows containing the day, ties earlier
    windows = sorted(schedule.windows, key=lambda w: w.day)
    post = np.flatnonzero(day > schedule.baseline_day)
    ok = np.empty(0, dtype=int)
    if windows and post.size:
        targets = np.array([w.day for w in windows], dtype=float)
        lo = targets - np.array([w.before for w in windows])
        hi = targets + np.array([w.after for w in windows])
        d = day[post][:, None]
        dist = np.where((d >= lo) & (d <= hi), np.abs(d - targets), np.inf)
        which = np.argmin(dist, axis=1)
        inside = np.isfinite(dist[np.arange(post.size), which])
        rows, which = post[inside], which[inside]
        avisit[rows] = np.array([w.name for w in windows], dtype=object)[which]
        avisitn[rows] = targets[which]
        ok = rows[~np.isnan(val[rows])]
    if ok.size:  # one analysed record per visit: nearest the target, then the earlier day
        gap = np.abs(day[ok] - avisitn[ok])
        order = np.lexsort((pos[ok], day[ok], gap, avisitn[ok], key[ok]))
        ranked = ok[order]
        first = np.r_[True, (key[ranked][1:] != key[ranked][:-1])
                      | (avisitn[ranked][1:] != avisitn[ranked][:-1])]  # fmt: skip
        anl[ranked[first]] = "Y"
    df["AVISIT"] = avisit
    df["AVISITN"] = avisitn
    df["ABLFL"] = ablfl
    df["ANL01FL"] = anl
    df["BASE"] = base[key] if len(df) else np.nan
    df["CHG"] = np.where(df["ABLFL"] == "Y", np.nan, df["AVAL"].astype(float) - df["BASE"])
    df.loc[df["PARAMCD"] == "CPCLASS", "CHG"] = np.nan
    return df
