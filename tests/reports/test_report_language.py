"""The report in English and Simplified Chinese: labels from the protocol, one number rule, a
complete catalogue, the same numbers in both PDFs, and the protocol the export wrote."""

from __future__ import annotations

import ast
import json
import re
import string
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from hepatrial.analysis.synthetic import synthetic_adam
from hepatrial.protocol import default_protocol_path, load_protocol
from hepatrial.reports import build_report, i18n
from hepatrial.reports.labels import Vocabulary
from hepatrial.reports.numbers import ci, num, pvalue
from hepatrial.reports.provenance import ProtocolMismatch, Provenance, read_provenance
from hepatrial.reports.render import baseline_table
from hepatrial.reports.tables import Arms
from hepatrial.reports.zh_hans import ZH
from tests.analysis.nct import nct_plan

REPORTS = Path(i18n.__file__).parent
SHIPPED = default_protocol_path()
LOCK = {"locked": True, "locked_by": "admin", "locked_at": "2026-11-30T10:00:00+00:00",
        "reason": "final analysis"}  # fmt: skip


def _texts_passed_to_tr() -> set[str]:
    found = set()
    for path in REPORTS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "tr"
                    and node.args and isinstance(node.args[0], ast.Constant)):  # fmt: skip
                found.add(node.args[0].value)
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_text_of_the_report_has_chinese_with_the_same_fields():
    texts = _texts_passed_to_tr()
    assert len(texts) > 100
    missing = sorted(t for t in texts if t not in ZH and t not in (" ",))
    assert not missing
    wrong = [t for t in texts if _fields(t) != _fields(ZH[t])]
    assert not wrong


def test_numbers_follow_one_rule():
    assert pvalue(0.0004) == "< 0.001" and pvalue(0.0123) == "0.012" and pvalue(None) == "–"
    assert ci(1.2, 3.456) == "1.20–3.46"
    assert ci(-0.126, 0.3) == "−0.13 – 0.30"
    assert ci(0.1, 0.25, percent=True) == "10.0%–25.0%"
    assert num(-0.0001, 2) == "0.00" and num(-2.5, 1) == "−2.5"


def test_table_1_prints_the_protocols_labels_in_the_reports_language():
    data = synthetic_adam(40)
    protocol = load_protocol(SHIPPED).protocol
    results = {"meta": {"arms": {"X": "Arm X", "Y": "Arm Y"}}}
    adsl = data.adsl.assign(ARMCD=["X", "Y"] * 20)
    english = baseline_table(adsl, Arms(results, Vocabulary(protocol)))
    assert "Sex: Female" in english and "Etiology of liver disease: Alcohol-related" in english
    assert "Sex: F<" not in english and "ALCOHOL" not in english
    assert "Baseline Child-Pugh class (as randomized): Child-Pugh B" in english
    with i18n.language("zh-hans"):
        chinese = baseline_table(adsl, Arms(results, Vocabulary(protocol)))
    assert "性别: 女" in chinese and "肝病病因: 酒精性" in chinese and "X组 (N=20)" in chinese
    assert re.findall(r"\d+ \(\d+\.\d%\)", english) == re.findall(r"\d+ \(\d+\.\d%\)", chinese)


def _export_folder(tmp_path: Path, text: str) -> Path:
    loaded = load_protocol(SHIPPED)
    (tmp_path / "protocol.yaml").write_text(text, encoding="utf-8")
    state = {"protocol": {"file": "protocol.yaml", "content_hash": loaded.content_hash}}
    (tmp_path / "provenance.json").write_text(json.dumps(state), encoding="utf-8")
    return tmp_path


def test_the_report_reads_the_exported_protocol_and_refuses_another_unless_asked(tmp_path):
    shipped = SHIPPED.read_text(encoding="utf-8")
    folder = _export_folder(tmp_path, shipped)
    assert read_provenance(folder).protocol.content_hash == load_protocol(SHIPPED).content_hash
    other = tmp_path / "other.yaml"
    other.write_text(shipped.replace('protocol_version: "1.0"', 'protocol_version: "1.1"'))
    with pytest.raises(ProtocolMismatch, match="--other-protocol"):
        read_provenance(folder, str(other))
    assert read_provenance(folder, str(other), allow_other_protocol=True).state["other_protocol"]
    (folder / "protocol.yaml").write_text(other.read_text())
    with pytest.raises(ValueError, match="changed after the export"):
        read_provenance(folder)


def _numbers(pdf: Path) -> Counter:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", "", text)  # time of rendering
    text = re.sub(r"\b[0-9a-f]{12,}\b", "", text)  # hashes (wrapped where each line ends)
    return Counter(re.findall(r"\d+(?:\.\d+)?", text))


def test_english_and_chinese_pdfs_print_the_same_numbers_with_cjk_fonts_embedded(tmp_path):
    data = synthetic_adam(92)
    provenance = Provenance(load_protocol(SHIPPED), SHIPPED,
                            {"data_cut_off": "2026-11-30", "database_lock": LOCK})  # fmt: skip
    english = build_report(data, nct_plan(), seed=7, provenance=provenance).write(tmp_path / "en")
    chinese = build_report(data, nct_plan(), seed=7, provenance=provenance, language="zh-hans")
    chinese.write(tmp_path / "zh")
    en, zh = _numbers(english / "report.pdf"), _numbers(tmp_path / "zh" / "report.pdf")
    assert sum(en.values()) > 1000
    assert en == zh, (en - zh, zh - en)
    text = subprocess.run(["pdftotext", str(tmp_path / "zh" / "report.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    for words in ("统计分析报告", "第 1 页，共", "数据库锁定", "风险人数", "随机化后天数",
                  "分配至X组", "表1. 基线特征", "女"):  # fmt: skip
        assert words in text, words
    fonts = subprocess.run(["pdffonts", str(tmp_path / "zh" / "report.pdf")],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    cjk = [line for line in fonts.splitlines() if "CJK-SC" in line]
    assert cjk and all(" yes yes " in line for line in cjk)
