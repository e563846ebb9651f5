"""Arrays and Series give the same scores as one call per patient; missing gives missing."""

import numpy as np
import pandas as pd
import pytest

from hepatrial.scores import (
    SCORES,
    ScoreUnitError,
    _inputs,
    albi,
    child_pugh_class,
    child_pugh_points,
    meld,
    meld3,
    meld_na,
)

rng = np.random.default_rng(7)
N = 400
PATIENTS = {
    "sex": rng.choice(["F", "M"], N),
    "bilirubin": np.round(rng.lognormal(0.5, 0.9, N), 1),
    "bilirubin_unit": "mg/dL",
    "creatinine": np.round(rng.lognormal(0.0, 0.6, N), 2),
    "creatinine_unit": "mg/dL",
    "inr": np.round(rng.lognormal(0.25, 0.3, N), 2),
    "sodium": np.round(rng.normal(134, 5, N)),
    "albumin": np.round(rng.normal(32, 7, N)),
    "albumin_unit": "g/L",
    "dialysis": rng.random(N) < 0.1,
    "ascites": rng.integers(0, 4, N),
    "encephalopathy": rng.integers(0, 5, N),
    "cholestatic": rng.random(N) < 0.2,
}


def inputs_for(name):
    return {k: v for k, v in PATIENTS.items() if k in SCORES[name].inputs}


def one_at_a_time(name, inputs):
    results = []
    for i in range(N):
        row = {k: v if isinstance(v, str) else v[i].item() for k, v in inputs.items()}
        results.append(SCORES[name].function(**row))
    return results


@pytest.mark.parametrize("name", list(SCORES))
def test_vectorized_equals_scalar_loop(name):
    inputs = inputs_for(name)
    vectorized = SCORES[name].function(**inputs)
    expected = one_at_a_time(name, inputs)
    if SCORES[name].result == "label":
        assert list(vectorized) == expected
    else:
        np.testing.assert_allclose(vectorized, np.array(expected, dtype=float), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", list(SCORES))
def test_long_batches_scored_in_chunks_give_the_same_result(name, monkeypatch):
    inputs = inputs_for(name)
    whole = SCORES[name].function(**inputs)
    monkeypatch.setattr(_inputs, "CHUNK_ROWS", 64)
    chunked = SCORES[name].function(**inputs)
    assert list(pd.Series(chunked).astype(str)) == list(pd.Series(whole).astype(str))


def test_series_in_series_out_with_the_same_index():
    index = pd.Index(["p1", "p2", "p3"], name="case_id")
    result = meld(
        bilirubin=pd.Series([1.0, 3.0, 8.0], index=index),
        bilirubin_unit="mg/dL",
        creatinine=pd.Series([1.0, 1.5, 2.0], index=index),
        creatinine_unit="mg/dL",
        inr=pd.Series([1.0, 1.4, 2.0], index=index),
    )
    assert isinstance(result, pd.Series)
    assert result.index.equals(index)
    assert result.name == "meld"


def test_series_index_survives_chunking(monkeypatch):
    monkeypatch.setattr(_inputs, "CHUNK_ROWS", 2)
    index = pd.RangeIndex(10, 15)
    result = child_pugh_class(
        bilirubin=pd.Series([1, 2, 3, 4, 5.0], index=index),
        bilirubin_unit="mg/dL",
        albumin=pd.Series([40, 34, 30, 27, 20.0], index=index),
        albumin_unit="g/L",
        ascites=pd.Series(["none", "mild", "mild", "severe", "severe"], index=index),
        encephalopathy=0,
        inr=1.0,
    )
    assert result.index.equals(index)
    assert list(result) == ["A", "B", "B", "C", "C"]


def test_missing_inputs_give_missing_scores_never_zero():
    result = meld_na(
        bilirubin=[2.0, np.nan, 2.0, None, 2.0],
        bilirubin_unit="mg/dL",
        creatinine=[1.0, 1.0, 1.0, 1.0, 1.0],
        creatinine_unit="mg/dL",
        inr=[1.3, 1.3, 1.3, 1.3, 1.3],
        sodium=[130, 130, np.nan, 130, 130],
    )
    assert np.isnan(result[[1, 2, 3]]).all()
    assert result[0] == result[4] and result[0] > 0


def test_unusable_values_in_a_batch_give_missing_scores_for_those_rows_only():
    result = albi(
        bilirubin=np.array([10, -3, "abc", 0, 20], dtype=object),
        bilirubin_unit="µmol/L",
        albumin=[40, 40, 40, 40, np.inf],
        albumin_unit="g/L",
    )
    assert result[0] == pytest.approx(-2.74)
    assert np.isnan(result[1:]).all()


def test_unknown_categories_in_a_batch_give_missing_scores():
    points = child_pugh_points(
        bilirubin=[1.0, 1.0, 1.0, 1.0],
        bilirubin_unit="mg/dL",
        albumin=[40, 40, 40, 40],
        albumin_unit="g/L",
        ascites=["none", "lots", 7, None],
        encephalopathy=[0, 0, 0, 0],
        inr=[1.0, 1.0, 1.0, 1.0],
    )
    assert points[0] == 5
    assert np.isnan(points[1:]).all()
    classes = child_pugh_class(
        bilirubin=[1.0, 1.0],
        bilirubin_unit="mg/dL",
        albumin=[40, 40],
        albumin_unit="g/L",
        ascites=["none", "lots"],
        encephalopathy=[0, 0],
        inr=[1.0, 1.0],
    )
    assert list(classes) == ["A", None]


def test_child_pugh_batch_without_any_coagulation_value_is_missing_not_an_error():
    points = child_pugh_points(
        bilirubin=[1.0, 1.0],
        bilirubin_unit="mg/dL",
        albumin=[40, 40],
        albumin_unit="g/L",
        ascites=[0, 0],
        encephalopathy=[0, 0],
        inr=[1.0, np.nan],
        pt_prolongation_s=[np.nan, np.nan],
    )
    assert points[0] == 5 and np.isnan(points[1])


def test_categorical_series_and_booleans_are_accepted():
    sex = pd.Series(pd.Categorical(["F", "M", None]))
    result = meld3(
        sex=sex,
        bilirubin=[2.0, 2.0, 2.0],
        bilirubin_unit="mg/dL",
        creatinine=[1.0, 1.0, 1.0],
        creatinine_unit="mg/dL",
        inr=[1.2, 1.2, 1.2],
        sodium=[135, 135, 135],
        albumin=[3.0, 3.0, 3.0],
        albumin_unit="g/dL",
        dialysis=np.array([False, False, False]),
    )
    assert result[0] >= result[1] and np.isnan(result[2])


def test_a_bad_unit_still_raises_for_a_batch():
    with pytest.raises(ScoreUnitError):
        meld(
            bilirubin=[1.0],
            bilirubin_unit="mmol/L",
            creatinine=[1.0],
            creatinine_unit="mg/dL",
            inr=[1.0],
        )


def test_scalars_broadcast_against_arrays():
    result = meld(
        bilirubin=[1.0, 4.0],
        bilirubin_unit="mg/dL",
        creatinine=1.0,
        creatinine_unit="mg/dL",
        inr=1.2,
    )
    assert result.shape == (2,) and result[0] < result[1]


@pytest.mark.parametrize("name", list(SCORES))
def test_caller_arrays_are_never_modified(name):
    inputs = {
        k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in inputs_for(name).items()
    }
    before = {k: v.copy() for k, v in inputs.items() if isinstance(v, np.ndarray)}
    SCORES[name].function(**inputs)
    for key, original in before.items():
        np.testing.assert_array_equal(inputs[key], original)
