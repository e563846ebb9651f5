"""A throwaway PostgreSQL trial database for the benchmarks, built through the real services."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import tempfile
import time

from hepatrial.protocol.values import EnteredValue as E

PG_SERVER = os.environ.get("HEPATRIAL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def fresh_database(name: str) -> str:
    """Drop and create database ``name``; return its URL."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_SERVER}/{name}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("HEPATRIAL_VAR_DIR", tempfile.mkdtemp(prefix="hepatrial-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "hepatrial.settings"
    import django

    django.setup()
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load_trial():
    """Migrate, load the protocol, the demo list and accounts; return the coordinator actor."""
    from django.core.management import call_command

    from hepatrial.edc.demo_accounts import ensure_demo_accounts
    from hepatrial.edc.demo_list import ensure_demo_list
    from hepatrial.edc.models import User
    from hepatrial.edc.permissions import actor_for
    from hepatrial.edc.protocols import install_protocol
    from hepatrial.protocol import default_protocol_path, load_protocol

    call_command("migrate", verbosity=0)
    loaded = load_protocol(default_protocol_path())
    install_protocol(loaded)
    ensure_demo_list(loaded.protocol)
    ensure_demo_accounts()
    return actor_for(User.objects.get(username="coordinator"))


def consented_participant(actor, days_ago: int) -> str:
    """Screen, confirm eligibility, consent and enter screening data through the services."""
    from django.utils import timezone

    from hepatrial.edc.protocols import active_protocol
    from hepatrial.edc.services import participants
    from hepatrial.edc.services.forms import save_form

    on = timezone.localdate() - dt.timedelta(days=days_ago)
    number = participants.screen(actor, "SY", on).screening_number
    answers = {c.oid: c.qualifying_answer for c in active_protocol()[1].protocol.eligibility}
    participants.assess_eligibility(actor, number, answers)
    signed = timezone.now() - dt.timedelta(days=days_ago)
    participants.record_consent(actor, number, "ICF v1.0", signed)
    save_form(actor, number, "SCR", "F.DM", DEMOGRAPHICS, base_version=0, visit_date=on)
    save_form(actor, number, "SCR", "F.LAB", labs(0), base_version=0)
    save_form(actor, number, "SCR", "F.CLIN", CLINICAL, base_version=0)
    return number


def labs(step: int) -> dict[str, E]:
    """A complete set of the nine liver labs, drifting a little with each visit."""
    return {
        "I.ALT": E(str(40 + step), "U/L"), "I.AST": E(str(55 + step), "U/L"),
        "I.ALP": E("130", "U/L"), "I.TBIL": E(str(40 + 3 * step), "µmol/L"),
        "I.ALB": E("30", "g/L"), "I.PT": E("16.5"), "I.INR": E("1.6"),
        "I.CREAT": E("82", "µmol/L"), "I.SODIUM": E("135", "mmol/L"),
    }  # fmt: skip


CLINICAL = {"I.ASCITES": E("mild"), "I.HEGRADE": E("0"), "I.DIALYSIS": E("no")}
DEMOGRAPHICS = {"I.AGE": E("55"), "I.SEX": E("F"), "I.ETIOL": E("HBV"), "I.WEIGHT": E("60", "kg")}


def pgbench_tps(database_url: str, clients: int, seconds: int, scale: int = 10) -> float:
    """TPS of pgbench's default TPC-B-like transaction against the same server, same run."""
    name = database_url.rsplit("/", 1)[1]
    server = database_url.rsplit("/", 1)[0].split("//", 1)[1]
    user, host_port = server.split("@")
    host, port = host_port.split(":")
    base = ["pgbench", "-h", host, "-p", port, "-U", user]
    subprocess.run([*base, "-i", "-q", "-s", str(scale), name], check=True, capture_output=True)
    threads = min(clients, os.cpu_count() or 1)
    result = subprocess.run(
        [*base, "-c", str(clients), "-j", str(threads), "-T", str(seconds), name],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", result.stdout)
    if match is None:
        raise RuntimeError(f"could not read pgbench output:\n{result.stdout}")
    return float(match.group(1))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timed(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result
