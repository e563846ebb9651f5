"""Turn a REDCap project (data dictionary, events, arms, form-event mapping) into a protocol file.

A REDCap project describes forms and fields; a hepatrial protocol also describes the trial
(arms with their interventions, randomization, eligibility, analysis plan). The importer
converts what REDCap has, writes clearly labelled placeholders for what it does not, and keeps a
:class:`Note` for everything it could not carry over, field by field: branching logic,
calculations, validations the protocol does not enforce, layout, action tags. Nothing is dropped
without a note.

Mapping, in short (docs/interop.md has the full table):

- ``text`` by validation: ``integer`` → integer; ``number*`` → float; ``date_*`` → date;
  ``datetime_*`` → datetime; anything else (email, phone, time, postal codes...) → text, with a
  note saying the check is not enforced. Numeric min/max → hard range.
- ``radio``/``dropdown`` → choice, codes kept as strings; ``yesno``/``truefalse`` → boolean;
  ``checkbox`` → one boolean item per option named ``field___code`` as in REDCap's exports;
  ``notes`` → text; ``slider`` → integer with its range; ``calc`` → float, expression noted.
- ``descriptive``, ``file`` and ``sql`` hold no value the protocol can capture: noted, not imported.
- Units: a label ending in ``(unit)`` or a sibling ``<field>_units`` choice field gives the item
  its units when every unit is in :mod:`hepatrial.scores.units` and the field names the quantity.

Files are read with the csv module (``utf-8-sig`` drops a byte-order mark; ``newline=""`` keeps
CRLF and line breaks inside quoted cells right).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hepatrial.scores.units import QUANTITIES, UnitError, resolve_unit

# --- reading ---------------------------------------------------------------------------------

COLUMNS = {
    "field_name": ("Variable / Field Name", "field_name"),
    "form_name": ("Form Name", "form_name"),
    "section_header": ("Section Header", "section_header"),
    "field_type": ("Field Type", "field_type"),
    "field_label": ("Field Label", "field_label"),
    "choices": ("Choices, Calculations, OR Slider Labels", "select_choices_or_calculations"),
    "field_note": ("Field Note", "field_note"),
    "validation": (
        "Text Validation Type OR Show Slider Number",
        "text_validation_type_or_show_slider_number",
    ),
    "validation_min": ("Text Validation Min", "text_validation_min"),
    "validation_max": ("Text Validation Max", "text_validation_max"),
    "identifier": ("Identifier?", "identifier"),
    "branching_logic": ("Branching Logic (Show field only if...)", "branching_logic"),
    "required": ("Required Field?", "required_field"),
    "custom_alignment": ("Custom Alignment", "custom_alignment"),
    "question_number": ("Question Number (surveys only)", "question_number"),
    "matrix_group": ("Matrix Group Name", "matrix_group_name"),
    "matrix_ranking": ("Matrix Ranking?", "matrix_ranking"),
    "annotation": ("Field Annotation", "field_annotation"),
}
"""Our name → (the header REDCap's web export writes, the header its API writes)."""

REQUIRED_COLUMNS = ("field_name", "form_name", "field_type", "field_label")

FIELD_TYPES = {
    "text",
    "notes",
    "radio",
    "dropdown",
    "checkbox",
    "yesno",
    "truefalse",
    "calc",
    "descriptive",
    "slider",
    "file",
    "sql",
}

NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class RedcapError(ValueError):
    """Input that is not a usable REDCap file; says the file, row and column."""

    def __init__(self, source: str, message: str, row: int | None = None, column: str = ""):
        self.source, self.row, self.column = source, row, column
        where = source
        if row is not None:
            where += f": row {row}"
        if column:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Field:
    """One dictionary row; ``row`` is its spreadsheet row (the header is row 1)."""

    row: int
    field_name: str
    form_name: str
    field_type: str
    field_label: str
    section_header: str = ""
    choices: str = ""
    field_note: str = ""
    validation: str = ""
    validation_min: str = ""
    validation_max: str = ""
    identifier: str = ""
    branching_logic: str = ""
    required: str = ""
    custom_alignment: str = ""
    question_number: str = ""
    matrix_group: str = ""
    matrix_ranking: str = ""
    annotation: str = ""


def _rows(text: str, source: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(row number, cells)]), skipping wholly empty rows."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        records = [(n, cells) for n, cells in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise RedcapError(source, f"not readable as CSV: {exc}") from None
    records = [(n, cells) for n, cells in records if any(c.strip() for c in cells)]
    if not records:
        raise RedcapError(source, "the file is empty")
    return [h.strip() for h in records[0][1]], records[1:]


def _read_text(path: str | Path) -> str:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return handle.read()
    except OSError as exc:
        raise RedcapError(str(path), exc.strerror or str(exc)) from None
    except UnicodeDecodeError as exc:
        raise RedcapError(str(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _table(
    text: str, source: str, columns: dict[str, tuple[str, ...]], required: Iterable[str], what: str
) -> list[tuple[int, dict[str, str]]]:
    header, records = _rows(text.removeprefix("\ufeff"), source)
    index: dict[str, int] = {}
    folded = [h.casefold() for h in header]
    for ours, spellings in columns.items():
        for spelling in spellings:
            if spelling.casefold() in folded:
                index[ours] = folded.index(spelling.casefold())
                break
    missing = [columns[c][0] for c in required if c not in index]
    if len(missing) == len(list(required)):
        raise RedcapError(
            source,
            f"not a REDCap {what}: the header row has none of the columns "
            f"{', '.join(repr(columns[c][0]) for c in required)}",
            row=1,
        )
    if missing:
        raise RedcapError(
            source,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}",
            row=1,
        )
    out = []
    for number, cells in records:
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            raise RedcapError(
                source, f"has {len(cells)} cells but the header has {len(header)}", row=number
            )
        values = {ours: (cells[i] if i < len(cells) else "") for ours, i in index.items()}
        out.append((number, values))
    return out


def read_dictionary(text: str, source: str = "<dictionary>") -> list[Field]:
    """Parse a data dictionary; a row REDCap itself would refuse raises :class:`RedcapError`."""
    fields: list[Field] = []
    seen: dict[str, int] = {}
    for row, values in _table(text, source, COLUMNS, REQUIRED_COLUMNS, "data dictionary"):
        values = {k: v.strip() if k != "field_label" else v for k, v in values.items()}
        name, field_type = values["field_name"], values["field_type"].lower()

        def fail(column: str, message: str, row: int = row) -> RedcapError:
            return RedcapError(source, message, row=row, column=COLUMNS[column][0])

        if not name:
            raise fail("field_name", "the field name is empty")
        if not NAME.match(name):
            raise fail(
                "field_name",
                f"{name!r} is not a REDCap field name (lower-case letters, digits and _, "
                "starting with a letter)",
            )
        if name in seen:
            raise fail("field_name", f"{name!r} is already defined in row {seen[name]}")
        if not values["form_name"]:
            raise fail("form_name", "the form name is empty")
        if not NAME.match(values["form_name"]):
            raise fail("form_name", f"{values['form_name']!r} is not a REDCap form name")
        if field_type not in FIELD_TYPES:
            raise fail(
                "field_type",
                f"{values['field_type']!r} is not a REDCap field type "
                f"(one of {', '.join(sorted(FIELD_TYPES))})",
            )
        seen[name] = row
        fields.append(Field(row=row, **{**values, "field_type": field_type}))
    if not fields:
        raise RedcapError(source, "the dictionary has a header but no fields")
    return fields


EVENT_COLUMNS = {
    "event_name": ("event_name",),
    "arm_num": ("arm_num",),
    "day_offset": ("day_offset",),
    "offset_min": ("offset_min",),
    "offset_max": ("offset_max",),
    "unique_event_name": ("unique_event_name",),
    "custom_event_label": ("custom_event_label",),
}
ARM_COLUMNS = {"arm_num": ("arm_num",), "name": ("name", "arm_name")}
MAPPING_COLUMNS = {
    "arm_num": ("arm_num",),
    "unique_event_name": ("unique_event_name",),
    "form": ("form", "form_name", "instrument"),
}


def unique_event_name(event_name: str, arm_num: str) -> str:
    """REDCap's own rule: lower case, letters and digits, 18 characters, then ``_arm_N``."""
    base = re.sub(r"[^a-z0-9_]", "", event_name.lower().replace(" ", "_"))[:18].rstrip("_")
    return f"{base or 'event'}_arm_{arm_num}"


def _whole(text: str, source: str, row: int, column: str) -> int:
    try:
        return int(float(text))
    except ValueError:
        raise RedcapError(source, f"{text!r} is not a number", row=row, column=column) from None


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Note:
    """One thing not converted (or converted with a caveat), where it came from and why."""

    topic: str
    message: str
    field: str = ""
    row: int | None = None
    source: str = ""

    def __str__(self) -> str:
        where = f"row {self.row} " if self.row else ""
        name = f"`{self.field}` " if self.field else ""
        return f"{where}{name}{self.message}".strip()


def _flat(text: str) -> str:
    """One line: line breaks and runs of spaces become one space."""
    return " ".join(text.split())


TAG = re.compile(r"<[^>]+>")
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"))


def plain(text: str) -> str:
    """A label's text without HTML tags, entities, invisible characters or extra spaces."""
    return _flat(html.unescape(TAG.sub(" ", text)).translate(INVISIBLE))


# --- choices ---------------------------------------------------------------------------------


def parse_choices(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """``"1, Yes | 2, No, never"`` → ([("1", "Yes"), ("2", "No, never")], problems).

    Split on ``|``, then on the first comma only (labels contain commas); codes stay strings.
    """
    choices: list[tuple[str, str]] = []
    problems: list[str] = []
    seen: set[str] = set()
    for part in text.split("|"):
        part = part.strip()
        if not part:
            continue
        code, comma, label = part.partition(",")
        code, label = code.strip(), label.strip()
        if not comma:
            problems.append(f"choice {part!r} has no comma: its code and label are both {part!r}")
            label = code
        elif not code:
            problems.append(f"choice {part!r} has no code: not imported")
            continue
        if code in seen:
            problems.append(
                f"choice code {code!r} appears twice: the second ({label!r}) is dropped"
            )
            continue
        seen.add(code)
        choices.append((code, label or code))
    return choices, problems


# --- validation types ------------------------------------------------------------------------

VALIDATION_ALIASES = {
    "int": "integer",
    "float": "number",
    "date": "date_ymd",
    "datetime": "datetime_ymd",
}

NOT_ENFORCED = {
    "alpha_only": "letters only",
    "email": "an e-mail address",
    "phone": "a North American phone number",
    "phone_australia": "an Australian phone number",
    "postalcode_australia": "an Australian postal code",
    "postalcode_canada": "a Canadian postal code",
    "postalcode_french": "a French postal code",
    "postalcode_germany": "a German postal code",
    "zipcode": "a U.S. ZIP code",
    "ssn": "a U.S. Social Security number",
    "mrn_10d": "a 10-digit medical record number",
    "mrn_generic": "a medical record number",
    "vmrn": "a Vanderbilt medical record number",
    "time": "a time HH:MM",
    "time_hh_mm_ss": "a time HH:MM:SS",
    "time_mm_ss": "a duration MM:SS",
}
"""Validation types kept as plain text: hepatrial has no such check (or no time type)."""

NUMBER = re.compile(r"^number(?:_(\d)dp)?(_comma_decimal)?$")
DATE = re.compile(r"^(date|datetime|datetime_seconds)_(ymd|dmy|mdy)$")


@dataclass(frozen=True)
class TextType:
    data_type: str
    notes: tuple[str, ...] = ()
    date_order: str = ""


def text_type(validation: str) -> TextType:
    """The data type for a ``text`` field with REDCap validation ``validation`` (may be empty)."""
    v = VALIDATION_ALIASES.get(validation.lower(), validation.lower())
    if not v:
        return TextType("text")
    if v == "integer":
        return TextType("integer")
    if m := NUMBER.match(v):
        notes = []
        if m.group(1):
            notes.append(
                f"REDCap requires exactly {m.group(1)} decimal place(s); hepatrial does not"
            )
        if m.group(2):
            notes.append(
                "REDCap writes these numbers with a decimal comma (1,5); convert to a point "
                "when loading data"
            )
        return TextType("float", tuple(notes))
    if m := DATE.match(v):
        kind = "date" if m.group(1) == "date" else "datetime"
        order = m.group(2)
        notes = ()
        if order != "ymd":
            notes = (
                f"REDCap shows it as {'-'.join(order.upper())}; hepatrial shows YYYY-MM-DD "
                "(REDCap's exports use YYYY-MM-DD too)",
            )
        return TextType(kind, notes, order)
    if v in NOT_ENFORCED:
        return TextType(
            "text",
            (
                f"REDCap checks it is {NOT_ENFORCED[v]} ({v}); hepatrial keeps it "
                "as text without that check",
            ),
        )
    return TextType(
        "text", (f"unknown validation type {validation!r}: kept as text without a check",)
    )


def parse_number(text: str) -> float | None:
    """A numeric limit, or None when it is not a plain number (``today``, ``[field]``...)."""
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def parse_date_limit(text: str, order: str) -> dt.date | None:
    """A date limit in the field's own display order (``1/1/1900`` for dmy); None if not a date."""
    parts = re.split(r"[-/.\s]+", text.strip())[:3]
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    positions = {"ymd": (0, 1, 2), "dmy": (2, 1, 0), "mdy": (2, 0, 1)}[order or "ymd"]
    year, month, day = (int(parts[i]) for i in positions)
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


# --- units -----------------------------------------------------------------------------------

QUANTITY_WORDS: dict[str, tuple[str, ...]] = {
    "bilirubin": ("bilirubin",),
    "creatinine": ("creatinine",),
    "albumin": ("albumin",),
    "sodium": ("sodium",),
    "enzyme_activity": (
        "alt",
        "ast",
        "alp",
        "ggt",
        "aminotransferase",
        "phosphatase",
        "transferase",
    ),
    "prothrombin_time": ("prothrombin",),
    "ratio": ("inr", "ratio"),
    "body_weight": ("weight",),
    "body_height": ("height",),
    "temperature": ("temperature", "temp"),
    "heart_rate": ("heart rate", "pulse"),
    "blood_pressure": ("blood pressure", "bp", "systolic", "diastolic"),
    "percent": (),
    "volume": ("volume",),
    "duration": ("duration",),
    "age": ("age",),
}
"""A unit is only given an item whose label or name mentions the quantity: ``mmol/L`` fits
sodium, but potassium in mmol/L is not sodium. An empty tuple: the unit alone says it (%)."""

LABEL_UNIT = re.compile(r"\(([^()]*)\)\s*$")


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    folded = text.casefold().replace("_", " ")
    return not words or any(re.search(rf"\b{re.escape(w)}\b", folded) for w in words)


def find_quantity(unit_texts: list[str], context: str) -> tuple[str, list[str]] | None:
    """(quantity, registry symbols) when every unit text is a unit of one quantity that
    ``context`` (label and field name) mentions; None otherwise."""
    for name, words in QUANTITY_WORDS.items():
        if not _mentions(context, words):
            continue
        try:
            symbols = [resolve_unit(name, u).symbol for u in unit_texts]
        except UnitError:
            continue
        return name, list(dict.fromkeys(symbols))
    return None


def label_units(label: str) -> list[str]:
    """Unit texts in a trailing parenthesis: ``Sodium (mmol/L or mEq/L)`` → [mmol/L, mEq/L]."""
    m = LABEL_UNIT.search(label)
    if not m:
        return []
    return [u for u in re.split(r"\s+or\s+|\s*[,;]\s*", m.group(1).strip()) if u]


# --- building the protocol -------------------------------------------------------------------


def _label(text: str) -> dict[str, str]:
    """English from REDCap; the Chinese key holds the same text until someone translates it."""
    return {"en": text, "zh": text}


@dataclass
class Imported:
    """The protocol document and the notes; :meth:`report` is the written report."""

    document: dict
    notes: list[Note] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)

    def yaml(self) -> str:
        header = (
            "# Imported from REDCap by `hepatrial protocol import-redcap`.\n"
            f"# Sources: {', '.join(f'{k} {v}' for k, v in self.sources.items())}\n"
            "# Sections marked PLACEHOLDER are not in a REDCap project: write them before use.\n"
            "# Chinese labels (zh) repeat the English text until translated.\n"
            "# The import report beside this file lists everything not converted.\n"
        )
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return header + yaml.dump(
            self.document, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100
        )

    def topics(self) -> Counter:
        return Counter(n.topic for n in self.notes)

    def summary(self) -> str:
        c = self.counts
        lines = [
            f"imported {c['fields']} REDCap fields into {c['items']} items on {c['forms']} forms, "
            f"{c['events']} events, {c['arms']} arms",
            f"{len(self.notes)} notes on what was not converted:",
        ]
        lines += [f"  {count:4d}  {topic}" for topic, count in sorted(self.topics().items())]
        return "\n".join(lines)

    def report(self) -> str:
        out = ["# REDCap import report", ""]
        out += [f"- {k}: `{v}`" for k, v in self.sources.items()]
        out += ["", "```", self.summary(), "```", ""]
        by_topic: dict[str, list[Note]] = {}
        for note in self.notes:
            by_topic.setdefault(note.topic, []).append(note)
        for topic in sorted(by_topic):
            out += [f"## {topic} ({len(by_topic[topic])})", ""]
            out += [f"- {note}" for note in by_topic[topic]]
            out.append("")
        return "\n".join(out)


class _Builder:
    def __init__(self, fields: list[Field], source: str):
        self.fields = fields
        self.source = source
        self.names = {f.field_name: f for f in fields}
        self.notes: list[Note] = []
        self.counts: Counter = Counter(fields=len(fields))

    def note(self, topic: str, message: str, f: Field | None = None) -> None:
        self.notes.append(
            Note(topic, message, f.field_name if f else "", f.row if f else None, self.source)
        )

    # items ----------------------------------------------------------------------------------

    def items(self, f: Field) -> list[dict]:
        self._layout_notes(f)
        label = plain(f.field_label)
        if not label:
            label = f.field_name
            if f.field_type != "descriptive":
                self.note("labels", "has no label: the field name stands in", f)
        elif label != _flat(f.field_label):
            self.note("labels", "label HTML or invisible characters removed", f)
        kind = f.field_type
        if kind == "descriptive":
            self.note("not imported", f"descriptive text (no value to capture): {label[:120]!r}", f)
            return []
        if kind == "file":
            what = "signature" if f.validation.lower() == "signature" else "file upload"
            self.note("not imported", f"{what}: the protocol has no file items", f)
            return []
        if kind == "sql":
            self.note("not imported", f"dynamic SQL field ({_flat(f.choices)!r}): no equivalent", f)
            return []
        if kind == "checkbox":
            return self._checkbox(f, label)
        item: dict = {"oid": f.field_name, "label": _label(label)}
        if kind in ("radio", "dropdown"):
            self._choice(f, item)
        elif kind in ("yesno", "truefalse"):
            item["data_type"] = "boolean"
            if kind == "truefalse":
                self.note(
                    "types", "true/false kept as a yes/no (boolean) item: 1 = true, 0 = false", f
                )
        elif kind == "notes":
            item["data_type"] = "text"
        elif kind == "slider":
            self._slider(f, item)
        elif kind == "calc":
            item["data_type"] = "float"
            self.note(
                "calculations",
                f"calculated in REDCap as `{_flat(f.choices)}`; the protocol computes only its "
                "registered scores, so this is a plain number item (imported values are kept "
                "as given)",
                f,
            )
        else:
            self._text(f, item)
        if f.required.lower() == "y" and f.branching_logic.strip():
            self.note(
                "required",
                "required only when shown (branching logic): the protocol cannot make an item "
                "required on a condition, so it is not required",
                f,
            )
        elif f.required.lower() == "y":
            item["required"] = True
        if f.identifier.lower() == "y":
            item["identifier"] = True
        if f.choices and kind in ("text", "notes", "yesno", "truefalse"):
            if f.choices.strip().upper().startswith("BIOPORTAL:"):
                self.note(
                    "ontology lookups",
                    f"REDCap looks values up in {f.choices.strip()}; kept as text (the code as "
                    "entered), without the lookup",
                    f,
                )
            else:
                self.note(
                    "ignored cells", f"choices cell {_flat(f.choices)!r} on a {kind} field", f
                )
        return [item]

    def _layout_notes(self, f: Field) -> None:
        if f.section_header.strip():
            self.note(
                "section headers",
                f"section header {plain(f.section_header)!r} before this field: forms have no "
                "sections",
                f,
            )
        if f.field_note:
            self.note(
                "field notes", f"field note {plain(f.field_note)!r}: items have no help text", f
            )
        if f.branching_logic:
            self.note(
                "branching logic",
                f"shown only if `{_flat(f.branching_logic)}`: the protocol has no conditional "
                "display, so the item is always shown",
                f,
            )
        if f.annotation:
            self.note(
                "annotations",
                f"annotation `{_flat(f.annotation)}`: action tags and mapping notes are not "
                "interpreted",
                f,
            )
        if f.custom_alignment:
            self.note("layout", f"custom alignment {f.custom_alignment!r} not kept", f)
        if f.question_number:
            self.note("layout", f"survey question number {f.question_number!r} not kept", f)
        if f.validation.lower() == "autocomplete":
            self.note("layout", "autocomplete (a widget hint on a dropdown) not kept", f)

    def _choices(self, f: Field) -> list[dict]:
        choices, problems = parse_choices(f.choices)
        for problem in problems:
            self.note("choices", problem, f)
        return [{"code": code, "label": _label(plain(label) or code)} for code, label in choices]

    def _choice(self, f: Field, item: dict) -> None:
        choices = self._choices(f)
        if choices:
            item["data_type"] = "choice"
            item["choices"] = choices
        else:
            item["data_type"] = "text"
            self.note("choices", f"a {f.field_type} field with no choices: kept as text", f)

    def _checkbox(self, f: Field, label: str) -> list[dict]:
        items = []
        for choice in self._choices(f):
            suffix = re.sub(r"[^a-z0-9_]", "_", choice["code"].lower())
            oid = f"{f.field_name}___{suffix}"
            if oid in self.names or any(i["oid"] == oid for i in items):
                self.note(
                    "choices",
                    f"option {choice['code']!r} would repeat the name {oid}: not imported",
                    f,
                )
                continue
            items.append(
                {
                    "oid": oid,
                    "label": _label(f"{label}: {choice['label']['en']}"),
                    "data_type": "boolean",
                }
            )
        if items:
            self.note(
                "checkboxes",
                f"checkbox expanded into {len(items)} yes/no items "
                f"{', '.join(i['oid'] for i in items)} (REDCap's export columns)"
                + (
                    "; 'required' (at least one ticked) is not enforced"
                    if f.required.lower() == "y"
                    else ""
                ),
                f,
            )
        else:
            self.note("not imported", "a checkbox field with no options", f)
        if f.identifier.lower() == "y":
            for item in items:
                item["identifier"] = True
        return items

    def _slider(self, f: Field, item: dict) -> None:
        item["data_type"] = "integer"
        low = parse_number(f.validation_min) if f.validation_min else 0.0
        high = parse_number(f.validation_max) if f.validation_max else 100.0
        if low is None or high is None or low > high:
            self.note(
                "ranges",
                f"slider range {f.validation_min!r}–{f.validation_max!r} not understood: "
                "0–100 used",
                f,
            )
            low, high = 0.0, 100.0
        item["hard_range"] = {"low": low, "high": high}
        if f.choices:
            self.note(
                "layout",
                f"slider labels {_flat(f.choices)!r} not kept (integer item {low:g}–{high:g})",
                f,
            )
        if f.validation and f.validation.lower() != "number":
            self.note("layout", f"slider setting {f.validation!r} not kept", f)
        elif f.validation:
            self.note("layout", "slider 'show number' setting not kept", f)

    def _text(self, f: Field, item: dict) -> None:
        t = text_type(f.validation)
        item["data_type"] = t.data_type
        for message in t.notes:
            self.note("validation", message, f)
        units = label_units(plain(f.field_label))
        context = f"{plain(f.field_label)} {f.field_name}"
        if t.data_type not in ("integer", "float") and units and find_quantity(units, context):
            self.note(
                "source mistakes?",
                f"the label names a unit ({', '.join(units)}) but REDCap validates the field "
                f"as {f.validation or 'free text'}: kept as a {t.data_type} item; check the "
                "source project",
                f,
            )
        if not (f.validation_min or f.validation_max):
            if t.data_type in ("integer", "float"):
                self._units(f, item)
            return
        if t.data_type in ("integer", "float"):
            low = parse_number(f.validation_min) if f.validation_min else None
            high = parse_number(f.validation_max) if f.validation_max else None
            bad = [
                v for v, p in ((f.validation_min, low), (f.validation_max, high)) if v and p is None
            ]
            if bad:
                self.note("ranges", f"limits {bad} are not numbers: not kept", f)
            if low is not None and high is not None and low > high:
                self.note("ranges", f"minimum {low:g} is above maximum {high:g}: range not kept", f)
            elif low is not None or high is not None:
                item["hard_range"] = {
                    k: v for k, v in (("low", low), ("high", high)) if v is not None
                }
            self._units(f, item)
            return
        limits = []
        for name, text in (("minimum", f.validation_min), ("maximum", f.validation_max)):
            if not text:
                continue
            if text.lower() in ("today", "now"):
                limits.append(f"{name} {text} (the day of entry)")
            elif t.date_order and (d := parse_date_limit(text, t.date_order)):
                limits.append(f"{name} {text} ({d.isoformat()})")
            else:
                limits.append(f"{name} {text!r}")
        self.note(
            "ranges",
            f"{'; '.join(limits)} not kept: protocol ranges are for numbers, this is a "
            f"{t.data_type} item",
            f,
        )

    def _units(self, f: Field, item: dict) -> None:
        context = f"{plain(f.field_label)} {f.field_name}"
        sibling = next(
            (
                self.names[n]
                for n in (f"{f.field_name}_units", f"{f.field_name}_unit")
                if n in self.names
            ),
            None,
        )
        if sibling is not None:
            choices, _ = parse_choices(sibling.choices)
            texts = [plain(label) for _, label in choices]
            found = find_quantity(texts, context)
            if found:
                quantity, symbols = found
                self._set_units(item, quantity, symbols)
                self.note(
                    "units",
                    f"takes its unit from {sibling.field_name} ({', '.join(texts)}): units "
                    f"{', '.join(symbols)} of {quantity} with canonical {item['canonical_unit']}; "
                    f"{sibling.field_name} is kept as a choice item and a data import pairs them",
                    f,
                )
            else:
                self.note(
                    "units",
                    f"takes its unit from {sibling.field_name} ({', '.join(texts)}), which are not "
                    "all units of one quantity in hepatrial's unit registry: the item has no unit "
                    f"and {sibling.field_name} is kept as a choice item beside it",
                    f,
                )
            return
        texts = label_units(plain(f.field_label))
        if not texts:
            return
        found = find_quantity(texts, context)
        if found:
            self._set_units(item, *found)
        else:
            self.note(
                "units",
                f"label ends in ({', '.join(texts)}): not a unit of a quantity in hepatrial's unit "
                "registry that this field names, so it stays in the label only",
                f,
            )

    @staticmethod
    def _set_units(item: dict, quantity: str, symbols: list[str]) -> None:
        canonical = QUANTITIES[quantity].canonical
        item["quantity"] = quantity
        item["units"] = symbols
        item["canonical_unit"] = canonical if canonical in symbols else symbols[0]

    # forms ----------------------------------------------------------------------------------

    def forms(self) -> list[dict]:
        forms: dict[str, dict] = {}
        matrix: dict[str, list[Field]] = {}
        for f in self.fields:
            form = forms.setdefault(
                f.form_name,
                {
                    "oid": f.form_name,
                    "label": _label(f.form_name.replace("_", " ").capitalize()),
                    "events": [],
                    "items": [],
                    "row": f.row,
                },
            )
            form["items"] += self.items(f)
            if f.matrix_group:
                matrix.setdefault(f.matrix_group, []).append(f)
        for group, members in matrix.items():
            ranking = any(m.matrix_ranking.lower() == "y" for m in members)
            self.note(
                "layout",
                f"matrix group {group!r} ({', '.join(m.field_name for m in members)}) is a grid "
                "in REDCap; imported as separate items" + ("; ranking not kept" if ranking else ""),
                members[0],
            )
        out = []
        for form in forms.values():
            row = form.pop("row")
            if not form["items"]:
                self.notes.append(
                    Note(
                        "not imported",
                        f"form {form['oid']} has no field that can be captured",
                        "",
                        row,
                        self.source,
                    )
                )
                continue
            out.append(form)
        self.counts["forms"] = len(out)
        self.counts["items"] = sum(len(f["items"]) for f in out)
        return out


def _placeholder(text: str) -> dict[str, str]:
    return _label(f"PLACEHOLDER: {text}")


def import_project(
    dictionary: str | Path,
    events: str | Path | None = None,
    mapping: str | Path | None = None,
    arms: str | Path | None = None,
    *,
    today: dt.date | None = None,
    records: str | Path | None = None,
) -> Imported:
    """Read the REDCap files and build the protocol document with its notes.

    ``records``, the project's flat records export, places the forms on the events they hold
    data at when no mapping is given, and marks the repeating instruments and events."""
    source = str(dictionary)
    builder = _Builder(read_dictionary(_read_text(dictionary), source), Path(source).name)
    forms = builder.forms()
    notes = builder.notes
    sources = {"dictionary": source}

    def scaffold(what: str, message: str) -> None:
        notes.append(Note("placeholders (not in REDCap)", f"{what}: {message}", source=source))

    arm_rows: dict[str, str] = {}
    if arms:
        sources["arms"] = str(arms)
        for row, values in _table(
            _read_text(arms), str(arms), ARM_COLUMNS, ("arm_num", "name"), "arms file"
        ):
            num = str(_whole(values["arm_num"], str(arms), row, "arm_num"))
            if num in arm_rows:
                raise RedcapError(
                    str(arms), f"arm {num} is listed twice", row=row, column="arm_num"
                )
            arm_rows[num] = values["name"].strip() or f"Arm {num}"

    event_docs: list[dict] = []
    event_arm: dict[str, str] = {}
    if events:
        sources["events"] = str(events)
        for row, values in _table(
            _read_text(events), str(events), EVENT_COLUMNS, ("event_name", "arm_num"), "events file"
        ):
            src = str(events)
            num = str(_whole(values["arm_num"], src, row, "arm_num"))
            name = values["event_name"].strip()
            if not name:
                raise RedcapError(src, "the event name is empty", row=row, column="event_name")
            oid = values.get("unique_event_name", "").strip() or unique_event_name(name, num)
            if not re.match(r"^[A-Za-z][A-Za-z0-9_.]{0,63}$", oid):
                raise RedcapError(
                    src, f"{oid!r} is not a unique event name", row=row, column="unique_event_name"
                )
            if oid in event_arm:
                raise RedcapError(
                    src, f"event {oid!r} is listed twice", row=row, column="unique_event_name"
                )
            event_arm[oid] = num
            arm_rows.setdefault(num, f"Arm {num}")
            label = values.get("custom_event_label", "").strip() or name
            doc: dict = {"oid": oid, "label": _label(label)}
            if values.get("day_offset", "").strip():
                day = _whole(values["day_offset"], src, row, "day_offset")
                before = _whole(values.get("offset_min") or "0", src, row, "offset_min")
                after = _whole(values.get("offset_max") or "0", src, row, "offset_max")
                doc |= {
                    "kind": "scheduled",
                    "day": day,
                    "window": {"before": before, "after": after},
                }
            else:
                doc["kind"] = "unscheduled"
                notes.append(
                    Note(
                        "events",
                        "no day offset in the events file: imported as an "
                        "unscheduled event; give it a study day and window",
                        oid,
                        row,
                        src,
                    )
                )
            doc["arms"] = [f"ARM{num}"]
            doc["_row"] = row
            event_docs.append(doc)
        _demote_overlaps(event_docs, notes, str(events))
        for doc in event_docs:
            doc.pop("_row")
        if len(set(event_arm.values())) > 1 or arm_rows:
            scaffold(
                "events",
                "day 0 in hepatrial is the day of randomization; REDCap's day offsets "
                "count from the first event; check each event's study day",
            )

    if not event_docs:
        event_docs = [{"oid": "RECORD", "label": _label("Record"), "kind": "unscheduled"}]
        scaffold(
            "events",
            "a classic REDCap project has no events: one unscheduled event RECORD holds every form",
        )
        for form in forms:
            form["events"] = ["RECORD"]

    form_oids = {f["oid"] for f in forms}
    if mapping:
        src = str(mapping)
        sources["mapping"] = src
        by_oid = {f["oid"]: f for f in forms}
        for row, values in _table(
            _read_text(mapping),
            src,
            MAPPING_COLUMNS,
            ("unique_event_name", "form"),
            "form-event mapping",
        ):
            event, form = values["unique_event_name"].strip(), values["form"].strip()
            if event not in event_arm:
                raise RedcapError(
                    src, f"unknown event {event!r}", row=row, column="unique_event_name"
                )
            if form not in form_oids:
                known = {f.form_name for f in builder.fields}
                if form in known:
                    notes.append(
                        Note(
                            "events",
                            f"form {form} was not imported, so its mapping to {event} is dropped",
                            "",
                            row,
                            src,
                        )
                    )
                    continue
                raise RedcapError(src, f"unknown form {form!r}", row=row, column="form")
            if event not in by_oid[form]["events"]:
                by_oid[form]["events"].append(event)
    elif events:
        notes.append(
            Note(
                "events",
                "no form-event mapping given (--mapping): forms are on no event; "
                "list each form's events",
                source=source,
            )
        )

    if records:
        sources["records"] = str(records)
        _apply_records(records, forms, event_docs, notes, mapped=bool(mapping))

    arm_docs = [
        {"code": f"ARM{num}", "label": _label(name), "ratio": 1, "interventions": []}
        for num, name in sorted(arm_rows.items(), key=lambda kv: int(kv[0]))
    ]
    if arm_docs:
        scaffold(
            "arms",
            "REDCap arms have no interventions, doses or allocation ratio: ratio 1 "
            "and no interventions written; describe each arm's interventions",
        )
    while len(arm_docs) < 2:
        code = f"ARM_PLACEHOLDER_{len(arm_docs) + 1}"
        arm_docs.append(
            {
                "code": code,
                "label": _placeholder(f"arm {len(arm_docs) + 1}"),
                "ratio": 1,
                "interventions": [],
            }
        )
        scaffold("arms", f"{code} added: a protocol has at least two arms")

    first_item = next((i["oid"] for f in forms for i in f["items"]), None)
    if first_item is None:
        raise RedcapError(source, "no field can be captured (only descriptive, file or SQL fields)")
    stem = Path(source).stem
    today = today or dt.date.today()
    study = {
        "registry_id": f"REDCAP-{stem}",
        "protocol_version": "0.1",
        "title": _placeholder(f"title of the study imported from {Path(source).name}"),
        "short_title": _label(stem.replace("_", " ")),
        "sponsor": "PLACEHOLDER",
        "sites": [{"code": "SITE1", "name": _placeholder("site")}],
        "target_enrolment": 1,
        "enrolment_period": {"start": today, "months": 12},
        "masking": {"level": "none", "masked_roles": []},
        "registered_outcomes": [
            {
                "code": "O1",
                "kind": "primary",
                "label": _placeholder("primary outcome"),
                "time_frame_days": 1,
            }
        ],
    }
    for what in (
        "study (title, sponsor, sites, target enrolment, enrolment period, masking, "
        "registered outcomes)",
        "randomization (none: participants are enrolled without randomization; write the "
        "method, block sizes and strata to randomize)",
        "eligibility (one placeholder criterion)",
        f"analysis (population, timepoint and one endpoint on {first_item})",
    ):
        scaffold(what, "written as a placeholder")
    document = {
        "study": study,
        "arms": arm_docs,
        "randomization": {"method": "none"},
        "eligibility": [
            {
                "oid": re.sub(r"\W+", "_", f"{stem}_inclusion_1"),  # like the project's fields
                "kind": "inclusion",
                "label": _placeholder("inclusion criterion"),
                "qualifying_answer": "yes",
            }
        ],
        "events": event_docs,
        "forms": forms,
        "analysis": {
            "populations": [
                {
                    "code": "ALL",
                    "label": _placeholder("population"),
                    "definition": "PLACEHOLDER: every enrolled participant",
                }
            ],
            "timepoints": [
                {"code": "T1", "event": event_docs[0]["oid"], "day": event_docs[0].get("day", 0)}
            ],
            "endpoints": [],
        },
    }
    scaffold(
        "analysis",
        "a REDCap project has no analysis plan: no endpoints written; "
        "write the endpoints before `hepatrial analyze` can run",
    )
    labels = sum(1 for _ in _labels(document))
    notes.append(
        Note(
            "translations",
            f"{labels} labels have no Chinese text in REDCap: the zh "
            "key repeats the English until translated",
            source=source,
        )
    )
    builder.counts["events"] = len(event_docs)
    builder.counts["arms"] = len(arm_docs)
    return Imported(document, notes, sources, builder.counts)


def _labels(node: object) -> Iterable[dict]:
    if isinstance(node, dict):
        if set(node) == {"en", "zh"}:
            yield node
            return
        for value in node.values():
            yield from _labels(value)
    elif isinstance(node, list):
        for value in node:
            yield from _labels(value)


def _demote_overlaps(events: list[dict], notes: list[Note], source: str) -> None:
    """Scheduled windows may not overlap within an arm: a later overlapping event becomes
    unscheduled, with a note."""
    for arm in {a for e in events for a in e["arms"]}:
        timed = sorted(
            (e for e in events if e["kind"] == "scheduled" and arm in e["arms"]),
            key=lambda e: e["day"],
        )
        end = None
        for event in timed:
            start = event["day"] - event["window"]["before"]
            if end is not None and start <= end:
                notes.append(
                    Note(
                        "events",
                        f"window (from day {start}) overlaps the previous "
                        "event's: imported as unscheduled",
                        event["oid"],
                        event["_row"],
                        source,
                    )
                )
                event["kind"] = "unscheduled"
                del event["day"], event["window"]
                continue
            end = event["day"] + event["window"]["after"]


def _apply_records(
    records: str | Path, forms: list[dict], events: list[dict], notes: list[Note], *, mapped: bool
) -> None:
    """Forms on the events they hold data at (unless a mapping was given), repeating
    instruments and repeating events, as the records export shows them."""
    from hepatrial.interop.redcap_data import EVENT, infer_design, read_records

    data = read_records(records)
    src = data.source
    by_oid = {f["oid"]: f for f in forms}
    columns = {f["oid"]: {i["oid"] for i in f["items"]} | {f"{f['oid']}_complete"} for f in forms}
    known_events = {e["oid"]: e for e in events}
    default = events[0]["oid"] if len(events) == 1 else ""
    if not data.longitudinal and len(events) > 1:
        raise RedcapError(src, f"no {EVENT} column, but the project has {len(events)} events",
                          row=1)  # fmt: skip
    for row in data.rows:
        event = row.get(EVENT) if data.longitudinal else default
        if event not in known_events:
            raise RedcapError(src, f"unknown event {event!r}", row=row.number, column=EVENT)
    design = infer_design(data, columns, default)
    if not mapped and data.longitudinal:
        for event, found in design.forms_at.items():
            for form in found:
                if event not in by_oid[form]["events"]:
                    by_oid[form]["events"].append(event)
        for form in forms:
            placed = ", ".join(form["events"]) or "no event (no data in the records)"
            notes.append(Note("events", f"placed on {placed} from the records export (no "
                              "mapping file): check it against the project", form["oid"],
                              source=src))  # fmt: skip
    for form in sorted(design.repeating_forms):
        if form in by_oid:
            by_oid[form]["repeating"] = True
            notes.append(Note("repeating", "a repeating instrument in the records export: "
                              "imported as a repeating form", form, source=src))  # fmt: skip
    for event in sorted(design.repeating_events):
        doc = known_events[event]
        if doc["kind"] == "unscheduled":
            doc["repeats"] = True
            message = "a repeating event in the records export: an unscheduled event that repeats"
            notes.append(Note("repeating", message, event, source=src))
        else:
            notes.append(Note("repeating", "a repeating event in the records export, but "
                              "scheduled at a study day: kept once; make it unscheduled to "
                              "load its later instances", event, source=src))  # fmt: skip
