"""Blinding the report by recoding the data, not by editing the text.

A blinded report is computed from datasets whose arm columns have been recoded to X/Y and from
a plan that names only those codes, in alphabetical order. Nothing downstream ever holds a true
arm name, so no table, figure, caption or contrast can print one; and because the reference arm
is always X, the direction of a contrast ("Y versus X") tells nothing about which arm is which.
A final check refuses to release a page that still contains a true arm code or label.
"""

from __future__ import annotations

import dataclasses
import random
import re
import secrets
from collections.abc import Iterable

import pandas as pd

from hepatrial.analysis.datasets import AdamDatasets
from hepatrial.analysis.plan import AnalysisPlan

LETTERS = ("X", "Y", "Z", "W")
ARM_LABEL_COLUMNS = ("ARM", "TRT01P", "TRT01A")


class UnblindingLeak(RuntimeError):
    """A blinded page would contain a true arm code or label; nothing is written."""


def is_coded(adsl: pd.DataFrame) -> bool:
    """True when the datasets already carry coded arms (a blinded export: ARM = "Arm X")."""
    arms = adsl[["ARMCD", "ARM"]].dropna().drop_duplicates()
    return bool(len(arms)) and all(
        code in LETTERS and label == f"Arm {code}" for code, label in arms.itertuples(index=False)
    )


def coding(arms: Iterable[str], seed: int | None = None) -> dict[str, str]:
    """True arm code -> letter, shuffled with a per-report seed that is never printed."""
    arms = sorted(arms)
    if len(arms) > len(LETTERS):
        raise ValueError(f"at most {len(LETTERS)} arms can be coded")
    letters = list(LETTERS[: len(arms)])
    (secrets.SystemRandom() if seed is None else random.Random(seed)).shuffle(letters)
    return dict(zip(arms, letters, strict=True))


def recode_datasets(data: AdamDatasets, mapping: dict[str, str]) -> AdamDatasets:
    """ADSL with arm codes mapped and arm labels replaced by "Arm <letter>"; the rest as is."""
    adsl = data.adsl.copy()
    planned = adsl["ARMCD"].map(mapping)
    actual = adsl["ACTARMCD"].map(mapping) if "ACTARMCD" in adsl else None
    adsl["ARMCD"] = planned
    adsl["ARM"] = "Arm " + planned
    if "TRT01P" in adsl:
        adsl["TRT01P"] = adsl["ARM"]
    if actual is not None:
        adsl["ACTARMCD"] = actual.fillna("")
        if "TRT01A" in adsl:
            adsl["TRT01A"] = ("Arm " + actual).fillna("")
    return AdamDatasets(adsl, data.adlb, data.adtte, data.adae)


def recode_plan(plan: AnalysisPlan, mapping: dict[str, str]) -> AnalysisPlan:
    """The plan with coded arms in letter order: X is the reference whatever it stands for."""
    arms = tuple(sorted(mapping[a] for a in plan.arms))
    return dataclasses.replace(plan, arms=arms, arm_labels={a: f"Arm {a}" for a in arms})


def blinded_inputs(
    data: AdamDatasets, plan: AnalysisPlan, seed: int | None = None
) -> tuple[AdamDatasets, AnalysisPlan, dict[str, str]]:
    """Datasets and plan a blinded report is computed from, and the true names to keep out.

    Already coded datasets keep their letters (the blinded export's X is the report's X).
    """
    if is_coded(data.adsl):
        arms = tuple(sorted(plan.arms))
        return data, dataclasses.replace(plan, arms=arms), {}
    mapping = coding(plan.arms, seed)
    secret = {arm: arm for arm in plan.arms} | {arm: plan.label(arm) for arm in plan.arms}
    labels = data.adsl[list(c for c in ARM_LABEL_COLUMNS if c in data.adsl)]
    for value in pd.unique(labels.to_numpy().ravel()):
        if isinstance(value, str) and value.strip():
            secret[value] = value
    return recode_datasets(data, mapping), recode_plan(plan, mapping), secret


def check_no_leak(text: str, secrets_: Iterable[str]) -> None:
    """Raise :class:`UnblindingLeak` if a true arm code or label occurs as a word in ``text``.

    Matching is case-sensitive: the report prints names as the datasets spell them, and arm codes
    such as SINGLE are also ordinary words that methods prose may use in lower case.
    """
    for word in sorted(set(secrets_), key=len, reverse=True):
        if word and re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
            raise UnblindingLeak(
                f"the blinded report would show the true arm name {word!r}; nothing was written"
            )
