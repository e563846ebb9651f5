"""`hepatrial backup` → `hepatrial restore` into an empty database, which verifies itself.

The restore runs as its own process on a new database (PostgreSQL: a new database on the same
server; SQLite: a new file), as an operator would run it.
"""

from __future__ import annotations

import io
import json
import tarfile
import uuid

import psycopg
import pytest
from django.db import connection

from hepatrial import cli
from hepatrial.edc.backup import MANIFEST, read_manifest
from tests.serving._servers import hepatrial, server_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def empty_database(tmp_path):
    """The URL of a new, empty database of the kind this test runs on; dropped afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    db = connection.settings_dict
    server = f"postgresql://{db['USER']}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    name = f"{db['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def backup_file(trial, tmp_path, capsys):
    for days_ago in (40, 30):
        trial.randomized(days_ago=days_ago)
    out = tmp_path / "trial.backup"
    assert cli.main(["backup", "--out", str(out)]) == 0
    assert "backup written" in capsys.readouterr().out
    return out


def _restore(path, url: str):
    return hepatrial("restore", str(path), env=server_env(url))


def test_a_backup_restores_into_an_empty_database_and_verifies_itself(backup_file, empty_database):
    manifest = read_manifest(backup_file)
    assert manifest["database"] == connection.vendor
    assert manifest["audit"]["intact"] and manifest["audit"]["records"] > 0
    assert set(manifest["adam"]) >= {"adsl.csv", "adlb.csv"}
    restored = _restore(backup_file, empty_database)
    assert restored.returncode == 0, restored.stderr
    assert "checks passed" in restored.stdout
    again = _restore(backup_file, empty_database)
    assert again.returncode == 1
    assert "empty database only" in again.stderr


def test_a_restore_that_differs_from_its_backup_names_what_differs(
    backup_file, empty_database, tmp_path
):
    manifest = read_manifest(backup_file)
    manifest["tables"]["edc_participant"] += 1
    manifest["adam"]["adsl.csv"] = "0" * 64
    tampered = tmp_path / "tampered.backup"
    with tarfile.open(backup_file) as source, tarfile.open(tampered, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == MANIFEST:
                data = json.dumps(manifest).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    restored = _restore(tampered, empty_database)
    assert restored.returncode == 1
    assert "MISMATCH rows in edc_participant: backup 3, restored 2" in restored.stderr
    assert "MISMATCH blinded ADaM export" in restored.stderr
    assert "2 of" in restored.stderr
