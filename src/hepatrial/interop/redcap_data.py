"""A REDCap records export (the flat CSV of raw codes) read against a protocol.

This module only reads and converts; :mod:`hepatrial.edc.redcap_load` enters the rows through
the services. What it understands of REDCap's flat format:

- the record ID is the first column (REDCap always exports it first);
- ``redcap_event_name`` (longitudinal projects), ``redcap_repeat_instrument`` and
  ``redcap_repeat_instance`` (repeating instruments; an instance without an instrument is a
  repeating event), ``redcap_data_access_group``, ``redcap_survey_identifier``,
  ``<form>_timestamp`` and ``<form>_complete`` are REDCap's own columns, not fields;
- a checkbox is one column per option, ``field___code``, 1 ticked and 0 not;
- values are raw codes; dates are ``YYYY-MM-DD`` in an API export, and ``M/D/YYYY`` or
  ``D/M/YYYY`` in a file saved from a spreadsheet (``date_order`` says which); numbers of a
  ``number_comma_decimal`` field carry a decimal comma;
- REDCap's missing-data codes (``NA``, ``UNK``, ``ASKU``, ``NASK``, ``ND``) on a field that is
  not free text become hepatrial's not applicable, unknown and not done.

Files are read as ``utf-8-sig`` with ``newline=""``: byte-order marks, CRLF and line breaks
inside quoted cells are fine. Row numbers are spreadsheet rows (the header is row 1).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hepatrial.interop.redcap import RedcapError, _read_text, _rows
from hepatrial.protocol.model import DataType, Item, Protocol
from hepatrial.protocol.values import EnteredValue, ValueStatus
from hepatrial.scores.units import UnitError, resolve_unit

EVENT = "redcap_event_name"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
REDCAP_COLUMNS = {EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE, "redcap_data_access_group",
                  "redcap_survey_identifier", "redcap_arm"}  # fmt: skip
"""Columns REDCap adds to a records export; none is a field."""

MISSING_CODES = {
    "NA": ValueStatus.NOT_APPLICABLE,
    "UNK": ValueStatus.UNKNOWN,
    "ASKU": ValueStatus.UNKNOWN,
    "NASK": ValueStatus.NOT_DONE,
    "ND": ValueStatus.NOT_DONE,
}
"""REDCap missing-data codes with a hepatrial status (``export redcap`` writes the first of
each: NA, UNK, NASK)."""
STATUS_CODES = {ValueStatus.NOT_APPLICABLE: "NA", ValueStatus.UNKNOWN: "UNK",
                ValueStatus.NOT_DONE: "NASK"}  # fmt: skip


def form_column(column: str) -> str | None:
    """The form of a ``<form>_complete`` or ``<form>_timestamp`` column, else None."""
    for suffix in ("_complete", "_timestamp"):
        if column.endswith(suffix):
            return column.removesuffix(suffix)
    return None


@dataclass(frozen=True)
class Row:
    number: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "").strip()


@dataclass
class Records:
    source: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)

    @property
    def name(self) -> str:
        return Path(self.source).name

    @property
    def record_column(self) -> str:
        return self.columns[0]

    @property
    def longitudinal(self) -> bool:
        return EVENT in self.columns

    def by_record(self) -> dict[str, list[Row]]:
        """Rows grouped by record ID, records in the order they first appear."""
        groups: dict[str, list[Row]] = {}
        for row in self.rows:
            groups.setdefault(row.get(self.record_column), []).append(row)
        return groups


def read_records(path: str | Path) -> Records:
    """Read a flat records export; a file that is not one raises :class:`RedcapError`."""
    source = str(path)
    header, records = _rows(_read_text(path).removeprefix("\ufeff"), source)
    if not header or not header[0]:
        raise RedcapError(source, "the first column (the record ID) has no name", row=1)
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in seen:
            raise RedcapError(source, f"column {name!r} appears twice", row=1, column=name)
        seen[name] = i
    out = Records(source, header)
    for number, cells in records:
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            raise RedcapError(
                source, f"has {len(cells)} cells but the header has {len(header)}", row=number
            )
        out.rows.append(Row(number, {name: (cells[i] if i < len(cells) else "")
                                     for i, name in enumerate(header)}))  # fmt: skip
    if not out.rows:
        raise RedcapError(source, "the records file has a header but no rows")
    return out


# --- what the records say about the design (for `protocol import-redcap --records`) ---------


@dataclass
class Design:
    """Forms holding data at each event, repeating instruments, repeating events."""

    forms_at: dict[str, list[str]] = field(default_factory=dict)
    repeating_forms: set[str] = field(default_factory=set)
    repeating_events: set[str] = field(default_factory=set)


def infer_design(records: Records, form_columns: dict[str, set[str]], default_event: str) -> Design:
    """Which forms have a value at which event: a form is on an event when some row of that
    event has a value in one of its fields or its ``_complete`` status (REDCap leaves both
    empty for a form not designated to the event)."""
    design = Design()
    owner = {column: form for form, columns in form_columns.items() for column in columns}
    for row in records.rows:
        event = row.get(EVENT) if records.longitudinal else default_event
        if not event:
            continue
        instrument = row.get(REPEAT_INSTRUMENT)
        if instrument:
            design.repeating_forms.add(instrument)
        elif row.get(REPEAT_INSTANCE):
            design.repeating_events.add(event)
        found = design.forms_at.setdefault(event, [])
        for column, text in row.cells.items():
            form = owner.get(column) or (form_column(column) if text.strip() else None)
            if column == records.record_column or not text.strip() or form is None:
                continue
            if form in form_columns and form not in found:
                found.append(form)
    return design


# --- values ----------------------------------------------------------------------------------

COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")
SLASHED = re.compile(r"^(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})(?:[ T](\d{1,2}:\d{2}(?::\d{2})?))?$")


def iso_date(text: str, date_order: str) -> str:
    """``2015-04-02``, ``4/2/2015`` (mdy) or ``2/4/2015`` (dmy), with an optional time, in ISO
    form; text that is none of these is returned as it is (the service then says why)."""
    m = SLASHED.match(text.strip())
    if not m:
        return text
    a, b, c, time = m.groups()
    if len(a) == 4:
        year, month, day = a, b, c
    elif len(c) == 4:
        month, day = (a, b) if date_order == "mdy" else (b, a)
        year = c
    else:
        return text
    try:
        date = dt.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return text
    if time:
        hours, _, rest = time.partition(":")
        return f"{date} {int(hours):02d}:{rest}"
    return date


def unit_siblings(protocol: Protocol) -> dict[str, Item]:
    """Item OID → its ``<oid>_units`` choice item, for number items with units (the pairing
    ``protocol import-redcap`` keeps and ``export redcap`` writes)."""
    items = protocol.items()
    return {
        oid: items[f"{oid}_units"]
        for oid, item in items.items()
        if item.units and items.get(f"{oid}_units") is not None
        and items[f"{oid}_units"].data_type == DataType.CHOICE
    }  # fmt: skip


class CellError(ValueError):
    """A cell that cannot become a value; ``code`` groups refusals in the summary."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


def entered_value(
    item: Item, text: str, *, date_order: str = "mdy", unit_item: Item | None = None,
    unit_code: str = "",
) -> EnteredValue:  # fmt: skip
    """The value to save for ``item`` from the cell ``text`` (not empty)."""
    text = text.strip()
    kind = item.data_type
    codes = {c.code for c in item.choices}
    if text.upper() in MISSING_CODES and kind != DataType.TEXT and text not in codes:
        return EnteredValue(status=MISSING_CODES[text.upper()])
    if kind in (DataType.DATE, DataType.DATETIME):
        return EnteredValue(iso_date(text, date_order))
    if kind not in (DataType.INTEGER, DataType.FLOAT):
        return EnteredValue(text)
    if kind == DataType.FLOAT and COMMA_DECIMAL.match(text):
        text = text.replace(",", ".")
    unit = None
    if unit_item is not None and unit_code:
        choice = next((c for c in unit_item.choices if c.code == unit_code), None)
        if choice is None:
            raise CellError("unit.unknown_code", f"unit code {unit_code!r} of {unit_item.oid} "
                            f"is not one of {[c.code for c in unit_item.choices]}")  # fmt: skip
        try:
            unit = resolve_unit(item.quantity or "", choice.label.en).symbol
        except UnitError:
            raise CellError("unit.not_a_unit", f"{unit_item.oid} = {choice.label.en!r} is not a "
                            f"unit of {item.quantity}") from None  # fmt: skip
    return EnteredValue(text, unit)


def item_forms(protocol: Protocol) -> dict[str, list[str]]:
    """Item OID → the forms that hold it."""
    out: dict[str, list[str]] = {}
    for form in protocol.forms:
        for item in form.items:
            out.setdefault(item.oid, []).append(form.oid)
    return out


def not_fields(columns: Iterable[str], protocol: Protocol) -> list[str]:
    """Columns that are neither REDCap's own nor an item: fields the protocol did not import
    (file uploads, descriptive text, SQL fields) or fields of another project."""
    items = protocol.items()
    return [c for c in columns if c not in REDCAP_COLUMNS and c not in items and not form_column(c)]
