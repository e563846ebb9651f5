"""``hepatrial import redcap-data``: a REDCap records export entered through the services.

Each REDCap record becomes a participant: screened at the site (``screen``), and, in a trial
that enrols without randomization (``randomization: none``, what ``protocol import-redcap``
writes), recorded eligible on the protocol's criteria and consented (``assess_eligibility``,
``record_consent``; REDCap keeps neither). The record ID is saved as the value of its item on
the first form, which is how a second run finds the participant again. Each row then saves
each form instance it holds values for (``save_form``: one per form at the row's event, or the
row's repeating instrument), with the reason ``imported from REDCap file NAME, row N``.

A row is loaded whole or not at all: its saves run in one savepoint, and any refusal (a value
that does not pass its check, a form not collected at the event, an unknown event...) rolls
the row back and is reported with the row number, the column and the reason. The other rows
load. A record is created together with its record-ID form, from the first of its rows at an
event of that form; if that form is refused, the record is not created and its other rows are
refused too (they would have no participant). The rest of that first row is then loaded, or
refused, like any other row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from hepatrial.edc.errors import ServiceError, ValidationFailed
from hepatrial.edc.models import FormRecord, ItemValue
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services import participants as svc
from hepatrial.edc.services.forms import save_form
from hepatrial.interop.redcap import RedcapError
from hepatrial.interop.redcap_data import (
    EVENT,
    REDCAP_COLUMNS,
    REPEAT_INSTANCE,
    REPEAT_INSTRUMENT,
    CellError,
    Records,
    Row,
    entered_value,
    item_forms,
    not_fields,
    read_records,
    unit_siblings,
)
from hepatrial.progress import SILENT, Progress
from hepatrial.protocol.model import Protocol


@dataclass(frozen=True)
class Refusal:
    row: int
    record: str
    event: str
    column: str
    code: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row} (record {self.record}" + (f", event {self.event})" if
                                                            self.event else ")")  # fmt: skip
        column = f", column {self.column!r}" if self.column else ""
        return f"{where}{column}: {self.message}"


@dataclass
class LoadSummary:
    source: str
    rows: int = 0
    loaded: int = 0
    created: int = 0
    forms_saved: int = 0
    refused: list[Refusal] = field(default_factory=list)
    ignored_columns: dict[str, int] = field(default_factory=dict)
    """Columns that are not items, with the count of values they held (not loaded)."""

    @property
    def refused_rows(self) -> int:
        return len({r.row for r in self.refused})

    def by_reason(self) -> Counter:
        """Refused rows by the code of their first reason."""
        first: dict[int, str] = {}
        for refusal in self.refused:
            first.setdefault(refusal.row, refusal.code)
        return Counter(first.values())

    def problems(self) -> list[str]:
        """Every refused row (one line per reason) and every column not loaded."""
        name = Path(self.source).name
        out = [f"{name}: {r}" for r in self.refused]
        for column, count in self.ignored_columns.items():
            out.append(f"{name}: row 1, column {column!r}: not an item of the protocol, "
                       f"{count} value(s) not loaded")  # fmt: skip
        return out

    def totals(self) -> list[str]:
        """What was loaded and refused, with the refused rows counted by reason."""
        name = Path(self.source).name
        out = []
        out.append(f"{name}: {self.rows} rows: {self.loaded} loaded, {self.refused_rows} "
                   f"refused; {self.created} participants created, {self.forms_saved} "
                   "forms saved")  # fmt: skip
        for code, count in sorted(self.by_reason().items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  refused {count:4d}  {code}")
        return out


class RowRefused(Exception):
    def __init__(self, refusals: list[Refusal]):
        self.refusals = refusals
        super().__init__("; ".join(map(str, refusals)))


def _screen_site(actor: Actor, site: str | None, source: str) -> str:
    sites = actor.sites_for(Action.SCREEN)
    if site is not None:
        if site not in sites:
            raise RedcapError(source, f"{actor.username} cannot screen participants at site "
                              f"{site!r} (sites: {', '.join(sites) or 'none'})")  # fmt: skip
        return site
    if len(sites) != 1:
        raise RedcapError(source, f"{actor.username} screens at {len(sites)} sites "
                          f"({', '.join(sites)}): say which with --site")  # fmt: skip
    return sites[0]


class Loader:
    def __init__(self, actor: Actor, records: Records, *, site: str, date_order: str):
        self.actor = actor
        self.records = records
        self.site = site
        self.date_order = date_order
        self.protocol: Protocol = active_protocol()[1].protocol
        self.items = self.protocol.items()
        self.forms_of = item_forms(self.protocol)
        self.units = unit_siblings(self.protocol)
        self.summary = LoadSummary(records.source, rows=len(records.rows))
        rid = records.record_column
        if rid not in self.items:
            raise RedcapError(records.source, "the first column, the record ID, is not an item "
                              "of the active protocol: load records into the protocol imported "
                              "from this project's dictionary", row=1, column=rid)  # fmt: skip
        self.rid = rid
        self.rid_form = self.forms_of[rid][0]
        self.default_event = ""
        if not records.longitudinal:
            events = [e.oid for e in self.protocol.events]
            if len(events) != 1:
                raise RedcapError(records.source, f"no {EVENT} column, but the protocol has "
                                  f"{len(events)} events", row=1)  # fmt: skip
            self.default_event = events[0]
        self.reason_file = records.name

    # ------------------------------------------------------------------------ the run

    def run(self, progress: Progress = SILENT) -> LoadSummary:
        for column in not_fields(self.records.columns, self.protocol):
            count = sum(1 for row in self.records.rows if row.get(column))
            self.summary.ignored_columns[column] = count
        records = self.records.by_record()
        progress.start("REDCap records", len(records), "records")
        for record_id, rows in records.items():
            self._record(record_id, rows)
            progress.advance()
        progress.close()
        return self.summary

    def _event(self, row: Row) -> str:
        return row.get(EVENT) if self.records.longitudinal else self.default_event

    def _holds_record_id(self, row: Row) -> bool:
        event = self._event(row)
        form = self.protocol.form(self.rid_form)
        return event in form.events and row.get(REPEAT_INSTRUMENT) in ("", self.rid_form)

    def _record(self, record_id: str, rows: list[Row]) -> None:
        if not record_id:
            for row in rows:
                self._refuse(row, self.rid, "record.no_id", "the record ID is empty")
            return
        number = self._existing(record_id)
        if number is None:
            first = next((r for r in rows if self._holds_record_id(r)), None)
            if first is None:
                for row in rows:
                    self._refuse(row, EVENT, "record.no_identifying_row",
                                 f"no row of record {record_id} is at an event of form "
                                 f"{self.rid_form}, which holds the record ID {self.rid}: "
                                 "the record cannot be created")  # fmt: skip
                return
            try:
                with transaction.atomic():
                    number = self._enrol(first)
                    self._row(first, number, record_id, only=self.rid_form)
            except RowRefused as refused:
                self.summary.refused += refused.refusals
                for row in rows:
                    if row is not first:
                        message = (
                            f"record {record_id} was not created: its row {first.number} was "
                            "refused"
                        )
                        self._refuse(row, "", "record.not_created", message)
                return
            self.summary.created += 1
        for row in rows:
            try:
                with transaction.atomic():
                    saved = self._row(row, number, record_id)
            except RowRefused as refused:
                self.summary.refused += refused.refusals
            else:
                self.summary.loaded += 1
                self.summary.forms_saved += saved

    def _refuse(self, row: Row, column: str, code: str, message: str) -> None:
        self.summary.refused.append(Refusal(row.number, row.get(self.rid), self._event(row),
                                            column, code, message))  # fmt: skip

    def _existing(self, record_id: str) -> str | None:
        found = ItemValue.objects.filter(
            item_oid=self.rid, text=record_id, form_record__form_oid=self.rid_form,
            form_record__visit__participant__site__code=self.site,
        ).values_list("form_record__visit__participant__screening_number", flat=True)  # fmt: skip
        return found.first()

    def _enrol(self, row: Row) -> str:
        """Screen (and, without randomization, enrol) the participant of this record."""
        try:
            participant = svc.screen(self.actor, self.site, timezone.localdate())
            number = participant.screening_number
            if not self.protocol.randomized:
                answers = {c.oid: c.qualifying_answer for c in self.protocol.eligibility}
                svc.assess_eligibility(self.actor, number, answers)
                svc.record_consent(self.actor, number,
                                   f"REDCap record {row.get(self.rid)} ({self.reason_file})",
                                   timezone.now())  # fmt: skip
        except ServiceError as exc:
            raise RowRefused([self._refusal(row, "", exc)]) from None
        return number

    # ------------------------------------------------------------------------ one row

    def _refusal(self, row: Row, column: str, exc: ServiceError | CellError, code: str = ""):
        if isinstance(exc, ServiceError):
            code = code or exc.problem.code
        return Refusal(row.number, row.get(self.rid), self._event(row), column,
                       code or getattr(exc, "code", "refused"), str(exc))  # fmt: skip

    def _row(self, row: Row, number: str, record_id: str, only: str = "") -> int:
        """Save the row's form instances (``only`` that form); the number saved."""
        event = self._event(row)
        refusals: list[Refusal] = []

        def refuse(column: str, code: str, message: str) -> None:
            refusals.append(Refusal(row.number, record_id, event, column, code, message))

        known_events = {e.oid for e in self.protocol.events}
        if event not in known_events:
            refuse(EVENT, "event.unknown", f"{event!r} is not an event of the protocol"
                   if event else "the event is empty")  # fmt: skip
            raise RowRefused(refusals)
        instrument = row.get(REPEAT_INSTRUMENT)
        instance_text = row.get(REPEAT_INSTANCE)
        instance = 1
        if instance_text:
            if not instance_text.isdigit() or int(instance_text) < 1:
                refuse(
                    REPEAT_INSTANCE,
                    "repeat.not_a_number",
                    f"{instance_text!r} is not an instance number (1, 2, ...)",
                )
                raise RowRefused(refusals)
            instance = int(instance_text)
        if instrument and instrument not in {f.oid for f in self.protocol.forms}:
            refuse(REPEAT_INSTRUMENT, "form.unknown", f"{instrument!r} is not a form of the "
                   "protocol")  # fmt: skip
            raise RowRefused(refusals)
        here = (
            [instrument]
            if instrument
            else [f.oid for f in self.protocol.forms if event in f.events]
        )
        if only:
            here = [form for form in here if form == only]
        values: dict[str, dict] = {form: {} for form in here}
        for column, raw in row.cells.items():
            text = raw.strip()
            if not text or column in REDCAP_COLUMNS or column not in self.items:
                continue
            if column == self.rid:
                continue
            forms = [f for f in self.forms_of[column] if f in values]
            if only and not forms:
                continue
            if not forms:
                owner = self.forms_of[column][0]
                refuse(column, "form.not_at_event",
                       f"has a value but its form {owner} is "
                       + (f"not the row's repeating instrument {instrument}" if instrument
                          else f"not collected at {event}"))  # fmt: skip
                continue
            item = self.items[column]
            sibling = self.units.get(column)
            try:
                value = entered_value(
                    item, text, date_order=self.date_order, unit_item=sibling,
                    unit_code=row.get(sibling.oid) if sibling else "",
                )  # fmt: skip
            except CellError as exc:
                refuse(sibling.oid if sibling else column, exc.code, str(exc))
                continue
            for form in forms:
                values[form][column] = value
        filled = {form: v for form, v in values.items() if v}
        if self.rid_form in values and (filled or self._holds_record_id(row)):
            filled.setdefault(self.rid_form, {})[self.rid] = entered_value(
                self.items[self.rid], record_id
            )
        if refusals:
            raise RowRefused(refusals)
        visit_repeat = instance - 1 if instance_text and not instrument else 0
        saved = 0
        for form, form_values in filled.items():
            repeat = instance - 1 if instrument else 0
            try:
                save_form(
                    self.actor, number, event, form, form_values,
                    base_version=self._version(number, event, visit_repeat, form, repeat),
                    reason=f"imported from REDCap file {self.reason_file}, row {row.number}",
                    confirmed=set(form_values), repeat=repeat, visit_repeat=visit_repeat,
                )  # fmt: skip
            except ValidationFailed as exc:
                for key, problem in exc.errors.items():
                    column = key if key in row.cells else (EVENT if key == "form" else "")
                    refusals.append(Refusal(row.number, record_id, event, column, problem.code,
                                            f"{form}: {problem}"))  # fmt: skip
            except ServiceError as exc:
                refusals.append(self._refusal(row, "", exc))
            else:
                saved += 1
        if refusals:
            raise RowRefused(refusals)
        return saved

    @staticmethod
    def _version(number: str, event: str, visit_repeat: int, form: str, repeat: int) -> int:
        found = FormRecord.objects.filter(
            visit__participant__screening_number=number, visit__event_oid=event,
            visit__repeat=visit_repeat, form_oid=form, repeat=repeat,
        ).values_list("version", flat=True)  # fmt: skip
        return found.first() or 0


def load_redcap_records(
    actor: Actor, path: str | Path, *, site: str | None = None, date_order: str = "mdy",
    progress: Progress = SILENT,
) -> LoadSummary:  # fmt: skip
    """Load a REDCap flat records export into the active protocol; see the module docstring."""
    records = read_records(path)
    chosen = _screen_site(actor, site, records.source)
    loader = Loader(actor, records, site=chosen, date_order=date_order)
    return loader.run(progress)
