"""Child-Pugh: every band boundary of every item, class boundaries, units and options."""

import pytest

from hepatrial.scores import ScoreInputError, child_pugh_class, child_pugh_points

BEST = {
    "bilirubin": 1.0,
    "bilirubin_unit": "mg/dL",
    "albumin": 40.0,
    "albumin_unit": "g/L",
    "inr": 1.0,
    "ascites": "none",
    "encephalopathy": "none",
}


def points(**changes):
    return child_pugh_points(**{**BEST, **changes})


def item_points(**changes):
    """Points contributed by the changed item (the other four score 1 each)."""
    return points(**changes) - 4


def test_best_and_worst_patients_score_5_and_15():
    assert points() == 5
    worst = {
        "bilirubin": 8,
        "albumin": 20,
        "inr": 3.0,
        "ascites": "moderate-severe",
        "encephalopathy": "grade 3-4",
    }
    assert points(**worst) == 15
    assert child_pugh_class(**{**BEST, **worst}) == "C"


@pytest.mark.parametrize(
    ("bilirubin", "expected"),
    [(1.99, 1), (2.0, 2), (2.5, 2), (3.0, 2), (3.01, 3)],
)
def test_bilirubin_bands_below_2_from_2_to_3_above_3_mg_dl(bilirubin, expected):
    assert item_points(bilirubin=bilirubin) == expected


@pytest.mark.parametrize(
    ("bilirubin", "expected"),
    [(3.99, 1), (4.0, 2), (10.0, 2), (10.01, 3)],
)
def test_cholestatic_bilirubin_bands_below_4_from_4_to_10_above_10(bilirubin, expected):
    assert item_points(bilirubin=bilirubin, cholestatic=True) == expected


def test_bilirubin_in_umol_per_litre_is_scored_by_the_si_limits_not_converted():
    assert item_points(bilirubin=34.2, bilirubin_unit="µmol/L") == 2
    assert item_points(bilirubin=34.19, bilirubin_unit="umol/L") == 1
    assert item_points(bilirubin=51.3, bilirubin_unit="µmol/L") == 2
    assert item_points(bilirubin=51.31, bilirubin_unit="µmol/L") == 3
    assert item_points(bilirubin=68.4, bilirubin_unit="µmol/L", cholestatic=True) == 2


@pytest.mark.parametrize(
    ("albumin", "expected"),
    [(35.1, 1), (35.0, 2), (28.0, 2), (27.9, 3)],
)
def test_albumin_bands_above_35_from_28_to_35_below_28_g_l(albumin, expected):
    assert item_points(albumin=albumin) == expected


@pytest.mark.parametrize(
    ("albumin", "expected"),
    [(3.51, 1), (3.5, 2), (2.8, 2), (2.79, 3)],
)
def test_albumin_in_g_dl_meets_the_same_boundaries(albumin, expected):
    assert item_points(albumin=albumin, albumin_unit="g/dL") == expected


@pytest.mark.parametrize(("inr", "expected"), [(1.69, 1), (1.7, 2), (2.3, 2), (2.31, 3)])
def test_inr_bands_below_1_7_from_1_7_to_2_3_above_2_3(inr, expected):
    assert item_points(inr=inr) == expected


@pytest.mark.parametrize(("seconds", "expected"), [(3.9, 1), (4.0, 2), (6.0, 2), (6.1, 3)])
def test_prothrombin_prolongation_bands_below_4_from_4_to_6_above_6(seconds, expected):
    assert item_points(inr=None, pt_prolongation_s=seconds) == expected


def test_inr_is_used_when_both_inr_and_prothrombin_time_are_given():
    assert item_points(inr=1.0, pt_prolongation_s=8.0) == 1
    assert item_points(inr=2.5, pt_prolongation_s=1.0) == 3


@pytest.mark.parametrize(
    ("ascites", "expected"),
    [
        ("none", 1),
        ("absent", 1),
        (0, 1),
        ("mild", 2),
        ("Slight", 2),
        (1, 2),
        ("moderate-severe", 3),
        ("moderate–severe", 3),
        ("moderate", 3),
        ("severe", 3),
        (2, 3),
        (3, 3),
    ],
)
def test_ascites_none_mild_moderate_severe(ascites, expected):
    assert item_points(ascites=ascites) == expected


@pytest.mark.parametrize(
    ("grade", "expected"),
    [
        ("none", 1),
        (0, 1),
        ("grade 1-2", 2),
        ("1-2", 2),
        (1, 2),
        (2, 2),
        ("grade 3-4", 3),
        ("Grade 3–4", 3),
        (3, 3),
        (4, 3),
    ],
)
def test_encephalopathy_none_grade_1_2_grade_3_4(grade, expected):
    assert item_points(encephalopathy=grade) == expected


@pytest.mark.parametrize(
    ("total", "expected"),
    [(5, "A"), (6, "A"), (7, "B"), (9, "B"), (10, "C"), (15, "C")],
)
def test_class_a_is_5_6_b_is_7_9_c_is_10_15(total, expected):
    # Build the total from the two-point item bands: each extra point is one item at 2.
    items = [
        {"bilirubin": 2.5},
        {"albumin": 30},
        {"inr": 2.0},
        {"ascites": "mild"},
        {"encephalopathy": 1},
    ]
    worst = [
        {"bilirubin": 5},
        {"albumin": 20},
        {"inr": 3},
        {"ascites": 3},
        {"encephalopathy": 4},
    ]
    extra = total - 5
    changes: dict = {}
    for i in range(5):
        if extra >= 2:
            changes.update(worst[i])
            extra -= 2
        elif extra == 1:
            changes.update(items[i])
            extra -= 1
    assert points(**changes) == total
    assert child_pugh_class(**{**BEST, **changes}) == expected


def test_one_patient_gives_an_int_and_a_letter():
    assert type(points()) is int
    assert child_pugh_class(**BEST) == "A"


def test_neither_inr_nor_prothrombin_time_is_an_error_naming_both():
    with pytest.raises(ScoreInputError, match="inr or pt_prolongation_s"):
        points(inr=None)


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("ascites", 4),
        ("ascites", -1),
        ("ascites", 1.5),
        ("ascites", "lots"),
        ("encephalopathy", 5),
        ("encephalopathy", "coma"),
        ("cholestatic", "maybe"),
    ],
)
def test_grades_out_of_range_are_errors_naming_argument_and_value(argument, value):
    with pytest.raises(ScoreInputError) as error:
        points(**{argument: value})
    assert error.value.argument == argument
    assert error.value.value == value
    assert argument in str(error.value) and repr(value) in str(error.value)


def test_the_protocol_choice_codes_for_ascites_and_encephalopathy_are_accepted():
    """The shipped protocol stores ascites as none / mild / moderate_severe and HE as 0-4;
    capture passes those codes straight to the score (a missing spelling once made every
    participant with moderate-severe ascites unscoreable, and so impossible to randomize)."""
    common = dict(bilirubin=1.0, bilirubin_unit="mg/dL", albumin=40, albumin_unit="g/L", inr=1.0)
    assert child_pugh_points(**common, ascites="moderate_severe", encephalopathy="0") == 7
    assert child_pugh_points(**common, ascites="none", encephalopathy="3") == 7
