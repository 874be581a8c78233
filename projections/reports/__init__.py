"""Execution reports (annual per measure and per town, and monthly) built from the views.

`annual_report` and `monthly_report` give a `Report`: titled tables of plain values (fen,
ratios, counts) with their columns' labels in Chinese and English. `xlsx.write_report` writes
one as a workbook (openpyxl, write-only) and `html.render_report` as a printable page; the web
renders the same tables with its own templates. The figures are the views' own: the annual
report's per-measure rows are the measure balances (`ledger balances measure`).
"""

from __future__ import annotations

from projections.reports.annual import annual_report
from projections.reports.model import Column, Report, ReportTable
from projections.reports.monthly import monthly_report

__all__ = ["Column", "Report", "ReportTable", "annual_report", "monthly_report"]
