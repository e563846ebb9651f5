"""Wall time of the full analysis plus report (what ``hepatrial analyze`` does) for 92 and 10,000
synthetic participants, with the core statistics timed in R on the same CSVs in the same run.

Stages: read and validate the CSVs; run the analysis and the blinded report's analysis on
recoded arms; lay out the HTML with every table and figure; write the PDF. R times only the
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


def main() -> int:
    print("hepatrial analysis + report benchmark (blinded report, HTML + PDF)")
    build_report(synthetic_adam(92, seed=3), seed=1)  # warm-up: imports, fonts
    for n in SIZES:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "adam"
            write_adam(synthetic_adam(n, seed=11), folder)
            start = time.perf_counter()
            data = read_adam(folder)
            read = time.perf_counter()
            run_analysis(data)
            analysed = time.perf_counter()
            report = build_report(data, data_files=sorted(folder.glob("*.csv")))
            laid_out = time.perf_counter()
            report.write(Path(tmp) / "out")
            written = time.perf_counter()
            t_r = r_core(folder, 1)
        total = written - start
        print(f"\n{n:>6} participants")
        print(f"  read + validate CSVs             {read - start:7.2f} s")
        print(f"  analysis (results.json)          {analysed - read:7.2f} s")
        print(f"  report: blinded analysis + HTML  {laid_out - analysed:7.2f} s")
        print(f"  report: PDF                      {written - laid_out:7.2f} s")
        print(f"  total, hepatrial analyze         {total:7.2f} s")
        if t_r is None:
            print("  R core statistics                (Rscript with R packages not found)")
        else:
            print(f"  R core statistics, same data     {t_r:7.2f} s")
            print(f"  ratio total / R statistics       {total / t_r:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
