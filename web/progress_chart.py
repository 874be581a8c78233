"""The chart of monthly payment progress (拨付进度): cumulative net paid by month against the
budget, in 10,000 yuan, drawn by `web.charts.line` (pygal, plain SVG styled by
static/charts.css, no script). The page shows the same figures in a table beside it."""

from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup

from projections.queries.indicators import MonthlyProgress
from web import charts
from web.i18n import is_english

FEN_PER_WAN = 1_000_000
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def month_label(month: str) -> str:
    """"2025-03" as "3月" or "Mar"."""
    number = int(month[5:7])
    return _MONTHS_EN[number - 1] if is_english() else f"{number}月"


def progress_chart(progress: MonthlyProgress | None, title: str) -> Markup | None:
    """The chart, or None when nothing was paid (the page then says there is no data)."""
    if progress is None or not any(p.paid_fen for p in progress.months):
        return None
    series = [(_("Cumulative net paid"), [p.cumulative_paid_fen / FEN_PER_WAN for p in progress.months])]
    if progress.appropriated_fen:
        series.append((_("Budget"), [progress.appropriated_fen / FEN_PER_WAN] * len(progress.months)))
    return charts.line(f"{title} ({_('10,000 yuan')})", [month_label(p.month) for p in progress.months],
                       series)  # fmt: skip
