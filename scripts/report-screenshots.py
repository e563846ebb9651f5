"""Pictures of the statistical report for the README, from the demo database.

Usage: .venv/bin/python scripts/report-screenshots.py  (after `make demo` has filled var/)
Writes the blinded report of the demo trial to var/report/ and PNGs of chosen pages to
docs/screenshots/ (pdftotext and pdftoppm from poppler-utils find and draw the pages).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
PAGES = {
    "report-consort.png": "Participant flow",
    "report-primary.png": "Primary outcome: Child-Pugh class A",
    "report-survival.png": "Kaplan-Meier estimate with 95% CI and numbers at risk",
}


def page_with(pdf: Path, text: str) -> int:
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout.split("\f")  # fmt: skip
    return next(i + 1 for i, page in enumerate(pages) if text in " ".join(page.split()))


def main() -> int:
    report = Path(os.environ.get("HEPATRIAL_VAR_DIR", ROOT / "var")) / "report"
    hepatrial = ROOT / ".venv" / "bin" / "hepatrial"
    subprocess.run([str(hepatrial), "export", "report", "--out", str(report),
                    "--as", "statistician"], check=True)  # fmt: skip
    pdf = report / "report.pdf"
    for name, text in PAGES.items():
        number = page_with(pdf, text)
        stem = OUT / Path(name).stem
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-singlefile", "-f", str(number),
                        "-l", str(number), str(pdf), str(stem)], check=True)  # fmt: skip
        print(f"docs/screenshots/{name} (page {number})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
