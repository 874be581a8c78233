"""The chart of monthly payment progress (拨付进度): cumulative net paid by month as a share of
the budget, beside the share of the year gone by (序时进度, month ÷ 12), the comparison budget
oversight reads. Drawn by `web.charts.line` (pygal, plain SVG styled by static/charts.css, no
script); the page shows the same figures in a table beside it."""

from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup

from projections.queries.indicators import MonthlyProgress
from web import charts
from web.i18n import is_english

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def month_label(month: str) -> str:
    """"2025-03" as "3月" or "Mar"."""
    number = int(month[5:7])
    return _MONTHS_EN[number - 1] if is_english() else f"{number}月"


def progress_chart(progress: MonthlyProgress | None, title: str) -> Markup | None:
    """The chart in percent, or None when there is no budget or nothing was paid (the page
    then says there is no data)."""
    if progress is None or not progress.appropriated_fen or not any(p.paid_fen for p in progress.months):
        return None
    months = progress.months
    series = [
        (_("Share of the year gone by"), [100 * (n + 1) / len(months) for n in range(len(months))]),
        (_("Payment progress"), [100 * (p.progress or 0) for p in months]),
    ]
    return charts.line(f"{title} (%)", [month_label(p.month) for p in months], series)
