"""The one derivation of the analysis datasets (ADSL, ADLB, ADTTE, ADAE) from participant records.

The database export (:mod:`hepatrial.edc.export`) and the simulator (:mod:`hepatrial.simulate`)
both shape their participants as :class:`ParticipantData` — forms as entered, values normalized to
the protocol's canonical units, derived scores per visit — and call :func:`derive_adam`. Every
item is found by what the protocol says it is (:mod:`hepatrial.protocol.roles`: its role, its
CDISC laboratory code, the score a derived item computes), never by a trial's OID, so another
trial's protocol derives its datasets with no change here. Column rules: docs/datasets.md.

Blinding: with ``arm_codes`` the arms are coded (``X``, ``Y``) and everything that would tell
them apart is left out — actual arm, number and last date of infusions, infusion reactions (one
on the day of a second infusion could only happen in an arm that has one).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from hepatrial.analysis.datasets import (
    CP_CLASS_CODE,
    LAB_PARAMS,
    TTE_PARAMS,
    AdamDatasets,
    VisitSchedule,
    VisitWindow,
    derive_analysis_flags,
    validate,
)
from hepatrial.analysis.plan import SCORE_PARAMS
from hepatrial.protocol.model import Protocol
from hepatrial.protocol.roles import DECOMPENSATION_PARAMS, Role, item_with_role, meaning

DISCONTINUED = {
    "withdrawn": "WITHDRAWAL BY SUBJECT", "lost": "LOST TO FOLLOW-UP", "died": "DEATH",
    "transplanted": "LIVER TRANSPLANT",
}  # fmt: skip
"""ADSL DCSREAS for each end-of-study status that is a discontinuation."""

RELATEDNESS = {
    "unrelated": "NOT RELATED", "unlikely": "UNLIKELY", "possible": "POSSIBLE",
    "probable": "PROBABLE", "definite": "DEFINITE",
}  # fmt: skip
DECOMPENSATION_EVENTS = {
    "DECOMP": "First hepatic decompensation", "GIBLEED": "First gastrointestinal bleeding",
    "ASCITES": "First new or worsening ascites", "HE": "First hepatic encephalopathy",
}  # fmt: skip
ADTTE_COLUMNS = ("STUDYID", "USUBJID", "PARAMCD", "PARAM", "AVAL", "CNSR", "EVNTCD", "EVNTDESC",
                 "STARTDT", "ADT")  # fmt: skip
ADAE_COLUMNS = ("STUDYID", "USUBJID", "AESEQ", "AETERM", "AEDECOD", "AESEV", "AETOXGR", "AESER",
                "AEREL", "ASTDT", "ASTDY", "AENDT", "TRTEMFL", "INFRFL")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Value:
    """One item value: normalized text (ISO date, choice code, ``true``/``false``, number), the
    number in the item's canonical unit, and the text as typed (an adverse event's own words)."""

    text: str
    number: float | None = None
    entered: str = ""


@dataclass(slots=True)
class FormEntry:
    """One filled form: at which event (or intervention) and visit date, with its values."""

    event: str
    form: str
    visit_date: dt.date | None
    values: dict[str, Value]


@dataclass(frozen=True, slots=True)
class DerivedEntry:
    """A derived item's value at one visit, as stored (the score's number, or a class letter)."""

    event: str
    visit_date: dt.date | None
    oid: str
    number: float | None
    text: str = ""


@dataclass
class ParticipantData:
    """A randomized participant as recorded: who, which arm and stratum, what was entered."""

    subject: str
    site: str
    randomization_date: dt.date
    arm: str
    stratum: str
    """The stratum's level code (``C``), or empty for an unstratified trial."""
    status: str = "ongoing"
    """``ongoing`` or an end-of-study meaning: completed, withdrawn, lost, died, transplanted."""
    ended_on: dt.date | None = None
    emergency_unblinded: bool = False
    major_deviation: bool = False
    forms: list[FormEntry] = field(default_factory=list)
    """In entry order: adverse events are numbered in this order."""
    derived: list[DerivedEntry] = field(default_factory=list)


def visit_schedule(protocol: Protocol) -> VisitSchedule:
    """Analysis visit windows: the protocol's scheduled events after the day of randomization."""
    windows = tuple(
        VisitWindow(e.label.en, e.day, e.window.before if e.window else 0,
                    e.window.after if e.window else 0)
        for e in protocol.scheduled_events()
        if e.day and e.day > 0
    )  # fmt: skip
    return VisitSchedule(windows)


def lab_params(protocol: Protocol) -> dict[str, str]:
    """Item OID → ADLB PARAMCD, from each item's CDISC laboratory test code."""
    params = {}
    for item in protocol.items().values():
        cdisc = next((c.code for c in item.codes if c.system == "CDISC"), None)
        if cdisc in LAB_PARAMS:
            params[item.oid] = cdisc
    return params


def derived_params(protocol: Protocol) -> dict[str, str]:
    """Derived item OID → ADLB PARAMCD, from the score each computes."""
    return {d.oid: SCORE_PARAMS[d.score] for d in protocol.derived_items if d.score in SCORE_PARAMS}


class _Roles:
    """The OIDs of the items the datasets read, looked up once per derivation."""

    def __init__(self, protocol: Protocol):
        self.protocol = protocol
        self.item = {role: item_with_role(protocol, role) for role in Role}
        self.oid = {role: item.oid if item else None for role, item in self.item.items()}
        self.interventions = {i.code for arm in protocol.arms for i in arm.interventions}
        scores = {d.score: d.oid for d in protocol.derived_items}
        self.baseline = {
            "CPCLSBL": scores.get("child_pugh_class"), "CPSCRBL": scores.get("child_pugh_points"),
            "MELDBL": scores.get("meld"),
        }  # fmt: skip

    def values(self, p: ParticipantData, role: Role) -> list[tuple[FormEntry, Value]]:
        oid = self.oid[role]
        return [(f, f.values[oid]) for f in p.forms if oid and oid in f.values]

    def latest(self, p: ParticipantData, role: Role) -> Value | None:
        found = self.values(p, role)
        return found[-1][1] if found else None

    def first_date(self, p: ParticipantData, role: Role) -> dt.date | None:
        return min((_date(v.text) for _, v in self.values(p, role) if v.text), default=None)

    def meaning(self, role: Role, value: Value | None) -> str | None:
        item = self.item[role]
        return meaning(item, value.text) if item and value else None


def derive_adam(
    participants: Iterable[ParticipantData],
    protocol: Protocol,
    *,
    arm_codes: Mapping[str, str] | None = None,
) -> AdamDatasets:
    """The four analysis datasets of the randomized ``participants``, validated.

    ``arm_codes`` (arm → ``X``/``Y``) makes a blinded derivation.
    """
    roles = _Roles(protocol)
    study = protocol.study.registry_id
    labs, scores = lab_params(protocol), derived_params(protocol)
    adsl, adlb, adtte, adae = [], [], [], []
    for p in participants:
        usubjid = f"{study}-{p.subject}"
        row = _adsl_row(study, usubjid, p, roles, arm_codes)
        adsl.append(row)
        adlb += _adlb_rows(study, usubjid, p, roles, labs, scores)
        adtte += _adtte_rows(study, p, roles, row)
        adae += _adae_rows(study, usubjid, p, roles, row["TRTSDT"], blinded=arm_codes is not None)
    frames = {
        "ADSL": pd.DataFrame(adsl),
        "ADLB": _with_flags(pd.DataFrame(adlb), visit_schedule(protocol)),
        "ADTTE": pd.DataFrame(adtte, columns=list(ADTTE_COLUMNS)),
        "ADAE": pd.DataFrame(adae, columns=list(ADAE_COLUMNS)),
    }
    return validate(frames)


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text[:10]) if text else None


def _infusion_dates(p: ParticipantData, roles: _Roles) -> list[dt.date]:
    return sorted(f.visit_date for f in p.forms if f.event in roles.interventions and f.visit_date)


def _adsl_row(study, usubjid, p: ParticipantData, roles: _Roles, codes) -> dict:
    protocol = roles.protocol
    infusions = _infusion_dates(p, roles)
    death = roles.first_date(p, Role.DEATH_DATE)
    transplant = roles.first_date(p, Role.TRANSPLANT_DATE)
    seen = [f.visit_date for f in p.forms if f.visit_date] + [d for d in (death, p.ended_on) if d]
    last_alive = death or max(seen, default=p.randomization_date)
    arm = protocol.arm(p.arm)
    blinded = codes is not None
    coded = f"Arm {codes[p.arm]}" if blinded else ""
    received = bool(infusions)
    baseline = _baseline(p, roles)
    age, sex = roles.latest(p, Role.AGE), roles.latest(p, Role.SEX)
    etiology = roles.latest(p, Role.ETIOLOGY)
    status = p.status
    return {
        "STUDYID": study, "USUBJID": usubjid, "SUBJID": p.subject, "SITEID": p.site,
        "ARMCD": codes[p.arm] if blinded else p.arm, "ARM": coded if blinded else arm.label.en,
        "ACTARMCD": "" if blinded or not received else p.arm,
        "TRT01P": coded if blinded else arm.label.en,
        "TRT01A": "" if blinded or not received else arm.label.en,
        "STRATAR": p.stratum, "ITTFL": "Y",
        "PPROTFL": "Y" if len(infusions) == len(arm.interventions) and not p.major_deviation
        else "N",
        "SAFFL": "Y" if received else "N", "RANDDT": p.randomization_date,
        "TRTSDT": infusions[0] if infusions else None,
        "TRTEDT": None if blinded or not infusions else infusions[-1],
        "NINF": None if blinded else len(infusions),
        "AGE": age.number if age else None,
        "SEX": roles.meaning(Role.SEX, sex), "ETIOLOGY": etiology.text if etiology else None,
        **baseline,
        "EOSSTT": "COMPLETED" if status == "completed"
        else "DISCONTINUED" if status in DISCONTINUED else "ONGOING",
        "DCSREAS": DISCONTINUED.get(status, ""), "EOSDT": p.ended_on,
        "DTHFL": "Y" if death else "N", "DTHDT": death,
        "LTXFL": "Y" if transplant else "N", "LTXDT": transplant,
        "LSTALVDT": last_alive, "UNBLINDFL": "Y" if p.emergency_unblinded else "N",
    }  # fmt: skip


def _baseline(p: ParticipantData, roles: _Roles) -> dict:
    """The last derived score on or before randomization, for the ADSL baseline columns."""
    before = sorted(
        (d for d in p.derived if d.visit_date and d.visit_date <= p.randomization_date),
        key=lambda d: d.visit_date,
    )
    latest = {d.oid: d.text or d.number for d in before}
    return {column: latest.get(oid) if oid else None for column, oid in roles.baseline.items()}


def _adlb_rows(study, usubjid, p: ParticipantData, roles: _Roles, labs, scores) -> list[dict]:
    rows = []

    def add(code, on: dt.date, number, text=""):
        rows.append({
            "STUDYID": study, "USUBJID": usubjid, "PARAMCD": code, "PARAM": LAB_PARAMS[code][0],
            "AVAL": number, "AVALC": text if code == "CPCLASS" else "",
            "AVALU": LAB_PARAMS[code][1], "ADT": on, "ADY": (on - p.randomization_date).days,
        })  # fmt: skip

    for form in p.forms:
        if form.visit_date is None or form.event in roles.interventions:
            continue
        for oid, value in form.values.items():
            if oid in labs and value.number is not None:
                add(labs[oid], form.visit_date, value.number)
    for d in p.derived:
        if d.visit_date is None or d.event in roles.interventions or d.oid not in scores:
            continue
        code = scores[d.oid]
        number = CP_CLASS_CODE.get(d.text) if code == "CPCLASS" else d.number
        add(code, d.visit_date, number, d.text)
    return rows


def _with_flags(adlb: pd.DataFrame, schedule: VisitSchedule) -> pd.DataFrame:
    if adlb.empty:
        return adlb
    return derive_analysis_flags(adlb.sort_values(["USUBJID", "PARAMCD", "ADT"]), schedule)


def _decompensations(p: ParticipantData, roles: _Roles) -> dict[str, list[dt.date]]:
    """First-event dates by ADTTE parameter, from each decompensation form's type and onset."""
    kind_oid, onset_oid = roles.oid[Role.DECOMPENSATION_TYPE], roles.oid[Role.DECOMPENSATION_ONSET]
    found: dict[str, list[dt.date]] = defaultdict(list)
    for form in p.forms:
        kind, onset = form.values.get(kind_oid or ""), form.values.get(onset_oid or "")
        param = DECOMPENSATION_PARAMS.get(roles.meaning(Role.DECOMPENSATION_TYPE, kind) or "")
        if param and onset and onset.text:
            found[param].append(_date(onset.text))
    found["DECOMP"] = [d for dates in list(found.values()) for d in dates]
    return found


def _adtte_rows(study, p: ParticipantData, roles: _Roles, adsl: dict) -> list[dict]:
    start, death, transplant = p.randomization_date, adsl["DTHDT"], adsl["LTXDT"]
    censor = adsl["LSTALVDT"]
    rows = []

    def add(code, event, competing, description):
        if event:
            end, cnsr, code_event, desc = event, 0, 1, description
        elif competing:
            end, cnsr, code_event, desc = competing[0], 1, 2, competing[1]
        else:
            end, cnsr, code_event, desc = censor, 1, 0, "Censored at last known alive"
        rows.append({
            "STUDYID": study, "USUBJID": adsl["USUBJID"], "PARAMCD": code,
            "PARAM": TTE_PARAMS[code], "AVAL": (end - start).days, "CNSR": cnsr,
            "EVNTCD": code_event, "EVNTDESC": desc, "STARTDT": start, "ADT": end,
        })  # fmt: skip

    first_end = min((d for d in (death, transplant) if d), default=None)
    ending = (
        (first_end, "Death" if first_end == death else "Liver transplant") if first_end else None
    )
    died_first = (death, "Death") if death and not transplant else None
    add("DEATH", death, None, "Death")
    add("LTX", transplant, died_first, "Liver transplant")
    add("TFS", first_end, None, "Death or liver transplant")
    decompensation = _decompensations(p, roles)
    for code, description in DECOMPENSATION_EVENTS.items():
        event = min(decompensation.get(code, []), default=None)
        if event and first_end and event > first_end:
            event = None
        add(code, event, None if event else ending, description)
    return rows


def _adae_rows(study, usubjid, p: ParticipantData, roles: _Roles, first_infusion, *, blinded):
    """Adverse events, then infusion reactions unless blinded, numbered in entry order."""
    oid = roles.oid
    rows = []
    for form in p.forms:
        values = form.values
        if oid[Role.AE_TERM] and oid[Role.AE_TERM] in values:
            grade = values.get(oid[Role.AE_GRADE] or "")
            serious = values.get(oid[Role.AE_SERIOUS] or "")
            related = roles.meaning(
                Role.AE_RELATIONSHIP, values.get(oid[Role.AE_RELATIONSHIP] or "")
            )
            term = values[oid[Role.AE_TERM]]
            rows.append(_ae(
                study, usubjid, p, len(rows) + 1, term.entered or term.text,
                int(roles.meaning(Role.AE_GRADE, grade)) if grade else None,
                bool(serious and serious.text == "true"), related,
                _date(_text(values.get(oid[Role.AE_START] or ""))),
                _date(_text(values.get(oid[Role.AE_END] or ""))), first_infusion, "N",
            ))  # fmt: skip
        elif not blinded and oid[Role.INFUSION_REACTION]:
            reaction = values.get(oid[Role.INFUSION_REACTION])
            if reaction is None or reaction.text != "true":
                continue
            described = values.get(oid[Role.INFUSION_REACTION_TEXT] or "")
            term = (described.entered or described.text) if described else "Infusion reaction"
            rows.append(_ae(study, usubjid, p, len(rows) + 1, term, None, False, None,
                            form.visit_date, None, first_infusion, "Y"))  # fmt: skip
    return rows


def _text(value: Value | None) -> str | None:
    return value.text if value else None


def _ae(
    study, usubjid, p, seq, term, grade, serious, related, start, end, first_infusion, infusion
):
    severity = {1: "MILD", 2: "MODERATE"}.get(grade, "SEVERE") if grade else None
    return {
        "STUDYID": study, "USUBJID": usubjid, "AESEQ": seq,
        "AETERM": term, "AEDECOD": term.strip().upper(), "AESEV": severity, "AETOXGR": grade,
        "AESER": "Y" if serious else "N", "AEREL": RELATEDNESS.get(related) if related else None,
        "ASTDT": start, "ASTDY": (start - p.randomization_date).days if start else None,
        "AENDT": end,
        "TRTEMFL": "Y" if start and first_infusion and start >= first_infusion else "N",
        "INFRFL": infusion,
    }  # fmt: skip
