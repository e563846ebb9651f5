"""SDTM tabulation datasets from the protocol and the participants as recorded (no Django).

The participants are those of the analysis derivation (:class:`ParticipantData`, read from the
database by :func:`hepatrial.edc.export.participant_data` or made by the simulator); what the
analysis does not need and SDTM does (consent and screening dates, the reason for the end of
participation, the unit each value was typed in, the repeat of each unscheduled visit) comes in
a separate mapping of :class:`SubjectFacts`. Every item is found by what the protocol says it
is (:mod:`hepatrial.protocol.roles`, laboratory items by their CDISC code, Child-Pugh by the
derived item's score and its inputs), never by a trial's OID.

Blinding follows the ADaM export: with ``arm_codes`` the arms are coded (``X``/``Y``, label
``Arm X``), and what would tell them apart is left out — EX, the infusion visits in SV, TV and
TA/TE (every coded arm gets the same two elements), the infusion reactions in AE, the date of
last exposure in DM.

Datasets, variables and the controlled terminology used: docs/sdtm.md.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hepatrial.analysis.derive import RELATEDNESS, FormEntry, ParticipantData, Value
from hepatrial.protocol.model import Event, EventKind, Item, Protocol
from hepatrial.protocol.roles import Role, item_with_role, meaning
from hepatrial.scores.child_pugh import ASCITES, ENCEPHALOPATHY
from hepatrial.scores.units import UnitError, resolve_unit

LAB_TESTS: dict[str, tuple[str, str, str]] = {
    "ALT": ("Alanine Aminotransferase", "CHEMISTRY", "SERUM"),
    "AST": ("Aspartate Aminotransferase", "CHEMISTRY", "SERUM"),
    "ALP": ("Alkaline Phosphatase", "CHEMISTRY", "SERUM"),
    "BILI": ("Bilirubin", "CHEMISTRY", "SERUM"),
    "ALB": ("Albumin", "CHEMISTRY", "SERUM"),
    "PT": ("Prothrombin Time", "COAGULATION", "PLASMA"),
    "INR": ("Prothrombin Intl. Normalized Ratio", "COAGULATION", "PLASMA"),
    "CREAT": ("Creatinine", "CHEMISTRY", "SERUM"),
    "SODIUM": ("Sodium", "CHEMISTRY", "SERUM"),
}
"""LBTESTCD → (LBTEST, LBCAT, LBSPEC), CDISC SDTM Controlled Terminology (C65047/C67154)."""

CPS01 = {
    "encephalopathy": ("CPS0101", "CPS01-Encephalopathy Grade"),
    "ascites": ("CPS0102", "CPS01-Ascites"),
    "bilirubin": ("CPS0103", "CPS01-Serum Bilirubin"),
    "albumin": ("CPS0104", "CPS01-Serum Albumin"),
    "pt_prolongation_s": ("CPS0105A", "CPS01-PT, Sec Prolonged"),
    "inr": ("CPS0105B", "CPS01-PT, INR"),
    "total": ("CPS0106", "CPS01-Total Score"),
    "class": ("CPS0107", "CPS01-Child-Pugh Class"),
}
"""Child-Pugh Classification (QRS short name CPS01), RSTESTCD/RSTEST by derived-item input."""
CPS01_CATEGORY = "CHILD-PUGH CLASSIFICATION"

ROUTES = {"peripheral vein": "INTRAVENOUS", "intravenous": "INTRAVENOUS", "iv": "INTRAVENOUS",
          "oral": "ORAL", "subcutaneous": "SUBCUTANEOUS", "intramuscular": "INTRAMUSCULAR",
          "intra-arterial": "INTRA-ARTERIAL", "hepatic artery": "INTRA-ARTERIAL"}  # fmt: skip
"""The protocol's route → CDISC ROUTE (C66729); anything else is upper-cased as written."""

COUNTRIES = {"CN": "CHN", "US": "USA", "GB": "GBR", "DE": "DEU", "FR": "FRA", "JP": "JPN",
             "KR": "KOR", "TW": "TWN", "HK": "HKG", "IT": "ITA", "ES": "ESP",
             "CA": "CAN"}  # fmt: skip
"""ISO 3166-1 alpha-2 (the protocol's sites) → alpha-3 (DM COUNTRY)."""

DISPOSITION = {
    "completed": ("COMPLETED", "COMPLETED"),
    "withdrawn": ("WITHDRAWAL BY SUBJECT", "WITHDRAWAL BY SUBJECT"),
    "lost": ("LOST TO FOLLOW-UP", "LOST TO FOLLOW-UP"),
    "died": ("DEATH", "DEATH"),
    "transplanted": ("LIVER TRANSPLANTATION", "OTHER"),
}
"""End-of-study status → (DSTERM, DSDECOD from NCOMPLT C66727)."""

SEVERITY = {1: "MILD", 2: "MODERATE"}
"""CTCAE grade → AESEV (C66769); grade 3 and above are SEVERE."""

BLINDING = {"none": "OPEN LABEL", "single": "SINGLE BLIND", "double": "DOUBLE BLIND",
            "triple": "TRIPLE BLIND", "quadruple": "TRIPLE BLIND"}  # fmt: skip


@dataclass(frozen=True)
class Variable:
    """One SDTM variable: name, label, SAS type (``Char``/``Num``), codelist and origin."""

    name: str
    label: str
    type: str = "Char"
    codelist: str = ""
    origin: str = "Collected"
    key: int = 0
    """Position among the dataset's keys (1 first), 0 when not a key."""


@dataclass
class Dataset:
    name: str
    label: str
    variables: list[Variable]
    rows: list[dict] = field(default_factory=list)
    structure: str = ""
    category: str = ""
    """SDTM observation class: Special-Purpose, Interventions, Events, Findings, Trial Design."""

    def column(self, name: str) -> list:
        return [row.get(name) for row in self.rows]


@dataclass(frozen=True)
class FormDetail:
    """What the analysis records leave out of one form: its visit's repeat, the units typed."""

    repeat: int = 0
    units: Mapping[str, str] = field(default_factory=dict)


@dataclass
class SubjectFacts:
    """A participant's facts outside the forms, from the caller (the database or a test)."""

    consented_on: dt.date | None = None
    screened_on: dt.date | None = None
    end_reason: str = ""
    forms: Sequence[FormDetail] = ()
    """One per :attr:`ParticipantData.forms`, in the same order; may be empty."""


def v(name, label, type="Char", codelist="", origin="Collected", key=0) -> Variable:
    return Variable(name, label, type, codelist, origin, key)


# --- helpers ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def ascii_unit(unit: str | None) -> str:
    """A unit as CDISC and UCUM spell it in ASCII: ``µmol/L`` → ``umol/L``, ``°C`` → ``Cel``."""
    if not unit:
        return ""
    if unit in ("°C", "℃"):
        return "Cel"
    return unit.replace("µ", "u").replace("μ", "u")


@functools.lru_cache(maxsize=256)
def ucum(unit: str | None, quantity: str | None = None) -> str:
    """The UCUM code of a protocol unit, from the unit registry when it knows the quantity."""
    if not unit:
        return ""
    if quantity:
        try:
            code = resolve_unit(quantity, unit).ucum
            if code:
                return code
        except (UnitError, KeyError, AttributeError):
            pass
    return ascii_unit(unit)


def study_day(on: dt.date | None, reference: dt.date | None) -> int | None:
    """SDTM study day: day 1 is the reference date, the day before it is day -1 (no day 0)."""
    if on is None or reference is None:
        return None
    days = (on - reference).days
    return days + 1 if days >= 0 else days


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text[:10]) if text else None


def _iso(on: dt.date | dt.datetime | None) -> str:
    return on.isoformat() if on else ""


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


def _text(number: float | None) -> str:
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def test_code(oid: str) -> str:
    """A short code (≤ 8 characters) from an OID: what follows its last dot."""
    return oid.rsplit(".", 1)[-1][:8].upper()


class _Trial:
    """What the builder looks up in the protocol, once."""

    def __init__(self, protocol: Protocol):
        self.protocol = protocol
        self.study = protocol.study.registry_id
        self.items = protocol.items()
        self.role = {role: item_with_role(protocol, role) for role in Role}
        self.oid = {role: item.oid if item else None for role, item in self.role.items()}
        self.interventions = {i.code: i for arm in protocol.arms for i in arm.interventions}
        self.events = {e.oid: e for e in protocol.events}
        self.labs = {}
        self.lab_tests: dict[str, dict] = {}
        """LB's columns that depend only on the item (:func:`_lab_test`), filled as met."""
        for item in self.items.values():
            cdisc = next((c.code for c in item.codes if c.system == "CDISC"), None)
            if cdisc in LAB_TESTS:
                self.labs[item.oid] = cdisc
        self.visit_numbers = _visit_numbers(protocol)
        self.labels = protocol.visit_labels()
        scores = {d.score: d for d in protocol.derived_items}
        self.cp_points = scores.get("child_pugh_points")
        self.cp_class = scores.get("child_pugh_class")
        self.countries = {s.code: COUNTRIES.get(s.country, s.country) for s in protocol.study.sites}

    def visit(self, event: str, repeat: int = 0) -> tuple[float | None, str]:
        number = self.visit_numbers.get(event)
        label = self.labels[event].en if event in self.labels else event
        if number is not None and repeat:
            return round(number + repeat / 100, 2), f"{label} {repeat}"
        return number, label

    def in_visit(self, event: str) -> bool:
        """Whether forms at this event are a visit (not the event log)."""
        e = self.events.get(event)
        return e is None or e.kind != EventKind.REPEATING

    def value(self, form: FormEntry, role: Role) -> Value | None:
        oid = self.oid[role]
        return form.values.get(oid) if oid else None

    def meaning(self, role: Role, value: Value | None) -> str | None:
        item = self.role[role]
        return meaning(item, value.text) if item and value else None


def _visit_numbers(protocol: Protocol) -> dict[str, float]:
    """VISITNUM: screening, then scheduled and intervention visits by day, then the others."""
    planned: list[tuple[float, int, str]] = []
    others: list[str] = []
    for position, event in enumerate(protocol.events):
        if event.kind == EventKind.SCREENING:
            planned.append((-1e9, position, event.oid))
        elif event.kind == EventKind.SCHEDULED:
            planned.append((event.day or 0, position, event.oid))
        else:
            others.append(event.oid)
    seen = set()
    for arm in protocol.arms:
        for i in arm.interventions:
            if i.code not in seen:
                seen.add(i.code)
                planned.append((i.study_day + 0.5, len(protocol.events) + len(seen), i.code))
    ordered = [oid for *_, oid in sorted(planned)] + others
    return {oid: float(n) for n, oid in enumerate(ordered, start=1)}


def _label(item: Item | None, code: str) -> str:
    if item is None:
        return code
    return next((c.label.en for c in item.choices if c.code == code), code)


# --- the builder ------------------------------------------------------------------------------


def build_sdtm(
    protocol: Protocol,
    participants: Iterable[ParticipantData],
    *,
    facts: Mapping[str, SubjectFacts] | None = None,
    arm_codes: Mapping[str, str] | None = None,
) -> list[Dataset]:
    """The SDTM datasets of the randomized ``participants``; ``arm_codes`` makes them blinded.

    ``facts`` maps each participant's subject number to the facts the forms do not hold.
    """
    trial = _Trial(protocol)
    facts = facts or {}
    blinded = arm_codes is not None
    people = list(participants)
    data: dict[str, list[dict]] = {name: [] for name in DOMAINS}
    for p in people:
        fact = facts.get(p.subject, SubjectFacts())
        usubjid = f"{trial.study}-{p.subject}"
        base = {"STUDYID": trial.study, "USUBJID": usubjid}
        details = list(fact.forms) or [FormDetail() for _ in p.forms]
        if len(details) != len(p.forms):
            raise ValueError(f"{p.subject}: {len(details)} form details for {len(p.forms)} forms")
        reference = p.randomization_date
        data["DM"].append(_dm(trial, p, fact, base, arm_codes))
        data["DS"] += _ds(trial, p, fact, base, reference)
        data["MH"] += _mh(trial, p, base)
        data["AE"] += _ae(trial, p, base, reference, blinded=blinded)
        data["CE"] += _ce(trial, p, base, reference)
        data["PR"] += _pr(trial, p, base, reference)
        data["LB"] += _lb(trial, p, details, base, reference)
        data["RS"] += _rs(trial, p, details, base, reference)
        data["SV"] += _sv(trial, p, details, base, reference, blinded=blinded)
        if not blinded:
            data["EX"] += _ex(trial, p, base, reference)
    data["TS"] = _ts(trial)
    data["TA"], data["TE"] = _ta_te(trial, arm_codes)
    data["TV"] = _tv(trial, arm_codes)
    data["TI"] = _ti(trial)
    datasets = []
    for name, (label, category, structure, variables) in DOMAINS.items():
        if name == "EX" and blinded:
            continue
        rows = _numbered(name, data[name], variables)
        names = [var.name for var in variables]
        datasets.append(Dataset(name, label, list(variables),
                                [{n: row.get(n) for n in names} for row in rows],
                                structure, category))  # fmt: skip
    return datasets


def _numbered(name: str, rows: list[dict], variables: Sequence[Variable]) -> list[dict]:
    """Fill DOMAIN and --SEQ (1, 2... within each subject, in the order built)."""
    seq = f"{name}SEQ"
    has_seq = any(var.name == seq for var in variables)
    counts: dict[str, int] = {}
    for row in rows:
        row["DOMAIN"] = name
        if has_seq and "USUBJID" in row:
            counts[row["USUBJID"]] = counts.get(row["USUBJID"], 0) + 1
            row[seq] = counts[row["USUBJID"]]
    return rows


def _infusion_forms(trial: _Trial, p: ParticipantData) -> list[FormEntry]:
    return sorted((f for f in p.forms if f.event in trial.interventions and f.visit_date),
                  key=lambda f: f.visit_date)  # fmt: skip


def _dm(trial: _Trial, p, fact: SubjectFacts, base, codes) -> dict:
    infusions = _infusion_forms(trial, p)
    first = _exposure_start(trial, infusions[0]) if infusions else ""
    last = _exposure_start(trial, infusions[-1]) if infusions else ""
    death = min((_date(v.text) for f in p.forms if (v := trial.value(f, Role.DEATH_DATE))
                 and v.text), default=None)  # fmt: skip
    age = next((v for f in reversed(p.forms) if (v := trial.value(f, Role.AGE))), None)
    sex = next((v for f in reversed(p.forms) if (v := trial.value(f, Role.SEX))), None)
    arm = trial.protocol.arm(p.arm)
    if codes is not None:
        armcd, armlabel = codes[p.arm], f"Arm {codes[p.arm]}"
    else:
        armcd, armlabel = p.arm, arm.label.en
    treated = bool(infusions)
    return {
        **base, "SUBJID": p.subject, "RFSTDTC": _iso(p.randomization_date),
        "RFENDTC": _iso(p.ended_on), "RFXSTDTC": first,
        "RFXENDTC": "" if codes is not None else last,
        "RFICDTC": _iso(fact.consented_on), "RFPENDTC": _iso(p.ended_on),
        "DTHDTC": _iso(death), "DTHFL": "Y" if death else "",
        "SITEID": p.site, "AGE": _number(age.number) if age else None,
        "AGEU": "YEARS" if age else "", "SEX": trial.meaning(Role.SEX, sex) or "",
        "ARMCD": armcd, "ARM": armlabel,
        "ACTARMCD": armcd if treated else "NOTTRT", "ACTARM": armlabel if treated
        else "Not Treated", "COUNTRY": trial.countries.get(p.site, ""),
        "DMDTC": _iso(fact.screened_on), "RANDDTC": _iso(p.randomization_date),
    }  # fmt: skip


def _exposure_start(trial: _Trial, form: FormEntry) -> str:
    start = trial.value(form, Role.INFUSION_START)
    if start and start.text:
        return start.text.replace(" ", "T")[:16]
    return _iso(form.visit_date)


def _ds(trial: _Trial, p, fact: SubjectFacts, base, reference) -> list[dict]:
    rows = []

    def add(term, decod, category, on):
        rows.append({**base, "DSTERM": term, "DSDECOD": decod, "DSCAT": category,
                     "DSSTDTC": _iso(on), "DSSTDY": study_day(on, reference)})  # fmt: skip

    if fact.consented_on:
        add("INFORMED CONSENT OBTAINED", "INFORMED CONSENT OBTAINED", "PROTOCOL MILESTONE",
            fact.consented_on)  # fmt: skip
    add("RANDOMIZED", "RANDOMIZED", "PROTOCOL MILESTONE", p.randomization_date)
    status = p.status
    if status in DISPOSITION:
        term, decod = DISPOSITION[status]
        if fact.end_reason and status != "completed":
            term = fact.end_reason.strip()
        add(term, decod, "DISPOSITION EVENT", p.ended_on)
    death = min((_date(v.text) for f in p.forms if (v := trial.value(f, Role.DEATH_DATE))
                 and v.text), default=None)  # fmt: skip
    if death and status != "died":
        add("DEATH", "DEATH", "OTHER EVENT", death)
    return rows


def _mh(trial: _Trial, p, base) -> list[dict]:
    for form in reversed(p.forms):
        value = trial.value(form, Role.ETIOLOGY)
        if value and value.text:
            label = _label(trial.role[Role.ETIOLOGY], value.text)
            return [{**base, "MHTERM": label, "MHDECOD": label.upper(),
                     "MHCAT": "ETIOLOGY OF LIVER DISEASE", "MHDTC": _iso(form.visit_date),
                     "MHPRESP": "Y", "MHOCCUR": "Y"}]  # fmt: skip
    return []


def _ae(trial: _Trial, p, base, reference, *, blinded: bool) -> list[dict]:
    rows = []
    term_oid = trial.oid[Role.AE_TERM]
    reaction_oid = trial.oid[Role.INFUSION_REACTION]
    for form in p.forms:
        if term_oid and term_oid in form.values:
            term = form.values[term_oid]
            text = (term.entered or term.text).strip()
            grade_text = trial.meaning(Role.AE_GRADE, trial.value(form, Role.AE_GRADE))
            grade = int(grade_text) if grade_text else None
            serious = trial.value(form, Role.AE_SERIOUS)
            related = trial.meaning(Role.AE_RELATIONSHIP, trial.value(form, Role.AE_RELATIONSHIP))
            start = _date(_value_text(trial.value(form, Role.AE_START)))
            end = _date(_value_text(trial.value(form, Role.AE_END)))
            rows.append({
                **base, "AETERM": text, "AEDECOD": text.upper(), "AECAT": "",
                "AESEV": SEVERITY.get(grade, "SEVERE") if grade else "",
                "AETOXGR": str(grade) if grade else "",
                "AESER": ("Y" if serious.text == "true" else "N") if serious else "",
                "AEREL": RELATEDNESS.get(related, "") if related else "",
                "AESTDTC": _iso(start), "AEENDTC": _iso(end),
                "AESTDY": study_day(start, reference), "AEENDY": study_day(end, reference),
            })  # fmt: skip
        elif not blinded and reaction_oid and form.values.get(reaction_oid):
            if form.values[reaction_oid].text != "true":
                continue
            described = trial.value(form, Role.INFUSION_REACTION_TEXT)
            text = ((described.entered or described.text) if described else "") or (
                "Infusion reaction"
            )
            rows.append({
                **base, "AETERM": text.strip(), "AEDECOD": text.strip().upper(),
                "AECAT": "INFUSION REACTION", "AESEV": "", "AETOXGR": "", "AESER": "",
                "AEREL": "", "AESTDTC": _iso(form.visit_date), "AEENDTC": "",
                "AESTDY": study_day(form.visit_date, reference), "AEENDY": None,
            })  # fmt: skip
    return rows


def _value_text(value: Value | None) -> str | None:
    return value.text if value else None


def _ce(trial: _Trial, p, base, reference) -> list[dict]:
    rows = []
    kind_oid = trial.oid[Role.DECOMPENSATION_TYPE]
    for form in p.forms:
        if not kind_oid or kind_oid not in form.values:
            continue
        kind = form.values[kind_oid]
        onset = _date(_value_text(trial.value(form, Role.DECOMPENSATION_ONSET)))
        severity = trial.value(form, Role.DECOMPENSATION_SEVERITY)
        hospital = trial.value(form, Role.DECOMPENSATION_HOSPITALIZED)
        label = _label(trial.role[Role.DECOMPENSATION_TYPE], kind.text)
        severity_label = (
            _label(trial.role[Role.DECOMPENSATION_SEVERITY], severity.text).upper()
            if severity else ""
        )  # fmt: skip
        rows.append({
            **base, "CETERM": label, "CEDECOD": label.upper(),
            "CECAT": "HEPATIC DECOMPENSATION", "CEPRESP": "", "CEOCCUR": "",
            "CESEV": severity_label,
            "CESHOSP": ("Y" if hospital.text == "true" else "N") if hospital else "",
            "CESTDTC": _iso(onset), "CESTDY": study_day(onset, reference),
        })  # fmt: skip
    return rows


def _pr(trial: _Trial, p, base, reference) -> list[dict]:
    rows = []
    for form in p.forms:
        value = trial.value(form, Role.TRANSPLANT_DATE)
        if value and value.text:
            on = _date(value.text)
            rows.append({**base, "PRTRT": "LIVER TRANSPLANTATION", "PRCAT": "TRANSPLANT",
                         "PRSTDTC": _iso(on), "PRSTDY": study_day(on, reference)})  # fmt: skip
    return rows


def _lb(trial: _Trial, p, details, base, reference) -> list[dict]:
    rows = []
    for form, detail in zip(p.forms, details, strict=True):
        if form.event in trial.interventions:
            continue
        visitnum, visit = trial.visit(form.event, detail.repeat)
        for oid, value in form.values.items():
            code = trial.labs.get(oid)
            if code is None:
                continue
            item = trial.items[oid]
            entered_unit = detail.units.get(oid) or item.canonical_unit or ""
            rows.append({
                **base, **_lab_test(trial, oid, code),
                "LBORRES": (value.entered or value.text).strip(),
                "LBORRESU": ascii_unit(entered_unit),
                "LBSTRESC": _text(value.number), "LBSTRESN": _number(value.number),
                "VISITNUM": visitnum, "VISIT": visit, "LBDTC": _iso(form.visit_date),
                "LBDY": study_day(form.visit_date, reference),
            })  # fmt: skip
    return rows


def _lab_test(trial: _Trial, oid: str, code: str) -> dict:
    """What LB says of every value of the item: test, category, LOINC, unit, specimen."""
    known = trial.lab_tests.get(oid)
    if known is None:
        item = trial.items[oid]
        test, category, specimen = LAB_TESTS[code]
        loinc = next((c.code for c in item.codes if c.system == "LOINC"), "")
        known = trial.lab_tests[oid] = {
            "LBTESTCD": code, "LBTEST": test, "LBCAT": category, "LBLOINC": loinc,
            "LBSTRESU": ucum(item.canonical_unit, item.quantity), "LBSPEC": specimen,
        }  # fmt: skip
    return known


def _rs(trial: _Trial, p, details, base, reference) -> list[dict]:
    """Child-Pugh (CPS01) at each visit with a derived score: its items, points and class."""
    derived = trial.cp_points or trial.cp_class
    if derived is None:
        return []
    table = trial.protocol.score_settings().child_pugh
    oids = {d.oid for d in (trial.cp_points, trial.cp_class) if d}
    by_visit: dict[tuple[str, dt.date], dict[str, object]] = {}
    for d in p.derived:
        if d.oid in oids and d.visit_date and d.event not in trial.interventions:
            by_visit.setdefault((d.event, d.visit_date), {})[d.oid] = d
    rows = []
    for (event, on), scores in by_visit.items():
        repeat = next((det.repeat for f, det in zip(p.forms, details, strict=True)
                       if f.event == event and f.visit_date == on), 0)  # fmt: skip
        visitnum, visit = trial.visit(event, repeat)
        values: dict[str, tuple[Value, str]] = {}
        for f, det in zip(p.forms, details, strict=True):
            if f.event == event and f.visit_date == on:
                for name, oid in derived.inputs.items():
                    if oid in f.values:
                        values[name] = (f.values[oid], det.units.get(oid, ""))

        where = {**base, "VISITNUM": visitnum, "VISIT": visit, "RSDTC": _iso(on),
                 "RSDY": study_day(on, reference)}  # fmt: skip
        for name in ("encephalopathy", "ascites", "bilirubin", "albumin", "pt_prolongation_s",
                     "inr"):  # fmt: skip
            if name not in values:
                continue
            value, unit = values[name]
            item = trial.items[derived.inputs[name]]
            points = _component_points(table, name, value, unit or item.canonical_unit, item)
            if item.choices:
                orres, orresu = _label(item, value.text), ""
            else:
                orres = (value.entered or value.text).strip()
                orresu = ascii_unit(unit or item.canonical_unit)
            rows.append(_rs_row(where, name, orres, orresu, _text(points), _number(points)))
        if trial.cp_points and trial.cp_points.oid in scores:
            total = scores[trial.cp_points.oid].number
            rows.append(_rs_row(where, "total", _text(total), "", _text(total), _number(total)))
        if trial.cp_class and trial.cp_class.oid in scores:
            letter = scores[trial.cp_class.oid].text
            rows.append(_rs_row(where, "class", letter, "", letter, None))
    return rows


def _rs_row(where: dict, name: str, orres, orresu, stresc, stresn) -> dict:
    code, test = CPS01[name]
    return {**where, "RSTESTCD": code, "RSTEST": test, "RSCAT": CPS01_CATEGORY,
            "RSORRES": orres, "RSORRESU": orresu, "RSSTRESC": stresc,
            "RSSTRESN": stresn}  # fmt: skip


def _component_points(table, name: str, value: Value, unit: str | None, item: Item):
    """Points (1-3) one Child-Pugh item scores by the protocol's table; None if not scorable."""
    try:
        if name == "ascites":
            grade = ASCITES.parse_one(value.text)
            return 1 + (grade >= 1) + (grade >= 2)
        if name == "encephalopathy":
            grade = ENCEPHALOPATHY.parse_one(value.text)
            return 1 + (grade >= 1) + (grade >= 3)
        number = float((value.entered or value.text).replace(" ", ""))
        if name == "inr":
            bands = table.inr
        elif name == "pt_prolongation_s":
            bands = table.pt_prolongation_s
        else:
            symbol = resolve_unit(item.quantity or name, unit or "").symbol
            bands = table.bands_for(name, symbol)
        return int(bands.points_one(number))
    except (ValueError, KeyError, UnitError, TypeError):
        return None


def _sv(trial: _Trial, p, details, base, reference, *, blinded: bool) -> list[dict]:
    seen: dict[tuple[str, int], dt.date] = {}
    for form, detail in zip(p.forms, details, strict=True):
        if not form.visit_date or not trial.in_visit(form.event):
            continue
        if blinded and form.event in trial.interventions:
            continue
        key = (form.event, detail.repeat)
        seen[key] = min(seen.get(key, form.visit_date), form.visit_date)
    rows = []
    for (event, repeat), on in sorted(seen.items(), key=lambda kv: (kv[1], kv[0])):
        visitnum, visit = trial.visit(event, repeat)
        rows.append({**base, "VISITNUM": visitnum, "VISIT": visit, "SVSTDTC": _iso(on),
                     "SVENDTC": _iso(on), "SVSTDY": study_day(on, reference),
                     "SVENDY": study_day(on, reference),
                     "SVUPDES": "" if trial.events.get(event) is None
                     or trial.events[event].kind != EventKind.UNSCHEDULED
                     else trial.events[event].label.en})  # fmt: skip
    return rows


def _ex(trial: _Trial, p, base, reference) -> list[dict]:
    rows = []
    for form in _infusion_forms(trial, p):
        intervention = trial.interventions[form.event]
        dose = form.values.get(intervention.dose_item)
        visitnum, visit = trial.visit(form.event)
        start = _exposure_start(trial, form)
        rows.append({
            **base, "EXTRT": intervention.label.en, "EXDOSE": _number(dose.number)
            if dose else None, "EXDOSU": ascii_unit(intervention.dose.unit),
            "EXROUTE": ROUTES.get(intervention.route.lower(), intervention.route.upper()),
            "EXSTDTC": start, "EXENDTC": start, "VISITNUM": visitnum, "VISIT": visit,
            "EXSTDY": study_day(form.visit_date, reference),
            "EXENDY": study_day(form.visit_date, reference),
        })  # fmt: skip
    return rows


# --- trial design -----------------------------------------------------------------------------


def _ts(trial: _Trial) -> list[dict]:
    protocol, study = trial.protocol, trial.protocol.study
    scheduled = protocol.scheduled_events()
    last_day = max((e.day or 0) for e in scheduled) if scheduled else 0
    rows: list[tuple[str, str, str]] = [
        ("TITLE", "Trial Title", study.title.en),
        ("SPONSOR", "Clinical Study Sponsor", study.sponsor),
        ("REGID", "Registry Identifier", study.registry_id),
        ("STYPE", "Study Type", "INTERVENTIONAL"),
        ("RANDOM", "Trial is Randomized", "Y"),
        ("TBLIND", "Trial Blinding Schema", BLINDING[study.masking.level]),
        ("NARMS", "Planned Number of Arms", str(len(protocol.arms))),
        ("PLANSUB", "Planned Number of Subjects", str(study.target_enrolment)),
        ("LENGTH", "Trial Length", f"P{last_day}D"),
        ("SSTDTC", "Study Start Date", study.enrolment_period.start.isoformat()),
    ]
    for outcome in study.registered_outcomes:
        code = "OUTMSPRI" if outcome.kind == "primary" else "OUTMSSEC"
        label = "Primary Outcome Measure" if code == "OUTMSPRI" else "Secondary Outcome Measure"
        rows.append((code, label, outcome.label.en))
    countries = {trial.countries[s.code] for s in study.sites}
    for country in sorted(c for c in countries if c):
        rows.append(("FCNTRY", "Planned Country of Investigational Sites", country))
    counts: dict[str, int] = {}
    out = []
    for code, label, value in rows:
        counts[code] = counts.get(code, 0) + 1
        out.append({"STUDYID": trial.study, "TSSEQ": counts[code], "TSPARMCD": code,
                    "TSPARM": label, "TSVAL": value})  # fmt: skip
    return out


def _ta_te(trial: _Trial, codes: Mapping[str, str] | None) -> tuple[list[dict], list[dict]]:
    protocol = trial.protocol
    screening = {"ETCD": "SCRN", "ELEMENT": "Screening", "TESTRL": "Informed consent",
                 "TEENRL": "Randomization", "TEDUR": ""}  # fmt: skip
    if codes is not None:
        treatment = {"ETCD": "TRT", "ELEMENT": "Treatment and follow-up",
                     "TESTRL": "Randomization", "TEENRL": "End of study", "TEDUR": ""}  # fmt: skip
        ta = []
        for code in sorted(codes.values()):
            path = ((screening, "SCREENING"), (treatment, "TREATMENT"))
            for order, (element, epoch) in enumerate(path, start=1):
                ta.append({"STUDYID": trial.study, "ARMCD": code, "ARM": f"Arm {code}",
                           "TAETORD": order, "ETCD": element["ETCD"],
                           "ELEMENT": element["ELEMENT"],
                           "TABRANCH": f"Randomized to Arm {code}" if order == 1 else "",
                           "EPOCH": epoch})  # fmt: skip
        te = [{"STUDYID": trial.study, **e} for e in (screening, treatment)]
        return ta, te
    follow = {"ETCD": "FU", "ELEMENT": "Follow-up", "TESTRL": "End of the last infusion",
              "TEENRL": "End of study", "TEDUR": ""}  # fmt: skip
    elements = {"SCRN": screening}
    ta = []
    for arm in protocol.arms:
        path = [(screening, "SCREENING")]
        for i in arm.interventions:
            element = {"ETCD": test_code(i.code), "ELEMENT": i.label.en,
                       "TESTRL": f"Start of {i.label.en}", "TEENRL": f"End of {i.label.en}",
                       "TEDUR": "P1D"}  # fmt: skip
            elements.setdefault(element["ETCD"], element)
            path.append((element, "TREATMENT"))
        path.append((follow, "FOLLOW-UP"))
        for order, (element, epoch) in enumerate(path, start=1):
            ta.append({"STUDYID": trial.study, "ARMCD": arm.code, "ARM": arm.label.en,
                       "TAETORD": order, "ETCD": element["ETCD"], "ELEMENT": element["ELEMENT"],
                       "TABRANCH": f"Randomized to {arm.label.en}" if order == 1 else "",
                       "EPOCH": epoch})  # fmt: skip
    elements["FU"] = follow
    te = [{"STUDYID": trial.study, **e} for e in elements.values()]
    return ta, te


def _tv(trial: _Trial, codes: Mapping[str, str] | None) -> list[dict]:
    rows = []
    for event in trial.protocol.events:
        if event.kind not in (EventKind.SCREENING, EventKind.SCHEDULED):
            continue
        arms = event.arms or [""]
        if codes is not None and event.arms:
            continue
        for arm in arms:
            rows.append(_tv_row(trial, event.oid, event.label.en, event, arm))
    if codes is None:
        for intervention_code, intervention in trial.interventions.items():
            arms = [a.code for a in trial.protocol.arms
                    if any(i.code == intervention_code for i in a.interventions)]  # fmt: skip
            for arm in [""] if len(arms) == len(trial.protocol.arms) else arms:
                rows.append(_tv_row(trial, intervention_code, intervention.label.en, None, arm,
                                    intervention.study_day, intervention.window))  # fmt: skip
    return sorted(rows, key=lambda r: (r["VISITNUM"], r["ARMCD"]))


def _tv_row(trial, oid, label, event: Event | None, arm, day=None, window=None) -> dict:
    day = event.day if event else day
    window = event.window if event else window
    screening = event is not None and event.kind == EventKind.SCREENING
    before, after = (window.before, window.after) if window else (0, 0)
    if screening:
        start, end = f"Up to {before} days before randomization", "Randomization"
        visit_day = None
    else:
        visit_day = (day or 0) + 1 if (day or 0) >= 0 else day
        start = f"Day {day} after randomization" + (f", window -{before}/+{after} days"
                                                   if before or after else "")  # fmt: skip
        end = ""
    return {"STUDYID": trial.study, "VISITNUM": trial.visit_numbers[oid], "VISIT": label,
            "VISITDY": visit_day, "ARMCD": arm, "TVSTRL": start, "TVENRL": end}  # fmt: skip


def _ti(trial: _Trial) -> list[dict]:
    version = trial.protocol.study.protocol_version
    return [{"STUDYID": trial.study, "IETESTCD": test_code(c.oid), "IETEST": c.label.en,
             "IECAT": c.kind.upper(), "TIVERS": version}
            for c in trial.protocol.eligibility]  # fmt: skip


# --- the variables of each dataset --------------------------------------------------------------

_ID = (v("STUDYID", "Study Identifier", key=1, origin="Protocol"),
       v("DOMAIN", "Domain Abbreviation", origin="Assigned"))  # fmt: skip
_SUBJ = (*_ID, v("USUBJID", "Unique Subject Identifier", key=2, origin="Derived"))


def _seq(d):
    return v(f"{d}SEQ", "Sequence Number", "Num", origin="Derived", key=3)


_VISIT = (v("VISITNUM", "Visit Number", "Num", origin="Derived"),
          v("VISIT", "Visit Name", origin="Protocol"))  # fmt: skip

DOMAINS: dict[str, tuple[str, str, str, tuple[Variable, ...]]] = {
    "DM": ("Demographics", "Special-Purpose", "One record per subject", (
        *_SUBJ, v("SUBJID", "Subject Identifier for the Study"),
        v("RFSTDTC", "Subject Reference Start Date/Time", origin="Derived"),
        v("RFENDTC", "Subject Reference End Date/Time", origin="Derived"),
        v("RFXSTDTC", "Date/Time of First Study Treatment", origin="Derived"),
        v("RFXENDTC", "Date/Time of Last Study Treatment", origin="Derived"),
        v("RFICDTC", "Date/Time of Informed Consent"),
        v("RFPENDTC", "Date/Time of End of Participation"),
        v("DTHDTC", "Date/Time of Death"), v("DTHFL", "Subject Death Flag", codelist="NY",
                                             origin="Derived"),
        v("SITEID", "Study Site Identifier"), v("AGE", "Age", "Num"),
        v("AGEU", "Age Units", codelist="AGEU", origin="Assigned"),
        v("SEX", "Sex", codelist="SEX"),
        v("ARMCD", "Planned Arm Code", codelist="ARMCD", origin="Assigned"),
        v("ARM", "Description of Planned Arm", origin="Assigned"),
        v("ACTARMCD", "Actual Arm Code", origin="Derived"),
        v("ACTARM", "Description of Actual Arm", origin="Derived"),
        v("COUNTRY", "Country", codelist="COUNTRY (ISO 3166-1 alpha-3)", origin="Protocol"),
        v("DMDTC", "Date/Time of Collection"),
        v("RANDDTC", "Date/Time of Randomization", origin="Assigned"),
    )),
    "DS": ("Disposition", "Events", "One record per disposition status or protocol milestone "
           "per subject", (
        *_SUBJ, _seq("DS"), v("DSTERM", "Reported Term for the Disposition Event"),
        v("DSDECOD", "Standardized Disposition Term", codelist="NCOMPLT/PROTMLST",
          origin="Derived"),
        v("DSCAT", "Category for Disposition Event", codelist="DSCAT", origin="Assigned"),
        v("DSSTDTC", "Start Date/Time of Disposition Event"),
        v("DSSTDY", "Study Day of Start of Disposition Event", "Num", origin="Derived"),
    )),
    "MH": ("Medical History", "Events", "One record per medical history event per subject", (
        *_SUBJ, _seq("MH"), v("MHTERM", "Reported Term for the Medical History"),
        v("MHDECOD", "Dictionary-Derived Term", origin="Derived"),
        v("MHCAT", "Category for Medical History", origin="Assigned"),
        v("MHPRESP", "Medical History Event Pre-Specified", codelist="NY", origin="Assigned"),
        v("MHOCCUR", "Medical History Occurrence", codelist="NY"),
        v("MHDTC", "Date/Time of History Collection"),
    )),
    "AE": ("Adverse Events", "Events", "One record per adverse event per subject", (
        *_SUBJ, _seq("AE"), v("AETERM", "Reported Term for the Adverse Event"),
        v("AEDECOD", "Dictionary-Derived Term", origin="Derived"),
        v("AECAT", "Category for Adverse Event", origin="Assigned"),
        v("AESEV", "Severity/Intensity", codelist="AESEV", origin="Derived"),
        v("AETOXGR", "Standard Toxicity Grade", codelist="TOXGRV (CTCAE)"),
        v("AESER", "Serious Event", codelist="NY"),
        v("AEREL", "Causality", codelist="REL (sponsor-extended)"),
        v("AESTDTC", "Start Date/Time of Adverse Event"),
        v("AEENDTC", "End Date/Time of Adverse Event"),
        v("AESTDY", "Study Day of Start of Adverse Event", "Num", origin="Derived"),
        v("AEENDY", "Study Day of End of Adverse Event", "Num", origin="Derived"),
    )),
    "CE": ("Clinical Events", "Events", "One record per event per subject", (
        *_SUBJ, _seq("CE"), v("CETERM", "Reported Term for the Clinical Event"),
        v("CEDECOD", "Dictionary-Derived Term", origin="Derived"),
        v("CECAT", "Category for Clinical Event", origin="Assigned"),
        v("CEPRESP", "Clinical Event Pre-specified", codelist="NY", origin="Assigned"),
        v("CEOCCUR", "Clinical Event Occurrence", codelist="NY"),
        v("CESEV", "Severity/Intensity", codelist="AESEV"),
        v("CESHOSP", "Requires or Prolongs Hospitalization", codelist="NY"),
        v("CESTDTC", "Start Date/Time of Clinical Event"),
        v("CESTDY", "Study Day of Start of Event", "Num", origin="Derived"),
    )),
    "PR": ("Procedures", "Interventions", "One record per procedure per subject", (
        *_SUBJ, _seq("PR"), v("PRTRT", "Reported Name of Procedure", origin="Assigned"),
        v("PRCAT", "Category", origin="Assigned"),
        v("PRSTDTC", "Start Date/Time of Procedure"),
        v("PRSTDY", "Study Day of Start of Procedure", "Num", origin="Derived"),
    )),
    "EX": ("Exposure", "Interventions", "One record per infusion per subject", (
        *_SUBJ, _seq("EX"), v("EXTRT", "Name of Treatment", origin="Protocol"),
        v("EXDOSE", "Dose", "Num"), v("EXDOSU", "Dose Units", codelist="UNIT", origin="Protocol"),
        v("EXROUTE", "Route of Administration", codelist="ROUTE", origin="Protocol"),
        v("EXSTDTC", "Start Date/Time of Treatment"), v("EXENDTC", "End Date/Time of Treatment"),
        *_VISIT,
        v("EXSTDY", "Study Day of Start of Treatment", "Num", origin="Derived"),
        v("EXENDY", "Study Day of End of Treatment", "Num", origin="Derived"),
    )),
    "LB": ("Laboratory Test Results", "Findings", "One record per lab test per visit per "
           "subject", (
        *_SUBJ, _seq("LB"), v("LBTESTCD", "Lab Test or Examination Short Name",
                              codelist="LBTESTCD", origin="Protocol"),
        v("LBTEST", "Lab Test or Examination Name", codelist="LBTEST", origin="Protocol"),
        v("LBCAT", "Category for Lab Test", origin="Assigned"),
        v("LBLOINC", "LOINC Code", codelist="LOINC", origin="Protocol"),
        v("LBORRES", "Result or Finding in Original Units"),
        v("LBORRESU", "Original Units", codelist="UNIT"),
        v("LBSTRESC", "Character Result/Finding in Std Format", origin="Derived"),
        v("LBSTRESN", "Numeric Result/Finding in Standard Units", "Num", origin="Derived"),
        v("LBSTRESU", "Standard Units", codelist="UNIT (UCUM)", origin="Protocol"),
        v("LBSPEC", "Specimen Type", codelist="SPECTYPE", origin="Assigned"),
        *_VISIT, v("LBDTC", "Date/Time of Specimen Collection"),
        v("LBDY", "Study Day of Specimen Collection", "Num", origin="Derived"),
    )),
    "RS": ("Disease Response and Clin Classification", "Findings",
           "One record per test per visit per subject", (
        *_SUBJ, _seq("RS"), v("RSTESTCD", "Assessment Short Name", codelist="CPS01TC",
                              origin="Assigned"),
        v("RSTEST", "Assessment Name", codelist="CPS01TN", origin="Assigned"),
        v("RSCAT", "Category for Assessment", origin="Assigned"),
        v("RSORRES", "Result or Finding in Original Units"),
        v("RSORRESU", "Original Units", codelist="UNIT"),
        v("RSSTRESC", "Character Result/Finding in Std Format", origin="Derived"),
        v("RSSTRESN", "Numeric Result/Finding in Standard Units", "Num", origin="Derived"),
        *_VISIT, v("RSDTC", "Date/Time of Assessment"),
        v("RSDY", "Study Day of Assessment", "Num", origin="Derived"),
    )),
    "SV": ("Subject Visits", "Special-Purpose", "One record per actual visit per subject", (
        *_SUBJ, *_VISIT, v("SVSTDTC", "Start Date/Time of Visit"),
        v("SVENDTC", "End Date/Time of Visit"),
        v("SVSTDY", "Study Day of Start of Visit", "Num", origin="Derived"),
        v("SVENDY", "Study Day of End of Visit", "Num", origin="Derived"),
        v("SVUPDES", "Description of Unplanned Visit", origin="Protocol"),
    )),
    "TS": ("Trial Summary", "Trial Design", "One record per trial summary parameter value", (
        *_ID, v("TSSEQ", "Sequence Number", "Num", origin="Derived", key=3),
        v("TSPARMCD", "Trial Summary Parameter Short Name", codelist="TSPARMCD",
          origin="Protocol", key=2),
        v("TSPARM", "Trial Summary Parameter", codelist="TSPARM", origin="Protocol"),
        v("TSVAL", "Parameter Value", origin="Protocol"),
    )),
    "TA": ("Trial Arms", "Trial Design", "One record per planned Element per Arm", (
        *_ID, v("ARMCD", "Planned Arm Code", origin="Protocol", key=2),
        v("ARM", "Description of Planned Arm", origin="Protocol"),
        v("TAETORD", "Planned Order of Element within Arm", "Num", origin="Protocol", key=3),
        v("ETCD", "Element Code", origin="Protocol"),
        v("ELEMENT", "Description of Element", origin="Protocol"),
        v("TABRANCH", "Branch", origin="Protocol"),
        v("EPOCH", "Epoch", codelist="EPOCH", origin="Protocol"),
    )),
    "TE": ("Trial Elements", "Trial Design", "One record per planned Element", (
        *_ID, v("ETCD", "Element Code", origin="Protocol", key=2),
        v("ELEMENT", "Description of Element", origin="Protocol"),
        v("TESTRL", "Rule for Start of Element", origin="Protocol"),
        v("TEENRL", "Rule for End of Element", origin="Protocol"),
        v("TEDUR", "Planned Duration of Element", origin="Protocol"),
    )),
    "TV": ("Trial Visits", "Trial Design", "One record per planned Visit per Arm", (
        *_ID, v("VISITNUM", "Visit Number", "Num", origin="Protocol", key=2),
        v("VISIT", "Visit Name", origin="Protocol"),
        v("VISITDY", "Planned Study Day of Visit", "Num", origin="Protocol"),
        v("ARMCD", "Planned Arm Code", origin="Protocol", key=3),
        v("TVSTRL", "Visit Start Rule", origin="Protocol"),
        v("TVENRL", "Visit End Rule", origin="Protocol"),
    )),
    "TI": ("Trial Inclusion/Exclusion Criteria", "Trial Design", "One record per I/E "
           "criterion", (
        *_ID, v("IETESTCD", "Incl/Excl Criterion Short Name", origin="Protocol", key=2),
        v("IETEST", "Inclusion/Exclusion Criterion", origin="Protocol"),
        v("IECAT", "Inclusion/Exclusion Category", codelist="IECAT", origin="Protocol"),
        v("TIVERS", "Protocol Criteria Versions", origin="Protocol"),
    )),
}  # fmt: skip
"""Each dataset's label, observation class, structure and variables, in SDTMIG order."""
