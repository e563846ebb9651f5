"""Saving a complete visit on PostgreSQL with 1, 4 and 16 concurrent writers: the service beside
a hand-written baseline and pgbench, all measured in the same run on the same server.

A complete visit is the nine liver labs and the three clinical items of one scheduled visit.
Through the service that is two `save_form` calls, each one transaction that locks the
participant, validates and normalizes, writes what changed, sets the visit date, recomputes
the derived scores, reconciles the automatic queries and appends its audit rows to the chain.

The **baseline** sends only the writes such a visit needs, with plain psycopg and nothing of
hepatrial: one transaction of ten statements, pipelined in three round trips, that locks the
participant row, inserts the two form records, updates the visit, inserts the seven derived
scores and the twelve item values (each table's rows in one statement), then locks the audit
chain's head, inserts the twenty audit rows hashed onto the chain, moves the head and commits.
No validation, no scores computed (their values are constants), no reads beyond the ids the
inserts return: the floor the service is measured against. pgbench's TPC-B-like TPS shows what
the server does with a transaction of a few statements.

Writers are separate processes (as separate web workers would be); each saves whole visits of
its own participants until they run out or the round's time is up. Printed: visits/s, p50 and
p95 latency per visit for the service and the baseline, pgbench TPS, the statements one visit
costs the service, and the aims of issue 17: one service writer at least 1/3 of one baseline
writer; four service writers at least 1.8x one; p95 at most 100 ms with sixteen.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(__file__))

import _trial  # noqa: E402

VISITS = ["W1", "W4", "W8", "W12", "W24"]
WRITERS = (1, 4, 16)


# --- the service ---------------------------------------------------------------------------------


def _save_visit(actor, number: str, step: int, event: str, on: dt.date) -> None:
    from hepatrial.edc.services.forms import save_form

    save_form(actor, number, event, "F.LAB", _trial.labs(step), base_version=0, visit_date=on)
    save_form(actor, number, event, "F.CLIN", _trial.CLINICAL, base_version=0)


def _service_writer(args: tuple[str, list[dict], float]) -> list[float]:
    database_url, plans, deadline = args
    _trial.setup_django(database_url)
    from hepatrial.edc.models import User
    from hepatrial.edc.permissions import actor_for

    actor = actor_for(User.objects.get(username="coordinator"))
    latencies = []
    for plan in plans:
        for step, event in enumerate(VISITS, start=1):
            if time.time() > deadline:
                return latencies
            start = time.perf_counter()
            _save_visit(actor, plan["number"], step, event, plan["visits"][event][1])
            latencies.append(time.perf_counter() - start)
    return latencies


def _statements_per_visit(actor, number: str) -> Counter:
    """The statements one whole visit (both forms) sends, by their first word."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hepatrial.edc.models import Visit

    on = Visit.objects.get(participant__screening_number=number, event_oid="W1").target_date
    with CaptureQueriesContext(connection) as captured:
        _save_visit(actor, number, 1, "W1", on)
    return Counter(q["sql"].split(None, 1)[0].upper() for q in captured.captured_queries)


# --- the hand-written baseline ---------------------------------------------------------------

_LAB_ROWS = [  # item, text, unit, number
    ("I.ALT", "41", "U/L", 41.0), ("I.AST", "56", "U/L", 56.0), ("I.ALP", "130", "U/L", 130.0),
    ("I.TBIL", "43", "µmol/L", 43.0), ("I.ALB", "30", "g/L", 30.0), ("I.PT", "16.5", "s", 16.5),
    ("I.INR", "1.6", "1", 1.6), ("I.CREAT", "82", "µmol/L", 82.0),
    ("I.SODIUM", "135", "mmol/L", 135.0),
]  # fmt: skip
_CLIN_ROWS = [("I.ASCITES", "mild", "", None), ("I.HEGRADE", "0", "", None),
              ("I.DIALYSIS", "no", "", None)]  # fmt: skip
_DERIVED_ROWS = [  # item, number, text, formula
    ("D.MELD", 15.0, "", "meld-optn-2016-v2"), ("D.MELDNA", 17.0, "", "meld-na-optn-2016-v2"),
    ("D.MELD3", 18.0, "", "meld3-optn-2023-v2"), ("D.ALBI", -1.4719, "", "albi-johnson-2015-v2"),
    ("D.ALBIGRADE", 2.0, "", "albi-johnson-2015-v2"), ("D.CPSCORE", 8.0, "", "child-pugh-table-v2"),
    ("D.CPCLASS", None, "B", "child-pugh-table-v2"),
]  # fmt: skip
_INPUTS = {"inputs": {"bilirubin": 43.0, "albumin": 30.0, "inr": 1.6},
           "units": {"bilirubin": "µmol/L", "albumin": "g/L", "inr": "1"},
           "missing": "", "settings": {"factors": {"bilirubin": 17.1}}}  # fmt: skip
_AUDIT_COLUMNS = ("at", "username", "action", "object_type", "object_id", "participant", "site",
                  "item", "old_value", "new_value", "reason", "context", "blinded_content",
                  "previous_hash", "hash")  # fmt: skip


def _audit_row(at: dt.datetime, plan: dict, action: str, object_type: str, object_id: object,
               item: str, new: str, context: dict) -> dict:  # fmt: skip
    return {"at": at, "username": "coordinator", "action": action, "object_type": object_type,
            "object_id": str(object_id), "participant": plan["number"], "site": plan["site"],
            "item": item, "old_value": "", "new_value": new, "reason": "", "context": context,
            "blinded_content": False}  # fmt: skip


def _chain(rows: list[dict], previous: str) -> str:
    """Hash ``rows`` onto the chain after ``previous`` as the audit trail does; the last hash."""
    for row in rows:
        row["previous_hash"] = previous
        content = {name: row[name] for name in _AUDIT_COLUMNS if name not in ("at", "hash")}
        content["at"] = row["at"].astimezone(dt.UTC).isoformat(timespec="microseconds")
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        row["hash"] = previous = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return previous


def _rows(rows: list[tuple]) -> tuple[str, list]:
    """``VALUES`` placeholders for ``rows`` and their parameters: one statement for them all."""
    marks = ", ".join("(" + ", ".join(["%s"] * len(row)) + ")" for row in rows)
    return marks, [value for row in rows for value in row]


def _baseline_visit(conn, plan: dict, event: str) -> None:
    """One whole visit's writes in ten statements, pipelined in three round trips."""
    from psycopg.types.json import Jsonb

    visit_id, on = plan["visits"][event]
    at = dt.datetime.now(dt.UTC)
    records, derived, values, head = (conn.cursor() for _ in range(4))
    with conn.transaction():
        with conn.pipeline():
            conn.execute("SELECT 1 FROM edc_participant WHERE id = %s FOR UPDATE",
                         [plan["participant_id"]])  # fmt: skip
            marks, params = _rows([
                (visit_id, form, 0, 1, plan["protocol_hash"], at, plan["user_id"],
                 plan["protocol_id"]) for form in ("F.LAB", "F.CLIN")])  # fmt: skip
            records.execute(
                "INSERT INTO edc_formrecord (visit_id, form_oid, repeat, version, protocol_hash,"
                f" updated_at, updated_by_id, protocol_version_id) VALUES {marks} RETURNING id",
                params,
            )
            conn.execute("UPDATE edc_visit SET visit_date = %s, status = 'done' WHERE id = %s",
                         [on, visit_id])  # fmt: skip
            marks, params = _rows([(visit_id, oid, number, text, Jsonb(_INPUTS), formula, at)
                                   for oid, number, text, formula in _DERIVED_ROWS])  # fmt: skip
            derived.execute(
                "INSERT INTO edc_derivedvalue (visit_id, item_oid, number, text, inputs,"
                f" formula_version, computed_at) VALUES {marks} RETURNING id", params,
            )  # fmt: skip
        lab, clin = (row[0] for row in records.fetchall())
        derived_ids = [row[0] for row in derived.fetchall()]
        items = [(lab, "F.LAB", *row) for row in _LAB_ROWS] + [
            (clin, "F.CLIN", *row) for row in _CLIN_ROWS]  # fmt: skip
        with conn.pipeline():
            marks, params = _rows([
                (record, oid, "value", text, unit, number, "" if number else text, unit,
                 Jsonb([])) for record, _, oid, text, unit, number in items])  # fmt: skip
            values.execute(
                "INSERT INTO edc_itemvalue (form_record_id, item_oid, status, text, unit_entered,"
                f" number, normalized_text, canonical_unit, warnings) VALUES {marks} RETURNING id",
                params,
            )  # fmt: skip
            head.execute("SELECT last_hash FROM edc_audithead WHERE id = 1 FOR UPDATE")
        value_ids = [row[0] for row in values.fetchall()]
        rows = [
            _audit_row(at, plan, "create", "itemvalue", pk, oid, f"{text} {unit}".strip(),
                       {"form": form, "event": event, "record": record, "version": 1})
            for pk, (record, form, oid, text, unit, _) in zip(value_ids, items, strict=True)
        ] + [_audit_row(at, plan, "create", "visit", visit_id, "visit_date", on.isoformat(),
                        {"event": event})] + [
            _audit_row(at, plan, "derive", "derivedvalue", pk, oid, f"{number:g}" if number
                       is not None else text, {"event": event, "formula": formula})
            for pk, (oid, number, text, formula) in zip(derived_ids, _DERIVED_ROWS, strict=True)
        ]  # fmt: skip
        last = _chain(rows, head.fetchone()[0])
        with conn.pipeline():
            marks, params = _rows([tuple(Jsonb(r[c]) if c == "context" else r[c]
                                         for c in _AUDIT_COLUMNS) for r in rows])  # fmt: skip
            conn.execute(f"INSERT INTO edc_auditevent ({', '.join(_AUDIT_COLUMNS)}) VALUES {marks}",
                         params)  # fmt: skip
            conn.execute("UPDATE edc_audithead SET last_hash = %s, count = count + %s WHERE id = 1",
                         [last, len(rows)])  # fmt: skip


def _baseline_writer(args: tuple[str, list[dict], float]) -> list[float]:
    import psycopg

    database_url, plans, deadline = args
    latencies = []
    with psycopg.connect(database_url) as conn:
        for plan in plans:
            for event in VISITS:
                if time.time() > deadline:
                    return latencies
                start = time.perf_counter()
                _baseline_visit(conn, plan, event)
                latencies.append(time.perf_counter() - start)
    return latencies


# --- the run ---------------------------------------------------------------------------------


def _plans(url: str, numbers: list[str]) -> list[dict]:
    """What the writers need to know of each participant: ids, site, visits and targets."""
    import psycopg

    with psycopg.connect(url) as conn:
        user = conn.execute("SELECT id FROM edc_user WHERE username = 'coordinator'").fetchone()
        active = "SELECT id, content_hash FROM edc_protocolversion WHERE is_active"
        protocol = conn.execute(active).fetchone()
        plans = []
        for number in numbers:
            pid, site = conn.execute(
                "SELECT p.id, s.code FROM edc_participant p JOIN edc_site s ON s.id = p.site_id"
                " WHERE screening_number = %s", [number]).fetchone()  # fmt: skip
            visits = {event: (vid, target) for vid, event, target in conn.execute(
                "SELECT id, event_oid, target_date FROM edc_visit WHERE participant_id = %s",
                [pid])}  # fmt: skip
            plans.append({"number": number, "participant_id": pid, "site": site,
                          "visits": visits, "user_id": user[0], "protocol_id": protocol[0],
                          "protocol_hash": protocol[1]})  # fmt: skip
    return plans


def _round(context, writer, url: str, plans: list[dict], writers: int, seconds: int):
    """(visits/s, p50 ms, p95 ms) of ``writers`` processes running ``writer``."""
    batches = [plans[i::writers] for i in range(writers)]
    deadline = time.time() + seconds
    start = time.perf_counter()
    with context.Pool(writers) as pool:
        results = pool.map(writer, [(url, batch, deadline) for batch in batches])
    elapsed = time.perf_counter() - start
    latencies = [x for r in results for x in r]
    return (len(latencies) / elapsed, _trial.percentile(latencies, 0.5) * 1000,
            _trial.percentile(latencies, 0.95) * 1000)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer participants, shorter runs")
    parser.add_argument("--database", default="hepatrial_bench_capture",
                        help="the throwaway database to create (and drop at the end)")  # fmt: skip
    options, _ = parser.parse_known_args()
    per_writer = 3 if options.quick else 6
    seconds = 5 if options.quick else 10
    url = _trial.fresh_database(options.database)
    _trial.setup_django(url)
    from django.db import connections
    from django.utils import timezone

    from hepatrial.edc.protocols import active_protocol
    from hepatrial.edc.services.allocation import design_for, load_list, randomize
    from hepatrial.randomization.blocks import generate_block_list
    from hepatrial.randomization.seedfile import new_seed

    actor = _trial.load_trial()
    total = 16 * per_writer
    protocol = active_protocol()[1].protocol
    load_list(generate_block_list(design_for(protocol, total + 1), new_seed()), operator="bench")
    numbers = []
    for _ in range(total + 1):
        number = _trial.consented_participant(actor, days_ago=200)
        randomize(actor, number, on=timezone.localdate() - dt.timedelta(days=200))
        numbers.append(number)
    statements = _statements_per_visit(actor, numbers.pop())
    connections.close_all()
    plans = _plans(url, numbers)
    print(
        f"{total} randomized participants ready; each writer saves whole visits for "
        f"{per_writer} of them (up to {len(VISITS)} visits each), at most {seconds} s a round"
    )
    print(f"{'':>7}  {'service':^24}  {'baseline (psycopg)':^24}  {'pgbench':>8}  {'service /':>9}")
    print(f"{'writers':>7}  {'visits/s':>8} {'p50 ms':>7} {'p95 ms':>7}  "
          f"{'visits/s':>8} {'p50 ms':>7} {'p95 ms':>7}  {'tps':>8}  {'baseline':>9}")  # fmt: skip
    context = multiprocessing.get_context("fork")
    service, baseline = {}, {}
    for writers in WRITERS:
        service[writers] = _round(context, _service_writer, url, plans, writers, seconds)
        _reset_visits(url)
        baseline[writers] = _round(context, _baseline_writer, url, plans, writers, seconds)
        _reset_visits(url)
        tps = _trial.pgbench_tps(url, writers, seconds)
        (rate, p50, p95), (base, base50, base95) = service[writers], baseline[writers]
        print(f"{writers:>7}  {rate:>8.1f} {p50:>7.1f} {p95:>7.1f}  {base:>8.1f} {base50:>7.1f} "
              f"{base95:>7.1f}  {tps:>8.1f}  {rate / base:>9.3f}")  # fmt: skip
    kinds = ", ".join(f"{n} {kind}" for kind, n in statements.most_common())
    print(f"statements per visit through the service (two form saves): "
          f"{sum(statements.values())} ({kinds}); the baseline: 10 in 3 round trips")  # fmt: skip
    _aims(service, baseline)
    _trial.drop_database(options.database)


def _aims(service: dict, baseline: dict) -> None:
    def said(met: bool) -> str:
        return "met" if met else "NOT met"

    share = service[1][0] / baseline[1][0]
    gain = service[4][0] / service[1][0]
    p95 = service[16][2]
    print(f"aim: 1 service writer >= 1/3 of 1 baseline writer: {share:.3f} "
          f"({said(share >= 1 / 3)})")  # fmt: skip
    print(f"aim: 4 service writers >= 1.8x 1 service writer: {gain:.2f}x ({said(gain >= 1.8)})")
    print(f"aim: service p95 <= 100 ms at 16 writers: {p95:.0f} ms ({said(p95 <= 100)})")


def _reset_visits(url: str) -> None:
    """Forget the saved visits (and the automatic queries they raised) so that the next round
    saves first versions again."""
    import psycopg

    events = "('W1','W4','W8','W12','W24')"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"""
            DELETE FROM edc_itemvalue WHERE form_record_id IN (
                SELECT f.id FROM edc_formrecord f JOIN edc_visit v ON f.visit_id = v.id
                WHERE v.event_oid IN {events});
            DELETE FROM edc_derivedvalue WHERE visit_id IN (
                SELECT id FROM edc_visit WHERE event_oid IN {events});
            DELETE FROM edc_deviation;
            DELETE FROM edc_querymessage;
            DELETE FROM edc_query;
            DELETE FROM edc_formrecord WHERE visit_id IN (
                SELECT id FROM edc_visit WHERE event_oid IN {events});
            UPDATE edc_visit SET visit_date = NULL, status = 'planned'
                WHERE event_oid IN {events};
        """)  # fmt: skip


if __name__ == "__main__":
    main()
