"""Server time of the read pages over HTTP with 10,000 participants in PostgreSQL.

The trial is written with bulk inserts (not through the services, which would take hours): a
mix of screen failures, people still in screening, participants on study and ended ones (died,
transplanted, withdrawn, lost, completed), their planned, done and missed visits, allocations,
event-log records and deviations. Each page is fetched through Django's test client (the whole
request: middleware, session, view, queries, template) by a coordinator. The baseline, measured
in the same process and run, is one hand-written SQL query returning the same rows as the list's
first page: the ratio page / baseline is the figure to track.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import _trial  # noqa: E402

BATCH = 2000

FATES = {
    "screen_failed": 25, "screened": 2, "consented": 2, "on_study": 38, "completed": 18,
    "died": 6, "transplanted": 3, "withdrawn": 4, "lost": 2,
}  # fmt: skip
"""Relative frequency of each participant status in the bulk trial."""


def bulk_participants(n: int, today: dt.date | None = None, seed: int = 1) -> list[str]:
    """Insert ``n`` participants at the first site with visits, allocations and records.

    Everything is derived from the active protocol (its screening, scheduled, intervention,
    event-log and end-of-study events and forms) and the loaded allocation list's strata.
    Returns the screening numbers. Bypasses the services and the audit trail: test data only.
    """
    from django.db.models import Max
    from django.utils import timezone

    from hepatrial.edc import models as m
    from hepatrial.edc.protocols import active_protocol
    from hepatrial.edc.services.views import end_forms
    from hepatrial.protocol.model import EventKind

    rng = random.Random(seed)
    today = today or timezone.localdate()
    version, loaded = active_protocol()
    protocol = loaded.protocol
    site = m.Site.objects.order_by("id").first()
    strata = sorted(set(m.AllocationSlot.objects.values_list("stratum", flat=True))) or ["all"]
    arms = [a.code for a in protocol.arms]
    screening = next(e for e in protocol.events if e.kind == EventKind.SCREENING)
    log = next(e for e in protocol.events if e.kind == EventKind.REPEATING)
    log_forms = [f for f in protocol.forms if f.repeating and log.oid in f.events]
    end_form = protocol.form(sorted(end_forms(protocol))[0])
    end_event = end_form.events[0]
    criteria = [c.oid for c in protocol.eligibility]
    start = (site.participants.aggregate(s=Max("sequence"))["s"] or 0) + 1
    fates = rng.choices(list(FATES), weights=list(FATES.values()), k=n)

    people = []
    for offset, fate in enumerate(fates):
        sequence = start + offset
        screened_on = today - dt.timedelta(days=rng.randint(1, 720))
        p = m.Participant(
            site=site, sequence=sequence, screening_number=f"{site.code}-{sequence:05d}",
            status=fate, protocol_version=version, screened_on=screened_on,
        )  # fmt: skip
        if fate == "screen_failed":
            p.failed_criteria = rng.sample(criteria, rng.choice([1, 1, 2]))
        elif fate not in ("screened", "consented"):
            p.randomization_date = min(today, screened_on + dt.timedelta(days=rng.randint(1, 10)))
            p.stratum = rng.choice(strata)
            p.randomization_number = f"R{sequence:05d}"
            if fate != "on_study":
                length = 175 if fate == "completed" else rng.randint(10, 170)
                p.ended_on = p.randomization_date + dt.timedelta(days=length)
                if p.ended_on > today:
                    p.status, p.ended_on = "on_study", None
        people.append(p)
    m.Participant.objects.bulk_create(people, batch_size=BATCH)
    by_number = dict(
        m.Participant.objects.filter(sequence__gte=start, site=site).values_list(
            "screening_number", "id"
        )
    )
    allocation_list = m.AllocationList.objects.create(
        list_hash=f"bulk-{seed}-{start}-{n}", method="bulk", is_active=False
    )
    visits, slots, next_in_stratum = [], [], dict.fromkeys(strata, 1)
    for p in people:
        p.pk = by_number[p.screening_number]
        done = p.status not in ("screen_failed", "screened")
        visits.append(
            m.Visit(
                participant_id=p.pk,
                event_oid=screening.oid,
                target_date=p.screened_on,
                window_start=p.screened_on,
                window_end=p.screened_on,
                visit_date=p.screened_on if done else None,
                status="done" if done else "planned",
            )  # fmt: skip
        )
        if p.randomization_date is None:
            continue
        arm = rng.choice(arms)
        slot = next_in_stratum[p.stratum]
        next_in_stratum[p.stratum] += 1
        slots.append(
            m.AllocationSlot(
                allocation_list=allocation_list,
                stratum=p.stratum,
                sequence=slot,
                block=(slot - 1) // 4 + 1,
                block_size=4,
                arm=arm,
                participant_id=p.pk,
                allocated_at=timezone.now(),
                allocated_by="bench",
            )  # fmt: skip
        )
        planned = [(e.oid, e.day, e.window) for e in protocol.scheduled_events(arm)]
        planned += [(i.code, i.study_day, i.window) for i in protocol.arm(arm).interventions]
        for oid, day, window in planned:
            target = p.randomization_date + dt.timedelta(days=day)
            opens = target - dt.timedelta(days=window.before)
            closes = target + dt.timedelta(days=window.after)
            before_end = p.ended_on is None or target <= p.ended_on
            is_done = closes < today and before_end and rng.random() < 0.95
            if closes < today and before_end and not is_done and p.ended_on is not None:
                status = "missed" if rng.random() < 0.5 else "planned"
            else:
                status = "done" if is_done else "planned"
            visits.append(
                m.Visit(
                    participant_id=p.pk,
                    event_oid=oid,
                    target_date=target,
                    window_start=opens,
                    window_end=closes,
                    status=status,
                    visit_date=target if is_done else None,
                )  # fmt: skip
            )
        if rng.random() < 0.3:
            visits.append(m.Visit(participant_id=p.pk, event_oid=log.oid))
        if p.ended_on is not None:
            visits.append(m.Visit(participant_id=p.pk, event_oid=end_event))
    m.Visit.objects.bulk_create(visits, batch_size=BATCH)
    m.AllocationSlot.objects.bulk_create(slots, batch_size=BATCH)

    untimed = m.Visit.objects.filter(
        participant_id__in=by_number.values(), target_date=None
    ).values_list("id", "event_oid")
    records = []
    now = timezone.now()
    for visit_id, event_oid in untimed:
        forms = [(end_form, 0)] if event_oid == end_event else [
            (rng.choice(log_forms), r) for r in range(rng.randint(1, 3))
        ]  # fmt: skip
        for form, repeat in forms:
            records.append(
                m.FormRecord(visit_id=visit_id, form_oid=form.oid, repeat=repeat, version=1,
                             protocol_hash=version.content_hash,
                             updated_at=now - dt.timedelta(minutes=rng.randint(1, 10**5)))
            )  # fmt: skip
    m.FormRecord.objects.bulk_create(records, batch_size=BATCH)
    values = [
        m.ItemValue(form_record_id=r.pk, item_oid=protocol.form(r.form_oid).items[0].oid,
                    status="value", text=_first_value(protocol.form(r.form_oid).items[0], rng))
        for r in m.FormRecord.objects.filter(visit__participant_id__in=by_number.values())
    ]  # fmt: skip
    m.ItemValue.objects.bulk_create(values, batch_size=BATCH)
    late = m.Visit.objects.filter(
        participant_id__in=by_number.values(), status="done", target_date__isnull=False
    ).values_list("id", "participant_id", "event_oid")
    deviations = [
        m.Deviation(participant_id=pid, visit_id=vid, kind="visit_out_of_window",
                    description=f"{oid} done outside its window", detected_at=now)
        for vid, pid, oid in late
        if rng.random() < 0.03
    ]  # fmt: skip
    m.Deviation.objects.bulk_create(deviations, batch_size=BATCH)
    return list(by_number)


def _first_value(item, rng: random.Random) -> str:
    if item.choices:
        return rng.choice(item.choices).code
    return rng.choice(["fatigue", "nausea", "fever", "rash", "headache"])


LIST_PAGE_SQL = """
SELECT p.screening_number, p.status, p.screened_on, p.randomization_number,
       p.randomization_date, p.stratum, nv.event_oid, nv.target_date, nv.window_start,
       nv.window_end, (SELECT count(*) FROM edc_deviation d WHERE d.participant_id = p.id) AS devs
FROM edc_participant p
JOIN edc_site s ON s.id = p.site_id
LEFT JOIN LATERAL (
    SELECT v.event_oid, v.target_date, v.window_start, v.window_end FROM edc_visit v
    WHERE v.participant_id = p.id AND v.status = 'planned' AND v.target_date IS NOT NULL
      AND p.ended_on IS NULL AND p.status <> 'screen_failed' AND NOT (v.event_oid = ANY(%s))
    ORDER BY v.target_date LIMIT 1
) nv ON true
WHERE s.code = ANY(%s)
ORDER BY p.screening_number
LIMIT 50
"""
"""The rows of the list's first page for a blinded user, written by hand: the baseline."""


def baseline_list_sql(sites: list[str], hidden: list[str]) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(LIST_PAGE_SQL, [hidden, sites])
        return cursor.fetchall()


def form_save_over_http(client, repeats: int) -> tuple[float, float]:
    """Median and p95 ms of a visit form opened and saved through its page, as a coordinator.

    The form is the protocol's form with the most items in units at the first past scheduled
    visit of a participant on study; every save changes each value (so every save writes, with
    a reason for the change), confirms unusual values and is audited as a page save is.
    """
    import re

    from django.urls import reverse

    from hepatrial.edc.models import Visit
    from hepatrial.edc.protocols import active_protocol

    protocol = active_protocol()[1].protocol
    scheduled = [e.oid for e in protocol.scheduled_events()]
    visit = (
        Visit.objects.filter(
            participant__status="on_study",
            event_oid__in=scheduled,
            target_date__lte=dt.date.today(),
        )  # fmt: skip
        .select_related("participant")
        .order_by("participant__screening_number", "target_date")
        .first()
    )
    form = max(
        (f for f in protocol.forms if visit.event_oid in f.events),
        key=lambda f: sum(bool(i.units) for i in f.items),
    )
    url = reverse("visit_form", args=[visit.participant.screening_number, visit.event_oid,
                                      form.oid])  # fmt: skip
    turn = iter(range(10_000))

    def save() -> None:
        html = client.get(url).content.decode()
        data = {
            "base_version": re.search(r'name="base_version" value="(\d+)"', html).group(1),
            "submission_id": re.search(r'name="submission_id" value="([^"]+)"', html).group(1),
            "visit_date": str(visit.target_date), "reason": "benchmark correction",
        }  # fmt: skip
        step = next(turn)
        for item in form.items:
            if item.data_type in ("integer", "float"):
                low = (item.plausible_range or item.hard_range).low or 0
                high = (item.plausible_range or item.hard_range).high or low + 100
                value = low + (high - low) * (0.3 + 0.4 * (step % 7) / 7)
                whole = item.data_type == "integer"
                data[item.oid] = f"{round(value)}" if whole else f"{value:.1f}"
                data[f"{item.oid}.unit"] = item.canonical_unit or ""
                data[f"{item.oid}.confirm"] = "on"
            elif item.choices:
                data[item.oid] = item.choices[step % len(item.choices)].code
        response = client.post(url, data)
        assert response.status_code in (200, 302), response.status_code

    return measure(save, repeats)


def measure(function, repeats: int) -> tuple[float, float]:
    """Median and p95 in milliseconds of ``repeats`` calls after two warm-up calls."""
    for _ in range(2):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), _trial.percentile(times, 0.95)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1,000 participants, fewer repeats")
    parser.add_argument("--participants", type=int, default=None)
    options, _ = parser.parse_known_args()
    n = options.participants or (1000 if options.quick else 10_000)
    repeats = 10 if options.quick else 30
    url = _trial.fresh_database("hepatrial_bench_web")
    _trial.setup_django(url)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from hepatrial.edc.models import User, Visit
    from hepatrial.edc.permissions import Action
    from hepatrial.edc.protocols import active_protocol
    from hepatrial.edc.services.schedule import intervention_codes

    settings.ALLOWED_HOSTS = ["*"]
    actor = _trial.load_trial()
    start = time.perf_counter()
    numbers = bulk_participants(n)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh planner statistics, as autovacuum would soon give
    print(f"{n} participants, {Visit.objects.count()} visits inserted in "
          f"{time.perf_counter() - start:.1f} s (bulk, PostgreSQL)")  # fmt: skip
    client = Client()
    client.force_login(User.objects.get(username=actor.username))
    someone = numbers[len(numbers) // 2]
    pages = {
        "dashboard": reverse("dashboard"),
        "list, first page": reverse("participants"),
        "list, search": reverse("participants") + "?q=" + someone[:-1],
        "list, overdue filter": reverse("participants") + "?overdue=1&status=on_study",
        "list, page 100": reverse("participants") + "?page=100",
        "participant page": reverse("participant", args=[someone]),
    }
    sites = sorted(actor.sites_for(Action.VIEW_PARTICIPANTS))
    hidden = sorted(intervention_codes(active_protocol()[1].protocol))
    base_median, base_p95 = measure(lambda: baseline_list_sql(sites, hidden), repeats)
    print(f"baseline: hand-written SQL of the list's first page rows: median {base_median:.2f} ms,"
          f" p95 {base_p95:.2f} ms")  # fmt: skip
    print(f"{'page':<22} {'median ms':>9} {'p95 ms':>8} {'× baseline':>10}")
    for name, path in pages.items():
        response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        median, p95 = measure(lambda path=path: client.get(path), repeats)
        print(f"{name:<22} {median:>9.1f} {p95:>8.1f} {median / base_median:>10.1f}")
    median, p95 = form_save_over_http(client, repeats)
    print(f"{'form open + save':<22} {median:>9.1f} {p95:>8.1f} {median / base_median:>10.1f}")
    from django.db import connections

    connections.close_all()
    _trial.drop_database("hepatrial_bench_web")


if __name__ == "__main__":
    main()
