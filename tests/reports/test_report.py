import hashlib
import re
import subprocess

import pandas as pd
import pytest

from hepatrial.analysis.run import run_analysis
from hepatrial.analysis.synthetic import synthetic_adam
from hepatrial.reports import render_report
from hepatrial.reports.render import SECTIONS

FORBIDDEN = ("SINGLE", "DOUBLE", "Single infusion", "Double infusion")


@pytest.fixture(scope="module")
def data():
    d = synthetic_adam(92)
    return d, run_analysis(d)


def test_sections_present(data):
    d, res = data
    html = render_report(res, d).html
    for key in SECTIONS:
        assert f"id='{key}'" in html


def test_consort_counts(data):
    d, res = data
    ids = d.adsl["USUBJID"].tolist()
    scr = pd.DataFrame(
        {
            "SCRSTAT": ["randomized"] * len(ids)
            + ["screen_failed"] * 5
            + ["declined"] * 2
            + ["other"]
        }
    )
    html = render_report(res, d, screening=scr, blinded=False).html
    alloc = [int(n) for n in re.findall(r"Allocated to [^<]*\(n=(\d+)\)", html)]
    assert sum(alloc) == len(ids)
    assert "Excluded (n=8)" in html and f"Assessed for eligibility (n={len(ids) + 8})" in html


def test_blinded_html_and_pdf(data, tmp_path):
    d, res = data
    rep = render_report(res, d)
    assert "Blinded report: arms are coded" in rep.html
    for word in FORBIDDEN:
        assert word not in rep.html
    rep.write(tmp_path)
    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    for word in FORBIDDEN:
        assert word not in text
    assert "Blinded report" in text


def test_stamp_hashes(data, tmp_path):
    d, res = data
    f = tmp_path / "adsl.csv"
    f.write_text("a,b\n1,2\n")
    html = render_report(res, d, data_files=[f]).html
    assert hashlib.sha256(f.read_bytes()).hexdigest() in html


def test_received_counts_come_from_the_safety_flag_which_blinded_exports_keep(data):
    d, res = data
    blinded_export = d.adsl.assign(ACTARMCD="")
    html = render_report(res, type(d)(blinded_export, d.adlb, d.adtte, d.adae)).html
    received = [int(n) for n in re.findall(r"Received allocated intervention \(n=(\d+)\)", html)]
    assert sum(received) == int((d.adsl["SAFFL"] == "Y").sum()) > 0
