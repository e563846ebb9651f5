"""`hepatrial score --csv` gives every row the scores the scalar functions give that patient,
with each value in the unit of its row, and the same scores in SI as in conventional units."""

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hepatrial.protocol import default_protocol_path
from hepatrial.scores import SCORES
from hepatrial.scores.cli import main as run_score
from hepatrial.scores.table import INPUT_COLUMNS, SCORE_COLUMNS, score_table
from tests.scores.test_unit_invariance import SETTINGS, TO_SI

UNITS = {
    "bilirubin": ("µmol/L", "mg/dL"),
    "creatinine": ("µmol/L", "mg/dL"),
    "albumin": ("g/L", "g/dL"),
}
LIMITS = {
    "bilirubin": [17.1, 34.2, 51.3, 68.4, 171.0],
    "creatinine": [88.4, 265.2, 353.6],
    "albumin": [15.0, 28.0, 35.0],
}

si_value = {
    name: st.one_of(st.sampled_from(limits), st.integers(1, 400000).map(lambda n: n / 1000))
    for name, limits in LIMITS.items()
}
patients = st.fixed_dictionaries(
    {
        **si_value,
        "sex": st.sampled_from(["F", "M"]),
        "inr": st.sampled_from(["1.0", "1.7", "2.3", "2.31"]),
        "sodium": st.sampled_from(["125", "131", "137"]),
        "dialysis": st.sampled_from(["yes", "no"]),
        "ascites": st.sampled_from(["none", "mild", "moderate-severe"]),
        "encephalopathy": st.sampled_from(["none", "grade 1-2", "grade 3-4"]),
        "cholestatic": st.sampled_from(["yes", "no"]),
        "conventional": st.fixed_dictionaries({name: st.booleans() for name in UNITS}),
    }
)


def row(case: int, patient: dict, conventional: dict[str, bool]) -> dict[str, str]:
    cells = {c: "" for c in INPUT_COLUMNS} | {"case_id": str(case)}
    for name in UNITS:
        value = patient[name] / TO_SI[name] if conventional[name] else patient[name]
        cells[name] = repr(value)
        cells[f"{name}_unit"] = UNITS[name][conventional[name]]
    for name in ("sex", "inr", "sodium", "dialysis", "ascites", "encephalopathy", "cholestatic"):
        cells[name] = patient[name]
    return cells


def scalar_scores(cells: dict[str, str]) -> dict[str, object]:
    """Each score from its registered function, one patient at a time."""
    values = {
        "sex": cells["sex"],
        "inr": float(cells["inr"]),
        "sodium": float(cells["sodium"]),
        "dialysis": cells["dialysis"],
        "ascites": cells["ascites"],
        "encephalopathy": cells["encephalopathy"],
        "cholestatic": cells["cholestatic"],
        "settings": SETTINGS,
    }
    for name in UNITS:
        values[name], values[f"{name}_unit"] = float(cells[name]), cells[f"{name}_unit"]
    out = {}
    for name in SCORE_COLUMNS:
        definition = SCORES[name]
        out[name] = definition(**{k: v for k, v in values.items() if k in definition.inputs})
    out["albi"] = float(np.round(np.round(out["albi"], 9), 4))
    return out


def as_plain(value: object) -> object:
    if isinstance(value, float) and not math.isnan(value):
        return round(value, 4)
    return value.item() if hasattr(value, "item") else value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(patients, min_size=1, max_size=12))
def test_every_csv_row_gets_the_scores_of_the_scalar_functions_in_si_and_conventional(group):
    rows = [row(i, p, p["conventional"]) for i, p in enumerate(group)]
    si_rows = [row(i, p, dict.fromkeys(UNITS, False)) for i, p in enumerate(group)]
    conventional_rows = [row(i, p, dict.fromkeys(UNITS, True)) for i, p in enumerate(group)]
    tables = [
        score_table(pd.DataFrame(r, dtype=str), SETTINGS)
        for r in (rows, si_rows, conventional_rows)
    ]
    assert all(problems == [] for _, problems in tables)
    mixed, si, conventional = (t[SCORE_COLUMNS].map(as_plain) for t, _ in tables)
    expected = pd.DataFrame([scalar_scores(r) for r in rows])[SCORE_COLUMNS].map(as_plain)
    assert mixed.to_dict("records") == expected.to_dict("records")
    assert si.to_dict("records") == conventional.to_dict("records") == mixed.to_dict("records")


def test_the_command_scores_si_and_conventional_rows_alike_by_the_protocol(tmp_path):
    patient = {
        "bilirubin": 34.2,
        "creatinine": 265.2,
        "albumin": 28.0,
        "sex": "F",
        "inr": "1.7",
        "sodium": "131",
        "dialysis": "no",
        "ascites": "mild",
        "encephalopathy": "none",
        "cholestatic": "no",
    }
    rows = [
        row(1, patient, dict.fromkeys(UNITS, False)),
        row(2, patient, dict.fromkeys(UNITS, True)),
    ]
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame(rows).to_csv(source, index=False)
    arguments = ["score", "--protocol", str(default_protocol_path()), "--csv", str(source)]
    assert run_score([*arguments, "--out", str(out)]) == 0
    scored = pd.read_csv(out, dtype=str, keep_default_na=False)
    first, second = (scored.iloc[i][SCORE_COLUMNS].to_dict() for i in (0, 1))
    assert first == second
    assert first["child_pugh_points"] == "9"
