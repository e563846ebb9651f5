"""What a person reads instead of a code: the protocol's labels in the report's language.

Categories (sex, etiology, stratum), visits, parameters and units come from the protocol the
datasets were exported under; without a protocol, or for a code the protocol does not label,
the report's own catalogue (:mod:`hepatrial.reports.i18n`) names it, and a code is printed as
is only when nothing names it.
"""

from __future__ import annotations

from collections.abc import Iterable

from hepatrial.analysis.datasets import LAB_PARAMS, TTE_PARAMS
from hepatrial.analysis.plan import SCORE_PARAMS
from hepatrial.protocol.model import Protocol
from hepatrial.reports.i18n import arm_label, current, tr

UNITS = {"umol/L": "µmol/L", "1": ""}
COLUMNS = {
    "AGE": "Age, years", "CPSCRBL": "Child-Pugh score", "MELDBL": "MELD score", "SEX": "Sex",
    "ETIOLOGY": "Etiology", "STRATAR": "Stratum (as randomized)",
    "CPCLSBL": "Child-Pugh class",
}  # fmt: skip
OUTCOMES = {
    "DEATH": "Death from any cause", "LTX": "Liver transplantation",
    "DECOMP": "First hepatic decompensation", "GIBLEED": "First gastrointestinal bleeding",
    "ASCITES": "First new or worsening ascites", "HE": "First hepatic encephalopathy",
    "TFS": "Transplant-free survival",
}  # fmt: skip
PARAMS = {code: name.split(" (")[0] for code, (name, _) in LAB_PARAMS.items()}


class Vocabulary:
    """Labels for one rendering: ``protocol`` may be None (labels from the catalogue only)."""

    def __init__(self, protocol: Protocol | None):
        self.protocol = protocol
        self.lang = current()

    def _text(self, label) -> str:
        return label.text(self.lang)

    def column(self, column: str, values: Iterable[str] = ()) -> str:
        """A Table 1 row group: the protocol item holding these values, else the catalogue."""
        item = self._item_for(column, set(values))
        if item is not None:
            return self._text(item.label)
        if column == "STRATAR" and self.protocol and self.protocol.randomization.strata:
            return tr("{factor} (as randomized)",
                      factor=self._text(self.protocol.randomization.strata[0].label))  # fmt: skip
        return tr(COLUMNS.get(column, column))

    def category(self, column: str, value: str, values: Iterable[str] = ()) -> str:
        item = self._item_for(column, set(values) | {value})
        if item is not None:
            choice = next(c for c in item.choices if c.code == value)
            return self._text(choice.label)
        if column == "STRATAR" and self.protocol:
            for factor in self.protocol.randomization.strata:
                for level in factor.levels:
                    if level.code == value:
                        return self._text(level.label)
        return value

    def _item_for(self, column: str, values: set[str]):
        """The one captured choice item whose codes hold every value seen (CDISC code first)."""
        if self.protocol is None or not values or column in ("STRATAR", "CPCLSBL"):
            return None
        items = [i for i in self.protocol.items().values() if i.choices]
        coded = [i for i in items if any(c.system == "CDISC" and c.code == column for c in i.codes)]
        fits = [i for i in coded or items if values <= {c.code for c in i.choices}]
        return fits[0] if len(fits) == 1 else None

    def _param_item(self, code: str):
        if self.protocol is None:
            return None
        for item in self.protocol.items().values():
            if any(c.system == "CDISC" and c.code == code for c in item.codes):
                return item
        for derived in self.protocol.derived_items:
            if SCORE_PARAMS.get(derived.score) == code:
                return derived
        return None

    def param(self, code: str) -> str:
        item = self._param_item(code)
        return self._text(item.label) if item is not None else tr(PARAMS.get(code, code))

    def unit(self, code: str) -> str:
        item = self._param_item(code)
        unit = getattr(item, "canonical_unit", None) or LAB_PARAMS.get(code, ("", ""))[1]
        return UNITS.get(unit, unit)

    def param_with_unit(self, code: str) -> str:
        unit = self.unit(code)
        return f"{self.param(code)} ({unit})" if unit else self.param(code)

    def outcome(self, code: str) -> str:
        return tr(OUTCOMES[code]) if code in OUTCOMES else TTE_PARAMS.get(code, code)

    def visit(self, day: float, name: str) -> str:
        """The scheduled visit on ``day`` (arm-independent first), else the dataset's name."""
        if self.protocol is not None:
            events = [e for e in self.protocol.events if e.day == day and e.kind == "scheduled"]
            events.sort(key=lambda e: bool(e.arms))
            if events:
                return self._text(events[0].label)
        return name

    def arm(self, label: str) -> str:
        """An arm label from the results: coded ones translated, true ones from the protocol."""
        if self.protocol is not None:
            for arm in self.protocol.arms:
                if label in (arm.code, arm.label.en):
                    return self._text(arm.label)
        return arm_label(label)
