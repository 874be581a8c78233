"""The monthly execution report (月度拨付进度报告): for one month of a fiscal year, what each
measure and each town was paid in that month, cumulatively to its end, and the progress
against the budget. Payments count in the month of their payment date, net of reversals; the
awards are those of the fiscal year (docs/metrics.md, "Fiscal indicators")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.identifiers import TOWNS
from projections.queries.indicators import ON_TIME_DAYS_DEFAULT, indicators
from projections.queries.log_trail import views_position
from projections.reports.annual import MEASURE, TOTAL, TOWN, now_iso, progress_table
from projections.reports.model import Column, Report, ReportTable, total_of

if TYPE_CHECKING:
    from ledger.application import SupportLedger

C = Column
MONTH = (
    C("paid_in_month_fen", "当月净拨付", "Net paid in the month"),
    C("cumulative_paid_fen", "累计净拨付", "Cumulative net paid"),
)


def monthly_report(app: SupportLedger, fiscal_year: int, month: int,
                   on_time_days: int | None = None) -> Report:  # fmt: skip
    """The report of `month` (1..12) of `fiscal_year`. Raises ValueError for another month."""
    if not 1 <= month <= 12:
        raise ValueError("month must be 1..12")
    position = views_position(app).position
    found = indicators(app, fiscal_year, on_time_days or ON_TIME_DAYS_DEFAULT)
    specs = {m.code: m for m in app.catalogue.measures}
    n = month - 1

    measure_columns = (*MEASURE, C("appropriated_fen", "预算额", "Appropriated"), *MONTH,
                       C("progress", "拨付进度", "Progress against the budget", "ratio"))  # fmt: skip
    measure_rows = []
    for m in found.measures:
        point = found.progress_of("measure", m.key).months[n]  # type: ignore[union-attr]
        spec = specs.get(m.key)
        measure_rows.append((m.key, spec.title_zh if spec else "", spec.title_en if spec else "",
                             m.appropriated_fen, point.paid_fen, point.cumulative_paid_fen,
                             point.progress))  # fmt: skip
    district = found.progress_of("district").months[n]  # type: ignore[union-attr]
    measures = ReportTable("measures", "按措施", "By measure", measure_columns, tuple(measure_rows),
                           total_of(measure_columns, measure_rows, TOTAL,
                                    {"progress": district.progress}))  # fmt: skip

    town_columns = (*TOWN, *MONTH)
    town_rows = []
    for t in found.towns:
        point = found.progress_of("town", t.key).months[n]  # type: ignore[union-attr]
        town = TOWNS.get(t.key)
        town_rows.append((t.key, town.name_zh if town else "", town.name_en if town else "",
                          point.paid_fen, point.cumulative_paid_fen))  # fmt: skip
    towns = ReportTable("towns", "按街镇", "By town", town_columns, tuple(town_rows),
                        total_of(town_columns, town_rows, TOTAL))  # fmt: skip

    return Report(
        kind="monthly",
        title_zh=f"{fiscal_year}年{month}月松江区质量标准知识产权扶持资金拨付进度",
        title_en=f"Payment progress, {fiscal_year}-{month:02d}: Songjiang quality, standards "
        "and IP support",
        fiscal_year=fiscal_year, month=month, town_code=None, generated_at=now_iso(),
        views_position=position,
        tables=(measures, towns, progress_table(found.progress_of("district"), month)),
        notes_zh=("金额单位：元；拨付按付款日期计入月份，已冲回的不计；奖补为该财政年度的奖补。",),
        notes_en=("Amounts in yuan; payments count in the month of their payment date, "
                  "reversed ones not at all; the awards are those of the fiscal year.",),
    )  # fmt: skip
