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


def existing_database(name: str, participants: int) -> str | None:
    """The URL of database ``name`` if it exists with ``participants`` or more; else None."""
    import psycopg

    url = f"{PG_SERVER}/{name}"
    try:
        with psycopg.connect(url) as conn:
            count = conn.execute("SELECT count(*) FROM edc_participant").fetchone()[0]
    except psycopg.Error:
        return None
    return url if count >= participants else None


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


VISITS = ["W1", "W4", "W8", "W12", "W24"]


def randomized_participants(actor, count: int = 3) -> list[str]:
    """``count`` participants entered through the services: screening, eligibility, consent,
    randomization and every follow-up visit's labs and clinical items (what exports read)."""
    from django.utils import timezone

    from hepatrial.edc.models import Visit
    from hepatrial.edc.services.allocation import randomize
    from hepatrial.edc.services.forms import save_form

    numbers = []
    for _ in range(count):
        number = consented_participant(actor, days_ago=200)
        randomize(actor, number, on=timezone.localdate() - dt.timedelta(days=200))
        for step, event in enumerate(VISITS, start=1):
            on = Visit.objects.get(participant__screening_number=number, event_oid=event)
            save_form(actor, number, event, "F.LAB", labs(step), base_version=0,
                      visit_date=on.target_date)  # fmt: skip
            save_form(actor, number, event, "F.CLIN", CLINICAL, base_version=0)
        numbers.append(number)
    return numbers


# Tables copied by grow(), parents first, with the table each foreign key points to.
_COPIED = (
    ("edc_participant", {}),
    ("edc_eligibilityassessment", {"participant_id": "edc_participant"}),
    ("edc_consent", {"participant_id": "edc_participant"}),
    ("edc_visit", {"participant_id": "edc_participant"}),
    ("edc_formrecord", {"visit_id": "edc_visit"}),
    ("edc_itemvalue", {"form_record_id": "edc_formrecord"}),
    ("edc_derivedvalue", {"visit_id": "edc_visit"}),
    ("edc_deviation", {"participant_id": "edc_participant", "visit_id": "edc_visit"}),
    ("edc_query", {"participant_id": "edc_participant", "visit_id": "edc_visit"}),
    ("edc_querymessage", {"query_id": "edc_query"}),
    ("edc_allocationslot", {"participant_id": "edc_participant"}),
    ("edc_auditevent", {}),
)
_AUDITED_OBJECTS = {
    "participant": "edc_participant", "visit": "edc_visit", "formrecord": "edc_formrecord",
    "itemvalue": "edc_itemvalue", "derivedvalue": "edc_derivedvalue", "query": "edc_query",
}  # fmt: skip


def grow(template: list[str], total: int) -> int:
    """Copy the template participants' rows in SQL until the trial has ``total`` participants
    (rounded up to whole copies of the template); returns how many it has.

    Copy ``k`` of a row with id ``i`` gets the id ``base + (k - 1) * span + i``, where ``base``
    is the table's largest id before this call and ``span`` one more than the template's
    largest: the copies never meet, and a later call grows further. Foreign keys move with their
    table, each copy gets a new screening number and sequence, an allocation slot of its own
    and audit rows pointing at the copied objects (hashes made unique; a copied chain does not
    verify, which no export checks). Seconds for 10,000 participants; the ORM took minutes.
    """
    from django.db import connection, transaction

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM edc_participant")
        have = cur.fetchone()[0]
        if have >= total:
            return have
        ids = _template_ids(cur, template)
        base, span = {}, {}
        for table, _ in _COPIED:
            cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
            base[table] = cur.fetchone()[0]
            cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table} t WHERE {_OWN[table]}",
                        {"ids": ids, "numbers": template})  # fmt: skip
            span[table] = cur.fetchone()[0]
        moved = {t: f"({base[t]} + (g.k - 1) * {span[t]} + %s)" for t in base}
        copies = -(-(total - have) // len(ids))
        with transaction.atomic():
            for table, keys in _COPIED:
                cur.execute("SELECT column_name FROM information_schema.columns "
                            "WHERE table_name = %s ORDER BY ordinal_position", [table])  # fmt: skip
                columns = [r[0] for r in cur.fetchall()]
                shown = [_copied(table, c, keys, moved) for c in columns]
                join = "JOIN edc_participant p ON p.screening_number = t.participant " if (
                    table == "edc_auditevent") else ""  # fmt: skip
                cur.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(shown)} "
                    f"FROM {table} t {join}CROSS JOIN generate_series(1, %(copies)s) AS g(k) "
                    f"WHERE {_OWN[table]}",
                    {"copies": copies, "ids": ids, "numbers": template},
                )  # fmt: skip
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))")  # fmt: skip
        cur.execute("ANALYZE")
        cur.execute("SELECT count(*) FROM edc_participant")
        return cur.fetchone()[0]


def _template_ids(cur, template: list[str]) -> list[int]:
    cur.execute("SELECT id FROM edc_participant WHERE screening_number = ANY(%s)", [template])
    return [r[0] for r in cur.fetchall()]


_VISITS_OF = "SELECT id FROM edc_visit WHERE participant_id = ANY(%(ids)s)"
_OWN = {
    "edc_participant": "t.id = ANY(%(ids)s)",
    "edc_eligibilityassessment": "t.participant_id = ANY(%(ids)s)",
    "edc_consent": "t.participant_id = ANY(%(ids)s)",
    "edc_visit": "t.participant_id = ANY(%(ids)s)",
    "edc_formrecord": f"t.visit_id IN ({_VISITS_OF})",
    "edc_itemvalue": f"t.form_record_id IN (SELECT id FROM edc_formrecord WHERE visit_id IN "
    f"({_VISITS_OF}))",
    "edc_derivedvalue": f"t.visit_id IN ({_VISITS_OF})",
    "edc_deviation": "t.participant_id = ANY(%(ids)s)",
    "edc_query": "t.participant_id = ANY(%(ids)s)",
    "edc_querymessage": "t.query_id IN (SELECT id FROM edc_query WHERE participant_id = "
    "ANY(%(ids)s))",
    "edc_allocationslot": "t.participant_id = ANY(%(ids)s)",
    "edc_auditevent": "t.participant = ANY(%(numbers)s)",
}
"""The template's own rows of each table."""


def _copied(table: str, column: str, keys: dict[str, str], moved: dict[str, str]) -> str:
    """The SQL expression of ``column`` in copy ``g.k`` of a row ``t``."""
    new_participant = moved["edc_participant"] % (
        "p.id" if table == "edc_auditevent" else "t.id")  # fmt: skip
    if column == "id":
        return moved[table] % "t.id"
    if column in keys:
        return moved[keys[column]] % f"t.{column}"
    if table == "edc_participant" and column == "sequence":
        return new_participant
    if table == "edc_participant" and column == "screening_number":
        return _number_of("t.screening_number", new_participant)
    if table == "edc_allocationslot" and column == "sequence":
        return f"1000000 + {moved['edc_participant'] % 't.participant_id'}"
    if table == "edc_auditevent" and column == "participant":
        return (
            f"split_part(t.participant, '-', 1) || '-' || lpad(({new_participant})::text, 5, '0')"
        )
    if table == "edc_auditevent" and column == "hash":
        return f"left(t.hash, 40) || lpad(({moved[table] % 't.id'})::text, 24, '0')"
    if table == "edc_auditevent" and column == "object_id":
        cases = " ".join(
            f"WHEN '{kind}' THEN ({moved[target] % 't.object_id::bigint'})::text"
            for kind, target in _AUDITED_OBJECTS.items()
        )
        numeric = f"CASE t.object_type {cases} ELSE t.object_id END"
        return f"CASE WHEN t.object_id ~ '^[0-9]+$' THEN {numeric} ELSE t.object_id END"
    return f"t.{column}"


def _number_of(old: str, participant: str) -> str:
    """The copy's screening number: the site's prefix and the copy's own sequence."""
    return f"split_part({old}, '-', 1) || '-' || lpad(({participant})::text, 5, '0')"
