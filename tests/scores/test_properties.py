"""Hypothesis properties: monotone in bilirubin, INR and creatinine; always within bounds.
Unit invariance has its own file, test_unit_invariance.py."""

from hypothesis import given, settings
from hypothesis import strategies as st

from hepatrial.scores import (
    albi_grade,
    child_pugh_class,
    child_pugh_points,
    meld,
    meld3,
    meld_na,
)

lab = st.floats(min_value=0.0, max_value=60.0, allow_nan=False)
inr_values = st.floats(min_value=0.5, max_value=10.0, allow_nan=False)
sodium_values = st.floats(min_value=110.0, max_value=155.0, allow_nan=False)
albumin_g_dl = st.floats(min_value=0.5, max_value=6.0, allow_nan=False)
yes_no = st.booleans()
sexes = st.sampled_from(["F", "M"])
ascites = st.integers(0, 3)
encephalopathy = st.integers(0, 4)


def scores(sex, bili, creat, inr, sodium, alb, dialysis):
    labs = {
        "bilirubin": bili,
        "bilirubin_unit": "mg/dL",
        "creatinine": creat,
        "creatinine_unit": "mg/dL",
        "inr": inr,
        "dialysis": dialysis,
    }
    return (
        meld(**labs),
        meld_na(**labs, sodium=sodium),
        meld3(**labs, sex=sex, sodium=sodium, albumin=alb, albumin_unit="g/dL"),
    )


patients = st.tuples(sexes, lab, lab, inr_values, sodium_values, albumin_g_dl, yes_no)


@settings(max_examples=150, deadline=None)
@given(patients, st.floats(min_value=0.0, max_value=40.0), st.sampled_from([1, 2, 3]))
def test_meld_scores_never_fall_when_bilirubin_inr_or_creatinine_rise(patient, rise, which):
    sex, bili, creat, inr, sodium, alb, dialysis = patient
    before = scores(*patient)
    changed = [sex, bili, creat, inr, sodium, alb, dialysis]
    changed[which] += rise
    after = scores(*changed)
    assert all(a >= b for a, b in zip(after, before))


@settings(max_examples=150, deadline=None)
@given(patients)
def test_meld_scores_stay_between_6_and_40(patient):
    for value in scores(*patient):
        assert 6 <= value <= 40
        assert isinstance(value, int)


child_pugh_patients = st.tuples(
    st.floats(min_value=0.1, max_value=40.0),
    st.floats(min_value=10.0, max_value=55.0),
    inr_values,
    ascites,
    encephalopathy,
    yes_no,
)


def child_pugh(bili, alb, inr, asc, enc, cholestatic):
    inputs = {
        "bilirubin": bili,
        "bilirubin_unit": "mg/dL",
        "albumin": alb,
        "albumin_unit": "g/L",
        "inr": inr,
        "ascites": asc,
        "encephalopathy": enc,
        "cholestatic": cholestatic,
    }
    return child_pugh_points(**inputs), child_pugh_class(**inputs)


@settings(max_examples=150, deadline=None)
@given(child_pugh_patients, st.floats(min_value=0.0, max_value=20.0), st.sampled_from([0, 2]))
def test_child_pugh_is_within_5_15_and_monotone_in_bilirubin_and_inr(patient, rise, which):
    points, letter = child_pugh(*patient)
    assert 5 <= points <= 15
    assert letter == ("A" if points <= 6 else "B" if points <= 9 else "C")
    changed = list(patient)
    changed[which] += rise
    assert child_pugh(*changed)[0] >= points


@settings(max_examples=100, deadline=None)
@given(
    st.floats(min_value=0.05, max_value=40.0),
    st.floats(min_value=1.0, max_value=6.0),
)
def test_albi_grade_is_1_2_or_3(bili, alb):
    grade = albi_grade(bilirubin=bili, bilirubin_unit="mg/dL", albumin=alb, albumin_unit="g/dL")
    assert grade in (1, 2, 3)
