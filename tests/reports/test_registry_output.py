"""ClinicalTrials.gov results modules and the CONSORT checklist, from the results object."""

from __future__ import annotations

import copy
import csv
import io

from hepatrial.analysis.run import run_analysis
from hepatrial.analysis.synthetic import synthetic_adam
from hepatrial.protocol import default_protocol_path, load_protocol
from hepatrial.reports.labels import Vocabulary
from hepatrial.reports.registry import check_results_section, consort_checklist, results_section
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


def test_consort_checklist_places_each_item_or_says_not_reported():
    rows = list(csv.DictReader(io.StringIO(consort_checklist(TITLES))))
    where = {r["item"]: r["location"] for r in rows}
    assert len(rows) == 37
    assert where["15"] == "Section 'Table 1. Baseline characteristics'"
    assert where["23"] == "Cover" and where["7a"] == "not reported"
