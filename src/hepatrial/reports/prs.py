"""The ClinicalTrials.gov results modules as PRS-style XML, and our checks of that XML.

:func:`prs_xml` writes the ``resultsSection`` of :mod:`hepatrial.reports.registry` (built from
the results object) with the element names of the registry's results upload (``clinical_results``
with ``participant_flow``, ``baseline``, ``outcome_list`` and ``reported_events``). It is
*PRS-style*: the registry's own schema (RRSUploadSchema.xsd) is not shipped here, so the file is
not validated against it; :func:`check_prs` checks, on the XML itself, the elements the registry
requires (every module, the STARTED and COMPLETED milestones, each outcome's type, title, time
frame, parameter and units, each analysis' method and estimate, all-cause mortality, serious
and other events with their threshold, a number at risk for every group) and that every
``group_id`` used is a declared group; :func:`_definition_checks` adds the rules of
ClinicalTrials.gov's Results Data Element Definitions (group titles of 4 to 62 characters, the
outcome types, 255-character titles and time frames, at least one primary outcome, a number
analyzed for every group, the age and sex baseline measures, the adverse events' time frame and
organ systems; docs/report.md cites them). Always English, the registry's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

PARAM_TYPES = {
    "MEAN": "Mean", "COUNT_OF_PARTICIPANTS": "Count of Participants", "MEDIAN": "Median",
}  # fmt: skip
DISPERSIONS = {"STANDARD_DEVIATION": "Standard Deviation"}
SIDES = {"TWO_SIDED": "2-Sided", "ONE_SIDED": "1-Sided"}


def _text(parent: ET.Element, tag: str, value: object) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = "" if value is None else str(value)
    return element


def _groups(parent: ET.Element, groups: list[Mapping[str, str]], ids: dict[str, str]) -> None:
    listing = ET.SubElement(parent, "group_list")
    for group in groups:
        node = ET.SubElement(listing, "group", group_id=ids[group["id"]])
        _text(node, "title", group["title"])


def _ids(groups: list[Mapping[str, str]], letter: str) -> dict[str, str]:
    """The API's group ids (FG000 ...) as the upload numbers them (P1, P2 ...)."""
    return {g["id"]: f"{letter}{i}" for i, g in enumerate(groups, start=1)}


def _participants(parent: ET.Element, tag: str, rows, ids: dict[str, str], key: str) -> None:
    listing = ET.SubElement(parent, tag)
    for row in rows:
        ET.SubElement(listing, "participants", group_id=ids[row["groupId"]], count=str(row[key]))


def _flow(root: ET.Element, flow: Mapping[str, Any]) -> None:
    node = ET.SubElement(root, "participant_flow")
    ids = _ids(flow["groups"], "P")
    _groups(node, flow["groups"], ids)
    periods = ET.SubElement(node, "period_list")
    for period in flow["periods"]:
        p = ET.SubElement(periods, "period")
        _text(p, "title", period["title"])
        milestones = ET.SubElement(p, "milestone_list")
        for milestone in period["milestones"]:
            m = ET.SubElement(milestones, "milestone")
            _text(m, "title", milestone["type"])
            _participants(m, "participants_list", milestone["achievements"], ids, "numSubjects")
        reasons = ET.SubElement(p, "drop_withdraw_reason_list")
        for reason in period["dropWithdraws"]:
            r = ET.SubElement(reasons, "drop_withdraw_reason")
            _text(r, "title", reason["type"])
            _participants(r, "participants_list", reason["reasons"], ids, "numSubjects")


def _analyzed(parent: ET.Element, denoms, ids: dict[str, str], scope: str) -> None:
    listing = ET.SubElement(parent, "analyzed_list")
    for denom in denoms:
        a = ET.SubElement(listing, "analyzed")
        _text(a, "units", denom["units"])
        _text(a, "scope", scope)
        counts = ET.SubElement(a, "count_list")
        for count in denom["counts"]:
            ET.SubElement(counts, "count", group_id=ids[count["groupId"]], value=count["value"])


def _classes(parent: ET.Element, classes, ids: dict[str, str]) -> None:
    listing = ET.SubElement(parent, "class_list")
    for klass in classes:
        categories = ET.SubElement(ET.SubElement(listing, "class"), "category_list")
        for category in klass["categories"]:
            c = ET.SubElement(categories, "category")
            if category.get("title"):
                _text(c, "sub_title", category["title"])
            measurements = ET.SubElement(c, "measurement_list")
            for m in category["measurements"]:
                attrs = {"group_id": ids[m["groupId"]], "value": m.get("value") or "NA"}
                if m.get("spread") is not None:
                    attrs["spread"] = m["spread"]
                ET.SubElement(measurements, "measurement", attrs)


def _measure(parent: ET.Element, measure: Mapping[str, Any]) -> None:
    _text(parent, "param", PARAM_TYPES.get(measure["paramType"], measure["paramType"]))
    if measure.get("dispersionType"):
        _text(parent, "dispersion", DISPERSIONS.get(measure["dispersionType"],
                                                    measure["dispersionType"]))  # fmt: skip
    _text(parent, "units", measure.get("unitOfMeasure"))


def _baseline(root: ET.Element, baseline: Mapping[str, Any]) -> None:
    node = ET.SubElement(root, "baseline")
    ids = _ids(baseline["groups"], "B")
    _groups(node, baseline["groups"], ids)
    _analyzed(node, baseline["denoms"], ids, "Overall")
    measures = ET.SubElement(node, "measure_list")
    for measure in baseline["measures"]:
        m = ET.SubElement(measures, "measure")
        _text(m, "title", measure["title"])
        _measure(m, measure)
        _classes(m, measure["classes"], ids)


def _outcomes(root: ET.Element, outcomes: list[Mapping[str, Any]]) -> None:
    listing = ET.SubElement(root, "outcome_list")
    for outcome in outcomes:
        o = ET.SubElement(listing, "outcome")
        ids = _ids(outcome["groups"], "O")
        _text(o, "type", outcome["type"].capitalize())
        _text(o, "title", outcome["title"])
        _text(o, "time_frame", outcome["timeFrame"])
        _groups(o, outcome["groups"], ids)
        _measure(o, outcome)
        _analyzed(o, outcome["denoms"], ids, "Measure")
        _classes(o, outcome["classes"], ids)
        analyses = ET.SubElement(o, "analysis_list")
        for analysis in outcome.get("analyses", []):
            a = ET.SubElement(analyses, "analysis")
            group_ids = ET.SubElement(a, "group_id_list")
            for group in analysis["groupIds"]:
                _text(group_ids, "group_id", ids[group])
            _text(a, "p_value", analysis.get("pValue"))
            _text(a, "method", analysis.get("statisticalMethod"))
            _text(a, "param_type", analysis.get("paramType"))
            _text(a, "param_value", analysis.get("paramValue"))
            _text(a, "ci_percent", analysis.get("ciPctValue"))
            _text(
                a, "ci_n_sides", SIDES.get(analysis.get("ciNumSides"), analysis.get("ciNumSides"))
            )
            _text(a, "ci_lower_limit", analysis.get("ciLowerLimit"))
            _text(a, "ci_upper_limit", analysis.get("ciUpperLimit"))


def _events(parent: ET.Element, tag: str, rows, groups, ids: dict[str, str]) -> None:
    node = ET.SubElement(parent, tag)
    if tag == "other_events":
        _text(node, "frequency_threshold", groups["threshold"])
    category = ET.SubElement(ET.SubElement(node, "category_list"), "category")
    _text(category, "title", "Total")
    events = ET.SubElement(category, "event_list")
    key = "seriousNumAffected" if tag == "serious_events" else "otherNumAffected"
    total = ET.SubElement(events, "event")
    _text(total, "sub_title", f"Total, {tag.split('_')[0]} adverse events")
    for group in groups["eventGroups"]:
        ET.SubElement(total, "counts", group_id=ids[group["id"]],
                      subjects_affected=str(group[key]),
                      subjects_at_risk=str(group[key.replace("Affected", "AtRisk")]))  # fmt: skip
    for row in rows:
        event = ET.SubElement(events, "event")
        _text(event, "sub_title", row["term"])
        _text(event, "organ_system", row["organSystem"])
        for stat in row["stats"]:
            ET.SubElement(event, "counts", group_id=ids[stat["groupId"]],
                          events=str(stat["numEvents"]),
                          subjects_affected=str(stat["numAffected"]),
                          subjects_at_risk=str(stat["numAtRisk"]))  # fmt: skip


def _reported_events(root: ET.Element, ae: Mapping[str, Any]) -> None:
    node = ET.SubElement(root, "reported_events")
    ids = _ids(ae["eventGroups"], "E")
    _text(node, "time_frame", ae["timeFrame"])
    _groups(node, ae["eventGroups"], ids)
    mortality = ET.SubElement(node, "all_cause_mortality")
    for group in ae["eventGroups"]:
        ET.SubElement(mortality, "counts", group_id=ids[group["id"]],
                      subjects_affected=str(group["deathsNumAffected"]),
                      subjects_at_risk=str(group["deathsNumAtRisk"]))  # fmt: skip
    groups = {"eventGroups": ae["eventGroups"], "threshold": ae["frequencyThreshold"]}
    _events(node, "serious_events", ae["seriousEvents"], groups, ids)
    _events(node, "other_events", ae["otherEvents"], groups, ids)


def prs_xml(section: Mapping[str, Any], registry_id: str = "") -> str:
    """The results section as PRS-style ``clinical_results`` XML (UTF-8, indented)."""
    root = ET.Element("clinical_results")
    if registry_id:
        root.set("nct_id", registry_id)
    _flow(root, section["participantFlowModule"])
    _baseline(root, section["baselineCharacteristicsModule"])
    _outcomes(root, section["outcomeMeasuresModule"]["outcomeMeasures"])
    _reported_events(root, section["adverseEventsModule"])
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


REQUIRED_OUTCOME = ("type", "title", "time_frame", "param", "units")
OUTCOME_TYPES = ("Primary", "Secondary", "Other Pre-specified", "Post-Hoc")
GROUP_TITLE = (4, 62)
"""Arm/Group Title: at least 4 and at most 62 characters (Results Data Element Definitions)."""
TITLE_LIMIT = 255
"""Outcome Measure Title and Time Frame: at most 255 characters."""
BASELINE_REQUIRED = ("Age", "Sex")
"""Baseline measures every record must have (age, and sex/gender)."""
REQUIRED_ANALYSIS = ("method", "param_type", "param_value")


def _declared(node: ET.Element) -> set[str]:
    return {g.get("group_id", "") for g in node.findall("./group_list/group")}


def _used_ids(node: ET.Element) -> set[str]:
    used = {e.get("group_id") for e in node.iter() if e.tag != "group" and e.get("group_id")}
    return used | {e.text or "" for e in node.iter("group_id")}


def check_prs(xml: str) -> list[str]:
    """Our checks of the XML's required elements; one sentence per problem (empty: complete)."""
    root = ET.fromstring(xml)
    problems = []
    for tag in ("participant_flow", "baseline", "outcome_list", "reported_events"):
        if root.find(tag) is None:
            problems.append(f"{tag} is missing")
    for tag in ("participant_flow", "baseline", "reported_events"):
        node = root.find(tag)
        if node is not None and not _used_ids(node) <= _declared(node):
            problems.append(f"{tag}: a group_id is not a declared group")
    flow = root.find("participant_flow")
    titles = {m.findtext("title") for m in root.iterfind(".//milestone")}
    if flow is not None and not {"STARTED", "COMPLETED"} <= titles:
        problems.append("participant_flow needs STARTED and COMPLETED milestones")
    for outcome in root.iterfind("./outcome_list/outcome"):
        title = outcome.findtext("title") or "(untitled)"
        for tag in REQUIRED_OUTCOME:
            if not (outcome.findtext(tag) or "").strip():
                problems.append(f"outcome {title!r}: {tag} is missing")
        if not _used_ids(outcome) <= _declared(outcome):
            problems.append(f"outcome {title!r}: a group_id is not a declared group")
        for analysis in outcome.iterfind("./analysis_list/analysis"):
            for tag in REQUIRED_ANALYSIS:
                if not (analysis.findtext(tag) or "").strip():
                    problems.append(f"outcome {title!r}: analysis {tag} is missing")
    problems += _definition_checks(root)
    events = root.find("reported_events")
    if events is not None:
        declared = _declared(events)
        for tag in ("all_cause_mortality", "serious_events", "other_events"):
            node = events.find(tag)
            if node is None:
                problems.append(f"reported_events: {tag} is missing")
                continue
            first = node if tag == "all_cause_mortality" else node.find(".//event")
            counted = {
                c.get("group_id")
                for c in (first.findall("counts") if first is not None else [])
                if c.get("subjects_at_risk")
            }
            if counted != declared:
                problems.append(f"reported_events: {tag} lacks a group's number at risk")
        if events.find("./other_events/frequency_threshold") is None:
            problems.append("reported_events: other_events needs its frequency_threshold")
    return problems


def _analyzed_groups(node: ET.Element) -> set[str]:
    return {c.get("group_id", "") for c in node.findall("./analyzed_list/analyzed/count_list/count")
            if (c.get("value") or "").strip()}  # fmt: skip


def _definition_checks(root: ET.Element) -> list[str]:
    """The rules of the Results Data Element Definitions the other checks do not cover."""
    problems = []
    low, high = GROUP_TITLE
    for module in root:
        nodes = root.findall("./outcome_list/outcome") if module.tag == "outcome_list" else [module]
        for node in nodes:
            for group in node.findall("./group_list/group"):
                title = (group.findtext("title") or "").strip()
                if not low <= len(title) <= high:
                    problems.append(f"{module.tag}: group {group.get('group_id')} title "
                                    f"{title!r} is not {low} to {high} characters")  # fmt: skip
    outcomes = root.findall("./outcome_list/outcome")
    if not any(o.findtext("type") == "Primary" for o in outcomes):
        problems.append("outcome_list needs at least one Primary outcome")
    for outcome in outcomes:
        title = outcome.findtext("title") or "(untitled)"
        kind = outcome.findtext("type") or ""
        if kind and kind not in OUTCOME_TYPES:
            problems.append(f"outcome {title!r}: type {kind!r} is not one of the registry's")
        for tag in ("title", "time_frame"):
            if len(outcome.findtext(tag) or "") > TITLE_LIMIT:
                problems.append(f"outcome {title!r}: {tag} is over {TITLE_LIMIT} characters")
        if _analyzed_groups(outcome) != _declared(outcome):
            problems.append(f"outcome {title!r}: a group has no number of participants analyzed")
    baseline = root.find("baseline")
    if baseline is not None:
        if _analyzed_groups(baseline) != _declared(baseline):
            problems.append("baseline: a group has no overall number of participants analyzed")
        titles = [m.findtext("title") or "" for m in baseline.findall("./measure_list/measure")]
        for required in BASELINE_REQUIRED:
            if not any(t.startswith(required) for t in titles):
                problems.append(f"baseline: the {required} measure is missing")
    events = root.find("reported_events")
    if events is not None:
        if not (events.findtext("time_frame") or "").strip():
            problems.append("reported_events: time_frame is missing")
        for event in events.iterfind(".//event"):
            name = event.findtext("sub_title") or ""
            organ = (event.findtext("organ_system") or "").strip()
            if not name.startswith("Total, ") and not organ:
                problems.append(f"reported_events: event {name!r} has no organ_system")
    return problems
