import numpy as np
import pytest

from hepatrial.scores.units import (
    BILIRUBIN_MG_DL_TO_UMOL_L,
    CREATININE_MG_DL_TO_UMOL_L,
    QUANTITIES,
    UnitError,
    convert,
    resolve_unit,
    to_canonical,
    unit,
)


def test_mass_to_molar_factors_come_from_molar_masses():
    assert pytest.approx(17.1039, abs=1e-4) == BILIRUBIN_MG_DL_TO_UMOL_L
    assert pytest.approx(88.4017, abs=1e-4) == CREATININE_MG_DL_TO_UMOL_L


def test_every_unit_has_a_ucum_code_and_positive_factor():
    for q in QUANTITIES.values():
        assert q.canonical in q.units
        assert q.units[q.canonical].factor == 1.0
        for u in q.units.values():
            assert u.ucum and u.factor > 0


def test_resolve_unit_accepts_symbol_ucum_code_case_and_greek_mu():
    for text in ["µmol/L", "umol/L", "umol/l", "μmol/L", " UMOL/L "]:
        assert resolve_unit("bilirubin", text).symbol == "µmol/L"
    assert resolve_unit("creatinine", "mg/dl").symbol == "mg/dL"
    assert resolve_unit("albumin", "G/DL").symbol == "g/dL"
    assert resolve_unit("sodium", "meq/L").symbol == "mEq/L"


def test_spellings_never_collide_within_a_quantity():
    for q in QUANTITIES.values():
        for u in q.units.values():
            for text in (u.symbol, u.ucum, u.symbol.upper(), u.ucum.lower()):
                assert resolve_unit(q.name, text) == u


def test_resolve_unit_rejects_unknown_units_instead_of_guessing():
    for text in ["mmol/L", "mg", "", "g/l/l"]:
        with pytest.raises(UnitError, match="bilirubin"):
            resolve_unit("bilirubin", text)
    with pytest.raises(UnitError):
        resolve_unit("bilirubin", 17.1)


def test_unit_lookup_stays_strict_about_symbols():
    with pytest.raises(UnitError):
        unit("bilirubin", "umol/l")


def test_convert_round_trips_and_handles_arrays():
    values = np.array([0.3, 1.0, 2.0, 12.5])
    there = convert(values, "mg/dL", "µmol/L", "bilirubin")
    np.testing.assert_allclose(convert(there, "µmol/L", "mg/dL", "bilirubin"), values)
    assert to_canonical(3.5, "g/dL", "albumin") == 35.0
    assert convert([1.0, 2.0], "mg/dL", "µmol/L", "creatinine")[1] == pytest.approx(176.8034, 1e-6)
