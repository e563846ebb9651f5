"""The data-safety board's reports from the database: the open one pools the arms, the closed
one shows them and never reaches a blinded role."""

from __future__ import annotations

import pytest

from hepatrial.cli import main
from hepatrial.edc.models import AuditEvent
from tests.edc.test_export import ARM_WORDS, followed  # noqa: F401  (the fixture)

BLINDED_ROLES = ("statistician", "admin", "investigator", "coordinator", "monitor", "assessor")


def test_the_board_gets_both_reports_labelled_and_only_the_closed_one_shows_arms(
    trial,
    followed,  # noqa: F811  (the imported fixture)
    tmp_path,
):
    assert main(["export", "board-report", "closed", "--out", str(tmp_path), "--as", "dsmb"]) == 0
    assert main(["export", "board-report", "open", "--out", str(tmp_path), "--as", "dsmb",
                 "--language", "zh-hans"]) == 0  # fmt: skip
    closed = (tmp_path / "board-closed.html").read_text()
    opened = (tmp_path / "board-open.html").read_text()
    assert "CLOSED report: by arm" in closed and "Single infusion" in closed
    assert "公开报告：各组合并" in opened and "全部受试者 (N=6)" in opened
    assert not [w for w in ARM_WORDS if w in opened]
    assert (tmp_path / "board-closed.pdf").read_bytes().startswith(b"%PDF")
    kinds = [e.context["board_report"] for e in AuditEvent.objects.filter(object_id="board")]
    assert kinds == ["closed", "open"]


@pytest.mark.parametrize("username", BLINDED_ROLES)
def test_no_blinded_role_gets_the_closed_report_and_nothing_is_written(
    trial,
    followed,  # noqa: F811  (the imported fixture)
    tmp_path,
    username,
    capsys,  # noqa: F811
):
    out = tmp_path / "closed"
    assert main(["export", "board-report", "closed", "--out", str(out), "--as", username]) == 1
    assert "data-safety board only" in capsys.readouterr().err
    assert not out.exists()
