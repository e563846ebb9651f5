"""``hepatrial backup`` and ``hepatrial restore``: a copy of the database that checks itself.

A backup is one tar file: the database (PostgreSQL: ``pg_dump`` custom format; SQLite: a copy
made with SQLite's online backup API) and ``manifest.json``, the figures a restore must find
again: the row count of every table, the audit chain's length (verified), the active
protocol's hash, and a hash of each blinded ADaM dataset. The figures and the copy come from
one snapshot, so a backup taken while the server runs is consistent: on PostgreSQL pg_dump
reads the snapshot of the transaction that computed the figures; on SQLite the write lock is
held while the figures and the copy are made, so saves wait (seconds) meanwhile.

A restore goes into an empty database only, then recomputes the figures and compares them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from hepatrial import __version__

MANIFEST = "manifest.json"
DUMPS = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


@dataclass(frozen=True)
class Check:
    name: str
    expected: object
    found: object

    @property
    def ok(self) -> bool:
        return self.expected == self.found


def fingerprint() -> dict:
    """The figures of the database as this transaction sees it (reads only)."""
    from hepatrial.analysis.datasets import write_adam
    from hepatrial.edc.audit import verify_chain
    from hepatrial.edc.export import assemble_datasets
    from hepatrial.edc.models import Participant, Site
    from hepatrial.edc.protocols import NoActiveProtocol, active_protocol

    with connection.cursor() as cursor:
        tables = {}
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            tables[table] = cursor.fetchone()[0]
    chain = verify_chain()
    try:
        version, loaded = active_protocol()
    except NoActiveProtocol:
        return {"tables": tables, "audit": _audit(chain), "protocol": None, "adam": None}
    protocol = {"stored": version.content_hash, "recomputed": loaded.content_hash}
    if not Participant.objects.exclude(randomization_date=None).exists():
        # Nobody to analyse yet: the datasets would be empty frames without their columns.
        return {"tables": tables, "audit": _audit(chain), "protocol": protocol, "adam": {}}
    export, _, _ = assemble_datasets(list(Site.objects.values_list("code", flat=True)),
                                     blinded=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        write_adam(export.datasets, folder)
        adam = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(Path(folder).iterdir())}  # fmt: skip
    return {"tables": tables, "audit": _audit(chain), "protocol": protocol, "adam": adam}


def _audit(chain) -> dict:
    return {"records": chain.checked, "intact": chain.intact}


def backup(out: Path) -> dict:
    """Write the backup of the configured database to ``out``; return its manifest."""
    vendor = connection.vendor
    if vendor not in DUMPS:
        raise BackupError(f"no backup for a {vendor} database")
    out = Path(out)
    with tempfile.TemporaryDirectory(dir=out.parent) as work:
        dump = Path(work) / DUMPS[vendor]
        figures = _pg_backup(dump) if vendor == "postgresql" else _sqlite_backup(dump)
        manifest = {"format": 1, "hepatrial": __version__, "database": vendor, **figures}
        partial = Path(work) / "backup.tar"
        with tarfile.open(partial, "w") as tar:
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, arcname=dump.name)
        os.chmod(partial, 0o600)  # clinical data: readable by the service account only
        os.replace(partial, out)
    return manifest


def _pg_command(program: str) -> tuple[list[str], dict]:
    db = connection.settings_dict
    if shutil.which(program) is None:
        raise BackupError(f"{program} is not installed (Debian: postgresql-client)")
    command = [program, "--host", db.get("HOST") or "localhost",
               "--port", str(db.get("PORT") or 5432),
               "--username", db.get("USER") or "postgres", "--dbname", db["NAME"]]  # fmt: skip
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return command, env


def _pg_backup(dump: Path) -> dict:
    command, env = _pg_command("pg_dump")
    connection.ensure_connection()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        # pg_dump reads this transaction's snapshot: the dump holds exactly what is counted.
        dumping = subprocess.Popen([*command, "--format=custom", f"--snapshot={snapshot}",
                                    "--no-owner", "--file", str(dump)], env=env,
                                   stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            figures = fingerprint()
        finally:
            _, errors = dumping.communicate()
    if dumping.returncode != 0:
        raise BackupError(f"pg_dump failed: {errors.strip()}")
    return figures


def _sqlite_backup(dump: Path) -> dict:
    path = settings.DATABASES["default"]["NAME"]
    # A second connection takes the write lock, so no one writes until the copy is made: the
    # figures (read through Django, outside any transaction) and the copy see one state.
    # Readers go on; in WAL mode the write lock does not stop them.
    lock = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        lock.execute("BEGIN IMMEDIATE")
        figures = fingerprint()
        source, target = sqlite3.connect(path), sqlite3.connect(dump)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    finally:
        lock.close()
    return figures


def read_manifest(path: Path) -> dict:
    with tarfile.open(path) as tar:
        return json.loads(tar.extractfile(MANIFEST).read())


def restore(path: Path) -> list[Check]:
    """Restore the backup at ``path`` into the configured, empty database; return the checks."""
    path = Path(path)
    try:
        manifest = read_manifest(path)
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupError(f"{path}: not a hepatrial backup ({exc})") from None
    vendor = connection.vendor
    if manifest.get("database") != vendor:
        raise BackupError(f"{path} is a backup of a {manifest.get('database')} database; "
                          f"this one is {vendor}")  # fmt: skip
    tables = connection.introspection.table_names()
    if tables:
        raise BackupError(f"a backup is restored into an empty database only; this one has "
                          f"{len(tables)} tables")  # fmt: skip
    with tempfile.TemporaryDirectory() as work, tarfile.open(path) as tar:
        tar.extract(DUMPS[vendor], work, filter="data")
        dump = Path(work) / DUMPS[vendor]
        if vendor == "postgresql":
            command, env = _pg_command("pg_restore")
            restored = subprocess.run([*command, "--no-owner", "--exit-on-error", str(dump)],
                                      env=env, capture_output=True, text=True)  # fmt: skip
            if restored.returncode != 0:
                raise BackupError(f"pg_restore failed: {restored.stderr.strip()}")
        else:
            connection.close()
            source = sqlite3.connect(dump)
            target = sqlite3.connect(settings.DATABASES["default"]["NAME"])
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
    connection.close()
    with transaction.atomic():
        found = fingerprint()
    return compare(manifest, found)


def compare(manifest: dict, found: dict) -> list[Check]:
    checks = []
    names = sorted(set(manifest["tables"]) | set(found["tables"]))
    checks += [Check(f"rows in {name}", manifest["tables"].get(name), found["tables"].get(name))
               for name in names]  # fmt: skip
    checks.append(Check("audit trail verified", True, found["audit"]["intact"]))
    checks.append(Check("audit records", manifest["audit"]["records"], found["audit"]["records"]))
    expected_protocol = (manifest["protocol"] or {}).get("stored")
    found_protocol = found["protocol"] or {}
    checks.append(Check("active protocol hash", expected_protocol, found_protocol.get("stored")))
    checks.append(Check("protocol text matches its hash", found_protocol.get("stored"),
                        found_protocol.get("recomputed")))  # fmt: skip
    checks.append(Check("blinded ADaM export", manifest["adam"], found["adam"]))
    return checks
