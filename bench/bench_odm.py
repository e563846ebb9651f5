"""`hepatrial export odm` on PostgreSQL at 1,000 and more participants: time and peak memory.

Three participants are entered through the services (screening, eligibility, consent, forms,
randomization, follow-up visits); the trial is then grown by copying their rows in bulk
(participants, visits, form records, values, derived scores and audit rows), which is what the
export reads. Peak memory is Python's (tracemalloc) during the export alone: it should stay
flat as the trial grows, since the database is read in chunks and each subject is written and
dropped. Run: ``PYTHONPATH=src python bench/bench_odm.py [--quick]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))

import _trial  # noqa: E402

VISITS = ["W1", "W4", "W8", "W12", "W24"]


def _template(actor) -> list[str]:
    from django.utils import timezone

    from hepatrial.edc.models import Visit
    from hepatrial.edc.services.allocation import randomize
    from hepatrial.edc.services.forms import save_form

    numbers = []
    for _ in range(3):
        number = _trial.consented_participant(actor, days_ago=200)
        randomize(actor, number, on=timezone.localdate() - dt.timedelta(days=200))
        for step, event in enumerate(VISITS, start=1):
            on = Visit.objects.get(participant__screening_number=number, event_oid=event)
            save_form(actor, number, event, "F.LAB", _trial.labs(step), base_version=0,
                      visit_date=on.target_date)  # fmt: skip
            save_form(actor, number, event, "F.CLIN", _trial.CLINICAL, base_version=0)
        numbers.append(number)
    return numbers


def _grow(template: list[str], total: int) -> None:
    """Copy the template participants' rows until the trial has ``total`` participants."""
    from hepatrial.edc import models as m

    sources = list(m.Participant.objects.filter(screening_number__in=template))
    count = m.Participant.objects.count()
    next_sequence = max(m.Participant.objects.values_list("sequence", flat=True)) + 1
    audit_rows = list(m.AuditEvent.objects.filter(participant__in=template))
    while count < total:
        source = sources[count % len(sources)]
        number = f"{source.site.code}-{next_sequence:05d}"
        clone = m.Participant.objects.get(pk=source.pk)
        clone.pk, clone.sequence, clone.screening_number = None, next_sequence, number
        clone.save()
        for visit in m.Visit.objects.filter(participant=source):
            forms = list(visit.forms.all())
            derived = list(visit.derived.all())
            visit.pk, visit.participant = None, clone
            visit.save()
            for record in forms:
                values = list(record.values.all())
                record.pk, record.visit = None, visit
                record.save()
                for value in values:
                    value.pk, value.form_record = None, record
                m.ItemValue.objects.bulk_create(values)
            for row in derived:
                row.pk, row.visit = None, visit
            m.DerivedValue.objects.bulk_create(derived)
        copies = []
        for row in audit_rows:
            if row.participant != source.screening_number:
                continue
            copy = m.AuditEvent(**{f.attname: getattr(row, f.attname) for f in row._meta.fields})
            copy.pk, copy.participant = None, number
            copy.hash = f"{row.hash[:40]}{next_sequence:024d}"
            copies.append(copy)
        m.AuditEvent.objects.bulk_create(copies)
        next_sequence += 1
        count += 1


def _export(actor, with_audit: bool) -> tuple[float, float, int]:
    from hepatrial.edc.odm_export import export_to_path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trial.xml"
        tracemalloc.start()
        start = time.perf_counter()
        export_to_path(actor, path, with_audit=with_audit)
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return seconds, peak / 2**20, path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1,000 participants only")
    parser.add_argument("--sizes", default="1000,3000", help="participant counts, ascending")
    options, _ = parser.parse_known_args()
    sizes = [1000] if options.quick else [int(n) for n in options.sizes.split(",")]
    url = _trial.fresh_database("hepatrial_bench_odm")
    _trial.setup_django(url)
    from hepatrial.edc.models import AuditEvent, ItemValue, User
    from hepatrial.edc.permissions import actor_for

    coordinator = _trial.load_trial()
    template = _template(coordinator)
    statistician = actor_for(User.objects.get(username="statistician"))
    print("hepatrial ODM 1.3.2 export benchmark (PostgreSQL, blinded)")
    for size in sizes:
        _grow(template, size)
        values, audit_rows = ItemValue.objects.count(), AuditEvent.objects.count()
        print(f"\n{size:>6} participants, {values} values, {audit_rows} audit rows")
        for with_audit in (False, True):
            seconds, peak, size_bytes = _export(statistician, with_audit)
            kind = "transactional (--audit)" if with_audit else "snapshot"
            print(f"  {kind:<24} {seconds:7.2f} s  peak {peak:6.1f} MiB  "
                  f"file {size_bytes / 2**20:6.1f} MiB")  # fmt: skip
    _trial.drop_database("hepatrial_bench_odm")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
