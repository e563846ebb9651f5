"""Statistical report (HTML + PDF) from analysis results; see docs/report.md."""

from hepatrial.reports.render import Report, render_report

__all__ = ["Report", "render_report"]
