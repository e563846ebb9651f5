"""Checks that need the whole protocol: references between its parts, and clinical consistency.

Each check yields ``(path, message)``; the loader turns paths into file lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from math import gcd

from hepatrial.protocol import roles
from hepatrial.protocol.model import (
    DataType,
    EndpointKind,
    EventKind,
    Item,
    Protocol,
)
from hepatrial.scores import SCORES
from hepatrial.scores.settings import TableError
from hepatrial.scores.units import QUANTITIES

Problem = tuple[tuple[str | int, ...], str]

NUMERIC = {DataType.INTEGER, DataType.FLOAT}
DATES = {DataType.DATE, DataType.DATETIME}
RANDOMIZATION_DATE = "RANDOMIZATION_DATE"

MASKABLE_ROLES = {
    "participant",
    "outcome_assessor",
    "investigator",
    "coordinator",
    "statistician",
    "monitor",
    "care_provider",
}


def score_inputs(score: str) -> tuple[set[str], set[str], tuple[tuple[str, ...], ...]]:
    """(required, optional, one-of groups) of a score's inputs, from the scores' own registry.

    Unit arguments are left out: capture passes each input with the unit it was entered in.
    So is ``settings``, which comes from the protocol's ``scores`` section.
    """
    definition = SCORES[score]
    names = {n for n in definition.inputs if not n.endswith("_unit") and n != "settings"}
    required = {name for name in definition.required if name in names}
    return required, names - required, definition.one_of


def check_references(protocol: Protocol) -> list[Problem]:
    checks = [
        _unique_codes,
        _items,
        _forms,
        _events,
        _randomization,
        _derived_items,
        _score_settings,
        _rules,
        _masking,
        _analysis,
    ]
    return [problem for check in checks for problem in check(protocol)]


def _duplicates(entries: list[tuple[tuple, str]], what: str) -> Iterator[Problem]:
    seen: dict[str, tuple] = {}
    for path, key in entries:
        if key in seen:
            yield path, f"duplicate {what} {key!r} (first used at {format_path(seen[key])})"
        else:
            seen[key] = path


def format_path(path: tuple) -> str:
    """``('forms', 2, 'items', 5, 'unit')`` → ``forms[2].items[5].unit``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _unique_codes(p: Protocol) -> Iterator[Problem]:
    yield from _duplicates(
        [(("study", "sites", i, "code"), s.code) for i, s in enumerate(p.study.sites)], "site code"
    )
    yield from _duplicates(
        [(("arms", i, "code"), a.code) for i, a in enumerate(p.arms)], "arm code"
    )
    yield from _duplicates(
        [(("events", i, "oid"), e.oid) for i, e in enumerate(p.events)], "event OID"
    )
    yield from _duplicates(
        [(("forms", i, "oid"), f.oid) for i, f in enumerate(p.forms)], "form OID"
    )
    item_oids = [
        (("forms", i, "items", j, "oid"), item.oid)
        for i, form in enumerate(p.forms)
        for j, item in enumerate(form.items)
    ]
    item_oids += [(("derived_items", i, "oid"), d.oid) for i, d in enumerate(p.derived_items)]
    item_oids += [(("eligibility", i, "oid"), c.oid) for i, c in enumerate(p.eligibility)]
    yield from _duplicates(item_oids, "item OID")
    yield from _duplicates(
        [
            (("study", "registered_outcomes", i, "code"), o.code)
            for i, o in enumerate(p.study.registered_outcomes)
        ],
        "outcome code",
    )
    yield from _duplicates(
        [
            (("analysis", "endpoints", i, "code"), e.code)
            for i, e in enumerate(p.analysis.endpoints)
        ],
        "endpoint code",
    )


def _item(item: Item, path: tuple) -> Iterator[Problem]:
    numeric = item.data_type in NUMERIC
    if item.units and not numeric:
        yield (*path, "units"), f"only integer or float items take units, not {item.data_type}"
    if item.units:
        if item.quantity is None:
            yield (*path, "quantity"), "is required when units are given"
        elif item.quantity not in QUANTITIES:
            yield (
                (*path, "quantity"),
                f"{item.quantity!r} is not one of {', '.join(sorted(QUANTITIES))}",
            )
        else:
            known = QUANTITIES[item.quantity].symbols
            for k, symbol in enumerate(item.units):
                if symbol not in known:
                    yield (*path, "units", k), f"{symbol!r} is not one of {', '.join(known)}"
        if item.canonical_unit is None:
            yield (*path, "canonical_unit"), "is required when units are given"
        elif item.canonical_unit not in item.units:
            yield (
                (*path, "canonical_unit"),
                (f"{item.canonical_unit!r} is not one of the item's units {', '.join(item.units)}"),
            )
    elif item.canonical_unit is not None:
        yield (*path, "canonical_unit"), "is given but the item has no units"
    for name in ("hard_range", "plausible_range"):
        bounds = getattr(item, name)
        if bounds is None:
            continue
        if not numeric:
            yield (*path, name), f"only integer or float items take a range, not {item.data_type}"
        elif bounds.low is not None and bounds.high is not None and bounds.low > bounds.high:
            yield (*path, name), f"low {bounds.low} is above high {bounds.high}"
    hard, plausible = item.hard_range, item.plausible_range
    if hard and plausible:
        if hard.low is not None and plausible.low is not None and plausible.low < hard.low:
            yield (*path, "plausible_range", "low"), "is below the hard range"
        if hard.high is not None and plausible.high is not None and plausible.high > hard.high:
            yield (*path, "plausible_range", "high"), "is above the hard range"
    if item.data_type == DataType.CHOICE and not item.choices:
        yield (*path, "choices"), "a choice item needs at least one choice"
    if item.choices and item.data_type != DataType.CHOICE:
        yield (*path, "choices"), f"only choice items take choices, not {item.data_type}"
    yield from _duplicates(
        [((*path, "choices", k, "code"), c.code) for k, c in enumerate(item.choices)], "choice code"
    )


def _items(p: Protocol) -> Iterator[Problem]:
    for i, form in enumerate(p.forms):
        for j, item in enumerate(form.items):
            yield from _item(item, ("forms", i, "items", j))
            if item.role is not None:
                yield from _role(item, ("forms", i, "items", j))
    yield from _duplicates(
        [(("forms", i, "items", j, "role"), item.role)
         for i, form in enumerate(p.forms) for j, item in enumerate(form.items) if item.role],
        "role",
    )  # fmt: skip


ROLE_TYPES = (
    (roles.DATE_ROLES, DATES, "a date"),
    (roles.DATETIME_ROLES, {DataType.DATETIME, DataType.DATE}, "a date or datetime"),
    (roles.BOOLEAN_ROLES, {DataType.BOOLEAN}, "a yes/no"),
    (roles.NUMERIC_ROLES, NUMERIC, "a number"),
    (set(roles.MEANINGS), {DataType.CHOICE}, "a choice"),
)


def _role(item: Item, path: tuple) -> Iterator[Problem]:
    for group, types, what in ROLE_TYPES:
        if item.role in group and item.data_type not in types:
            yield (*path, "role"), f"{item.role} needs {what} item, not {item.data_type}"
    known = roles.MEANINGS.get(item.role)
    if known is None or item.data_type != DataType.CHOICE:
        return
    for k, choice in enumerate(item.choices):
        if (choice.meaning or choice.code) not in known:
            yield (
                (*path, "choices", k, "meaning" if choice.meaning else "code"),
                f"{choice.meaning or choice.code!r} means nothing to role {item.role}: "
                f"give the choice a meaning, one of {', '.join(sorted(known))}",
            )


def _forms(p: Protocol) -> Iterator[Problem]:
    events = {e.oid: e for e in p.events}
    for i, form in enumerate(p.forms):
        for k, oid in enumerate(form.events):
            if oid not in events:
                yield ("forms", i, "events", k), f"unknown event {oid!r}"
    forms = {f.oid: f for f in p.forms}
    for i, arm in enumerate(p.arms):
        for k, intervention in enumerate(arm.interventions):
            path = ("arms", i, "interventions", k)
            form = forms.get(intervention.form)
            if form is None:
                yield (*path, "form"), f"unknown form {intervention.form!r}"
                continue
            numeric = {item.oid for item in form.items if item.data_type in NUMERIC}
            for name in ("dose_item", "weight_item"):
                oid = getattr(intervention, name)
                if oid is not None and oid not in numeric:
                    yield (*path, name), f"{oid!r} is not a number item of {form.oid}"
            if intervention.dose.per_kg and intervention.weight_item is None:
                yield (*path, "weight_item"), "a dose per kg needs the body-weight item"


def _events(p: Protocol) -> Iterator[Problem]:
    arms = {a.code for a in p.arms}
    timed = (EventKind.SCREENING, EventKind.SCHEDULED)
    for i, event in enumerate(p.events):
        if event.kind in timed and (event.day is None or event.window is None):
            yield ("events", i), f"a {event.kind} event needs a day and a window"
        if event.kind not in timed and event.day is not None:
            yield ("events", i, "day"), f"a {event.kind} event has no study day"
        for k, arm in enumerate(event.arms):
            if arm not in arms:
                yield ("events", i, "arms", k), f"unknown arm {arm!r}"
    for arm in sorted(arms):
        scheduled = [
            (i, e)
            for i, e in enumerate(p.events)
            if e.kind == EventKind.SCHEDULED and e.window and (not e.arms or arm in e.arms)
        ]
        scheduled.sort(key=lambda pair: pair[1].day)
        for (_, first), (j, second) in zip(scheduled, scheduled[1:], strict=False):
            first_end = first.day + first.window.after
            second_start = second.day - second.window.before
            if second_start <= first_end:
                yield (
                    ("events", j, "window"),
                    (
                        f"window of {second.oid} (from day {second_start}) overlaps the window of "
                        f"{first.oid} (to day {first_end})"
                    ),
                )


def _randomization(p: Protocol) -> Iterator[Problem]:
    r = p.randomization
    ratio_sum = sum(a.ratio for a in p.arms)
    ratio_gcd = 0
    for arm in p.arms:
        ratio_gcd = gcd(ratio_gcd, arm.ratio)
    if r.method == "permuted_blocks":
        if not r.block_sizes:
            yield ("randomization", "block_sizes"), "permuted blocks need at least one block size"
        for k, size in enumerate(r.block_sizes):
            if size % ratio_sum:
                yield (
                    ("randomization", "block_sizes", k),
                    (
                        f"block size {size} is not a multiple of the allocation ratio total "
                        f"{ratio_sum}"
                    ),
                )
    if r.method == "none" and (r.block_sizes or r.strata):
        yield ("randomization", "method"), "a trial without randomization has no blocks or strata"
    if r.method == "minimization" and r.minimization_probability is None:
        yield ("randomization", "minimization_probability"), "is required for minimization"
    known = p.items() | {d.oid: d for d in p.derived_items}
    for i, factor in enumerate(r.strata):
        if factor.item not in known:
            yield ("randomization", "strata", i, "item"), f"unknown item {factor.item!r}"
        values = [v for level in factor.levels for v in level.values]
        duplicated = sorted({v for v in values if values.count(v) > 1})
        if duplicated:
            yield (
                ("randomization", "strata", i, "levels"),
                (f"values {duplicated} place a participant in more than one level"),
            )


def _derived_items(p: Protocol) -> Iterator[Problem]:
    items = p.items()
    for i, derived in enumerate(p.derived_items):
        required, optional, one_of = score_inputs(derived.score)
        for name, oid in derived.inputs.items():
            path = ("derived_items", i, "inputs", name)
            if name not in required | optional:
                yield path, f"{derived.score} takes no input {name!r}"
            elif oid not in items:
                yield path, f"unknown item {oid!r}"
        missing = sorted(required - set(derived.inputs))
        if missing:
            yield ("derived_items", i, "inputs"), f"{derived.score} needs {', '.join(missing)}"
        for group in one_of:
            if not set(group) & set(derived.inputs):
                yield (
                    ("derived_items", i, "inputs"),
                    (f"{derived.score} needs {' or '.join(group)}"),
                )


FACTOR_TOLERANCE = 0.01
"""A laboratory factor more than 1 % from the molar-mass factor is a typing error (1.71)."""


def _score_settings(p: Protocol) -> Iterator[Problem]:
    try:
        table = p.scores.child_pugh.table()
    except TableError as exc:
        yield ("scores", "child_pugh"), str(exc)
        return
    for path, message in table.problems():
        yield ("scores", "child_pugh", *path), message
    for name, factor in p.scores.conversion_factors.model_dump().items():
        exact = QUANTITIES[name].units["mg/dL"].factor
        if abs(factor / exact - 1) > FACTOR_TOLERANCE:
            yield (
                ("scores", "conversion_factors", name),
                f"{factor:g} µmol/L per mg/dL is more than 1 % from the molar-mass {exact:.3f}",
            )


def _rules(p: Protocol) -> Iterator[Problem]:
    items = p.items()
    for i, rule in enumerate(p.rules):
        for name in ("item", "other"):
            oid = getattr(rule, name)
            if oid == RANDOMIZATION_DATE and name == "other":
                continue
            if oid not in items:
                yield ("rules", i, name), f"unknown item {oid!r}"
            elif items[oid].data_type not in DATES:
                yield ("rules", i, name), f"{oid} is a {items[oid].data_type} item, not a date"


def _masking(p: Protocol) -> Iterator[Problem]:
    for k, role in enumerate(p.study.masking.masked_roles):
        if role not in MASKABLE_ROLES:
            yield (
                ("study", "masking", "masked_roles", k),
                (f"{role!r} is not one of {', '.join(sorted(MASKABLE_ROLES))}"),
            )


def _analysis(p: Protocol) -> Iterator[Problem]:
    a = p.analysis
    outcomes = {o.code for o in p.study.registered_outcomes}
    timepoints = {t.code for t in a.timepoints}
    populations = {pop.code for pop in a.populations}
    known_items = set(p.items()) | {d.oid for d in p.derived_items}
    events = {e.oid for e in p.events}
    for i, tp in enumerate(a.timepoints):
        if tp.event not in events:
            yield ("analysis", "timepoints", i, "event"), f"unknown event {tp.event!r}"
    for i, endpoint in enumerate(a.endpoints):
        path = ("analysis", "endpoints", i)
        if endpoint.outcome not in outcomes:
            yield (*path, "outcome"), f"unknown registered outcome {endpoint.outcome!r}"
        if endpoint.timepoint not in timepoints:
            yield (*path, "timepoint"), f"unknown timepoint {endpoint.timepoint!r}"
        if endpoint.population not in populations:
            yield (*path, "population"), f"unknown population {endpoint.population!r}"
        for k, oid in enumerate(endpoint.items):
            if oid not in known_items:
                yield (*path, "items", k), f"unknown item {oid!r}"
        if endpoint.kind == EndpointKind.PROPORTION and endpoint.responder_value is None:
            yield (*path, "responder_value"), "a proportion endpoint needs a responder value"
        yield from _endpoint_analysis(p, endpoint, path)
    for key in ("safety_population", "per_protocol_population"):
        code = getattr(a, key)
        if code is not None and code not in populations:
            yield ("analysis", key), f"unknown population {code!r}"
    answered = {e.outcome for e in a.endpoints}
    for i, outcome in enumerate(p.study.registered_outcomes):
        if a.endpoints and outcome.code not in answered:  # no endpoints: no plan written yet
            yield (
                ("study", "registered_outcomes", i),
                (f"registered outcome {outcome.code} has no endpoint in the analysis plan"),
            )


def _endpoint_analysis(p: Protocol, endpoint, path: tuple) -> Iterator[Problem]:
    """Method, missing-data strategy, sensitivity analyses and parameters the analysis knows."""
    from hepatrial.analysis import plan

    kind = str(endpoint.kind)
    if endpoint.method not in plan.METHODS:
        known = ", ".join(m for m, kinds in plan.METHODS.items() if kind in kinds)
        yield (*path, "method"), f"unknown method {endpoint.method!r} (for {kind}: {known})"
    elif kind not in plan.METHODS[endpoint.method]:
        yield (*path, "method"), f"{endpoint.method!r} does not analyse a {kind} endpoint"
    if endpoint.missing_data not in plan.MISSING_BY_KIND[kind]:
        yield (
            (*path, "missing_data"),
            f"{endpoint.missing_data!r} is not one of {', '.join(plan.MISSING_BY_KIND[kind])}",
        )
    for k, name in enumerate(endpoint.sensitivity):
        if name not in plan.SENSITIVITY_BY_KIND[kind]:
            yield (
                (*path, "sensitivity", k),
                f"unknown sensitivity analysis {name!r} for a {kind} endpoint "
                f"(one of {', '.join(plan.SENSITIVITY_BY_KIND[kind])})",
            )
    try:
        plan.endpoint_params(p, endpoint)
        plan.intercurrent_columns(endpoint)
    except (ValueError, KeyError) as exc:
        yield (*path, "items"), str(exc).removeprefix(f"endpoint {endpoint.code}: ")
