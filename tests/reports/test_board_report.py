"""The data-safety board's open report pools the arms; the closed one shows them by arm."""

from __future__ import annotations

import pytest

from hepatrial.analysis.synthetic import synthetic_adam
from hepatrial.protocol import default_protocol_path, load_protocol
from hepatrial.reports.blinding import UnblindingLeak, blinded_inputs
from hepatrial.reports.board import ClosedReportRefused, board_report, pooled
from hepatrial.reports.provenance import Provenance
from tests.analysis.nct import nct_plan

ARMS = ("SINGLE", "DOUBLE", "Single infusion", "Double infusion")
PROVENANCE = Provenance(load_protocol(default_protocol_path()), None, {})


def test_the_open_report_drops_every_arm_telling_column_before_counting():
    data = pooled(synthetic_adam(40))
    assert not {"ARMCD", "ARM", "NINF", "TRTEDT", "TRT01A"} & set(data.adsl.columns)
    assert "INFRFL" not in data.adae
    page = board_report(synthetic_adam(40), closed=False, provenance=PROVENANCE,
                        forbidden=ARMS).html  # fmt: skip
    assert "Open report: arms pooled" in page and "All participants (N=40)" in page
    assert not [w for w in ARMS if w in page]


def test_the_closed_report_shows_each_arm_in_both_languages_and_refuses_coded_data():
    data = synthetic_adam(40)
    english = board_report(data, closed=True, provenance=PROVENANCE).html
    chinese = board_report(data, closed=True, provenance=PROVENANCE, language="zh-hans").html
    assert "CLOSED report: by arm" in english and "Single infusion (N=" in english
    assert "闭门报告" in chinese and "全部受试者 (N=40)" in chinese
    coded, _, _ = blinded_inputs(data, nct_plan(), seed=1)
    with pytest.raises(ClosedReportRefused):
        board_report(coded, closed=True)


def test_an_open_report_with_a_true_arm_name_in_it_is_refused():
    data = synthetic_adam(20)
    data.adae.loc[data.adae.index[0], ["AEDECOD", "AETERM"]] = "Double infusion"
    with pytest.raises(UnblindingLeak):
        board_report(data, closed=False, forbidden=ARMS)
