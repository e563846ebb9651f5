import inspect

import pytest

from hepatrial.scores import SCORES, ScoreDefinition

NAMES = ["meld", "meld_na", "meld3", "child_pugh_points", "child_pugh_class", "albi", "albi_grade"]


def test_every_score_is_registered_by_name():
    assert list(SCORES) == NAMES
    assert all(isinstance(d, ScoreDefinition) and d.name == n for n, d in SCORES.items())


@pytest.mark.parametrize("name", NAMES)
def test_inputs_and_required_match_the_function_signature(name):
    definition = SCORES[name]
    parameters = inspect.signature(definition.function).parameters
    assert definition.inputs == tuple(parameters)
    assert set(definition.required) <= set(definition.inputs)
    for argument in definition.required:
        assert parameters[argument].default is inspect.Parameter.empty
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())


def test_child_pugh_needs_inr_or_prothrombin_time():
    for name in ("child_pugh_points", "child_pugh_class"):
        assert SCORES[name].one_of == (("inr", "pt_prolongation_s"),)
    assert SCORES["meld"].one_of == ()


def test_formula_versions_name_the_formula_and_its_year():
    versions = {name: d.FORMULA_VERSION for name, d in SCORES.items()}
    assert versions == {
        "meld": "meld-optn-2016-v2",
        "meld_na": "meld-na-optn-2016-v2",
        "meld3": "meld3-optn-2023-v2",
        "child_pugh_points": "child-pugh-table-v2",
        "child_pugh_class": "child-pugh-table-v2",
        "albi": "albi-johnson-2015-v2",
        "albi_grade": "albi-johnson-2015-v2",
    }
    assert SCORES["meld3"].formula_version == "meld3-optn-2023-v2"


def test_units_are_required_arguments_never_defaults():
    for definition in SCORES.values():
        for argument in ("bilirubin_unit", "creatinine_unit", "albumin_unit"):
            if argument in definition.inputs:
                assert argument in definition.required


def test_scores_can_be_called_by_name_with_a_visit_dict():
    visit = {
        "bilirubin": 34.2,
        "bilirubin_unit": "µmol/L",
        "albumin": 30,
        "albumin_unit": "g/L",
        "inr": 1.5,
        "ascites": "mild",
        "encephalopathy": "none",
    }
    definition = SCORES["child_pugh_class"]
    inputs = {k: v for k, v in visit.items() if k in definition.inputs}
    assert definition(**inputs) == "B"
    assert SCORES["albi_grade"].result == "integer"
    assert "Johnson" in SCORES["albi"].source
