"""Saving a complete visit on PostgreSQL with 1, 4 and 16 concurrent writers, beside pgbench.

A complete visit is the nine liver labs and the three clinical items of one scheduled visit:
two form saves through `save_form`, each validating, normalizing, recomputing the derived
scores and writing its audit rows in one transaction. Writers are separate processes (as
separate web workers would be). pgbench's TPC-B-like TPS against the same server, measured in
the same run, is the baseline: the ratio is the figure we track (aim: at least 1/3).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import _trial  # noqa: E402

VISITS = ["W1", "W4", "W8", "W12", "W24"]


def _writer(args: tuple[str, list[str], float]) -> list[float]:
    database_url, numbers, deadline = args
    _trial.setup_django(database_url)
    from hepatrial.edc.models import User, Visit
    from hepatrial.edc.permissions import actor_for
    from hepatrial.edc.services.forms import save_form

    actor = actor_for(User.objects.get(username="coordinator"))
    latencies = []
    for number in numbers:
        for step, event in enumerate(VISITS, start=1):
            if time.time() > deadline:
                return latencies
            visit = Visit.objects.get(participant__screening_number=number, event_oid=event)
            on = visit.target_date
            start = time.perf_counter()
            save_form(actor, number, event, "F.LAB", _trial.labs(step), base_version=0,
                      visit_date=on)  # fmt: skip
            save_form(actor, number, event, "F.CLIN", _trial.CLINICAL, base_version=0)
            latencies.append(time.perf_counter() - start)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer participants, shorter runs")
    options, _ = parser.parse_known_args()
    per_writer = 3 if options.quick else 6
    seconds = 5 if options.quick else 10
    url = _trial.fresh_database("hepatrial_bench_capture")
    _trial.setup_django(url)
    import datetime as dt

    from django.db import connections
    from django.utils import timezone

    from hepatrial.edc.protocols import active_protocol
    from hepatrial.edc.services.allocation import design_for, load_list, randomize
    from hepatrial.randomization.blocks import generate_block_list
    from hepatrial.randomization.seedfile import new_seed

    actor = _trial.load_trial()
    total = 16 * per_writer
    protocol = active_protocol()[1].protocol
    load_list(generate_block_list(design_for(protocol, total), new_seed()), operator="bench")
    numbers = []
    for _ in range(total):
        number = _trial.consented_participant(actor, days_ago=200)
        randomize(actor, number, on=timezone.localdate() - dt.timedelta(days=200))
        numbers.append(number)
    connections.close_all()
    print(
        f"{total} randomized participants ready; each writer saves whole visits for "
        f"{per_writer} of them (up to {len(VISITS)} visits each), at most {seconds} s"
    )
    print(f"{'writers':>7}  {'visits/s':>9}  {'p95 ms':>7}  {'pgbench tps':>11}  {'ratio':>6}")
    context = multiprocessing.get_context("fork")
    for writers in (1, 4, 16):
        batches = [numbers[i::writers] for i in range(writers)]
        deadline = time.time() + seconds
        start = time.perf_counter()
        with context.Pool(writers) as pool:
            results = pool.map(_writer, [(url, batch, deadline) for batch in batches])
        elapsed = time.perf_counter() - start
        latencies = [x for r in results for x in r]
        rate = len(latencies) / elapsed
        tps = _trial.pgbench_tps(url, writers, seconds)
        p95 = _trial.percentile(latencies, 0.95) * 1000
        print(f"{writers:>7}  {rate:>9.1f}  {p95:>7.1f}  {tps:>11.1f}  {rate / tps:>6.3f}")
        _reset_visits(url)
    _trial.drop_database("hepatrial_bench_capture")


def _reset_visits(url: str) -> None:
    """Forget the saved visits so the next round saves first versions again."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE edc_auditevent DISABLE TRIGGER edc_auditevent_append_only")
        conn.execute("""
            DELETE FROM edc_itemvalue WHERE form_record_id IN (
                SELECT f.id FROM edc_formrecord f JOIN edc_visit v ON f.visit_id = v.id
                WHERE v.event_oid IN ('W1','W4','W8','W12','W24'));
            DELETE FROM edc_derivedvalue WHERE visit_id IN (
                SELECT id FROM edc_visit WHERE event_oid IN ('W1','W4','W8','W12','W24'));
            DELETE FROM edc_deviation;
            DELETE FROM edc_formrecord WHERE visit_id IN (
                SELECT id FROM edc_visit WHERE event_oid IN ('W1','W4','W8','W12','W24'));
            UPDATE edc_visit SET visit_date = NULL, status = 'planned'
                WHERE event_oid IN ('W1','W4','W8','W12','W24');
        """)
        conn.execute("ALTER TABLE edc_auditevent ENABLE TRIGGER edc_auditevent_append_only")


if __name__ == "__main__":
    main()
