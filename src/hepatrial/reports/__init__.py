"""Statistical report (HTML + PDF) from analysis datasets; see docs/report.md."""

from hepatrial.reports.render import Report, build_report

__all__ = ["Report", "build_report"]
