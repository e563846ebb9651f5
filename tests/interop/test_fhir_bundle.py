"""The FHIR R5 bundle built from participant records, without a database: its resources, its
codes and units, what is pseudonymized, what blinding leaves out, and our own checks."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from fhir.resources.bundle import Bundle

from hepatrial.analysis.derive import DerivedEntry, FormEntry, ParticipantData, Value
from hepatrial.interop.fhir import (
    LOINC,
    SCORE_SYSTEM,
    UCUM,
    UCUM_CODES,
    VisitRecord,
    arm_words,
    build_bundle,
    check_bundle,
)
from hepatrial.protocol import default_protocol_path, load_protocol
from hepatrial.protocol.roles import item_with_code
from hepatrial.simulate import simulate_trial
from hepatrial.simulate.adam import participant_data

PROTOCOL = load_protocol(default_protocol_path()).protocol
CODES = {"SINGLE": "X", "DOUBLE": "Y"}
DAY0 = dt.date(2024, 3, 11)


def oid(cdisc: str) -> str:
    return item_with_code(PROTOCOL, "CDISC", cdisc).oid


def labs(bilirubin_umol: float, *, as_mg_dl: bool = False) -> dict[str, Value]:
    shown = f"{bilirubin_umol / 17.1:.1f}" if as_mg_dl else str(bilirubin_umol)
    return {
        oid("BILI"): Value(str(bilirubin_umol), bilirubin_umol, shown),
        oid("ALB"): Value("29", 29.0, "29"), oid("INR"): Value("1.8", 1.8, "1.8"),
        oid("CREAT"): Value("80", 80.0, "80"), oid("ALT"): Value("45", 45.0, "45"),
    }  # fmt: skip


def by_role(role: str) -> str:
    return next(i.oid for f in PROTOCOL.forms for i in f.items if i.role == role)


def double_arm_participant(status: str = "on_study", ended_on: dt.date | None = None):
    """Screened, infused twice, followed to week 1, one adverse event, one infusion reaction."""
    meld = next(d.oid for d in PROTOCOL.derived_items if d.score == "meld")
    cp_class = next(d.oid for d in PROTOCOL.derived_items if d.score == "child_pugh_class")
    week1 = DAY0 + dt.timedelta(days=7)
    return ParticipantData(
        subject="SY-0007", site="SY", randomization_date=DAY0, arm="DOUBLE", stratum="B",
        status=status, ended_on=ended_on,
        forms=[
            FormEntry("SCR", "F.DM", DAY0 - dt.timedelta(days=3),
                      {by_role("sex"): Value("F"), by_role("age"): Value("61", 61.0, "61")}),
            FormEntry("BL", "F.LAB", DAY0, labs(49.59000000000001, as_mg_dl=True)),
            FormEntry("INF1", "F.INF", DAY0, {by_role("infusion_reaction"): Value("false")}),
            FormEntry("W1", "F.LAB", week1, labs(40.0)),
            FormEntry("INF2", "F.INF", DAY0 + dt.timedelta(days=28), {
                by_role("infusion_reaction"): Value("true"),
                by_role("infusion_reaction_text"): Value("chills", None, "Chills"),
            }),
            FormEntry("LOG", "F.AE", None, {
                by_role("ae_term"): Value("NAUSEA", None, "Nausea"),
                by_role("ae_start"): Value(str(DAY0 + dt.timedelta(days=2))),
                by_role("ae_serious"): Value("true"), by_role("ae_relationship"): Value("possible"),
            }),
        ],
        derived=[DerivedEntry("BL", DAY0, meld, 14.2),
                 DerivedEntry("BL", DAY0, cp_class, None, "B"),
                 DerivedEntry("W1", week1, meld, 13.0)],
    )  # fmt: skip


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def text_of(bundle: dict) -> str:
    return json.dumps(bundle, ensure_ascii=False)


@pytest.fixture(scope="module")
def unblinded():
    return build_bundle([double_arm_participant()], PROTOCOL)


@pytest.fixture(scope="module")
def blinded():
    return build_bundle([double_arm_participant()], PROTOCOL, arm_codes=CODES)


def test_the_bundle_reparses_with_the_fhir_models_and_passes_our_checks(unblinded, blinded):
    for bundle, is_blinded in ((unblinded, False), (blinded, True)):
        parsed = Bundle.model_validate_json(text_of(bundle))
        assert parsed.type == "collection"
        assert check_bundle(bundle, PROTOCOL, blinded=is_blinded) == []


def test_the_study_names_the_registry_id_its_site_and_its_arms(unblinded):
    (study,) = resources(unblinded, "ResearchStudy")
    assert study["identifier"] == [{"value": "NCT06242405", "system": "https://clinicaltrials.gov"}]
    assert study["title"] == PROTOCOL.study.title.en
    assert [g["name"] for g in study["comparisonGroup"]] == ["Double infusion", "Single infusion"]
    (site,) = resources(unblinded, "Organization")
    assert study["site"] == [{"reference": unblinded["entry"][0]["fullUrl"]}]
    assert site["identifier"][0]["value"] == "SY"


def test_the_patient_is_a_pseudonym_with_only_the_trial_number_and_sex(unblinded):
    (patient,) = resources(unblinded, "Patient")
    assert patient["identifier"][0]["value"] == "SY-0007"
    assert patient["gender"] == "female"
    assert set(patient) == {"resourceType", "id", "meta", "identifier", "gender"}
    assert patient["meta"]["security"][0]["code"] == "PSEUDED"


def test_laboratory_values_are_loinc_coded_in_ucum_canonical_units(unblinded):
    bilirubin = [o for o in resources(unblinded, "Observation")
                 if o["code"]["coding"][0] == {"system": LOINC, "code": "1975-2",
                                               "display": "Total bilirubin"}]  # fmt: skip
    assert [o["effectiveDateTime"] for o in bilirubin] == [str(DAY0), str(DAY0 + dt.timedelta(7))]
    first = bilirubin[0]["valueQuantity"]
    assert first == {"value": 49.59, "unit": "µmol/L", "system": UCUM, "code": "umol/L"}
    assert bilirubin[0]["category"][0]["coding"][0]["code"] == "laboratory"
    encounters = {e["fullUrl"]: e["resource"] for e in unblinded["entry"]}
    visit = encounters[bilirubin[0]["encounter"]["reference"]]
    assert visit["type"][0]["coding"][0]["code"] == "BL"
    assert visit["actualPeriod"] == {"start": str(DAY0), "end": str(DAY0)}


def test_every_canonical_unit_of_a_loinc_coded_item_has_its_ucum_code():
    units = {i.canonical_unit for i in PROTOCOL.items().values()
             if any(c.system == "LOINC" for c in i.codes) and i.canonical_unit}  # fmt: skip
    assert units <= set(UCUM_CODES)
    assert {UCUM_CODES[u] for u in ("µmol/L", "10^6/kg", "%", "U/L", "mmHg", "°C")} == {
        "umol/L", "10*6/kg", "%", "U/L", "mm[Hg]", "Cel"}  # fmt: skip


def test_scores_are_observations_coded_by_loinc_where_it_has_a_code(unblinded):
    scores = [o for o in resources(unblinded, "Observation")
              if any(c["system"] == SCORE_SYSTEM for c in o["code"]["coding"])]  # fmt: skip
    meld = [o for o in scores if o["code"]["coding"][0]["code"] == "44760-7"]
    assert [o["valueQuantity"]["value"] for o in meld] == [14.2, 13]
    assert meld[0]["valueQuantity"]["code"] == "{score}"
    assert len(meld[0]["derivedFrom"]) == 3  # bilirubin, creatinine, INR of that visit
    (cp_class,) = [o for o in scores if o["code"]["coding"][0]["code"] == "child_pugh_class"]
    assert cp_class["valueCodeableConcept"]["text"] == "B"


def test_the_research_subject_says_its_group_and_progress_when_unblinded(unblinded):
    (subject,) = resources(unblinded, "ResearchSubject")
    assert subject["assignedComparisonGroup"] == subject["actualComparisonGroup"] == "DOUBLE"
    (study,) = resources(unblinded, "ResearchStudy")
    assert "DOUBLE" in {g["linkId"] for g in study["comparisonGroup"]}
    states = [p.get("subjectState", p.get("milestone"))["coding"][0]["code"]
              for p in subject["progress"]]  # fmt: skip
    assert states == ["Randomized", "on-study"]


def test_an_ended_participation_is_off_study_from_the_day_it_ended():
    ended = DAY0 + dt.timedelta(days=60)
    bundle = build_bundle([double_arm_participant("died", ended)], PROTOCOL, arm_codes=CODES)
    (subject,) = resources(bundle, "ResearchSubject")
    assert subject["period"] == {"start": str(DAY0), "end": str(ended)}
    last = subject["progress"][-1]
    state = last["subjectState"]["coding"][0]["code"]
    assert (state, last["startDate"]) == ("off-study", str(ended))
    assert last["reason"]["text"] == "Died"


def test_adverse_events_carry_seriousness_onset_and_the_study(unblinded, blinded):
    events = {e["code"]["text"]: e for e in resources(unblinded, "AdverseEvent")}
    assert set(events) == {"Nausea", "Chills"}
    nausea = events["Nausea"]
    assert nausea["actuality"] == "actual"
    assert nausea["seriousness"]["coding"][0]["code"] == "serious"
    assert nausea["occurrenceDateTime"] == str(DAY0 + dt.timedelta(days=2))
    (study,) = resources(unblinded, "ResearchStudy")
    assert nausea["study"][0]["reference"].endswith(study["id"])
    assert [e["code"]["text"] for e in resources(blinded, "AdverseEvent")] == ["Nausea"]


def test_a_blinded_bundle_names_no_arm_and_no_visit_only_one_arm_has(blinded):
    text = text_of(blinded)
    assert not [w for w in arm_words(PROTOCOL) if w in text]
    (study,) = resources(blinded, "ResearchStudy")
    assert [g["name"] for g in study["comparisonGroup"]] == ["Arm X", "Arm Y"]
    (subject,) = resources(blinded, "ResearchSubject")
    assert "assignedComparisonGroup" not in subject and "actualComparisonGroup" not in subject
    events = {e["type"][0]["coding"][0]["code"] for e in resources(blinded, "Encounter")}
    assert events == {"SCR", "BL", "W1"}


def test_visits_given_are_encounters_with_their_status():
    p = double_arm_participant()
    visits = {p.subject: [
        VisitRecord("BL", 0, "done", DAY0, DAY0),
        VisitRecord("W4", 0, "missed", None, DAY0 + dt.timedelta(28)),
        VisitRecord("W8", 0, "planned", None, DAY0 + dt.timedelta(56)),
    ]}  # fmt: skip
    bundle = build_bundle([p], PROTOCOL, arm_codes=CODES, visits=visits)
    shown = {e["type"][0]["coding"][0]["code"]: e for e in resources(bundle, "Encounter")}
    assert {k: e["status"] for k, e in shown.items()} == {
        "BL": "completed", "W4": "cancelled", "W8": "planned"}  # fmt: skip
    assert shown["W8"]["plannedStartDate"] == str(DAY0 + dt.timedelta(56))
    assert check_bundle(bundle, PROTOCOL, blinded=True) == []


def test_our_checks_name_the_resource_and_the_path_of_each_problem(unblinded):
    broken = copy.deepcopy(unblinded)
    patient = resources(broken, "Patient")[0]
    patient["name"] = [{"family": "Wang"}]
    patient["birthDate"] = "1963-05-01"
    observation = resources(broken, "Observation")[1]
    observation["code"]["coding"][0]["system"] = "http://example.org/lab"
    observation["valueQuantity"]["code"] = "µmol/L"
    observation["subject"]["reference"] = "urn:uuid:00000000-0000-0000-0000-000000000000"
    problems = check_bundle(broken, PROTOCOL, blinded=False)
    name = f"Observation/{observation['id']}"
    assert f"Patient/{patient['id']}: name must not be exported (pseudonymized)" in problems
    assert f"Patient/{patient['id']}: birthDate must not be exported (pseudonymized)" in problems
    assert f"{name}: code.coding has no LOINC coding" in problems
    assert f"{name}: valueQuantity.code 'µmol/L' is not a UCUM unit we know" in problems
    assert (f"{name}: subject.reference = urn:uuid:00000000-0000-0000-0000-000000000000 "
            "resolves to no entry") in problems  # fmt: skip
    assert len(problems) == 5


def test_our_checks_find_an_arm_in_a_bundle_said_to_be_blinded(unblinded):
    problems = check_bundle(unblinded, PROTOCOL, blinded=True)
    (subject,) = resources(unblinded, "ResearchSubject")
    assert (
        f"ResearchSubject/{subject['id']}: assignedComparisonGroup in a blinded bundle" in problems
    )
    assert any(
        p.endswith("comparisonGroup[0].name names an arm (Double infusion)") for p in problems
    )
    assert any("type[0].text names an arm (UC-MSC infusion 2)" in p for p in problems)


def test_a_simulated_trial_makes_a_valid_bundle_blinded_or_not():
    people = participant_data(simulate_trial(PROTOCOL, 12, seed=3), PROTOCOL)
    for codes in (CODES, None):
        bundle = build_bundle(people, PROTOCOL, arm_codes=codes)
        assert check_bundle(bundle, PROTOCOL, blinded=codes is not None) == []
        Bundle.model_validate_json(text_of(bundle))
        assert len(resources(bundle, "ResearchSubject")) == len(resources(bundle, "Patient")) == 12
        if codes:
            assert not [w for w in arm_words(PROTOCOL) if w in text_of(bundle)]
