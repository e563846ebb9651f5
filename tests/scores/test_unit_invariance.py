"""The same patient gets the same scores in µmol/L and g/L as in mg/dL and g/dL.

Values are converted exactly with the protocol's factors (no rounding in between: 34.2 µmol/L
is 2.0 mg/dL), both ways, and drawn on and around every Child-Pugh limit and every MELD bound.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hepatrial.protocol import default_protocol_path, load_protocol
from hepatrial.scores import (
    albi,
    albi_grade,
    child_pugh_class,
    child_pugh_points,
    meld,
    meld3,
    meld_na,
)

SETTINGS = load_protocol(default_protocol_path()).protocol.score_settings()
BILIRUBIN = SETTINGS.factors["bilirubin"]
CREATININE = SETTINGS.factors["creatinine"]

CONVENTIONAL_LIMITS = {
    "bilirubin": [1.0, 2.0, 3.0, 4.0, 10.0],
    "creatinine": [1.0, 3.0, 4.0],
    "albumin": [1.5, 2.8, 3.5],
}
"""mg/dL and g/dL: the MELD floor 1.0; Child-Pugh 2, 3 (4, 10 cholestatic); creatinine caps 3.0
(MELD 3.0) and 4.0 (MELD); albumin 1.5 and 3.5 (MELD 3.0) and 2.8, 3.5 (Child-Pugh)."""
SI_LIMITS = {
    "bilirubin": [17.1, 34.2, 51.3, 68.4, 171.0],
    "creatinine": [88.4, 265.2, 353.6],
    "albumin": [15.0, 28.0, 35.0],
}
TO_SI = {"bilirubin": BILIRUBIN, "creatinine": CREATININE, "albumin": 10.0}
SI_UNITS = {"bilirubin_unit": "µmol/L", "creatinine_unit": "µmol/L", "albumin_unit": "g/L"}
CONVENTIONAL_UNITS = {"bilirubin_unit": "mg/dL", "creatinine_unit": "mg/dL", "albumin_unit": "g/dL"}


def near(limits: list[float], top: float):
    """On a limit, a few thousandths either side of one, or anywhere (at most 3 decimals)."""
    around = st.tuples(st.sampled_from(limits), st.integers(-30, 30)).map(
        lambda pair: round(pair[0] + pair[1] / 1000, 3)
    )
    anywhere = st.integers(1, int(top * 1000)).map(lambda n: n / 1000)
    return st.one_of(st.sampled_from(limits), around, anywhere).filter(lambda v: v > 0)


def labs(limits: dict[str, list[float]], scale: float):
    return st.fixed_dictionaries(
        {
            "bilirubin": near(limits["bilirubin"], 40 * scale),
            "creatinine": near(limits["creatinine"], 8 * scale),
            "albumin": near(limits["albumin"], 6 * scale),
        }
    )


others = st.fixed_dictionaries(
    {
        "sex": st.sampled_from(["F", "M"]),
        "inr": st.sampled_from([0.9, 1.0, 1.69, 1.7, 2.3, 2.31, 3.5]),
        "sodium": st.sampled_from([120.0, 125.0, 130.5, 137.0, 140.0]),
        "dialysis": st.booleans(),
        "ascites": st.integers(0, 3),
        "encephalopathy": st.integers(0, 4),
        "cholestatic": st.booleans(),
    }
)


def every_score(values: dict[str, float], units: dict[str, str], other: dict) -> dict:
    common = {"settings": SETTINGS}
    kidney = {
        "bilirubin": values["bilirubin"],
        "bilirubin_unit": units["bilirubin_unit"],
        "creatinine": values["creatinine"],
        "creatinine_unit": units["creatinine_unit"],
        "inr": other["inr"],
        "dialysis": other["dialysis"],
        **common,
    }
    liver = {
        "bilirubin": values["bilirubin"],
        "bilirubin_unit": units["bilirubin_unit"],
        "albumin": values["albumin"],
        "albumin_unit": units["albumin_unit"],
        **common,
    }
    child_pugh = {
        **liver,
        "inr": other["inr"],
        "ascites": other["ascites"],
        "encephalopathy": other["encephalopathy"],
        "cholestatic": other["cholestatic"],
    }
    return {
        "meld": meld(**kidney),
        "meld_na": meld_na(**kidney, sodium=other["sodium"]),
        "meld3": meld3(
            **kidney,
            sex=other["sex"],
            sodium=other["sodium"],
            albumin=values["albumin"],
            albumin_unit=units["albumin_unit"],
        ),
        "child_pugh_points": child_pugh_points(**child_pugh),
        "child_pugh_class": child_pugh_class(**child_pugh),
        "albi_grade": albi_grade(**liver),
        "albi": round(albi(**liver), 9),
    }


@settings(max_examples=400, deadline=None)
@given(labs(SI_LIMITS, 17.1), others)
def test_si_values_and_their_exact_conventional_conversion_get_the_same_scores(si, other):
    conventional = {name: value / TO_SI[name] for name, value in si.items()}
    assert every_score(si, SI_UNITS, other) == every_score(conventional, CONVENTIONAL_UNITS, other)


@settings(max_examples=400, deadline=None)
@given(labs(CONVENTIONAL_LIMITS, 1.0), others)
def test_conventional_values_and_their_exact_si_conversion_get_the_same_scores(conventional, other):
    si = {name: value * TO_SI[name] for name, value in conventional.items()}
    assert every_score(conventional, CONVENTIONAL_UNITS, other) == every_score(si, SI_UNITS, other)


@pytest.mark.parametrize(
    ("conventional", "si"),
    [
        (
            {"bilirubin": 1.0, "creatinine": 1.0, "albumin": 3.5},
            {"bilirubin": 17.1, "creatinine": 88.4, "albumin": 35},
        ),
        (
            {"bilirubin": 2.0, "creatinine": 3.0, "albumin": 2.8},
            {"bilirubin": 34.2, "creatinine": 265.2, "albumin": 28},
        ),
        (
            {"bilirubin": 3.0, "creatinine": 4.0, "albumin": 1.5},
            {"bilirubin": 51.3, "creatinine": 353.6, "albumin": 15},
        ),
        (
            {"bilirubin": 4.0, "creatinine": 1.0, "albumin": 3.5},
            {"bilirubin": 68.4, "creatinine": 88.4, "albumin": 35},
        ),
        (
            {"bilirubin": 10.0, "creatinine": 4.0, "albumin": 2.8},
            {"bilirubin": 171, "creatinine": 353.6, "albumin": 28},
        ),
    ],
)
@pytest.mark.parametrize("cholestatic", [False, True])
def test_every_limit_and_bound_printed_in_both_units_gives_the_same_scores(
    conventional, si, cholestatic
):
    other = {
        "sex": "F",
        "inr": 1.7,
        "sodium": 130.0,
        "dialysis": False,
        "ascites": 1,
        "encephalopathy": 1,
        "cholestatic": cholestatic,
    }
    assert every_score(si, SI_UNITS, other) == every_score(conventional, CONVENTIONAL_UNITS, other)


def test_the_issue_patient_is_class_c_in_both_units():
    patient = {
        "albumin_unit": "g/L",
        "albumin": 30,
        "inr": 1.8,
        "ascites": "mild",
        "encephalopathy": "grade 1-2",
    }
    in_mg_dl = child_pugh_points(bilirubin=2.0, bilirubin_unit="mg/dL", **patient)
    in_umol_l = child_pugh_points(bilirubin=34.2, bilirubin_unit="µmol/L", **patient)
    assert in_mg_dl == in_umol_l == 10
    assert child_pugh_class(bilirubin=34.2, bilirubin_unit="µmol/L", **patient) == "C"


def test_meld_converts_si_with_17_1_and_88_4():
    si = meld(
        bilirubin=34.2, bilirubin_unit="µmol/L", creatinine=176.8, creatinine_unit="µmol/L", inr=1.5
    )
    conventional = meld(
        bilirubin=2.0, bilirubin_unit="mg/dL", creatinine=2.0, creatinine_unit="mg/dL", inr=1.5
    )
    assert si == conventional
