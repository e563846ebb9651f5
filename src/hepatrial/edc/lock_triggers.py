"""Database triggers that make the locks hold whatever code writes: a service, ``update()``,
``bulk_create()``, raw SQL or a database shell.

:data:`GUARDED` is the one list of clinical tables. Each entry says how a row of the table
reaches its casebook (participant), its visit and its form record, as a Django field path;
the triggers are generated from it for PostgreSQL (one PL/pgSQL function and row trigger per
table) and SQLite (``BEFORE INSERT/UPDATE/DELETE ... WHEN ... RAISE(ABORT)``). A row is
refused while the database is locked, and while a lock of its casebook, visit or form is open;
an update is checked against the row as it was and as it would become.

A new clinical table is one line in :data:`GUARDED` plus a migration that calls
:func:`install` again (it drops and recreates every trigger; tables not created yet are
skipped, so an older migration that calls it still runs on a fresh database).

The error messages start with :data:`DATABASE_REFUSED` or :data:`RECORD_REFUSED`;
:func:`hepatrial.edc.services.boundary.lock_refusal` turns them into the "locked" problem a
page or the command line shows. TRUNCATE fires no row trigger (test databases are emptied that
way on PostgreSQL); on SQLite a test that leaves a lock open in a flushed (transactional) test
database must lift it first, since the flush deletes row by row.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from hepatrial.edc.models import (
    AllocationSlot,
    Consent,
    DatabaseLock,
    DerivedValue,
    Deviation,
    EligibilityAssessment,
    FormRecord,
    ItemValue,
    Participant,
    Query,
    QueryMessage,
    Reconsent,
    RecordLock,
    Signature,
    SourceVerification,
    StratumCursor,
    Visit,
)

DATABASE_REFUSED = "hepatrial-lock:database"
RECORD_REFUSED = "hepatrial-lock:record"


@dataclass(frozen=True)
class Guard:
    """A clinical table, and the paths from its rows to the records a lock can name."""

    model: type[models.Model]
    casebook: str = ""
    visit: str = ""
    form: str = ""


GUARDED = (
    Guard(Participant, casebook="id"),
    Guard(EligibilityAssessment, casebook="participant"),
    Guard(Consent, casebook="participant"),
    Guard(Reconsent, casebook="participant"),
    Guard(Visit, casebook="participant", visit="id"),
    Guard(FormRecord, casebook="visit__participant", visit="visit", form="id"),
    Guard(ItemValue, casebook="form_record__visit__participant", visit="form_record__visit",
          form="form_record"),
    Guard(DerivedValue, casebook="visit__participant", visit="visit"),
    Guard(Deviation, casebook="participant", visit="visit"),
    Guard(AllocationSlot, casebook="participant"),
    Guard(StratumCursor),
    Guard(Query),
    Guard(QueryMessage),
    Guard(SourceVerification),
    Guard(Signature),
)  # fmt: skip
"""The governance tables (queries, verification, signatures) are guarded by the database lock
only: a casebook or form lock freezes the data, not the review of it."""


def _id_of(model: type[models.Model], path: str, row: str) -> str:
    """SQL for the id at the end of ``path`` from ``row`` (``NEW`` or ``OLD``)."""
    first, *rest = path.split("__")
    field = model._meta.get_field(first)
    sql, model = f"{row}.{field.column}", field.related_model
    for name in rest:
        field = model._meta.get_field(name)
        sql = f"(SELECT {field.column} FROM {model._meta.db_table} WHERE id = {sql})"
        model = field.related_model
    return sql


def _record_locked(guard: Guard, row: str) -> str | None:
    """SQL true when a lock covers ``row``; ``None`` for a table no record lock reaches."""
    levels = [("casebook", guard.casebook, "participant_id"), ("visit", guard.visit, "visit_id"),
              ("form", guard.form, "form_record_id")]  # fmt: skip
    clauses = [
        f"(l.level = '{level}' AND l.{column} = {_id_of(guard.model, path, row)})"
        for level, path, column in levels
        if path
    ]
    if not clauses:
        return None
    table = RecordLock._meta.db_table
    return (f"EXISTS (SELECT 1 FROM {table} l WHERE l.unlocked_at IS NULL "
            f"AND ({' OR '.join(clauses)}))")  # fmt: skip


def _database_locked() -> str:
    return f"EXISTS (SELECT 1 FROM {DatabaseLock._meta.db_table} WHERE unlocked_at IS NULL)"


def _name(guard: Guard, suffix: str = "") -> str:
    return f"{guard.model._meta.db_table}_lock{suffix}"


def _postgresql(guard: Guard) -> list[str]:
    table, function = guard.model._meta.db_table, f"hepatrial_{_name(guard)}"
    old, new = _record_locked(guard, "OLD"), _record_locked(guard, "NEW")
    refuse = f"RAISE EXCEPTION '{RECORD_REFUSED}: % on {table} refused', TG_OP;"
    record_checks = ""
    if old:
        record_checks = f"""
    IF TG_OP <> 'INSERT' THEN IF {old} THEN {refuse} END IF; END IF;
    IF TG_OP <> 'DELETE' THEN IF {new} THEN {refuse} END IF; END IF;"""
    return [
        f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    IF {_database_locked()} THEN
        RAISE EXCEPTION '{DATABASE_REFUSED}: % on {table} refused', TG_OP;
    END IF;{record_checks}
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
        f"CREATE TRIGGER {_name(guard)} BEFORE INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
    ]


def _sqlite(guard: Guard) -> list[str]:
    table = guard.model._meta.db_table
    old, new = _record_locked(guard, "OLD"), _record_locked(guard, "NEW")
    statements = []
    for operation in ("INSERT", "UPDATE", "DELETE"):
        checks = [(DATABASE_REFUSED, _database_locked(), "db")]
        if old:
            rows = {"INSERT": [new], "UPDATE": [old, new], "DELETE": [old]}[operation]
            checks.append((RECORD_REFUSED, " OR ".join(rows), "record"))
        for message, when, kind in checks:
            statements.append(
                f"CREATE TRIGGER {_name(guard, f'_{kind}_{operation.lower()}')} "
                f"BEFORE {operation} ON {table} FOR EACH ROW WHEN {when} "
                f"BEGIN SELECT RAISE(ABORT, '{message}: {operation} on {table} refused'); END"
            )
    return statements


def _drop(vendor: str, guard: Guard) -> list[str]:
    table = guard.model._meta.db_table
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {_name(guard)} ON {table}",
                f"DROP FUNCTION IF EXISTS hepatrial_{_name(guard)}()"]  # fmt: skip
    return [
        f"DROP TRIGGER IF EXISTS {_name(guard, f'_{kind}_{operation}')}"
        for kind in ("db", "record")
        for operation in ("insert", "update", "delete")
    ]


def statements(vendor: str, existing: set[str] | None = None) -> list[str]:
    """Every statement that (re)creates the triggers on ``vendor``, for the tables in
    ``existing`` (all of :data:`GUARDED` if ``None``)."""
    create = {"postgresql": _postgresql, "sqlite": _sqlite}[vendor]
    out = []
    for guard in GUARDED:
        if existing is not None and guard.model._meta.db_table not in existing:
            continue
        out += _drop(vendor, guard) + create(guard)
    return out


def install(apps, schema_editor) -> None:
    """Migration step: (re)create the lock triggers for the tables that exist now."""
    connection = schema_editor.connection
    if connection.vendor not in ("postgresql", "sqlite"):
        return
    existing = set(connection.introspection.table_names())
    for statement in statements(connection.vendor, existing):
        schema_editor.execute(statement, params=None)


def uninstall(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor not in ("postgresql", "sqlite"):
        return
    for guard in GUARDED:
        for statement in _drop(connection.vendor, guard):
            schema_editor.execute(statement, params=None)
