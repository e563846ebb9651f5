"""ClinicalTrials.gov results modules and the CONSORT 2025 checklist, from the results object."""

from __future__ import annotations

import copy
import csv
import io

from hepatrial.analysis.run import run_analysis
from hepatrial.analysis.synthetic import synthetic_adam
from hepatrial.protocol import default_protocol_path, load_protocol
from hepatrial.reports.consort2025 import CONSORT_2025, consort_2025_checklist
from hepatrial.reports.labels import Vocabulary
from hepatrial.reports.registry import check_results_section, results_section
from hepatrial.reports.render import TITLES
from tests.analysis.nct import nct_plan


def test_results_modules_carry_the_analysis_numbers_and_pass_our_checks():
    data = synthetic_adam(60)
    results = run_analysis(data, nct_plan())
    words = Vocabulary(load_protocol(default_protocol_path()).protocol)
    section = results_section(results, data.adsl, words, "Child-Pugh class A at week 24")
    assert check_results_section(section) == []
    primary = section["outcomeMeasuresModule"]["outcomeMeasures"][0]
    rd = results["primary"]["risk_difference"]
    assert primary["analyses"][0]["paramValue"] == f"{rd['estimate']:.3f}"
    assert [g["title"] for g in primary["groups"]] == ["Single infusion", "Double infusion"]
    flow = section["participantFlowModule"]["periods"][0]["milestones"][0]
    assert sum(int(a["numSubjects"]) for a in flow["achievements"]) == 60
    sex = section["baselineCharacteristicsModule"]["measures"][1]
    assert [c["title"] for c in sex["classes"][0]["categories"]] == ["Female", "Male"]

    broken = copy.deepcopy(section)
    del broken["outcomeMeasuresModule"]["outcomeMeasures"][0]["classes"][0]["categories"][0][
        "measurements"][1]  # fmt: skip
    assert check_results_section(broken) == [
        "outcome measure 'Child-Pugh class A at week 24': a group has no value"
    ]


def test_consort_2025_checklist_has_every_item_and_places_each_or_says_not_reported():
    rows = list(csv.DictReader(io.StringIO(consort_2025_checklist(TITLES))))
    assert len(rows) == len(CONSORT_2025) == 42
    assert sorted({int(r["item"].rstrip("abcd")) for r in rows}) == list(range(1, 31))
    where = {r["item"]: r["location"] for r in rows}
    assert where["25"] == "Section 'Table 1. Baseline characteristics'"
    assert where["22a"] == where["22b"] == "Section 'Participant flow'"
    assert where["27"] == "Section 'Adverse events'"
    assert where["21c"] == "Section 'Statistical methods'"
    assert "Section 'Primary outcome: Child-Pugh class A at the timepoint'" in where["26"]
    for item in ("1b", "4", "6", "8", "16a", "18", "19", "24b", "29", "30"):
        assert where[item] == "not reported", item
    text = {r["item"]: r["checklist_item"] for r in rows}
    assert text["19"].startswith("Whether the personnel who enrolled and those who assigned")
    assert text["24b"] == "Concomitant care received during the trial for each group"


def test_item_1a_is_placed_on_the_cover_only_when_the_title_says_randomised():
    def first(title):
        return next(csv.DictReader(io.StringIO(consort_2025_checklist(TITLES, trial_title=title))))

    registered = load_protocol(default_protocol_path()).protocol.study.title.en
    assert first(registered)["location"] == "not reported"
    assert first(registered)["note"] == "the trial's title does not say randomised"
    assert first("A randomised trial of two infusion schedules")["location"] == "Cover"
