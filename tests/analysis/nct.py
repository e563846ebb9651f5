"""NCT06242405's analysis plan, read from its shipped protocol, for tests on its datasets."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

from hepatrial.analysis.plan import AnalysisPlan, EndpointPlan
from hepatrial.protocol.loader import load_protocol

PROTOCOL = Path(__file__).resolve().parents[2] / "protocols" / "nct06242405.yaml"


@cache
def _plan() -> AnalysisPlan:
    return AnalysisPlan.from_protocol(load_protocol(PROTOCOL).protocol)


def nct_plan(**changes) -> AnalysisPlan:
    """The protocol's plan; ``changes`` to plan settings, or to the primary endpoint's."""
    plan = _plan()
    plan_fields = {f.name for f in dataclasses.fields(AnalysisPlan)}
    endpoint_fields = {f.name for f in dataclasses.fields(EndpointPlan)}
    primary = {k: v for k, v in changes.items() if k in endpoint_fields}
    unknown = set(changes) - plan_fields - endpoint_fields
    if unknown:
        raise TypeError(f"unknown settings {sorted(unknown)}")
    if primary:
        endpoints = tuple(
            dataclasses.replace(e, **primary) if e is plan.primary else e for e in plan.endpoints
        )
        plan = dataclasses.replace(plan, endpoints=endpoints)
    return dataclasses.replace(plan, **{k: v for k, v in changes.items() if k in plan_fields})


def nct_schedule():
    """The visit windows of NCT06242405's scheduled events."""
    return _plan().schedule()
