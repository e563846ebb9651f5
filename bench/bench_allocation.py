"""Randomizations per second on PostgreSQL: 16 concurrent requesters against 1.

Each requester is a process randomizing its own consented participants through the
`randomize` service (preconditions, stratum, locked slot claim, schedule, audit). Claims in one
stratum queue on that stratum's cursor row, so the figure to watch is how much 16 requesters
gain over one, measured in the same run on the same server.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import _trial  # noqa: E402


def _requester(database_url: str, numbers: list[str], ready, spans_out) -> None:
    """Randomize ``numbers`` and report each one's start and end on the monotonic clock.

    The process sets Django up and opens its connection, then waits at ``ready`` for the others:
    a round's rate counts allocations, not sixteen interpreters starting on two cores.
    """
    _trial.setup_django(database_url)
    from hepatrial.edc.models import User
    from hepatrial.edc.permissions import actor_for
    from hepatrial.edc.services.allocation import randomize

    actor = actor_for(User.objects.get(username="coordinator"))
    ready.wait()
    spans = []
    for number in numbers:
        start = time.perf_counter()
        randomize(actor, number)
        spans.append((start, time.perf_counter()))
    spans_out.put(spans)


def _round(context, url: str, numbers: list[str], requesters: int) -> tuple[float, float]:
    ready, spans_out = context.Barrier(requesters), context.Queue()
    workers = [
        context.Process(target=_requester, args=(url, numbers[i::requesters], ready, spans_out))
        for i in range(requesters)
    ]
    for worker in workers:
        worker.start()
    spans = [span for _ in workers for span in spans_out.get(timeout=600)]
    for worker in workers:
        worker.join()
    elapsed = max(end for _, end in spans) - min(start for start, _ in spans)
    latencies = [end - start for start, end in spans]
    return len(spans) / elapsed, _trial.percentile(latencies, 0.95) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database", default="hepatrial_bench_allocation",
                        help="the throwaway database to create (and drop at the end)")  # fmt: skip
    options, _ = parser.parse_known_args()
    per_round = 64 if options.quick else 160
    url = _trial.fresh_database(options.database)
    _trial.setup_django(url)
    from django.db import connections

    from hepatrial.edc.protocols import active_protocol
    from hepatrial.edc.services.allocation import design_for, load_list
    from hepatrial.randomization.blocks import generate_block_list
    from hepatrial.randomization.seedfile import new_seed

    actor = _trial.load_trial()
    protocol = active_protocol()[1].protocol
    load_list(
        generate_block_list(design_for(protocol, 2 * per_round), new_seed()), operator="bench"
    )
    numbers = [_trial.consented_participant(actor, days_ago=3) for _ in range(2 * per_round)]
    connections.close_all()
    context = multiprocessing.get_context("fork")
    one_rate, one_p95 = _round(context, url, numbers[:per_round], 1)
    many_rate, many_p95 = _round(context, url, numbers[per_round:], 16)
    print(f"{'requesters':>10}  {'allocations/s':>13}  {'p95 ms':>7}")
    print(f"{1:>10}  {one_rate:>13.1f}  {one_p95:>7.1f}")
    print(f"{16:>10}  {many_rate:>13.1f}  {many_p95:>7.1f}")
    print(
        f"16 requesters / 1 requester: {many_rate / one_rate:.2f}x ({per_round} allocations a "
        "round, all in stratum CPCLASS=B, so every claim queues on one cursor row)"
    )
    _trial.drop_database(options.database)


if __name__ == "__main__":
    main()
