"""The results modules as PRS-style XML, checked by our own rules of required elements."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from hepatrial.analysis.run import run_analysis
from hepatrial.analysis.synthetic import synthetic_adam
from hepatrial.protocol import default_protocol_path, load_protocol
from hepatrial.reports.labels import Vocabulary
from hepatrial.reports.prs import check_prs, prs_xml
from hepatrial.reports.registry import results_section
from tests.analysis.nct import nct_plan


def _section():
    data = synthetic_adam(60)
    results = run_analysis(data, nct_plan())
    words = Vocabulary(load_protocol(default_protocol_path()).protocol)
    return data, results, results_section(results, data.adsl, words, "Child-Pugh class A")


def test_the_xml_carries_flow_baseline_outcomes_with_analyses_and_all_cause_mortality():
    data, results, section = _section()
    xml = prs_xml(section, "NCT06242405")
    assert check_prs(xml) == []
    root = ET.fromstring(xml)
    assert root.get("nct_id") == "NCT06242405"
    started = root.find(".//milestone[title='STARTED']")
    assert sum(int(p.get("count")) for p in started.iter("participants")) == 60
    primary = root.find("./outcome_list/outcome")
    assert primary.findtext("type") == "Primary"
    rd = results["primary"]["risk_difference"]["estimate"]
    assert primary.findtext("./analysis_list/analysis/param_value") == f"{rd:.3f}"
    assert primary.findtext("./analysis_list/analysis/method") == "Fisher Exact"
    deaths = sum(int(c.get("subjects_affected")) for c in root.iter("counts")
                 if c in root.find(".//all_cause_mortality"))  # fmt: skip
    safety = data.adsl[data.adsl["SAFFL"] == "Y"]
    assert deaths == int((safety["DTHFL"] == "Y").sum()) > 0
    assert root.findtext(".//other_events/frequency_threshold") == "5"


def test_the_checks_name_each_missing_required_element():
    _, _, section = _section()
    root = ET.fromstring(prs_xml(section))
    outcome = root.find("./outcome_list/outcome")
    outcome.remove(outcome.find("time_frame"))
    analysis = outcome.find("./analysis_list/analysis")
    analysis.remove(analysis.find("method"))
    events = root.find("reported_events")
    events.remove(events.find("all_cause_mortality"))
    root.find(".//milestone/participants_list/participants").set("group_id", "P9")
    problems = check_prs(ET.tostring(root, "unicode"))
    assert problems == [
        "participant_flow: a group_id is not a declared group",
        "outcome 'Child-Pugh class A': time_frame is missing",
        "outcome 'Child-Pugh class A': analysis method is missing",
        "reported_events: all_cause_mortality is missing",
    ]


def test_the_checks_follow_the_registrys_data_element_definitions():
    """Group titles of 4 to 62 characters, the four outcome types, at least one primary outcome,
    a number analyzed for every group, age and sex at baseline, organ systems of events."""
    _, _, section = _section()
    root = ET.fromstring(prs_xml(section))
    root.find("./participant_flow/group_list/group/title").text = "X"
    outcomes = root.findall("./outcome_list/outcome")
    for outcome in outcomes:
        if outcome.findtext("type") == "Primary":
            outcome.find("type").text = "Main"
    second = outcomes[1]
    counts = second.find("./analyzed_list/analyzed/count_list")
    counts.remove(counts.find("count"))
    second.find("time_frame").text = "t" * 256
    baseline = root.find("./baseline/measure_list")
    baseline.remove(next(m for m in baseline if (m.findtext("title") or "").startswith("Sex")))
    event = root.find(".//serious_events//event[organ_system]")
    problems = check_prs(ET.tostring(root, "unicode"))
    title = second.findtext("title")
    for problem in (
        "participant_flow: group P1 title 'X' is not 4 to 62 characters",
        "outcome_list needs at least one Primary outcome",
        "outcome 'Child-Pugh class A': type 'Main' is not one of the registry's",
        f"outcome {title!r}: time_frame is over 255 characters",
        f"outcome {title!r}: a group has no number of participants analyzed",
        "baseline: the Sex measure is missing",
    ):
        assert problem in problems, (problem, problems)
    if event is not None:
        event.find("organ_system").text = ""
        assert any("has no organ_system" in p for p in check_prs(ET.tostring(root, "unicode")))
