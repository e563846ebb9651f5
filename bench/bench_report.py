"""Wall time of the full analysis plus the English and the Chinese report (what ``hepatrial
analyze`` and ``analyze --language zh-hans`` do) for 92 and 10,000 synthetic participants, with
the core statistics timed in R on the same CSVs in the same run.

Stages: read and validate the CSVs; run the analysis; for each language, the blinded report's
analysis on recoded arms and the HTML with every table and figure, then the PDF. R times only the
statistics (see bench_analysis.py), without start-up, plotting or a document, so the ratio
"hepatrial end to end / R statistics" is an upper bound on what the statistics cost us.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from hepatrial.analysis.datasets import read_adam, write_adam
from hepatrial.analysis.run import run_analysis
from hepatrial.analysis.synthetic import synthetic_adam
from hepatrial.reports.render import build_report

sys.path.insert(0, str(Path(__file__).parent))
from bench_analysis import r_core  # noqa: E402

SIZES = (92, 10_000)
LANGUAGES = ("en", "zh-hans")


def main() -> int:
    print("hepatrial analysis + English and Chinese reports (blinded, HTML + PDF) beside R")
    build_report(synthetic_adam(92, seed=3), seed=1, language="zh-hans")  # warm-up: fonts
    for n in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "adam"
            write_adam(synthetic_adam(n, seed=11), folder)
            start = time.perf_counter()
            data = read_adam(folder)
            read = time.perf_counter()
            run_analysis(data)
            analysed = time.perf_counter()
            stages = {}
            for language in LANGUAGES:
                began = time.perf_counter()
                report = build_report(
                    data, data_files=sorted(folder.glob("*.csv")), language=language
                )
                laid_out = time.perf_counter()
                report.write(Path(tmp) / language)
                stages[language] = (laid_out - began, time.perf_counter() - laid_out)
            t_r = r_core(folder, 1)
        one = (analysed - start) + sum(stages["en"])
        total = (analysed - start) + sum(sum(s) for s in stages.values())
        print(f"\n{n:>6} participants")
        print(f"  read + validate CSVs                  {read - start:7.2f} s")
        print(f"  analysis (results.json)               {analysed - read:7.2f} s")
        for language, (html, pdf) in stages.items():
            print(f"  {language:<7} blinded analysis + HTML       {html:7.2f} s")
            print(f"  {language:<7} PDF                           {pdf:7.2f} s")
        print(f"  total, analysis + English report      {one:7.2f} s")
        print(f"  total, analysis + both reports        {total:7.2f} s")
        if t_r is None:
            print("  R core statistics                     (Rscript with R packages not found)")
        else:
            print(f"  R core statistics, same data          {t_r:7.2f} s")
            print(f"  ratio analysis / R statistics         {(analysed - read) / t_r:7.1f}")
            print(f"  ratio total (both) / R statistics     {total / t_r:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
