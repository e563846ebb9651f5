"""FHIR R5: one trial export as a ``Bundle`` of type ``collection``, and our own checks of it.

Pure code, no Django: :mod:`hepatrial.edc.fhir_export` reads the participants from the database
as the analysis derivation does (:class:`~hepatrial.analysis.derive.ParticipantData`) and hands
them here with their visits. Every item is found by what the protocol says it is — a LOINC code
for an Observation, a role for sex and the adverse-event items, ``derived_items[*].score`` for a
score — never by a trial's OID.

Why ``collection`` and not ``transaction``: the file is a snapshot to be read (loaded into an
analysis tool or a research repository), not a list of instructions to a FHIR server. A
transaction would need a ``request`` on every entry and would make a receiving server create
pseudonymous Patients beside its real ones; a collection states no intent and its ``urn:uuid``
full URLs are resolved within the bundle.

Each resource is built as JSON and validated by its ``fhir.resources`` model (cardinality, types,
primitive formats: a structural check). The library does not check bindings, so
:func:`check_bundle` checks what we promise: every reference resolves to an entry, every
Observation is coded (LOINC, or our score system for a score LOINC has no code for) with a UCUM
unit we know, no Patient carries a name, birth date, telecom, address, photo or contact, and a
blinded bundle names no arm. The validated JSON is what is written: serializing tens of thousands
of resources back through pydantic takes seconds for nothing the dictionaries do not already
hold.

Blinding is that of the ADaM export: with ``arm_codes`` the study's comparison groups are the
coded arms (``Arm X``), no ResearchSubject says its group, and nothing that would tell the arms
apart is included — no intervention visit (nor any arm-only event), no infusion reaction.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from fhir.resources import get_fhir_model_class
from pydantic import ValidationError

from hepatrial.analysis.derive import ParticipantData, Value
from hepatrial.protocol.model import Item, Protocol
from hepatrial.protocol.roles import Role, item_with_role, meaning

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
LOCAL = "urn:hepatrial:fhir"
"""Prefix of hepatrial's own code and identifier systems (a URN: no web page to resolve)."""
SCORE_SYSTEM = f"{LOCAL}:score"
"""Derived scores by the name of the score hepatrial computes (``meld_na``, ``albi``)."""
EVENT_SYSTEM = f"{LOCAL}:event"
SITE_SYSTEM = f"{LOCAL}:site"
RELATEDNESS_SYSTEM = f"{LOCAL}:ae-relationship"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
SUBJECT_STATE = "http://terminology.hl7.org/CodeSystem/research-subject-state"
SUBJECT_MILESTONE = "http://terminology.hl7.org/CodeSystem/research-subject-milestone"
SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
PARTY_ROLE = "http://hl7.org/fhir/research-study-party-role"
TITLE_TYPE = "http://hl7.org/fhir/title-type"
SECURITY = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
REGISTRIES = {"NCT": "https://clinicaltrials.gov", "ChiCTR": "https://www.chictr.org.cn"}
"""Identifier system of a registry id, by its prefix."""

UCUM_CODES = {
    "U/L": "U/L", "µkat/L": "ukat/L", "µmol/L": "umol/L", "mg/dL": "mg/dL", "g/L": "g/L",
    "g/dL": "g/dL", "s": "s", "1": "1", "mmol/L": "mmol/L", "mEq/L": "meq/L", "kg": "kg",
    "cm": "cm", "m": "m", "10^6/kg": "10*6/kg", "%": "%", "mL": "mL", "min": "min", "h": "h",
    "mmHg": "mm[Hg]", "/min": "/min", "°C": "Cel", "years": "a",
}  # fmt: skip
"""Our unit symbols (the protocol's ``canonical_unit``) → UCUM case-sensitive codes."""
SCORE_UNIT = "{score}"
KNOWN_UCUM = frozenset(UCUM_CODES.values()) | {SCORE_UNIT}

SCORE_LOINC = {"meld": ("44760-7", "Model for end-stage liver disease score")}
"""LOINC codes of the scores LOINC has one for; the others are coded in :data:`SCORE_SYSTEM`
only (LOINC has a Child-Pugh *panel*, 98153-0, an order code, not the score)."""
CLASS_SCORES = frozenset({"child_pugh_class", "albi_grade"})
"""Scores whose value is a class letter, carried as ``valueCodeableConcept``."""
VITAL_SIGNS = frozenset({"body_weight", "body_height"})
"""Item quantities whose Observations are vital signs; other LOINC items are laboratory."""

GENDER = {"M": "male", "F": "female", "U": "unknown"}
ENCOUNTER_STATUS = {"planned": "planned", "done": "completed", "missed": "cancelled"}
ENDED = {
    "completed": ("off-study", "Completed the study"),
    "withdrawn": ("withdrawn", "Withdrawn"),
    "died": ("off-study", "Died"),
    "transplanted": ("off-study", "Liver transplant"),
    "lost": ("off-study", "Lost to follow-up"),
}
"""Research-subject state (and why) after each end of participation."""
PATIENT_FORBIDDEN = ("name", "birthDate", "telecom", "address", "photo", "contact")
"""Patient elements a pseudonymized export never carries."""


@dataclass(frozen=True)
class VisitRecord:
    """One visit of a participant as planned or done: which event, its date and status."""

    event: str
    repeat: int = 0
    status: str = "done"
    """``planned``, ``done`` or ``missed``."""
    visit_date: dt.date | None = None
    target_date: dt.date | None = None


class FhirBuildError(ValueError):
    """A resource the ``fhir.resources`` model refuses: names the resource and the paths."""


def _uuid(*parts: object) -> str:
    """A stable ``urn:uuid`` for the same thing in the same study, export after export."""
    name = "/".join(str(part) for part in ("hepatrial", *parts))
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def _ref(full_url: str) -> dict:
    return {"reference": full_url}


def _coding(system: str, code: str, display: str | None = None) -> dict:
    return {"system": system, "code": code, **({"display": display} if display else {})}


def _number(number: float) -> float | int:
    """The number without float noise (49.59000000000001 → 49.59); integers as integers."""
    rounded = float(f"{number:.10g}")
    return int(rounded) if rounded.is_integer() else rounded


def _loinc(item: Item) -> str | None:
    return next((c.code for c in item.codes if c.system == "LOINC"), None)


class _Builder:
    def __init__(self, protocol: Protocol, arm_codes: Mapping[str, str] | None):
        self.protocol = protocol
        self.study = protocol.study.registry_id
        self.codes = arm_codes
        self.blinded = arm_codes is not None
        self.items = protocol.items()
        self.role_item = {role: item_with_role(protocol, role) for role in Role}
        self.interventions = {i.code: i for arm in protocol.arms for i in arm.interventions}
        self.events = {e.oid: e for e in protocol.events}
        self.derived = {d.oid: d for d in protocol.derived_items}
        self.entries: list[dict] = []
        self.study_url = _uuid(self.study, "ResearchStudy")

    # --- what a blinded bundle leaves out ---

    def hidden_event(self, event: str) -> bool:
        """Intervention visits and arm-only events tell the arm; blinded, they are left out."""
        if not self.blinded:
            return False
        known = self.events.get(event)
        return event in self.interventions or bool(known and known.arms)

    def event_label(self, event: str) -> str:
        if event in self.events:
            return self.events[event].label.en
        if event in self.interventions:
            return self.interventions[event].label.en
        return event

    def add(self, full_url: str, resource: dict) -> str:
        kind = resource["resourceType"]
        try:
            get_fhir_model_class(kind).model_validate(resource)
        except ValidationError as exc:
            paths = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise FhirBuildError(f"{kind}/{resource.get('id', '')}: {paths}") from exc
        self.entries.append({"fullUrl": full_url, "resource": resource})
        return full_url

    # --- the study ---

    def research_study(self, sites: Sequence[tuple[str, str]], count: int) -> None:
        study = self.protocol.study
        organizations = []
        for code, name in sites:
            url = _uuid(self.study, "Organization", code)
            organizations.append(_ref(url))
            self.add(url, {
                "resourceType": "Organization", "id": url.rsplit(":", 1)[1],
                "identifier": [{"system": SITE_SYSTEM, "value": code}], "name": name,
            })  # fmt: skip
        prefix = next((p for p in REGISTRIES if self.study.startswith(p)), None)
        identifier = {"value": self.study, **({"system": REGISTRIES[prefix]} if prefix else {})}
        groups = []
        for arm in self.protocol.arms:
            if self.blinded:
                code = self.codes[arm.code]
                groups.append({"linkId": code, "name": f"Arm {code}"})
            else:
                groups.append({"linkId": _link_id(arm.code), "name": arm.label.en,
                               "description": arm.label.zh})  # fmt: skip
        groups.sort(key=lambda g: g["linkId"])
        resource = {
            "resourceType": "ResearchStudy", "id": self.study_url.rsplit(":", 1)[1],
            "identifier": [identifier], "title": study.title.en,
            "label": [{"type": {"coding": [_coding(TITLE_TYPE, "short-title")]},
                       "value": study.short_title.en}],
            "version": study.protocol_version, "status": "active",
            "period": {"start": study.enrolment_period.start.isoformat()},
            "associatedParty": [{"name": study.sponsor,
                                 "role": {"coding": [_coding(PARTY_ROLE, "sponsor")]}}],
            "recruitment": {"targetNumber": study.target_enrolment, "actualNumber": count},
            "comparisonGroup": groups,
        }  # fmt: skip
        if organizations:
            resource["site"] = organizations
        self.add(self.study_url, resource)

    # --- one participant ---

    def participant(self, p: ParticipantData, visits: Sequence[VisitRecord] | None) -> None:
        patient = self.patient(p)
        self.research_subject(p, patient)
        encounters = self.encounters(p, patient, visits)
        observed = self.observations(p, patient, encounters)
        self.scores(p, patient, encounters, observed)
        self.adverse_events(p, patient, encounters)

    def patient(self, p: ParticipantData) -> str:
        url = _uuid(self.study, "Patient", p.subject)
        resource = {
            "resourceType": "Patient", "id": url.rsplit(":", 1)[1],
            "meta": {"security": [_coding(SECURITY, "PSEUDED", "pseudonymized")]},
            "identifier": [{"system": f"{LOCAL}:{self.study}:subject", "value": p.subject}],
        }  # fmt: skip
        sex_item = self.role_item[Role.SEX]
        sex = _latest(p, sex_item.oid) if sex_item else None
        if sex_item and sex:
            resource["gender"] = GENDER.get(meaning(sex_item, sex.text), "unknown")
        return self.add(url, resource)

    def research_subject(self, p: ParticipantData, patient: str) -> None:
        url = _uuid(self.study, "ResearchSubject", p.subject)
        start = p.randomization_date.isoformat()
        progress = [{
            "milestone": {"coding": [_coding(SUBJECT_MILESTONE, "Randomized", "Randomized")]},
            "startDate": start,
        }]  # fmt: skip
        on_study = {"subjectState": {"coding": [_coding(SUBJECT_STATE, "on-study", "On-study")]},
                    "startDate": start}  # fmt: skip
        progress.append(on_study)
        period = {"start": start}
        if p.status in ENDED:
            state, why = ENDED[p.status]
            end = p.ended_on.isoformat() if p.ended_on else None
            if end:
                on_study["endDate"] = end
                period["end"] = end
            ended = {"subjectState": {"coding": [_coding(SUBJECT_STATE, state)]},
                     "reason": {"text": why}}  # fmt: skip
            if end:
                ended["startDate"] = end
            progress.append(ended)
        resource = {
            "resourceType": "ResearchSubject", "id": url.rsplit(":", 1)[1],
            "identifier": [{"system": f"{LOCAL}:{self.study}:subject", "value": p.subject}],
            "status": "active", "progress": progress, "period": period,
            "study": _ref(self.study_url), "subject": _ref(patient),
        }  # fmt: skip
        if not self.blinded:
            resource["assignedComparisonGroup"] = _link_id(p.arm)
            if any(f.event in self.interventions and f.visit_date for f in p.forms):
                resource["actualComparisonGroup"] = _link_id(p.arm)
        self.add(url, resource)

    def encounters(
        self, p: ParticipantData, patient: str, visits: Sequence[VisitRecord] | None
    ) -> dict[tuple[str, dt.date | None], str]:
        """One Encounter per visit; returns (event, date) → full URL, the forms' way to find it."""
        if visits is None:
            seen = dict.fromkeys((f.event, f.visit_date) for f in p.forms)
            visits = [VisitRecord(e, 0, "done", d) for e, d in seen]
        found: dict[tuple[str, dt.date | None], str] = {}
        for visit in visits:
            known = self.events.get(visit.event)
            if self.hidden_event(visit.event) or (known and known.kind == "repeating"):
                continue
            url = _uuid(self.study, "Encounter", p.subject, visit.event, visit.repeat)
            resource = {
                "resourceType": "Encounter", "id": url.rsplit(":", 1)[1],
                "status": ENCOUNTER_STATUS.get(visit.status, "unknown"),
                "type": [{"coding": [_coding(EVENT_SYSTEM, visit.event)],
                          "text": self.event_label(visit.event)}],
                "subject": _ref(patient),
            }  # fmt: skip
            if visit.visit_date:
                day = visit.visit_date.isoformat()
                resource["actualPeriod"] = {"start": day, "end": day}
            elif visit.target_date:
                resource["plannedStartDate"] = visit.target_date.isoformat()
            self.add(url, resource)
            found.setdefault((visit.event, visit.visit_date), url)
            found.setdefault((visit.event, None), url)
        return found

    def observations(self, p: ParticipantData, patient: str, encounters) -> dict:
        """An Observation per value of a LOINC-coded item; (event, date, item) → full URL."""
        observed: dict[tuple[str, dt.date | None, str], str] = {}
        for n, form in enumerate(p.forms):
            if self.hidden_event(form.event):
                continue
            for oid, value in form.values.items():
                item = self.items.get(oid)
                code = _loinc(item) if item else None
                if code is None or value.number is None or not item.canonical_unit:
                    continue
                url = _uuid(self.study, "Observation", p.subject, n, oid)
                category = "vital-signs" if item.quantity in VITAL_SIGNS else "laboratory"
                resource = self.observation(url, patient, form, encounters, {
                    "coding": [_coding(LOINC, code, item.label.en)], "text": item.label.en,
                })  # fmt: skip
                resource["category"] = [{"coding": [_coding(OBSERVATION_CATEGORY, category)]}]
                resource["valueQuantity"] = _quantity(value, item.canonical_unit)
                self.add(url, resource)
                observed[(form.event, form.visit_date, oid)] = url
        return observed

    def observation(self, url, patient, at, encounters, code: dict) -> dict:
        resource = {"resourceType": "Observation", "id": url.rsplit(":", 1)[1],
                    "status": "final", "code": code, "subject": _ref(patient)}  # fmt: skip
        if at.visit_date:
            resource["effectiveDateTime"] = at.visit_date.isoformat()
        encounter = encounters.get((at.event, at.visit_date)) or encounters.get((at.event, None))
        if encounter:
            resource["encounter"] = _ref(encounter)
        return resource

    def scores(self, p: ParticipantData, patient: str, encounters, observed) -> None:
        """Each derived score as an Observation, ``derivedFrom`` the values it was computed from."""
        for n, entry in enumerate(p.derived):
            spec = self.derived.get(entry.oid)
            if spec is None or self.hidden_event(entry.event):
                continue
            if entry.number is None and not entry.text:
                continue
            coding = [_coding(SCORE_SYSTEM, spec.score, spec.label.en)]
            if spec.score in SCORE_LOINC:
                coding.insert(0, _coding(LOINC, *SCORE_LOINC[spec.score]))
            url = _uuid(self.study, "Observation", p.subject, "derived", n, entry.oid)
            resource = self.observation(url, patient, entry, encounters,
                                        {"coding": coding, "text": spec.label.en})  # fmt: skip
            if spec.score in CLASS_SCORES:
                letter = entry.text or str(entry.number)
                resource["valueCodeableConcept"] = {
                    "coding": [_coding(f"{SCORE_SYSTEM}:{spec.score}", letter)], "text": letter,
                }  # fmt: skip
            elif entry.number is not None:
                resource["valueQuantity"] = {"value": _number(entry.number), "unit": "score",
                                             "system": UCUM, "code": SCORE_UNIT}  # fmt: skip
            else:
                resource["valueString"] = entry.text
            sources = [observed[key] for oid in spec.inputs.values()
                       if (key := (entry.event, entry.visit_date, oid)) in observed]  # fmt: skip
            if sources:
                resource["derivedFrom"] = [_ref(s) for s in dict.fromkeys(sources)]
            self.add(url, resource)

    def adverse_events(self, p: ParticipantData, patient: str, encounters) -> None:
        """Adverse events; infusion reactions too when unblinded (they would tell the arm)."""
        oid = {role: item.oid if item else "" for role, item in self.role_item.items()}
        for n, form in enumerate(p.forms):
            values = form.values
            if oid[Role.AE_TERM] and oid[Role.AE_TERM] in values:
                term = values[oid[Role.AE_TERM]]
                start = _text(values.get(oid[Role.AE_START]))
                end = _text(values.get(oid[Role.AE_END]))
                serious = values.get(oid[Role.AE_SERIOUS])
                related = values.get(oid[Role.AE_RELATIONSHIP])
                relatedness = (meaning(self.role_item[Role.AE_RELATIONSHIP], related.text)
                               if related and related.text else None)  # fmt: skip
                status = "completed" if end else "in-progress"
                self.adverse_event(p, n, patient, term.entered or term.text, status, start, end,
                                   serious.text == "true" if serious else None, relatedness,
                                   None)  # fmt: skip
            elif not self.blinded and oid[Role.INFUSION_REACTION]:
                reaction = values.get(oid[Role.INFUSION_REACTION])
                if reaction is None or reaction.text != "true":
                    continue
                described = values.get(oid[Role.INFUSION_REACTION_TEXT])
                text = (described.entered or described.text) if described else ""
                day = form.visit_date.isoformat() if form.visit_date else None
                encounter = encounters.get((form.event, form.visit_date))
                self.adverse_event(p, n, patient, text or "Infusion reaction", "unknown", day,
                                   None, None, None, encounter)  # fmt: skip

    def adverse_event(self, p, n, patient, term, status, start, end, serious, related, encounter):
        """One AdverseEvent; ``status`` in-progress while the form has no end date, unknown for
        an infusion reaction (whose form records no end)."""
        url = _uuid(self.study, "AdverseEvent", p.subject, n)
        resource = {
            "resourceType": "AdverseEvent", "id": url.rsplit(":", 1)[1],
            "status": status, "actuality": "actual",
            "code": {"text": term}, "subject": _ref(patient), "study": [_ref(self.study_url)],
        }  # fmt: skip
        if start and end:
            resource["occurrencePeriod"] = {"start": start, "end": end}
        elif start:
            resource["occurrenceDateTime"] = start
        if serious is not None:
            code = "serious" if serious else "non-serious"
            resource["seriousness"] = {"coding": [_coding(SERIOUSNESS, code)]}
        if related:
            resource["suspectEntity"] = [{
                "instanceCodeableConcept": {"text": "Study intervention"},
                "causality": {"entityRelatedness": {
                    "coding": [_coding(RELATEDNESS_SYSTEM, related)], "text": related}},
            }]  # fmt: skip
        if encounter:
            resource["encounter"] = _ref(encounter)
        self.add(url, resource)


def _link_id(code: str) -> str:
    """An arm code as a FHIR ``id`` (letters, digits, ``-`` and ``.``)."""
    return re.sub(r"[^A-Za-z0-9.-]", "-", code)[:64]


def _latest(p: ParticipantData, oid: str) -> Value | None:
    found = [f.values[oid] for f in p.forms if oid in f.values]
    return found[-1] if found else None


def _text(value: Value | None) -> str | None:
    return value.text[:10] if value and value.text else None


def _quantity(value: Value, unit: str) -> dict:
    quantity = {"value": _number(value.number), "unit": unit, "system": UCUM}
    if unit in UCUM_CODES:
        quantity["code"] = UCUM_CODES[unit]
    return quantity


def build_bundle(
    participants: Iterable[ParticipantData],
    protocol: Protocol,
    *,
    arm_codes: Mapping[str, str] | None = None,
    visits: Mapping[str, Sequence[VisitRecord]] | None = None,
    sites: Sequence[tuple[str, str]] | None = None,
    timestamp: dt.datetime | None = None,
) -> dict:
    """The FHIR R5 ``Bundle`` (type collection) of the randomized ``participants``, as JSON.

    ``arm_codes`` (arm → ``X``/``Y``) makes a blinded bundle. ``visits`` (subject → visits) gives
    the Encounters with their status; without it each distinct (event, date) of the forms is a
    completed Encounter. ``sites`` (code, name) are the study's sites in the export, by default
    the protocol's. Every resource is validated by its ``fhir.resources`` model
    (:class:`FhirBuildError` names the one refused).
    """
    people = list(participants)
    builder = _Builder(protocol, arm_codes)
    if sites is None:
        sites = [(s.code, s.name.en) for s in protocol.study.sites]
    builder.research_study(sites, len(people))
    for p in people:
        builder.participant(p, visits.get(p.subject) if visits is not None else None)
    when = timestamp or dt.datetime.now(dt.UTC)
    bundle = {
        "resourceType": "Bundle",
        "identifier": {"system": f"{LOCAL}:export",
                       "value": f"{builder.study}-{when:%Y%m%dT%H%M%SZ}"},
        "meta": {"security": [_coding(SECURITY, "PSEUDED", "pseudonymized")]},
        "type": "collection", "timestamp": when.isoformat(timespec="seconds"),
        "entry": builder.entries,
    }  # fmt: skip
    return bundle


# --- our own checks ---------------------------------------------------------------------------


def _walk(node, path: str):
    """Every (path, value) below ``node``, paths as ``code.coding[0].system``."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _walk(value, f"{path}[{n}]")
    else:
        yield path, node


def _name(resource: dict) -> str:
    return f"{resource.get('resourceType', '?')}/{resource.get('id', '?')}"


def arm_words(protocol: Protocol) -> list[str]:
    """What a blinded bundle must not contain: arm codes and labels, intervention labels."""
    words = [a.code for a in protocol.arms]
    words += [t for a in protocol.arms for t in (a.label.en, a.label.zh)]
    words += [t for a in protocol.arms for i in a.interventions for t in (i.label.en, i.label.zh)]
    return list(dict.fromkeys(words))


def check_bundle(bundle: dict, protocol: Protocol, *, blinded: bool) -> list[str]:
    """What the FHIR models do not check; each problem names the resource and the path.

    - every ``reference`` resolves to an entry's ``fullUrl`` (and full URLs are unique);
    - every Observation has a LOINC coding, or a coding of :data:`SCORE_SYSTEM` for a score
      LOINC has no code for, and every ``valueQuantity`` is UCUM with a code we know;
    - no Patient has a name, birth date, telecom, address, photo or contact;
    - blinded: no ResearchSubject has a comparison group, and no text anywhere is an arm's code
      (as a word) or contains an arm's or intervention's label.
    """
    problems: list[str] = []
    entries = bundle.get("entry", [])
    urls = Counter(e.get("fullUrl") for e in entries)
    for url in sorted(u for u, n in urls.items() if u and n > 1):
        problems.append(f"Bundle: fullUrl {url} is used by more than one entry")
    known = set(urls)
    codes = [a.code for a in protocol.arms]
    labels = [w for w in arm_words(protocol) if w not in codes]
    code_words = re.compile(r"\b(" + "|".join(map(re.escape, codes)) + r")\b") if codes else None
    for entry in entries:
        resource = entry.get("resource", {})
        name, kind = _name(resource), resource.get("resourceType")
        for path, value in _walk(resource, ""):
            if path.endswith("reference") and value not in known:
                problems.append(f"{name}: {path} = {value} resolves to no entry")
            if blinded and isinstance(value, str):
                shown = [w for w in labels if w in value]
                if code_words and code_words.search(value):
                    shown.append(code_words.search(value).group(1))
                if shown:
                    problems.append(f"{name}: {path} names an arm ({', '.join(shown)})")
        if kind == "Observation":
            problems += _observation_problems(name, resource)
        if kind == "Patient":
            problems += [f"{name}: {field} must not be exported (pseudonymized)"
                         for field in PATIENT_FORBIDDEN if resource.get(field)]  # fmt: skip
        if kind == "ResearchSubject" and blinded:
            problems += [f"{name}: {field} in a blinded bundle"
                         for field in ("assignedComparisonGroup", "actualComparisonGroup")
                         if resource.get(field)]  # fmt: skip
    return problems


def _observation_problems(name: str, resource: dict) -> list[str]:
    problems = []
    coding = resource.get("code", {}).get("coding", [])
    systems = {c.get("system") for c in coding}
    if LOINC not in systems and SCORE_SYSTEM not in systems:
        problems.append(f"{name}: code.coding has no LOINC coding")
    for n, c in enumerate(coding):
        if c.get("system") == LOINC and not re.fullmatch(r"\d{1,7}-\d", c.get("code", "")):
            problems.append(f"{name}: code.coding[{n}].code {c.get('code')!r} is not a LOINC code")
    quantity = resource.get("valueQuantity")
    if quantity is not None:
        if quantity.get("system") != UCUM:
            problems.append(f"{name}: valueQuantity.system is not UCUM ({UCUM})")
        if quantity.get("code") not in KNOWN_UCUM:
            problems.append(
                f"{name}: valueQuantity.code {quantity.get('code')!r} is not a UCUM unit we know"
            )
    elif "valueCodeableConcept" not in resource and "valueString" not in resource:
        problems.append(f"{name}: value[x] is missing")
    return problems
