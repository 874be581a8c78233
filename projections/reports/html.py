"""A report as one self-contained, printable HTML page (Chinese first, English beside it).

The page carries its own small stylesheet (it is a file to keep or print, not a page of the
web, whose pages render the same tables with their own templates): A4 landscape, page numbers,
table headers repeated on every printed page.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ledger.shanghai import shanghai_time
from projections.reports.formats import UNITS, cell_text
from projections.reports.model import Report

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_report(report: Report) -> str:
    """The report as an HTML document."""
    template = _ENV.get_template("report.html")
    return template.render(report=report, made_at=shanghai_time(report.generated_at),
                           text=cell_text, units=UNITS, zip=zip)  # fmt: skip
