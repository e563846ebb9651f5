"""Liver severity scores: MELD, MELD-Na, MELD 3.0, Child-Pugh and ALBI.

Pure Python and numpy. Every function takes keyword arguments, one patient (scalars) or many
(numpy arrays, pandas Series); units are explicit arguments. See docs/scores.md.
"""

from hepatrial.scores._inputs import ScoreInputError, ScoreUnitError
from hepatrial.scores.albi import albi, albi_grade, grade_for_albi_score
from hepatrial.scores.child_pugh import child_pugh_class, child_pugh_points
from hepatrial.scores.meld import meld, meld3, meld_na
from hepatrial.scores.registry import SCORES, ScoreDefinition

__all__ = [
    "SCORES",
    "ScoreDefinition",
    "ScoreInputError",
    "ScoreUnitError",
    "albi",
    "albi_grade",
    "child_pugh_class",
    "child_pugh_points",
    "grade_for_albi_score",
    "meld",
    "meld3",
    "meld_na",
]
