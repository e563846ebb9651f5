"""What a protocol may set for the scores: the Child-Pugh table and the laboratory factors.

Child-Pugh is scored by a printed table in the unit the value was entered in: a bilirubin typed
in µmol/L is compared with the µmol/L limits, one typed in mg/dL with the mg/dL limits; nothing
is converted. Each criterion lists its three bands as printed (1, 2 and 3 points, in that
order), for example ``["<34.2", "34.2-51.3", ">51.3"]``. A limit belongs to the band whose
printed range includes it: ``"a-b"`` is closed at both ends, ``"<a"`` and ``">a"`` are open,
``"<=a"`` and ``">=a"`` (or ``≤``, ``≥``) closed.

MELD, MELD-Na, MELD 3.0 and ALBI convert bilirubin and creatinine between µmol/L and mg/dL with
the laboratory factors (µmol/L per mg/dL), 17.1 and 88.4 unless the protocol says otherwise;
the unit registry keeps the exact molar masses for everything else.

Pure Python: the protocol model reads these from its file, the scores apply them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from hepatrial.scores.units import QUANTITIES

LABORATORY_FACTORS: dict[str, float] = {"bilirubin": 17.1, "creatinine": 88.4}
"""µmol/L per mg/dL as laboratories and SI tables print them (not the molar-mass 17.104, 88.402)."""


class TableError(ValueError):
    """A band that cannot be read, or a table whose bands overlap or leave a gap."""


_NUMBER = r"(\d+(?:\.\d+)?)"
_BAND_FORMS = [
    (re.compile(rf"^<\s*{_NUMBER}$"), "below"),
    (re.compile(rf"^(?:<=|≤)\s*{_NUMBER}$"), "at_most"),
    (re.compile(rf"^>\s*{_NUMBER}$"), "above"),
    (re.compile(rf"^(?:>=|≥)\s*{_NUMBER}$"), "at_least"),
    (re.compile(rf"^{_NUMBER}\s*(?:-|–|to)\s*{_NUMBER}$"), "between"),
]


@dataclass(frozen=True)
class Band:
    """One printed range: ``low``/``high`` are ``None`` for an open side."""

    text: str
    low: float | None
    low_closed: bool
    high: float | None
    high_closed: bool

    @classmethod
    def parse(cls, text: str) -> Band:
        cleaned = str(text).strip()
        for pattern, form in _BAND_FORMS:
            match = pattern.match(cleaned)
            if not match:
                continue
            a = float(match.group(1))
            if form == "below":
                return cls(cleaned, None, False, a, False)
            if form == "at_most":
                return cls(cleaned, None, False, a, True)
            if form == "above":
                return cls(cleaned, a, False, None, False)
            if form == "at_least":
                return cls(cleaned, a, True, None, False)
            b = float(match.group(2))
            if b <= a:
                raise TableError(f"{cleaned!r}: the upper limit must be above the lower one")
            return cls(cleaned, a, True, b, True)
        raise TableError(
            f"{cleaned!r} is not a band: write <a, <=a, a-b, >=a or >a (e.g. <34.2, 34.2-51.3)"
        )

    def contains(self, values: np.ndarray) -> np.ndarray:
        inside = np.ones(np.shape(values), dtype=bool)
        if self.low is not None:
            inside &= (values >= self.low) if self.low_closed else (values > self.low)
        if self.high is not None:
            inside &= (values <= self.high) if self.high_closed else (values < self.high)
        return inside

    def holds(self, value: float) -> bool:
        """:meth:`contains` for one number (NaN is in no band)."""
        above_low = self.low is None or (value >= self.low if self.low_closed else value > self.low)
        below_high = self.high is None or (
            value <= self.high if self.high_closed else value < self.high
        )
        return above_low and below_high

    @property
    def start(self) -> float:
        return -math.inf if self.low is None else self.low


@dataclass(frozen=True)
class Bands:
    """The three bands of one criterion in one unit: 1, 2 and 3 points, in that order."""

    bands: tuple[Band, ...]

    @classmethod
    def parse(cls, texts: list[str] | tuple[str, ...]) -> Bands:
        if isinstance(texts, str) or len(texts) != 3:
            raise TableError("give three bands, for 1, 2 and 3 points")
        return cls(tuple(Band.parse(t) for t in texts))

    @property
    def texts(self) -> list[str]:
        return [b.text for b in self.bands]

    def problems(self) -> list[str]:
        """Where the bands overlap, leave a gap, or do not run one way; empty when sound.

        Values are never negative, so the lowest band may start at 0 (closed) or be open below.
        """
        ordered = sorted(enumerate(self.bands, start=1), key=lambda pair: pair[1].start)
        problems = []
        points_in_order = [points for points, _ in ordered]
        if points_in_order not in ([1, 2, 3], [3, 2, 1]):
            problems.append(
                "the bands must run one way (1, 2, 3 points from low to high values, or 3, 2, 1)"
            )
        first = ordered[0][1]
        if first.low is not None and not (first.low == 0 and first.low_closed):
            problems.append(f"values below {first.text!r} fall in no band")
        for (_, lower), (_, upper) in zip(ordered, ordered[1:], strict=False):
            if lower.high is None or upper.low is None or lower.high > upper.low:
                problems.append(f"{lower.text!r} and {upper.text!r} overlap")
            elif lower.high < upper.low:
                problems.append(f"values between {lower.text!r} and {upper.text!r} fall in no band")
            elif lower.high_closed and upper.low_closed:
                problems.append(f"{lower.high:g} is in both {lower.text!r} and {upper.text!r}")
            elif not lower.high_closed and not upper.low_closed:
                problems.append(f"{lower.high:g} is in neither {lower.text!r} nor {upper.text!r}")
        last = ordered[-1][1]
        if last.high is not None:
            problems.append(f"values above {last.text!r} fall in no band")
        return problems

    def points(self, values: np.ndarray) -> np.ndarray:
        """1, 2 or 3 for each value; NaN where the value is missing."""
        result = np.full(np.shape(values), np.nan)
        for points, band in enumerate(self.bands, start=1):
            result[band.contains(values)] = points
        return result

    def points_one(self, value: float) -> float:
        """:meth:`points` for one number: the last band that holds it, as :meth:`points` does."""
        result = math.nan
        for points, band in enumerate(self.bands, start=1):
            if band.holds(value):
                result = float(points)
        return result


CHILD_PUGH_CRITERIA: dict[str, str | None] = {
    "bilirubin": "bilirubin",
    "cholestatic_bilirubin": "bilirubin",
    "albumin": "albumin",
    "inr": None,
    "pt_prolongation_s": None,
}
"""Each criterion of the Child-Pugh table and the quantity whose units key its bands (``None``:
one set of bands, INR has no unit and the prothrombin-time prolongation is in seconds)."""


@dataclass(frozen=True)
class ChildPughTable:
    """The Child-Pugh limits: per criterion, bands by unit symbol (or one set of bands)."""

    source: str
    bilirubin: Mapping[str, Bands]
    cholestatic_bilirubin: Mapping[str, Bands]
    albumin: Mapping[str, Bands]
    inr: Bands
    pt_prolongation_s: Bands

    @classmethod
    def parse(cls, source: str, criteria: Mapping[str, object]) -> ChildPughTable:
        """Read a table written as in a protocol file; raises :class:`TableError`."""
        parsed: dict[str, object] = {}
        for name, quantity_name in CHILD_PUGH_CRITERIA.items():
            given = criteria[name]
            if quantity_name is None:
                parsed[name] = Bands.parse(given)  # type: ignore[arg-type]
            else:
                parsed[name] = {unit: Bands.parse(texts) for unit, texts in given.items()}  # type: ignore[union-attr]
        return cls(source=source, **parsed)  # type: ignore[arg-type]

    def problems(self) -> list[tuple[tuple[str, ...], str]]:
        """``(path, message)`` for every unsound set of bands and every unit without bands."""
        found = []
        for name, quantity_name in CHILD_PUGH_CRITERIA.items():
            value = getattr(self, name)
            if quantity_name is None:
                found += [((name,), message) for message in value.problems()]
                continue
            known = QUANTITIES[quantity_name].symbols
            for unit, bands in value.items():
                if unit not in known:
                    found.append(((name, unit), f"{unit!r} is not one of {', '.join(known)}"))
                found += [((name, unit), message) for message in bands.problems()]
            for unit in known:
                if unit not in value:
                    found.append(((name,), f"no bands for {unit}"))
        return found

    def bands_for(self, criterion: str, unit: str | None = None) -> Bands:
        value = getattr(self, criterion)
        return value if unit is None else value[unit]

    def as_text(self) -> dict[str, object]:
        """The table as a protocol file writes it (recorded beside each derived score)."""
        out: dict[str, object] = {}
        for name, quantity_name in CHILD_PUGH_CRITERIA.items():
            value = getattr(self, name)
            if quantity_name is None:
                out[name] = value.texts
            else:
                out[name] = {unit: bands.texts for unit, bands in value.items()}
        return out


DEFAULT_CHILD_PUGH_TEXT: dict[str, object] = {
    "bilirubin": {"µmol/L": ["<34.2", "34.2-51.3", ">51.3"], "mg/dL": ["<2", "2-3", ">3"]},
    "cholestatic_bilirubin": {
        "µmol/L": ["<68.4", "68.4-171", ">171"],
        "mg/dL": ["<4", "4-10", ">10"],
    },
    "albumin": {"g/L": [">35", "28-35", "<28"], "g/dL": [">3.5", "2.8-3.5", "<2.8"]},
    "inr": ["<1.7", "1.7-2.3", ">2.3"],
    "pt_prolongation_s": ["<4", "4-6", ">6"],
}
DEFAULT_CHILD_PUGH_SOURCE = (
    "Pugh et al., Br J Surg 1973 (mg/dL); SI limits as MDCalc and the Chinese guidelines print them"
)
DEFAULT_CHILD_PUGH_TABLE = ChildPughTable.parse(DEFAULT_CHILD_PUGH_SOURCE, DEFAULT_CHILD_PUGH_TEXT)


@dataclass(frozen=True)
class ScoreSettings:
    """Everything a protocol sets for the scores; the defaults are the published conventions."""

    child_pugh: ChildPughTable = DEFAULT_CHILD_PUGH_TABLE
    factors: Mapping[str, float] = field(default_factory=lambda: dict(LABORATORY_FACTORS))
    """µmol/L per mg/dL for ``bilirubin`` and ``creatinine`` (MELD family and ALBI)."""

    def as_record(self) -> dict[str, object]:
        """What a stored score keeps of the settings it was computed with."""
        return {"child_pugh": self.child_pugh.as_text(), "factors": dict(self.factors)}


DEFAULT_SETTINGS = ScoreSettings()
