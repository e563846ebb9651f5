"""The investigators' casebook signatures in the report: per site, valid / void / unsigned."""

from __future__ import annotations

import pandas as pd
import pytest

from hepatrial.reports import i18n
from hepatrial.reports.signatures import by_site, read_signatures, signatures_html

ADSL = pd.DataFrame({"USUBJID": ["S-1", "S-2", "S-3", "S-4"], "SITEID": ["A", "A", "B", "B"],
                     "ARM": ["Single infusion", "Double infusion"] * 2})  # fmt: skip


def _row(subject, scope, name, when, state):
    return {"USUBJID": subject, "SITEID": subject, "SIGSCOPE": scope, "SIGNAME": name,
            "SIGDTC": f"{when}T10:00:00+00:00", "SIGSTAT": state}  # fmt: skip


SIGNED = pd.DataFrame([
    _row("S-1", "CASEBOOK", "Zhang Wei", "2026-10-01", "VOID"),
    _row("S-1", "CASEBOOK", "Zhang Wei", "2026-10-05", "VALID"),
    _row("S-2", "CASEBOOK", "Zhang Wei", "2026-10-03", "VOID"),
    _row("S-3", "VISIT", "Li Na", "2026-10-02", "VALID"),
])  # fmt: skip


def test_a_casebook_counts_by_its_latest_casebook_signature_and_visit_signatures_do_not_sign_it():
    a, b = by_site(SIGNED, ADSL)
    assert (a.site, a.casebooks, a.valid, a.void, a.unsigned) == ("A", 2, 1, 1, 0)
    assert a.signers == (("Zhang Wei", "2026-10-01", "2026-10-05"),)
    assert (b.casebooks, b.valid, b.void, b.unsigned, b.signers) == (2, 0, 0, 2, ())


def test_the_section_names_signers_in_both_languages_and_never_an_arm():
    english = signatures_html(SIGNED, ADSL)
    with i18n.language("zh-hans"):
        chinese = signatures_html(SIGNED, ADSL)
    assert "Zhang Wei" in english and "2026-10-01 – 2026-10-05" in english
    assert "Signed, valid" in english and "已签名且有效" in chinese and "Zhang Wei" in chinese
    assert not any(arm in text for arm in ("Single infusion", "Double infusion")
                   for text in (english, chinese))  # fmt: skip


def test_a_signatures_file_without_its_columns_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "signatures.csv"
    path.write_text("USUBJID,SITEID\nS-1,A\n")
    with pytest.raises(ValueError, match="signatures.csv: column"):
        read_signatures(path)
