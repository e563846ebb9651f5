"""In a real browser, in English and Chinese: the statistician follows *Exports* from the top
bar, the page fits 390 px, and the keyboard downloads the blinded ADaM datasets as CSV."""

from __future__ import annotations

import zipfile

import pytest

from tests.browser.conftest import sign_in
from tests.browser.test_unblinded_journeys import overflow_at_390

HEADING = {"en": "Analysis datasets (ADaM)", "zh-hans": "分析数据集（ADaM）"}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_statistician_downloads_the_analysis_datasets(
    live_server, page, trial, passwords, language, tmp_path
):
    trial.randomized(days_ago=5)
    sign_in(page, live_server, passwords, "statistician", language)
    page.click("[data-testid=nav-exports]")
    assert HEADING[language] in page.inner_text("main")
    assert not overflow_at_390(page)
    page.select_option("#adam-format", "csv")
    page.focus("[data-testid=download-adam-submit]")
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    download = info.value
    assert download.suggested_filename.startswith("adam-blinded-csv-")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    names = set(zipfile.ZipFile(path).namelist())
    assert {"adsl.csv", "screening.csv", "plan.json", "read_adam.R"} <= names
