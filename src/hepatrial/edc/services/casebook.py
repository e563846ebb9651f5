"""One participant's visits, form records and item values, read once by a save and kept current.

A save (:func:`~hepatrial.edc.services.forms.save_form`) reads the casebook of the participant
whose row it has locked, in one query, and everything after that reads it instead of the
database: the visit it saves into, the values the form already has, the cross-item rules and
the derived scores that take an item from another visit, and the automatic queries. As the save
writes, it tells the casebook (:meth:`Casebook.saved`), so what the later steps read is what a
fresh read would return. Nobody else can change these rows meanwhile: every write of them locks
the participant's row first.

Values are kept as :class:`~hepatrial.edc.services.values.ValueRow`, not model instances: the
readers only read them, and a casebook holds hundreds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone

from hepatrial.edc.models import Deviation, FormRecord, ItemValue, Participant, Visit
from hepatrial.edc.services.values import ValueRow

Place = tuple[int, str, int]
"""A form record's place: visit id, form OID, repeat."""
_RECORD_FIELDS = ("forms__id", "forms__form_oid", "forms__repeat", "forms__updated_at")
_VALUE_FIELDS = tuple(f"forms__values__{name}" for name in ValueRow.FIELDS)


@dataclass(frozen=True)
class RecordRow:
    """A form record as the readers of a casebook need it."""

    pk: int
    updated_at: dt.datetime | None


@dataclass
class Casebook:
    visits: list[Visit]
    """In the order of the schedule (the model's ordering), as models: a save updates one, and
    an automatic query is raised on one."""
    records: dict[Place, RecordRow]
    values: dict[Place, dict[str, ValueRow]]
    """By record, then item OID; records and values in the order of their ids."""
    out_of_window: set[int]
    """The visits with a deviation for being done outside their window."""
    today: dt.date

    @classmethod
    def load(cls, participant: Participant) -> Casebook:
        """Read the casebook in one query: the visits, outer-joined to their records and
        those to their values (one row per value, or per visit or record without any)."""
        deviated = Deviation.objects.filter(participant=participant, kind="visit_out_of_window",
                                            visit=OuterRef("pk"))  # fmt: skip
        visit_fields = [f.attname for f in Visit._meta.concrete_fields]
        rows = (
            Visit.objects.filter(participant=participant)
            .annotate(deviated=Exists(deviated))
            .values_list(*visit_fields, "deviated", *_RECORD_FIELDS, *_VALUE_FIELDS)
        )
        visits: dict[int, Visit] = {}
        records: dict[int, tuple[Place, RecordRow]] = {}
        found: list[tuple[Place, ValueRow]] = []
        width = len(visit_fields)
        for row in rows:
            visit_id = row[0]
            if visit_id not in visits:
                visit = Visit.from_db(connection.alias, visit_fields, row[:width])
                visit.deviated = row[width]
                visits[visit_id] = visit
            record_id, form_oid, repeat, updated_at = row[width + 1 : width + 5]
            if record_id is None:
                continue
            place = (visit_id, form_oid, repeat)
            records[record_id] = (place, RecordRow(record_id, updated_at))
            if row[width + 5] is not None:
                found.append((place, ValueRow(*row[width + 5 :])))
        values: dict[Place, dict[str, ValueRow]] = {}
        for place, value in sorted(found, key=lambda f: f[1].id):  # the order the rules meet
            values.setdefault(place, {})[value.item_oid] = value  # values in, and raise queries
        return cls(
            list(visits.values()),
            {place: record for _, (place, record) in sorted(records.items())},
            values,
            {visit.pk for visit in visits.values() if visit.deviated},
            timezone.localdate(),
        )

    def visit(self, event_oid: str, repeat: int) -> Visit | None:
        return next((v for v in self.visits if v.event_oid == event_oid and v.repeat == repeat),
                    None)  # fmt: skip

    def values_of(self, visit: Visit, form_oid: str, repeat: int) -> dict[str, ValueRow]:
        """The values of one record, by item OID (none for a record not on file)."""
        return self.values.get((visit.pk, form_oid, repeat), {})

    def values_at(self, visit: Visit) -> list[ValueRow]:
        """Every value of the visit's records, in the order of their ids."""
        rows = [row for place, by_item in self.values.items() if place[0] == visit.pk
                for row in by_item.values()]  # fmt: skip
        return sorted(rows, key=lambda row: row.id)

    def latest(self, item_oid: str) -> ValueRow | None:
        """The participant's most recent value of an item, from any visit: the newest visit
        date, then the newest save, as :func:`~hepatrial.edc.services.values.latest_value`
        orders them in the database (an undated visit first on PostgreSQL, last on SQLite)."""
        dates = {visit.pk: visit.visit_date for visit in self.visits}
        found = [
            (_descending(dates.get(place[0])), _descending(self.records[place].updated_at), row)
            for place, by_item in self.values.items()
            if (row := by_item.get(item_oid)) is not None and row.status == "value"
        ]
        found.sort(key=lambda f: (f[0], f[1]), reverse=True)
        return found[0][2] if found else None

    def saved(self, visit: Visit, record: FormRecord, rows: list[ItemValue]) -> None:
        """A save wrote ``record`` and ``rows`` (its changed values)."""
        place = (visit.pk, record.form_oid, record.repeat)
        self.records[place] = RecordRow(record.pk, record.updated_at)
        by_item = self.values.setdefault(place, {})
        for row in rows:
            by_item[row.item_oid] = ValueRow(*(getattr(row, name) for name in ValueRow.FIELDS))


def _descending(value: object) -> tuple[int, object]:
    """A sort key for ``reverse=True`` that places ``None`` as the database orders NULLs."""
    rank = int(value is None) if connection.features.nulls_order_largest else int(value is not None)
    return rank, value if value is not None else 0
