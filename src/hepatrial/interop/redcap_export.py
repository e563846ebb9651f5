"""A hepatrial protocol and its values in REDCap's import formats (no Django).

Written, so that a trial can be opened in REDCap:

- ``data_dictionary.csv``: the data dictionary (REDCap's web headers, in its column order);
- ``events.csv``, ``arms.csv``, ``instrument_designations.csv``: the events (``event_name,
  arm_num, day_offset, offset_min, offset_max, unique_event_name, custom_event_label``), one
  arm and the form-event mapping, for a longitudinal project;
- ``repeating_instruments.csv``: the repeating forms (``event_name, form_name,
  custom_form_label``, REDCap's "repeating instruments and events" upload);
- ``records.csv``: the flat records export (raw codes), one row per participant and event,
  plus one per instance of a repeating form.

What becomes what: an item OID becomes a REDCap name (lower case, ``_`` for anything else:
``I.TBIL`` → ``i_tbil``); ``integer``/``float``/``date``/``datetime`` are text fields validated
``integer``/``number``/``date_ymd``/``datetime_ymd`` (a hard range becomes min/max when the
item has one unit); ``boolean`` is ``yesno``; ``choice`` is ``radio``. An item with several
units gets a sibling radio ``<name>_units`` holding the unit each value was entered in (what
``protocol import-redcap`` pairs back); one unit is written in the label. The record ID
``record_id`` (the screening number) is the first field of the first form; a protocol imported
from REDCap keeps its own record ID field and values. Missing statuses
are REDCap missing-data codes: not applicable ``NA``, unknown ``UNK``, not done ``NASK``.
Labels are in English (a REDCap dictionary has one language); derived scores are not exported
(REDCap would compute them with its own calc syntax).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from hepatrial.interop.redcap import unique_event_name
from hepatrial.interop.redcap_data import STATUS_CODES, unit_siblings
from hepatrial.protocol.model import DataType, Event, EventKind, Form, Item, Protocol

DICTIONARY_HEADER = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?",
    "Field Annotation",
]  # fmt: skip
RECORD_ID = "record_id"
VALIDATION = {DataType.INTEGER: "integer", DataType.FLOAT: "number", DataType.DATE: "date_ymd",
              DataType.DATETIME: "datetime_ymd"}  # fmt: skip


def redcap_name(oid: str) -> str:
    """A REDCap field or form name for a protocol OID: ``I.TBIL`` → ``i_tbil``."""
    name = re.sub(r"_+", "_", re.sub(r"[^a-z0-9_]", "_", oid.lower())).strip("_")
    return name if re.match(r"^[a-z]", name) else f"f_{name}"


def _number(value: float) -> str:
    return f"{value:g}"


@dataclass
class Project:
    """The REDCap project a protocol becomes, with the name of everything in it."""

    protocol: Protocol
    forms: list[Form]
    events: list[Event]
    field_of: dict[str, str] = field(default_factory=dict)
    """Item OID → field name."""
    form_of: dict[str, str] = field(default_factory=dict)
    event_of: dict[str, str] = field(default_factory=dict)
    """Event OID → unique event name."""
    event_name: dict[str, str] = field(default_factory=dict)
    unit_field: dict[str, str] = field(default_factory=dict)
    """Item OID → its ``_units`` field, for items with several units."""
    dictionary: list[list[str]] = field(default_factory=list)
    record_item: str = ""
    """The item that is the record ID, in a protocol imported from REDCap (its first item)."""
    paired: set[str] = field(default_factory=set)
    """Items whose unit already has its own ``_units`` choice item (a REDCap import)."""

    def columns(self) -> list[str]:
        """The records file's columns: the record ID, REDCap's own, then every field."""
        names = [RECORD_ID, "redcap_event_name", "redcap_repeat_instrument",
                 "redcap_repeat_instance"]  # fmt: skip
        return names + [row[0] for row in self.dictionary if row[0] != RECORD_ID]


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name}_{n}"
        n += 1
    taken.add(candidate)
    return candidate


def _field_rows(project: Project, form: Form, item: Item, taken: set[str]) -> list[list[str]]:
    name = _unique(redcap_name(item.oid), taken)
    project.field_of[item.oid] = name
    form_name = project.form_of[form.oid]
    label = item.label.en
    kind = item.data_type
    field_type, choices, validation, low, high = "text", "", "", "", ""
    if kind == DataType.CHOICE:
        field_type = "radio"
        choices = " | ".join(f"{c.code}, {c.label.en}" for c in item.choices)
    elif kind == DataType.BOOLEAN:
        field_type = "yesno"
    elif kind in VALIDATION:
        validation = VALIDATION[kind]
    if len(item.units) == 1:
        label = f"{label} ({item.units[0]})"
    if item.hard_range and kind in (DataType.INTEGER, DataType.FLOAT) and len(item.units) <= 1:
        low = _number(item.hard_range.low) if item.hard_range.low is not None else ""
        high = _number(item.hard_range.high) if item.hard_range.high is not None else ""
    rows = [[name, form_name, "", field_type, label, choices, "", validation, low, high,
             "y" if item.identifier else "", "", "y" if item.required else "", "", "", "", "",
             ""]]  # fmt: skip
    if len(item.units) > 1 and item.oid not in project.paired:
        units = _unique(f"{name}_units", taken)
        project.unit_field[item.oid] = units
        choices = " | ".join(f"{i}, {u}" for i, u in enumerate(item.units, start=1))
        rows.append([units, form_name, "", "radio", f"{item.label.en}: unit", choices, "", "",
                     "", "", "", "", "", "", "", "", "", ""])  # fmt: skip
    return rows


def build_project(protocol: Protocol, *, leave_out: Iterable[str] = ()) -> Project:
    """The REDCap project of ``protocol``; ``leave_out``: forms a blinded export does not show."""
    hidden = set(leave_out)
    forms = [f for f in protocol.forms if f.oid not in hidden]
    every_arm = {a.code for a in protocol.arms}
    events = [  # an event only some arms have would tell the arm (without randomization, not)
        e
        for e in protocol.events
        if not protocol.randomized or set(e.arms or every_arm) == every_arm
    ]
    project = Project(protocol, forms, events, paired=set(unit_siblings(protocol)))
    taken_forms: set[str] = set()
    for form in forms:
        project.form_of[form.oid] = _unique(redcap_name(form.oid), taken_forms)
    first_item = forms[0].items[0]
    taken: set[str] = set()
    if redcap_name(first_item.oid) == RECORD_ID:  # back to REDCap: its own record IDs
        project.record_item = first_item.oid
    else:
        taken.add(RECORD_ID)
        first = project.form_of[forms[0].oid]
        project.dictionary.append([RECORD_ID, first, "", "text", "Record ID (screening number)",
                                   *[""] * 13])  # fmt: skip
    for form in forms:
        for item in form.items:
            project.dictionary += _field_rows(project, form, item, taken)
    names: set[str] = set()
    for event in events:
        name = event.label.en
        if unique_event_name(name, "1") in names:
            name = event.oid
        names.add(unique_event_name(name, "1"))
        project.event_name[event.oid] = name
        project.event_of[event.oid] = unique_event_name(name, "1")
    return project


def _csv(rows: Iterable[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(rows)
    return out.getvalue()


def dictionary_csv(project: Project) -> str:
    return _csv([DICTIONARY_HEADER, *project.dictionary])


def events_csv(project: Project) -> str:
    rows = [["event_name", "arm_num", "day_offset", "offset_min", "offset_max",
             "unique_event_name", "custom_event_label"]]  # fmt: skip
    for event in project.events:
        timed = event.kind in (EventKind.SCREENING, EventKind.SCHEDULED) and event.day is not None
        window = event.window
        rows.append([
            project.event_name[event.oid], "1", str(event.day) if timed else "",
            str(window.before) if timed and window else "",
            str(window.after) if timed and window else "",
            project.event_of[event.oid], event.label.en,
        ])  # fmt: skip
    return _csv(rows)


def arms_csv(label: str) -> str:
    return _csv([["arm_num", "name"], ["1", label]])


def mapping_csv(project: Project) -> str:
    rows = [["arm_num", "unique_event_name", "form"]]
    for event in project.events:
        for form in project.forms:
            if event.oid in form.events:
                rows.append(["1", project.event_of[event.oid], project.form_of[form.oid]])
    return _csv(rows)


def repeating_csv(project: Project) -> str:
    rows = [["event_name", "form_name", "custom_form_label"]]
    for form in project.forms:
        if form.repeating:
            for event in form.events:
                if event in project.event_of:
                    rows.append([project.event_of[event], project.form_of[form.oid], ""])
    return _csv(rows)


@dataclass(frozen=True)
class StoredValue:
    """One saved value as the database holds it."""

    item_oid: str
    status: str
    text: str
    unit_entered: str
    normalized_text: str


def cell(item: Item, value: StoredValue) -> str:
    """The raw-code REDCap cell for a stored value."""
    if value.status != "value":
        return STATUS_CODES.get(value.status, "")
    kind = item.data_type
    if kind == DataType.BOOLEAN:
        return "1" if value.normalized_text == "true" else "0"
    if kind == DataType.CHOICE or kind == DataType.DATE:
        return value.normalized_text or value.text
    if kind == DataType.DATETIME:
        return (value.normalized_text or value.text).replace("T", " ")[:16]
    return value.text


@dataclass(frozen=True)
class FormInstance:
    """The values of one form record: participant, event, visit repeat, form, form repeat."""

    record: str
    event_oid: str
    visit_repeat: int
    form_oid: str
    repeat: int
    values: list[StoredValue]


def records_rows(project: Project, instances: Iterable[FormInstance]) -> list[list[str]]:
    """The flat records export: one row per record, event (and repeat) and repeating form
    instance, in the order the instances come (by participant, then event)."""
    columns = project.columns()
    index = {name: i for i, name in enumerate(columns)}
    items = project.protocol.items()
    forms = {f.oid: f for f in project.forms}
    instances = list(instances)
    ids = {
        i.record: v.text for i in instances for v in i.values if v.item_oid == project.record_item
    }
    rows: dict[tuple, list[str]] = {}
    for instance in instances:
        form = forms.get(instance.form_oid)
        event = project.event_of.get(instance.event_oid)
        if form is None or event is None:
            continue
        repeating = form.repeating
        key = (ids.get(instance.record, instance.record), event, instance.visit_repeat,
               project.form_of[form.oid] if repeating else "",
               instance.repeat if repeating else 0)  # fmt: skip
        row = rows.get(key)
        if row is None:
            row = rows[key] = [""] * len(columns)
            row[0] = ids.get(instance.record, instance.record)
            row[1] = event
            if repeating:
                row[2], row[3] = project.form_of[form.oid], str(instance.repeat + 1)
            elif instance.visit_repeat:
                row[3] = str(instance.visit_repeat + 1)
        for value in instance.values:
            name = project.field_of.get(value.item_oid)
            if name is None or value.item_oid not in items:
                continue
            item = items[value.item_oid]
            row[index[name]] = cell(item, value)
            units = project.unit_field.get(value.item_oid)
            if units and value.unit_entered in item.units:
                row[index[units]] = str(item.units.index(value.unit_entered) + 1)
    return [columns, *rows.values()]


def records_csv(project: Project, instances: Iterable[FormInstance]) -> str:
    return _csv(records_rows(project, instances))
