"""The protocol's `scores` section: the Child-Pugh table and conversion factors it names, and
`hepatrial protocol check` refusing a table with overlapping bands or gaps."""

from __future__ import annotations

import argparse
import json

import pytest

from hepatrial.cli import cmd_protocol_check
from hepatrial.protocol import ProtocolError, default_protocol_path, load_protocol, parse_protocol
from hepatrial.scores import child_pugh_points
from hepatrial.scores.settings import DEFAULT_CHILD_PUGH_TEXT

SHIPPED = default_protocol_path().read_text(encoding="utf-8")
BILIRUBIN_LINE = 'bilirubin: {µmol/L: ["<34.2", 34.2-51.3, ">51.3"], mg/dL: ["<2", 2-3, ">3"]}'


def with_bilirubin(bands: list[str]) -> str:
    """The shipped protocol with other µmol/L bilirubin bands (as a JSON list: valid YAML)."""
    assert BILIRUBIN_LINE in SHIPPED
    line = f'bilirubin: {{µmol/L: {json.dumps(bands)}, mg/dL: ["<2", 2-3, ">3"]}}'
    return SHIPPED.replace(BILIRUBIN_LINE, line)


def issues(text: str) -> list:
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "protocols/x.yaml")
    return caught.value.issues


def test_the_shipped_protocol_names_the_default_table_and_the_laboratory_factors():
    settings = load_protocol(default_protocol_path()).protocol.score_settings()
    assert settings.child_pugh.as_text() == DEFAULT_CHILD_PUGH_TEXT
    assert dict(settings.factors) == {"bilirubin": 17.1, "creatinine": 88.4}


def test_a_protocol_without_a_scores_section_gets_the_defaults():
    start = SHIPPED.index("\nscores:\n")
    end = SHIPPED.index("\nrules:\n")
    protocol = parse_protocol(SHIPPED[:start] + SHIPPED[end:]).protocol
    assert protocol.score_settings().child_pugh.as_text() == DEFAULT_CHILD_PUGH_TEXT


def test_a_protocol_naming_a_rounded_table_scores_by_it():
    protocol = parse_protocol(with_bilirubin(["<34", "34-51", ">51"])).protocol
    patient = {
        "albumin": 40,
        "albumin_unit": "g/L",
        "inr": 1.0,
        "ascites": "none",
        "encephalopathy": "none",
    }
    settings = protocol.score_settings()
    assert (
        child_pugh_points(bilirubin=34, bilirubin_unit="µmol/L", settings=settings, **patient) == 6
    )
    assert child_pugh_points(bilirubin=34, bilirubin_unit="µmol/L", **patient) == 5


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        (["<34.2", "34-51.3", ">51.3"], "'<34.2' and '34-51.3' overlap"),
        (["<34.2", "34.2-50", ">51.3"], "values between '34.2-50' and '>51.3' fall in no band"),
        (["<=34.2", "34.2-51.3", ">51.3"], "34.2 is in both"),
    ],
)
def test_check_refuses_overlapping_bands_and_gaps_and_says_where(bands, message):
    text = with_bilirubin(bands)
    [issue] = issues(text)
    assert issue.path == "scores.child_pugh.bilirubin.µmol/L"
    assert message in issue.message
    assert issue.line == next(
        n for n, line in enumerate(text.splitlines(), 1) if json.dumps(bands) in line
    )


def test_check_refuses_a_band_it_cannot_read_and_a_missing_unit():
    [unreadable] = issues(with_bilirubin(["<34.2", "about 40", ">51.3"]))
    assert "'about 40' is not a band" in unreadable.message
    only_si = SHIPPED.replace(BILIRUBIN_LINE, 'bilirubin: {µmol/L: ["<34.2", 34.2-51.3, ">51.3"]}')
    [missing] = issues(only_si)
    assert missing.message == "no bands for mg/dL"


def test_check_refuses_a_conversion_factor_that_is_not_the_quantity_s():
    text = SHIPPED.replace(
        "conversion_factors: {bilirubin: 17.1,", "conversion_factors: {bilirubin: 1.71,"
    )
    [issue] = issues(text)
    assert issue.path == "scores.conversion_factors.bilirubin"


def test_protocol_check_command_exits_1_on_a_gap(tmp_path, capsys):
    bad = tmp_path / "gap.yaml"
    bad.write_text(with_bilirubin(["<34.2", "34.2-50", ">51.3"]), encoding="utf-8")
    assert cmd_protocol_check(argparse.Namespace(files=[str(bad)])) == 1
    assert "fall in no band" in capsys.readouterr().err
