"""Registry output from the results: the ClinicalTrials.gov results modules.

:func:`results_section` shapes the results like the ``resultsSection`` of ClinicalTrials.gov's
API v2 (participant flow, baseline characteristics, outcome measures with their statistical
analyses, adverse events); :func:`check_results_section` is our own check of the elements the
registry requires. The CONSORT checklist is :mod:`hepatrial.reports.consort2025`. Always in
English (the registry's language); numbers are the results' own, rounded as the registry
expects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from hepatrial.reports.labels import Vocabulary

OTHER_AE_THRESHOLD = 5.0
"""Per cent of participants in any group above which an other (not serious) event is listed."""


def _groups(arms: Mapping[str, str], prefix: str) -> list[dict[str, str]]:
    return [{"id": f"{prefix}{i:03d}", "title": label} for i, label in enumerate(arms.values())]


def _r(value: float | None, digits: int = 3) -> str | None:
    return None if value is None else f"{value:.{digits}f}"


def participant_flow(adsl: pd.DataFrame, arms: Mapping[str, str]) -> dict[str, Any]:
    groups = _groups(arms, "FG")
    started, completed, not_completed, withdrawals = [], [], [], {}
    for group, code in zip(groups, arms, strict=True):
        mine = adsl[adsl["ARMCD"] == code]
        done = int((mine["EOSSTT"] == "COMPLETED").sum())
        started.append({"groupId": group["id"], "numSubjects": str(len(mine))})
        completed.append({"groupId": group["id"], "numSubjects": str(done)})
        not_completed.append({"groupId": group["id"], "numSubjects": str(len(mine) - done)})
        stopped = mine[mine["EOSSTT"] == "DISCONTINUED"]["DCSREAS"].fillna("Not given")
        for reason, n in stopped.astype(str).str.capitalize().value_counts().items():
            withdrawals.setdefault(reason, {})[group["id"]] = int(n)
    return {
        "groups": groups,
        "periods": [{
            "title": "Overall Study",
            "milestones": [
                {"type": "STARTED", "achievements": started},
                {"type": "COMPLETED", "achievements": completed},
                {"type": "NOT COMPLETED", "achievements": not_completed},
            ],
            "dropWithdraws": [
                {"type": reason, "reasons": [
                    {"groupId": g["id"], "numSubjects": str(counts.get(g["id"], 0))}
                    for g in groups
                ]}
                for reason, counts in withdrawals.items()
            ],
        }],
    }  # fmt: skip


def baseline_characteristics(
    adsl: pd.DataFrame, arms: Mapping[str, str], words: Vocabulary
) -> dict[str, Any]:
    groups = _groups(arms, "BG") + [{"id": f"BG{len(arms):03d}", "title": "Total"}]
    frames = [adsl[adsl["ARMCD"] == code] for code in arms] + [adsl]
    measures = []
    if "AGE" in adsl:
        measures.append({
            "title": "Age, Continuous", "paramType": "MEAN", "dispersionType": "STANDARD_DEVIATION",
            "unitOfMeasure": "years",
            "classes": [{"categories": [{"measurements": [
                {"groupId": g["id"], "value": _r(f["AGE"].astype(float).mean(), 1),
                 "spread": _r(f["AGE"].astype(float).std(), 1)}
                for g, f in zip(groups, frames, strict=True)
            ]}]}],
        })  # fmt: skip
    for column in ("SEX", "ETIOLOGY", "STRATAR"):
        if column not in adsl:
            continue
        levels = sorted(adsl[column].dropna().astype(str).unique())
        measures.append({
            "title": words.column(column, levels), "paramType": "COUNT_OF_PARTICIPANTS",
            "unitOfMeasure": "Participants",
            "classes": [{"categories": [
                {"title": words.category(column, level, levels), "measurements": [
                    {"groupId": g["id"], "value": str(int((f[column].astype(str) == level).sum()))}
                    for g, f in zip(groups, frames, strict=True)
                ]}
                for level in levels
            ]}],
        })  # fmt: skip
    return {
        "groups": groups,
        "denoms": [{"units": "Participants", "counts": [
            {"groupId": g["id"], "value": str(len(f))} for g, f in zip(groups, frames, strict=True)
        ]}],
        "measures": measures,
    }  # fmt: skip


def _analysis(groups, method: str, param: str, fit: Mapping | None, p: float | None) -> dict:
    fit = fit or {}
    return {
        "groupIds": [g["id"] for g in groups], "paramType": param,
        "paramValue": _r(fit.get("estimate")), "ciPctValue": "95", "ciNumSides": "TWO_SIDED",
        "ciLowerLimit": _r(fit.get("ci_lower")), "ciUpperLimit": _r(fit.get("ci_upper")),
        "pValue": _r(p), "statisticalMethod": method,
    }  # fmt: skip


def outcome_measures(
    results: Mapping[str, Any], arms: Mapping[str, str], words: Vocabulary, endpoint: str
) -> list[dict[str, Any]]:
    groups = _groups(arms, "OG")
    primary = results["primary"]
    timepoint = f"Day {results['meta']['plan']['timepoint_visit']:g}"
    measures = [{
        "type": "PRIMARY", "title": endpoint, "timeFrame": timepoint,
        "paramType": "COUNT_OF_PARTICIPANTS", "unitOfMeasure": "Participants",
        "groups": groups,
        "denoms": [{"units": "Participants", "counts": [
            {"groupId": g["id"], "value": str(primary["by_arm"][c]["n"])}
            for g, c in zip(groups, arms, strict=True)
        ]}],
        "classes": [{"categories": [{"measurements": [
            {"groupId": g["id"], "value": str(primary["by_arm"][c].get("responders"))}
            for g, c in zip(groups, arms, strict=True)
        ]}]}],
        "analyses": [
            _analysis(groups, "Fisher Exact", "Risk Difference (RD)",
                      primary.get("risk_difference"), primary.get("fisher_exact_p")),
            _analysis(groups, "Regression, Logistic", "Odds Ratio (OR)",
                      {"estimate": (primary.get("logistic_regression") or {}).get("odds_ratio"),
                       **(primary.get("logistic_regression") or {})},
                      (primary.get("logistic_regression") or {}).get("p_value")),
        ],
    }]  # fmt: skip
    for code, result in results["change_from_baseline"].items():
        log = result["scale"] == "log"
        measures.append({
            "type": "SECONDARY", "title": f"Change from baseline in {words.param(code)}",
            "timeFrame": f"Baseline and {timepoint.lower()}", "paramType": "MEAN",
            "dispersionType": "STANDARD_DEVIATION", "unitOfMeasure": words.unit(code) or "score",
            "groups": groups,
            "denoms": [{"units": "Participants", "counts": [
                {"groupId": g["id"], "value": str(result["by_arm"].get(c, {}).get("n", 0))}
                for g, c in zip(groups, arms, strict=True)
            ]}],
            "classes": [{"categories": [{"measurements": [
                {"groupId": g["id"], "value": _r(result["by_arm"].get(c, {}).get("mean_chg")),
                 "spread": _r(result["by_arm"].get(c, {}).get("sd_chg"))}
                for g, c in zip(groups, arms, strict=True)
            ]}]}],
            "analyses": [_analysis(
                groups, "ANCOVA",
                "Ratio of geometric means" if log else "Mean Difference (Final Values)",
                result.get("ancova"), (result.get("ancova") or {}).get("p_value"),
            )],
        })  # fmt: skip
    return measures


def adverse_events(
    safety: Mapping[str, Any], arms: Mapping[str, str], adsl: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Deaths are all-cause (ADSL's DTHFL in the safety population) when ``adsl`` is given,
    as the registry asks, not only deaths recorded as a fatal adverse event."""
    groups = _groups(arms, "EG")
    at_risk = safety["denominators"]
    overview = safety["overview"]

    def affected(key: str, code: str) -> int:
        return int((overview.get(key) or {}).get(code, {}).get("participants", 0))

    def deaths(code: str) -> int:
        if adsl is None or "DTHFL" not in adsl:
            return affected("fatal", code)
        mine = adsl[adsl["ARMCD"] == code]
        if "SAFFL" in mine:
            mine = mine[mine["SAFFL"] == "Y"]
        return int((mine["DTHFL"] == "Y").sum())

    event_groups = [{
        **g, "deathsNumAffected": deaths(c), "deathsNumAtRisk": at_risk[c],
        "seriousNumAffected": affected("serious", c), "seriousNumAtRisk": at_risk[c],
        "otherNumAffected": 0, "otherNumAtRisk": at_risk[c],
    } for g, c in zip(groups, arms, strict=True)]  # fmt: skip
    serious, other = [], []
    for row in safety["by_term_and_seriousness"]:
        stats = [{"groupId": g["id"], "numEvents": row["arms"].get(c, {}).get("events", 0),
                  "numAffected": row["arms"].get(c, {}).get("participants", 0),
                  "numAtRisk": at_risk[c]} for g, c in zip(groups, arms, strict=True)]  # fmt: skip
        entry = {"term": row["term"], "organSystem": "Not coded", "stats": stats}
        if row["serious"]:
            serious.append(entry)
        elif any(row["arms"].get(c, {}).get("percent", 0) > OTHER_AE_THRESHOLD for c in arms):
            other.append(entry)
    for group in event_groups:
        # a lower bound: the participants with the group's most frequent other event
        group["otherNumAffected"] = max(
            (s["numAffected"] for e in other for s in e["stats"] if s["groupId"] == group["id"]),
            default=0,
        )
    return {
        "frequencyThreshold": f"{OTHER_AE_THRESHOLD:g}", "timeFrame": "From the first infusion "
        "to the end of follow-up", "eventGroups": event_groups, "seriousEvents": serious,
        "otherEvents": other,
    }  # fmt: skip


def results_section(
    results: Mapping[str, Any], adsl: pd.DataFrame, words: Vocabulary, endpoint: str
) -> dict[str, Any]:
    """The results as ClinicalTrials.gov's API v2 ``resultsSection`` holds them."""
    arms = {code: words.arm(label) for code, label in results["meta"]["arms"].items()}
    return {
        "participantFlowModule": participant_flow(adsl, arms),
        "baselineCharacteristicsModule": baseline_characteristics(adsl, arms, words),
        "outcomeMeasuresModule": {
            "outcomeMeasures": outcome_measures(results, arms, words, endpoint)
        },
        "adverseEventsModule": adverse_events(results["safety"], arms, adsl),
    }


def check_results_section(section: Mapping[str, Any]) -> list[str]:
    """Our checks of the required elements; one sentence per element missing."""
    problems = []
    for module in ("participantFlowModule", "baselineCharacteristicsModule",
                   "outcomeMeasuresModule", "adverseEventsModule"):  # fmt: skip
        if module not in section:
            problems.append(f"{module} is missing")
    flow = section.get("participantFlowModule", {})
    types = {m["type"] for p in flow.get("periods", []) for m in p["milestones"]}
    if not {"STARTED", "COMPLETED"} <= types:
        problems.append("participant flow needs STARTED and COMPLETED milestones")
    for measure in section.get("outcomeMeasuresModule", {}).get("outcomeMeasures", []):
        ids = {g["id"] for g in measure["groups"]}
        for key in ("title", "timeFrame", "paramType", "unitOfMeasure"):
            if not measure.get(key):
                problems.append(f"outcome measure {measure.get('title')!r}: {key} is missing")
        for category in (c for k in measure["classes"] for c in k["categories"]):
            seen = {m["groupId"] for m in category["measurements"] if m.get("value") is not None}
            if seen != ids:
                problems.append(f"outcome measure {measure['title']!r}: a group has no value")
        for analysis in measure.get("analyses", []):
            if analysis.get("paramValue") is None or analysis.get("statisticalMethod") is None:
                problems.append(f"outcome measure {measure['title']!r}: analysis incomplete")
    for group in section.get("adverseEventsModule", {}).get("eventGroups", []):
        if group.get("seriousNumAtRisk") is None or group.get("deathsNumAffected") is None:
            problems.append(f"adverse events group {group['id']}: numbers at risk missing")
    return problems
