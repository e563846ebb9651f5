"""Wall time to render HTML + PDF for 92 and 10,000 synthetic participants."""

import tempfile
import time

from hepatrial.analysis.run import run_analysis
from hepatrial.analysis.synthetic import synthetic_adam
from hepatrial.reports import render_report

for n in (92, 10_000):
    d = synthetic_adam(n)
    res = run_analysis(d)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        render_report(res, d).write(tmp)
    print(f"n={n}: render HTML+PDF {time.perf_counter() - t0:.1f} s")
