"""CDISC ODM 1.3.2: the protocol as metadata, the captured data as clinical data, streamed.

Pure XML building and reading, no Django: :mod:`hepatrial.edc.odm_export` reads the database
in chunks and hands this module one subject at a time, so the file is written with memory that
does not grow with the trial: the metadata is built with lxml, and each ``SubjectData`` is
serialized as text, written and dropped (building an lxml element for each of the millions of
``ItemData`` and ``AuditRecord`` of a large trial took most of the export's time).

What ODM 1.3.2 has no place for is carried with standard ODM elements, never a private
extension, so the file validates against the unmodified schema:

- **missing reasons**: ``ItemData IsNull="Yes"`` with an ``Annotation/Flag`` whose ``FlagValue``
  (code list ``CL.HP.MISSING``: not_done, not_applicable, unknown) says why, and ``FlagType``
  (``CL.HP.FLAGTYPE``) says it is a missing reason;
- **participant and visit facts** (screening date, status, randomization date and stratum, end
  of participation; visit date, status, target date and window): items of two forms hepatrial
  adds to the metadata, ``HP.F.SUBJECT`` (at the screening event) and ``HP.F.VISIT`` (at every
  event), described in both languages like the protocol's own forms;
- **derived scores**: ``HP.F.DERIVED``, whose ``ItemRef`` carry ``MethodOID`` of the score's
  ``MethodDef`` (formula, version and source).

Values are the text as entered with the unit as entered (``MeasurementUnitRef``), so an import
re-checks and normalizes them exactly as a save does. With ``--audit`` the file is
``Transactional``: each change of an item is its own ``ItemData`` (``Insert``, ``Update``) in
order, with an ``AuditRecord`` (user, site, UTC time, reason, the audit row as ``SourceID``);
the audit rows that change no item (screening, consent, randomization, visits planned...) follow
in ``ClinicalData/AuditRecords``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

from lxml import etree

from hepatrial.protocol.model import DataType, EventKind, Label, Protocol
from hepatrial.scores import SCORES

NS = "http://www.cdisc.org/ns/odm/v1.3"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
LANGS = (("en", "en"), ("zh", "zh"))
"""(attribute of ``Label``, ``xml:lang``)."""
Q = f"{{{NS}}}"

SUBJECT_FORM, SUBJECT_GROUP = "HP.F.SUBJECT", "HP.IG.SUBJECT"
VISIT_FORM, VISIT_GROUP = "HP.F.VISIT", "HP.IG.VISIT"
DERIVED_FORM, DERIVED_GROUP = "HP.F.DERIVED", "HP.IG.DERIVED"
MISSING_CODES, FLAG_TYPES = "CL.HP.MISSING", "CL.HP.FLAGTYPE"
MISSING_REASON = "missing_reason"
TRIAL_LOCATION, SYSTEM_USER = "LOC.TRIAL", "USR.SYSTEM"

DATA_TYPES = {
    DataType.TEXT: "text", DataType.INTEGER: "integer", DataType.FLOAT: "float",
    DataType.DATE: "date", DataType.DATETIME: "datetime", DataType.BOOLEAN: "boolean",
    DataType.CHOICE: "text",
}  # fmt: skip


@dataclass(frozen=True)
class Term:
    """A hepatrial item or code the protocol does not define, with its label in both languages."""

    code: str
    label: Label
    data_type: str = "text"
    codes: tuple[tuple[str, Label], ...] = ()
    """Allowed codes, for a code list."""


@dataclass(frozen=True)
class Vocabulary:
    """What hepatrial adds to the protocol's metadata (labels come from the Django side)."""

    subject_items: tuple[Term, ...]
    visit_items: tuple[Term, ...]
    missing: tuple[tuple[str, Label], ...]
    forms: dict[str, Label]
    """Labels of HP.F.SUBJECT, HP.F.VISIT, HP.F.DERIVED."""
    flag_type: Label


@dataclass(frozen=True)
class Audit:
    user: str
    location: str
    at: dt.datetime | str
    """The moment, or already its ODM text in UTC (``2026-05-17T10:00:00Z``)."""
    reason: str = ""
    source: str = ""
    id: str = ""
    """An XML ID, set for the rows in ``ClinicalData/AuditRecords``."""


@dataclass
class ItemEntry:
    oid: str
    value: str | None
    status: str = "value"
    unit: str | None = None
    transaction: str | None = None
    audit: Audit | None = None


@dataclass
class FormEntry:
    oid: str
    repeat: int
    items: list[ItemEntry] = field(default_factory=list)


@dataclass
class EventEntry:
    oid: str
    repeat: int
    forms: list[FormEntry] = field(default_factory=list)


@dataclass
class SubjectEntry:
    key: str
    site: str
    events: list[EventEntry] = field(default_factory=list)
    audit: Audit | None = None


def hidden_content(protocol: Protocol) -> tuple[set[str], set[str]]:
    """(events, forms) a blinded file leaves out: intervention visits, arm-only events and the
    infusion forms, as on the pages (their existence alone tells the arm)."""
    events = {i.code for arm in protocol.arms for i in arm.interventions}
    events |= {e.oid for e in protocol.events if e.arms}
    forms = {i.form for arm in protocol.arms for i in arm.interventions}
    return events, forms


def unit_oids(protocol: Protocol) -> dict[str, str]:
    """Every unit of the protocol → its MeasurementUnit OID (readable, unique)."""
    found: dict[str, str] = {}
    for item in protocol.items().values():
        for unit in [*item.units, *([item.canonical_unit] if item.canonical_unit else [])]:
            if unit in found:
                continue
            base = "MU." + (re.sub(r"[^A-Za-z0-9]+", "_", unit.replace("µ", "u")).strip("_")
                            or "unit")  # fmt: skip
            oid, n = base, 2
            while oid in found.values():
                oid, n = f"{base}_{n}", n + 1
            found[unit] = oid
    return found


def location_oid(site: str) -> str:
    return f"LOC.{site}" if site else TRIAL_LOCATION


def user_oid(username: str) -> str:
    return f"USR.{username}" if username else SYSTEM_USER


def _el(tag: str, attrib: dict | None = None, parent=None, text: str | None = None):
    attrib = {k: str(v) for k, v in (attrib or {}).items() if v is not None}
    node = (etree.SubElement(parent, Q + tag, attrib) if parent is not None
            else etree.Element(Q + tag, attrib, nsmap={None: NS}))  # fmt: skip
    if text is not None:
        node.text = text
    return node


def _translated(parent, tag: str, label: Label | str) -> None:
    holder = _el(tag, parent=parent)
    for attr, lang in LANGS:
        text = label if isinstance(label, str) else getattr(label, attr)
        _el("TranslatedText", {XML_LANG: lang}, holder, text)


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


class Metadata:
    """The Study element for a protocol, as this file shows it (blinded or not)."""

    def __init__(self, protocol: Protocol, vocabulary: Vocabulary, *, blinded: bool):
        self.protocol, self.vocabulary, self.blinded = protocol, vocabulary, blinded
        hidden_events, hidden_forms = hidden_content(protocol) if blinded else (set(), set())
        self.units = unit_oids(protocol)
        self.forms = [f for f in protocol.forms if f.oid not in hidden_forms]
        events = [e for e in protocol.events if e.oid not in hidden_events]
        self.events = [
            (e.oid, e.label, e.kind, bool(e.repeats or e.kind == EventKind.REPEATING),
             [f.oid for f in self.forms if e.oid in f.events])
            for e in events
        ]  # fmt: skip
        seen = set()
        for arm in protocol.arms:
            for i in arm.interventions:
                if i.code in hidden_events or i.code in seen:
                    continue
                seen.add(i.code)
                self.events.append((i.code, i.label, EventKind.SCHEDULED, False, [i.form]))
        self.repeating_events = {oid for oid, _, _, repeats, _ in self.events if repeats}
        self.repeating_forms = {f.oid for f in self.forms if f.repeating}
        self.study_oid = f"ST.{protocol.study.registry_id}"
        self.version_oid = f"MDV.{protocol.study.protocol_version}"

    def element(self):
        p, v = self.protocol, self.vocabulary
        study = _el("Study", {"OID": self.study_oid})
        glob = _el("GlobalVariables", parent=study)
        _el("StudyName", parent=glob, text=p.study.short_title.en)
        _el("StudyDescription", parent=glob, text=f"{p.study.title.en} / {p.study.title.zh}")
        _el("ProtocolName", parent=glob, text=f"{p.study.registry_id} v{p.study.protocol_version}")
        basic = _el("BasicDefinitions", parent=study)
        for unit, oid in self.units.items():
            mu = _el("MeasurementUnit", {"OID": oid, "Name": unit}, basic)
            _translated(mu, "Symbol", unit)
        mdv = _el("MetaDataVersion", {"OID": self.version_oid, "Name": (
            f"{p.study.registry_id} protocol {p.study.protocol_version}"
            + (" (blinded)" if self.blinded else ""))}, study)  # fmt: skip
        proto = _el("Protocol", parent=mdv)
        for order, (oid, *_rest) in enumerate(self.events, start=1):
            _el("StudyEventRef", {"StudyEventOID": oid, "OrderNumber": order, "Mandatory": "No"},
                proto)  # fmt: skip
        screening = {oid for oid, _, kind, _, _ in self.events if kind == EventKind.SCREENING}
        for oid, label, kind, repeats, forms in self.events:
            kind_name = {EventKind.SCHEDULED: "Scheduled", EventKind.SCREENING: "Scheduled",
                         EventKind.REPEATING: "Common"}.get(kind, "Unscheduled")  # fmt: skip
            sed = _el("StudyEventDef", {"OID": oid, "Name": label.en, "Repeating": _yes(repeats),
                                        "Type": kind_name}, mdv)  # fmt: skip
            _translated(sed, "Description", label)
            refs = ([SUBJECT_FORM] if oid in screening else []) + [VISIT_FORM, *forms]
            refs.append(DERIVED_FORM)
            for order, form in enumerate(refs, start=1):
                _el("FormRef", {"FormOID": form, "OrderNumber": order, "Mandatory": "No"}, sed)
        own = [(SUBJECT_FORM, SUBJECT_GROUP), (VISIT_FORM, VISIT_GROUP),
               (DERIVED_FORM, DERIVED_GROUP)]  # fmt: skip
        for form in self.forms:
            fd = _el("FormDef", {"OID": form.oid, "Name": form.label.en,
                                 "Repeating": _yes(form.repeating)}, mdv)  # fmt: skip
            _translated(fd, "Description", form.label)
            _el("ItemGroupRef", {"ItemGroupOID": _group(form.oid), "Mandatory": "Yes"}, fd)
        for form_oid, group in own:
            fd = _el("FormDef", {"OID": form_oid, "Name": v.forms[form_oid].en,
                                 "Repeating": "No"}, mdv)  # fmt: skip
            _translated(fd, "Description", v.forms[form_oid])
            _el("ItemGroupRef", {"ItemGroupOID": group, "Mandatory": "Yes"}, fd)
        for form in self.forms:
            ig = _el("ItemGroupDef", {"OID": _group(form.oid), "Name": form.label.en,
                                      "Repeating": "No"}, mdv)  # fmt: skip
            for order, item in enumerate(form.items, start=1):
                _el("ItemRef", {"ItemOID": item.oid, "OrderNumber": order,
                                "Mandatory": _yes(item.required)}, ig)  # fmt: skip
        for group, terms in ((SUBJECT_GROUP, self.subject_terms()),
                             (VISIT_GROUP, v.visit_items)):  # fmt: skip
            form_oid = SUBJECT_FORM if group == SUBJECT_GROUP else VISIT_FORM
            ig = _el("ItemGroupDef", {"OID": group, "Name": v.forms[form_oid].en,
                                      "Repeating": "No"}, mdv)  # fmt: skip
            for order, term in enumerate(terms, start=1):
                _el("ItemRef", {"ItemOID": term.code, "OrderNumber": order, "Mandatory": "No"},
                    ig)  # fmt: skip
        ig = _el("ItemGroupDef", {"OID": DERIVED_GROUP, "Name": v.forms[DERIVED_FORM].en,
                                  "Repeating": "No"}, mdv)  # fmt: skip
        for order, d in enumerate(p.derived_items, start=1):
            _el("ItemRef", {"ItemOID": d.oid, "OrderNumber": order, "Mandatory": "No",
                            "MethodOID": _method(d.oid)}, ig)  # fmt: skip
        for form in self.forms:
            for item in form.items:
                self._item_def(mdv, item)
        for term in (*self.subject_terms(), *v.visit_items):
            idef = _el("ItemDef", {"OID": term.code, "Name": term.label.en,
                                   "DataType": term.data_type}, mdv)  # fmt: skip
            _translated(idef, "Question", term.label)
            if term.codes:
                _el("CodeListRef", {"CodeListOID": _codes(term.code)}, idef)
        for d in p.derived_items:
            result = SCORES[d.score].result
            data_type = {"integer": "integer", "number": "float"}.get(result, "text")
            idef = _el("ItemDef", {"OID": d.oid, "Name": d.label.en, "DataType": data_type,
                                   "Origin": "Derived"}, mdv)  # fmt: skip
            _translated(idef, "Question", d.label)
        for form in self.forms:
            for item in form.items:
                if item.choices:
                    self._code_list(mdv, _codes(item.oid), item.label.en,
                                    [(c.code, c.label) for c in item.choices])  # fmt: skip
        for term in (*self.subject_terms(), *v.visit_items):
            if term.codes:
                self._code_list(mdv, _codes(term.code), term.label.en, list(term.codes))
        self._code_list(mdv, MISSING_CODES, "Missing reason", list(v.missing))
        self._code_list(mdv, FLAG_TYPES, "Flag type", [(MISSING_REASON, v.flag_type)])
        for d in p.derived_items:
            score = SCORES[d.score]
            md = _el("MethodDef", {"OID": _method(d.oid), "Name": d.label.en,
                                   "Type": "Computation"}, mdv)  # fmt: skip
            inputs = ", ".join(f"{k}={oid}" for k, oid in d.inputs.items())
            text = f"{d.score} ({inputs}); formula {score.formula_version}; {score.source}"
            _translated(md, "Description", Label(en=text, zh=f"{d.label.zh}：{text}"))
            _el("FormalExpression", {"Context": "hepatrial.scores"}, md,
                f"{d.score}({inputs})")  # fmt: skip
        return study

    def subject_terms(self) -> tuple[Term, ...]:
        terms = self.vocabulary.subject_items
        return tuple(t for t in terms if not (self.blinded and t.code == "HP.ARM"))

    def _item_def(self, mdv, item) -> None:
        attrs = {"OID": item.oid, "Name": item.label.en, "DataType": DATA_TYPES[item.data_type]}
        if item.data_type == DataType.CHOICE:
            attrs["Length"] = max(len(c.code) for c in item.choices)
        idef = _el("ItemDef", attrs, mdv)
        _translated(idef, "Question", item.label)
        for unit in item.units:
            _el("MeasurementUnitRef", {"MeasurementUnitOID": self.units[unit]}, idef)
        for rng, soft in ((item.hard_range, "Hard"), (item.plausible_range, "Soft")):
            if rng is None:
                continue
            unit = item.canonical_unit or (item.units[0] if item.units else None)
            for bound, comparator in ((rng.low, "GE"), (rng.high, "LE")):
                if bound is None:
                    continue
                check = _el("RangeCheck", {"Comparator": comparator, "SoftHard": soft}, idef)
                _el("CheckValue", parent=check, text=_number(bound))
                if unit:
                    _el("MeasurementUnitRef", {"MeasurementUnitOID": self.units[unit]}, check)
        if item.choices:
            _el("CodeListRef", {"CodeListOID": _codes(item.oid)}, idef)
        for code in item.codes:
            _el("Alias", {"Context": code.system, "Name": code.code}, idef)

    @staticmethod
    def _code_list(mdv, oid: str, name: str, codes: list[tuple[str, Label]]) -> None:
        cl = _el("CodeList", {"OID": oid, "Name": name, "DataType": "text"}, mdv)
        for code, label in codes:
            cli = _el("CodeListItem", {"CodedValue": code}, cl)
            _translated(cli, "Decode", label)


def _group(form_oid: str) -> str:
    return f"IG.{form_oid}"


def _codes(item_oid: str) -> str:
    return f"CL.{item_oid}"


def _method(derived_oid: str) -> str:
    return f"MT.{derived_oid}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def utc(moment: dt.datetime | str) -> str:
    if isinstance(moment, str):
        return moment
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


_ESCAPE = re.compile(r"[&<>\"\n\r\t]|[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;",
            "\t": "&#9;"}  # fmt: skip


def _escape_match(match: re.Match) -> str:
    # A character XML 1.0 cannot hold at all becomes U+FFFD, as a reader would show it.
    return _ESCAPES.get(match.group(), "\ufffd")


def _x(text: str) -> str:
    """``text`` escaped for an attribute value or element content."""
    return _ESCAPE.sub(_escape_match, text) if _ESCAPE.search(text) else text


def _audit(out: list[str], audit: Audit, refs: dict[tuple[str, str], str]) -> None:
    out.append(f'<AuditRecord EditPoint="DataManagement" ID="{_x(audit.id)}">' if audit.id
               else '<AuditRecord EditPoint="DataManagement">')  # fmt: skip
    who = refs.get((audit.user, audit.location))
    if who is None:
        who = refs[(audit.user, audit.location)] = (
            f'<UserRef UserOID="{_x(user_oid(audit.user))}"/>'
            f'<LocationRef LocationOID="{_x(location_oid(audit.location))}"/>')  # fmt: skip
    out.append(f"{who}<DateTimeStamp>{utc(audit.at)}</DateTimeStamp>")
    if audit.reason:
        out.append(f"<ReasonForChange>{_x(audit.reason)}</ReasonForChange>")
    if audit.source:
        out.append(f"<SourceID>{_x(audit.source)}</SourceID>")
    out.append("</AuditRecord>")


class OdmWriter:
    """Writes one ODM file's clinical data, subjects one at a time, as text."""

    def __init__(self, out: IO[bytes], metadata: Metadata):
        self.out, self.metadata = out, metadata
        self._refs: dict[tuple[str, str], str] = {}
        m = metadata
        groups = {SUBJECT_FORM: SUBJECT_GROUP, VISIT_FORM: VISIT_GROUP, DERIVED_FORM: DERIVED_GROUP}
        self._groups = {**{f.oid: _group(f.oid) for f in m.forms}, **groups}
        self._units = {unit: f' MeasurementUnitOID="{_x(oid)}"' for unit, oid in m.units.items()}

    def subject(self, subject: SubjectEntry) -> None:
        m, out = self.metadata, []
        insert = ' TransactionType="Insert"' if subject.audit else ""
        out.append(f'<SubjectData SubjectKey="{_x(subject.key)}"{insert}>')
        if subject.audit:
            _audit(out, subject.audit, self._refs)
        out.append(f'<SiteRef LocationOID="{_x(location_oid(subject.site))}"/>')
        for event in subject.events:
            repeat = (f' StudyEventRepeatKey="{event.repeat}"'
                      if event.oid in m.repeating_events else "")  # fmt: skip
            out.append(f'<StudyEventData StudyEventOID="{_x(event.oid)}"{repeat}>')
            for form in event.forms:
                repeat = f' FormRepeatKey="{form.repeat}"' if form.oid in m.repeating_forms else ""
                group = self._groups.get(form.oid) or _group(form.oid)
                out.append(f'<FormData FormOID="{_x(form.oid)}"{repeat}>'
                           f'<ItemGroupData ItemGroupOID="{_x(group)}">')  # fmt: skip
                for item in form.items:
                    self._item(out, item)
                out.append("</ItemGroupData></FormData>")
            out.append("</StudyEventData>")
        out.append("</SubjectData>")
        self.out.write("".join(out).encode())

    def _item(self, out: list[str], item: ItemEntry) -> None:
        missing = item.status != "value"
        kind = f' TransactionType="{item.transaction}"' if item.transaction else ""
        shown = ' IsNull="Yes"' if missing else f' Value="{_x(item.value or "")}"'
        head = f'<ItemData ItemOID="{_x(item.oid)}"{kind}{shown}'
        unit = self._units.get(item.unit) if item.unit and not missing else None
        if not (item.audit or unit or missing):
            out.append(head + "/>")
            return
        out.append(head + ">")
        if item.audit:
            _audit(out, item.audit, self._refs)
        if unit:
            out.append(f"<MeasurementUnitRef{unit}/>")
        if missing:
            out.append(f'<Annotation SeqNum="1"><Flag>'
                       f'<FlagValue CodeListOID="{MISSING_CODES}">{_x(item.status)}</FlagValue>'
                       f'<FlagType CodeListOID="{FLAG_TYPES}">{MISSING_REASON}</FlagType>'
                       f"</Flag></Annotation>")  # fmt: skip
        out.append("</ItemData>")

    def audit_records(self, records: Iterable[Audit], chunk: int = 1000) -> None:
        """``ClinicalData/AuditRecords``, written in chunks of ``chunk`` records."""
        batch: list[str] = []
        for n, record in enumerate(records, start=1):
            _audit(batch, record, self._refs)
            if n % chunk == 0:
                self.out.write(("<AuditRecords>" + "".join(batch) + "</AuditRecords>").encode())
                batch = []
        if batch:
            self.out.write(("<AuditRecords>" + "".join(batch) + "</AuditRecords>").encode())


@dataclass(frozen=True)
class FileInfo:
    file_oid: str
    created: dt.datetime
    transactional: bool
    description: str
    source_version: str
    users: list[tuple[str, str]]
    """(username, display name)."""
    sites: list[tuple[str, str]]
    """(site code, name)."""


@contextmanager
def odm_file(out: IO[bytes], metadata: Metadata, info: FileInfo) -> Iterator[OdmWriter]:
    """Open the ODM document on ``out``; yields the writer inside ``ClinicalData``."""
    root = {
        "FileType": "Transactional" if info.transactional else "Snapshot",
        "FileOID": info.file_oid, "CreationDateTime": utc(info.created),
        "ODMVersion": "1.3.2", "Granularity": "All", "Description": info.description,
        "Originator": "hepatrial", "SourceSystem": "hepatrial",
        "SourceSystemVersion": info.source_version,
    }  # fmt: skip
    attributes = "".join(f' {name}="{_x(value)}"' for name, value in root.items())
    out.write(f"<?xml version='1.0' encoding='utf-8'?>\n<ODM xmlns=\"{NS}\"{attributes}>".encode())
    out.write(etree.tostring(metadata.element(), encoding="utf-8"))
    out.write(etree.tostring(_admin(metadata, info), encoding="utf-8"))
    out.write(f'<ClinicalData StudyOID="{_x(metadata.study_oid)}" '
              f'MetaDataVersionOID="{_x(metadata.version_oid)}">'.encode())  # fmt: skip
    yield OdmWriter(out, metadata)
    out.write(b"</ClinicalData></ODM>\n")


def _admin(metadata: Metadata, info: FileInfo):
    admin = _el("AdminData", {"StudyOID": metadata.study_oid})
    for username, display in [("", "hepatrial (system)"), *info.users]:
        user = _el("User", {"OID": user_oid(username)}, admin)
        if username:
            _el("LoginName", parent=user, text=username)
        _el("DisplayName", parent=user, text=display or username)
    effective = info.created.date().isoformat()
    for code, name in [("", metadata.protocol.study.sponsor), *info.sites]:
        loc = _el("Location", {"OID": location_oid(code), "Name": name or code,
                               "LocationType": "Site" if code else "Sponsor"}, admin)  # fmt: skip
        _el("MetaDataVersionRef", {"StudyOID": metadata.study_oid,
                                   "MetaDataVersionOID": metadata.version_oid,
                                   "EffectiveDate": effective}, loc)  # fmt: skip
    return admin


# ---- checks and reading --------------------------------------------------------------------

REFERENCES = {
    # referring element, attribute → element defining the OID
    ("StudyEventRef", "StudyEventOID"): "StudyEventDef",
    ("StudyEventData", "StudyEventOID"): "StudyEventDef",
    ("FormRef", "FormOID"): "FormDef",
    ("FormData", "FormOID"): "FormDef",
    ("ItemGroupRef", "ItemGroupOID"): "ItemGroupDef",
    ("ItemGroupData", "ItemGroupOID"): "ItemGroupDef",
    ("ItemRef", "ItemOID"): "ItemDef",
    ("ItemData", "ItemOID"): "ItemDef",
    ("ItemRef", "MethodOID"): "MethodDef",
    ("CodeListRef", "CodeListOID"): "CodeList",
    ("FlagValue", "CodeListOID"): "CodeList",
    ("FlagType", "CodeListOID"): "CodeList",
    ("MeasurementUnitRef", "MeasurementUnitOID"): "MeasurementUnit",
    ("UserRef", "UserOID"): "User",
    ("LocationRef", "LocationOID"): "Location",
    ("SiteRef", "LocationOID"): "Location",
    ("ClinicalData", "StudyOID"): "Study",
    ("AdminData", "StudyOID"): "Study",
    ("MetaDataVersionRef", "StudyOID"): "Study",
    ("ClinicalData", "MetaDataVersionOID"): "MetaDataVersion",
    ("MetaDataVersionRef", "MetaDataVersionOID"): "MetaDataVersion",
}


def unresolved_references(source) -> list[str]:
    """Every OID reference of the file that names no definition of its kind, streamed.

    The XSD checks none of them. Definitions come before their uses in an ODM file except
    within the metadata, so references are collected and compared at the end (their number
    is that of distinct OIDs, not of data rows). A value of a code-listed item that is not in
    its code list is reported too.
    """
    defined: dict[str, set[str]] = {}
    used: dict[tuple[str, str], set[str]] = {}
    code_lists: dict[str, set[str]] = {}
    item_lists: dict[str, str] = {}
    values: dict[str, set[str]] = {}
    current_list, current_item = None, None
    for event, node in etree.iterparse(source, events=("start", "end")):
        tag = etree.QName(node).localname
        if event == "start":
            if tag == "CodeList":
                current_list = node.get("OID")
                code_lists[current_list] = set()
            elif tag == "ItemDef":
                current_item = node.get("OID")
            continue
        oid = node.get("OID")
        if oid is not None:
            defined.setdefault(tag, set()).add(oid)
        for attr in node.attrib:
            target = REFERENCES.get((tag, attr))
            if target:
                used.setdefault((target, f"{tag}/@{attr}"), set()).add(node.get(attr))
        if tag == "CodeListItem" and current_list:
            code_lists[current_list].add(node.get("CodedValue"))
        elif tag == "CodeListRef" and current_item:
            item_lists[current_item] = node.get("CodeListOID")
        elif tag == "ItemData" and node.get("Value") is not None:
            values.setdefault(node.get("ItemOID"), set()).add(node.get("Value"))
        if tag in ("SubjectData", "AuditRecords"):
            node.clear()
    problems = []
    for (target, where), oids in sorted(used.items()):
        for oid in sorted(oids - defined.get(target, set())):
            problems.append(f"{where} {oid!r} names no {target}")
    for item, seen in sorted(values.items()):
        allowed = code_lists.get(item_lists.get(item, ""))
        if allowed is not None:
            for value in sorted(seen - allowed):
                problems.append(f"ItemData {item} value {value!r} is not in its code list")
    return problems


@dataclass(frozen=True)
class ReadMetadata:
    study_oid: str
    units: dict[str, str]
    """MeasurementUnit OID → unit as the protocol writes it."""


def read_subjects(source) -> Iterator[ReadMetadata | SubjectEntry]:
    """The file's unit table first, then each subject as it is read (memory per subject)."""
    units: dict[str, str] = {}
    study = ""
    sent = False
    for _, node in etree.iterparse(source, events=("end",)):
        tag = etree.QName(node).localname
        if tag == "MeasurementUnit":
            units[node.get("OID")] = node.get("Name")
        elif tag == "Study":
            study = node.get("OID")
            node.clear()
        elif tag == "SubjectData":
            if not sent:
                yield ReadMetadata(study, units)
                sent = True
            yield _subject(node, units)
            node.clear()
            while node.getprevious() is not None:
                del node.getparent()[0]
    if not sent:
        yield ReadMetadata(study, units)


def _subject(node, units: dict[str, str]) -> SubjectEntry:
    site_ref = node.find(Q + "SiteRef")
    site = (site_ref.get("LocationOID") if site_ref is not None else "").removeprefix("LOC.")
    subject = SubjectEntry(node.get("SubjectKey"), site)
    for sed in node.iterfind(Q + "StudyEventData"):
        event = EventEntry(sed.get("StudyEventOID"), int(sed.get("StudyEventRepeatKey", "0")))
        for fd in sed.iterfind(Q + "FormData"):
            form = FormEntry(fd.get("FormOID"), int(fd.get("FormRepeatKey", "0")))
            for idata in fd.iterfind(f"{Q}ItemGroupData/{Q}ItemData"):
                unit_ref = idata.find(Q + "MeasurementUnitRef")
                flag = idata.find(f"{Q}Annotation/{Q}Flag/{Q}FlagValue")
                status = flag.text if idata.get("IsNull") == "Yes" and flag is not None else (
                    "value")  # fmt: skip
                unit = units.get(unit_ref.get("MeasurementUnitOID")) if unit_ref is not None else (
                    None)  # fmt: skip
                form.items.append(ItemEntry(idata.get("ItemOID"), idata.get("Value"), status,
                                            unit, idata.get("TransactionType")))  # fmt: skip
            event.forms.append(form)
        subject.events.append(event)
    return subject


def latest(items: list[ItemEntry]) -> dict[str, ItemEntry]:
    """The value each item ends with (a transactional file lists each change in order)."""
    return {item.oid: item for item in items}
