"""Safety: adverse events summarized per arm as participants with at least one event and events.

Participants are counted once per row of a table (the usual "n (%) participants, events"
layout of ICH E3 section 12.2); the percentage denominator is the safety population of the arm,
analysed by the treatment actually received (ADSL ACTARMCD).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def _count(events: pd.DataFrame, arms: Sequence[str], denominators: dict[str, int]) -> dict:
    out = {}
    for arm in arms:
        sub = events[events["_ARM"] == arm]
        n = int(sub["USUBJID"].nunique())
        total = denominators[arm]
        out[arm] = {
            "participants": n,
            "percent": 100.0 * n / total if total else None,
            "events": len(sub),
        }
    return out


def actual_or_planned(adsl: pd.DataFrame, arm_column: str = "ACTARMCD") -> str:
    """``arm_column`` if any row fills it, else ``ARMCD`` (blinded exports leave it empty)."""
    if arm_column in adsl and adsl[arm_column].fillna("").astype(str).str.strip().ne("").any():
        return arm_column
    return "ARMCD"


def adverse_event_summary(
    adsl: pd.DataFrame,
    adae: pd.DataFrame,
    arms: Sequence[str],
    population: str = "SAFFL",
    arm_column: str = "ACTARMCD",
) -> dict:
    """Adverse-event tables: overview, by preferred term, by worst grade, by term and seriousness.

    Only treatment-emergent events (TRTEMFL = "Y") of participants in ``population`` count.
    When ``arm_column`` is empty on every row (a blinded export withholds the actual arm), the
    arm as randomized (ARMCD) is used instead and ``arm_column`` in the result says so.
    """
    arm_column = actual_or_planned(adsl, arm_column)
    pop = adsl[(adsl[population] == "Y") & adsl[arm_column].isin(arms)]
    denominators = {arm: int((pop[arm_column] == arm).sum()) for arm in arms}
    ae = adae[adae["TRTEMFL"] == "Y"].merge(
        pop[["USUBJID", arm_column]].rename(columns={arm_column: "_ARM"}), on="USUBJID"
    )
    overview = {
        "any": _count(ae, arms, denominators),
        "serious": _count(ae[ae["AESER"] == "Y"], arms, denominators),
        "grade_3_or_more": _count(ae[ae["AETOXGR"].fillna(0) >= 3], arms, denominators),
        "related": _count(
            ae[ae["AEREL"].isin(["POSSIBLE", "PROBABLE", "DEFINITE"])], arms, denominators
        ),
        "infusion_reaction": _count(ae[ae["INFRFL"] == "Y"], arms, denominators),
        "fatal": _count(ae[ae["AETOXGR"] == 5], arms, denominators),
    }
    by_term = [
        {"term": term, "arms": _count(group, arms, denominators)}
        for term, group in sorted(ae.groupby("AEDECOD"), key=lambda kv: -len(kv[1]))
    ]
    worst = ae.dropna(subset=["AETOXGR"]).groupby(["USUBJID", "_ARM"])["AETOXGR"].max()
    worst = worst.reset_index()
    by_grade = {}
    for grade in range(1, 6):
        row = {}
        for arm in arms:
            n = int(((worst["_ARM"] == arm) & (worst["AETOXGR"] == grade)).sum())
            total = denominators[arm]
            row[arm] = {"participants": n, "percent": 100.0 * n / total if total else None}
        by_grade[str(grade)] = row
    by_term_seriousness = [
        {"term": term, "serious": serious == "Y", "arms": _count(group, arms, denominators)}
        for (term, serious), group in ae.groupby(["AEDECOD", "AESER"])
    ]
    return {
        "population": population,
        "arm_column": arm_column,
        "denominators": denominators,
        "overview": overview,
        "by_term": by_term,
        "by_worst_grade": by_grade,
        "by_term_and_seriousness": by_term_seriousness,
    }
