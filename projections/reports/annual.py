"""The annual execution report (年度预算执行报告): per measure and per town, for the district or
for one town, with the year's indicators and its monthly payment progress.

For the district, the per-measure rows are the measure balances (`ledger balances measure`:
appropriated includes adjustments, paid = approved − reversed, remaining = appropriated −
(committed − released)); the per-town rows are the town balances. For one town, the rows are
the awards of that town's enterprises by measure (towns have no budget of their own).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledger.identifiers import TOWNS
from projections.queries.balances import measure_balances, town_balances
from projections.queries.indicators import IndicatorReport, Indicators, MonthlyProgress, indicators
from projections.queries.log_trail import views_position
from projections.queries.report_rows import awards_by_measure
from projections.reports.model import Column, Report, ReportTable, total_of

if TYPE_CHECKING:
    from ledger.application import SupportLedger

C = Column
MEASURE = (C("measure", "措施", "Measure", "text"), C("title_zh", "措施名称", "Title (Chinese)", "text"),
           C("title_en", "英文名称", "Title", "text"))  # fmt: skip
TOWN = (C("town_code", "街镇代码", "Town code", "text"), C("town_zh", "街镇", "Town (Chinese)", "text"),
        C("town_en", "英文名", "Town", "text"))  # fmt: skip
RATES = (
    C("execution_rate", "预算执行率", "Execution rate", "ratio"),
    C("commitment_rate", "承诺率", "Commitment rate", "ratio"),
    C("balance_rate", "结余率", "Balance rate", "ratio"),
)
TIMING = (
    C("median_days_to_payment", "拨付天数中位数", "Median days to payment", "days"),
    C("p90_days_to_payment", "拨付天数P90", "p90 days to payment", "days"),
    C("on_time_rate", "按时拨付率", "On-time payment rate", "ratio"),
)
OUTCOMES = (
    C("clawback_recovery_rate", "追回率", "Clawback recovery rate", "ratio"),
    C("conversion_rate", "专利转化率", "Patent conversion rate", "ratio"),
    C("leverage", "质押融资杠杆率", "Pledge-financing leverage", "times"),
    C("interest_subsidy_share", "贴息占比", "Interest-subsidy share", "ratio"),
)
BUDGET = (
    C("appropriated_fen", "预算额", "Appropriated"),
    C("committed_fen", "已承诺", "Committed"),
    C("released_fen", "撤销释放", "Released"),
    C("paid_fen", "净拨付", "Net paid"),
    C("remaining_fen", "结余", "Remaining"),
    C("awards", "奖补项数", "Awards", "int"),
)
AWARDS = (
    C("enterprises", "企业数", "Enterprises", "int"),
    C("awards", "奖补项数", "Awards", "int"),
    C("granted_fen", "奖补额", "Granted"),
    C("revoked_fen", "撤销额", "Revoked"),
    C("paid_fen", "净拨付", "Net paid"),
    C("pending_fen", "待审批", "Pending approval"),
    C("outstanding_fen", "未拨付", "Outstanding"),
    C("clawback_ordered_fen", "责令追回", "Clawback ordered"),
    C("clawback_recovered_fen", "已追回", "Recovered"),
)
PROGRESS = (
    C("month", "月份", "Month", "text"),
    C("paid_fen", "当月净拨付", "Net paid in the month"),
    C("cumulative_paid_fen", "累计净拨付", "Cumulative net paid"),
    C("progress", "拨付进度", "Progress against the budget", "ratio"),
)
TOTAL = "合计 Total"


def rates_of(found: Indicators | None, columns: tuple[Column, ...]) -> dict[str, Any]:
    return {c.key: getattr(found, c.key, None) for c in columns}


def indicator_table(scopes: list[tuple[str, Indicators]]) -> ReportTable:
    """One row per scope (its name first) with every rate of the indicators."""
    columns = (C("scope", "范围", "Scope", "text"), C("paid_fen", "净拨付", "Net paid"),
               *RATES, *TIMING, *OUTCOMES)  # fmt: skip
    rows = tuple(
        (name, *(getattr(found, c.key) for c in columns[1:])) for name, found in scopes
    )
    return ReportTable("indicators", "主要指标", "Indicators", columns, rows)


def progress_table(progress: MonthlyProgress | None, last_month: int = 12) -> ReportTable:
    points = progress.months[:last_month] if progress else ()
    rows = tuple((p.month, p.paid_fen, p.cumulative_paid_fen, p.progress) for p in points)
    return ReportTable("progress", "拨付进度（按月）", "Monthly progress", PROGRESS, rows)


def _measure_table(app: SupportLedger, year: int, found: IndicatorReport) -> ReportTable:
    specs = {m.code: m for m in app.catalogue.measures}
    columns = (*MEASURE, *BUDGET, *RATES, TIMING[2])
    rows = []
    for b in measure_balances(app, fiscal_year=year):
        spec = specs.get(b.measure)
        rates = rates_of(found.scope("measure", b.measure), (*RATES, TIMING[2]))
        rows.append((b.measure, spec.title_zh if spec else "", spec.title_en if spec else "",
                     b.appropriated_fen, b.committed_fen, b.released_fen, b.paid_fen,
                     b.remaining_fen, b.awards, *rates.values()))  # fmt: skip
    total = total_of(columns, rows, TOTAL, rates_of(found.district, (*RATES, TIMING[2])))
    return ReportTable("measures", "按措施", "By measure", columns, tuple(rows), total)


def _town_table(app: SupportLedger, year: int, found: IndicatorReport) -> ReportTable:
    columns = (*TOWN, *AWARDS, TIMING[2])
    rows = []
    for b in town_balances(app, fiscal_year=year):
        town = found.scope("town", b.town_code)
        rows.append((b.town_code, b.town_name_zh, b.town_name_en,
                     *(getattr(b, c.key) for c in AWARDS), town.on_time_rate if town else None))  # fmt: skip
    total = total_of(columns, rows, TOTAL, {"on_time_rate": found.district.on_time_rate})
    return ReportTable("towns", "按街镇", "By town", columns, tuple(rows), total)


def _town_measure_table(app: SupportLedger, year: int, town_code: str,
                        found: Indicators | None) -> ReportTable:  # fmt: skip
    specs = {m.code: m for m in app.catalogue.measures}
    columns = (*MEASURE, *AWARDS[1:])
    rows = tuple(
        (a.measure, specs[a.measure].title_zh if a.measure in specs else "",
         specs[a.measure].title_en if a.measure in specs else "",
         *(getattr(a, c.key) for c in AWARDS[1:]))
        for a in awards_by_measure(app, year, town_code)
    )  # fmt: skip
    total = total_of(columns, list(rows), TOTAL)
    return ReportTable("measures", "按措施", "By measure", columns, rows, total)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def annual_report(
    app: SupportLedger, fiscal_year: int, town_code: str | None = None,
    on_time_days: int | None = None,
) -> Report:  # fmt: skip
    """The annual execution report of `fiscal_year`, for the district or for one town.

    Raises KeyError for a town code that is not one of Songjiang's 17.
    """
    from projections.queries.indicators import ON_TIME_DAYS_DEFAULT

    position = views_position(app).position
    found = indicators(app, fiscal_year, on_time_days or ON_TIME_DAYS_DEFAULT)
    pillar_names = {"quality": "质量 Quality", "standards": "标准 Standards", "ip": "知识产权 IP"}
    if town_code is None:
        scopes = [("全区 District", found.district),
                  *[(pillar_names.get(p.key, p.key), p) for p in found.pillars]]  # fmt: skip
        tables = (_measure_table(app, fiscal_year, found), _town_table(app, fiscal_year, found),
                  indicator_table(scopes), progress_table(found.progress_of("district")))  # fmt: skip
        title_zh, title_en = f"{fiscal_year}年度松江区质量标准知识产权扶持资金执行报告", (
            f"Execution report {fiscal_year}: Songjiang quality, standards and IP support")
    else:
        town = TOWNS[town_code]
        mine = found.scope("town", town_code)
        tables = (
            _town_measure_table(app, fiscal_year, town_code, mine),
            indicator_table([(f"{town.name_zh} {town.name_en}", mine)] if mine else []),
            progress_table(found.progress_of("town", town_code)),
        )
        title_zh = f"{fiscal_year}年度{town.name_zh}扶持资金执行报告"
        title_en = f"Execution report {fiscal_year}: support to enterprises of {town.name_en}"
    return Report(
        kind="annual", title_zh=title_zh, title_en=title_en, fiscal_year=fiscal_year, month=None,
        town_code=town_code, generated_at=now_iso(), views_position=position, tables=tables,
        notes_zh=(f"按时拨付阈值 {found.on_time_days} 天；判定日 {found.due_by}。",
                  "金额单位：元；净拨付 = 已审批 − 已冲回。"),
        notes_en=(f"On-time threshold {found.on_time_days} days; judged on {found.due_by}.",
                  "Amounts in yuan; net paid = approved − reversed."),
    )  # fmt: skip
