"""A readable plain-text summary of a protocol, for `hepatrial protocol show`."""

from __future__ import annotations

import unicodedata

from hepatrial.protocol.loader import LoadedProtocol
from hepatrial.protocol.model import Event, EventKind, Protocol


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters are two wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]

    def line(cells: list[str]) -> str:
        padded = [str(c) + " " * (w - _width(str(c))) for c, w in zip(cells, widths, strict=False)]
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def window_text(event: Event) -> str:
    if event.day is None or event.window is None:
        return "—"
    w = event.window
    if w.before == w.after:
        return "exact day" if w.before == 0 else f"±{w.before}"
    return f"−{w.before} / +{w.after}"


def day_range(event: Event) -> str:
    if event.day is None or event.window is None:
        return "—"
    return f"{event.day - event.window.before} to {event.day + event.window.after}"


def schedule_table(protocol: Protocol) -> str:
    rows = []
    for event in protocol.events:
        arms = ", ".join(event.arms) if event.arms else "all"
        forms = ", ".join(f.oid for f in protocol.forms if event.oid in f.events)
        day = "—" if event.day is None else str(event.day)
        rows.append(
            [
                event.oid,
                event.label.en,
                event.kind.value,
                day,
                window_text(event),
                day_range(event),
                arms,
                forms,
            ]
        )
    return table(["event", "label", "kind", "day", "window", "days allowed", "arms", "forms"], rows)


def interventions_table(protocol: Protocol) -> str:
    rows = []
    for arm in protocol.arms:
        for iv in arm.interventions:
            w = iv.window
            window = "exact day" if w.before == w.after == 0 else f"−{w.before} / +{w.after}"
            rows.append(
                [
                    arm.code,
                    iv.code,
                    iv.kind,
                    iv.route,
                    str(iv.study_day),
                    window,
                    f"{iv.dose.amount:g} {iv.dose.unit}",
                ]
            )
    return table(["arm", "intervention", "kind", "route", "day", "window", "dose"], rows)


def _range_text(r) -> str:
    if r is None:
        return ""
    low = "" if r.low is None else f"{r.low:g}"
    high = "" if r.high is None else f"{r.high:g}"
    return f"{low}–{high}"


def forms_table(protocol: Protocol) -> str:
    rows = []
    for form in protocol.forms:
        for item in form.items:
            if item.units:
                units = ", ".join(f"[{u}]" if u == item.canonical_unit else u for u in item.units)
            elif item.choices:
                units = "/".join(c.code for c in item.choices)
            else:
                units = ""
            rows.append(
                [
                    form.oid,
                    item.oid,
                    item.label.en,
                    item.label.zh,
                    item.data_type.value,
                    units,
                    _range_text(item.hard_range),
                    _range_text(item.plausible_range),
                    "yes" if item.required else "",
                ]
            )
    headers = [
        "form",
        "item",
        "label",
        "标签",
        "type",
        "units / choices",
        "hard",
        "plausible",
        "required",
    ]
    return table(headers, rows)


def summary(loaded: LoadedProtocol) -> str:
    p = loaded.protocol
    s = p.study
    ratio = ":".join(str(a.ratio) for a in p.arms)
    arms = "\n".join(
        f"  {a.code:<8} {a.label.en} / {a.label.zh}  (ratio {a.ratio})" for a in p.arms
    )
    r = p.randomization
    strata = "; ".join(
        f"{f.code} from {f.item} ({', '.join(level.code for level in f.levels)})" for f in r.strata
    )
    method = f"{r.method.replace('_', ' ')}"
    if r.block_sizes:
        method += f", block sizes {', '.join(map(str, r.block_sizes))} chosen at random"
    eligibility = "\n".join(
        f"  {c.oid:<10} {c.kind:<9} qualifies if {c.qualifying_answer}: {c.label.en}"
        for c in p.eligibility
    )
    derived = table(
        ["derived item", "score", "inputs"],
        [
            [d.oid, d.score, ", ".join(f"{k}={v}" for k, v in d.inputs.items())]
            for d in p.derived_items
        ],
    )
    endpoints = table(
        ["endpoint", "outcome", "kind", "items", "timepoint", "population", "method"],
        [
            [
                e.code,
                e.outcome,
                e.kind.value,
                ", ".join(e.items),
                e.timepoint,
                e.population,
                e.method + (" (log scale)" if e.log_scale else ""),
            ]
            for e in p.analysis.endpoints
        ],
    )
    scheduled = [e for e in p.events if e.kind == EventKind.SCHEDULED]
    masked = ", ".join(s.masking.masked_roles) or "none"
    sites = ", ".join(f"{site.code} {site.name.en}" for site in s.sites)
    return "\n".join(
        [
            f"{s.registry_id}  protocol version {s.protocol_version}",
            s.title.en,
            s.title.zh,
            f"content hash {loaded.content_hash}",
            "",
            f"Sites: {sites}",
            f"Target enrolment: {s.target_enrolment} over {s.enrolment_period.months} months "
            f"from {s.enrolment_period.start}",
            f"Masking: {s.masking.level}; masked roles: {masked}",
            "",
            f"Arms ({ratio}):",
            arms,
            "",
            "Interventions:",
            interventions_table(p),
            "",
            f"Randomization: {method}; strata: {strata or 'none'}",
            "",
            "Eligibility:",
            eligibility,
            "",
            f"Schedule ({len(scheduled)} scheduled visits, day 0 = randomization):",
            schedule_table(p),
            "",
            "Forms and items (canonical unit in brackets; ranges in the canonical unit):",
            forms_table(p),
            "",
            "Derived items:",
            derived,
            "",
            "Endpoints:",
            endpoints,
        ]
    )
