"""`ledger report annual|monthly` (execution reports as .xlsx or printable HTML) and `ledger
indicators` (the fiscal indicators of a year; docs/metrics.md, "Fiscal indicators").

Human output shows yuan, percentages and days with Chinese and English labels; `--json` keeps
integer fen and the records' field names.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click

from ledger.cli_support import dump, open_app
from ledger.identifiers import TOWNS
from ledger.money import format_yuan
from projections.queries.indicators import (
    ON_TIME_DAYS_DEFAULT,
    ON_TIME_DAYS_MAX,
    ON_TIME_DAYS_MIN,
    Indicators,
    indicators,
)
from projections.reports import Report, annual_report, monthly_report
from projections.reports.formats import cell_text


def _town(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    code = value.strip()
    if code not in TOWNS:
        raise click.BadParameter(
            f"invalid_town: 不是松江区的街镇代码 / not a Songjiang town code: {code!r} "
            "(310117001 … 310117110)"
        )
    return code


year_option = click.option(
    "--year", "fiscal_year", required=True, type=click.IntRange(2000, 2100),
    help="The fiscal year (of the awards and budgets).",
)  # fmt: skip
on_time_option = click.option(
    "--on-time-days", type=click.IntRange(ON_TIME_DAYS_MIN, ON_TIME_DAYS_MAX),
    envvar="LEDGER_ON_TIME_DAYS", default=ON_TIME_DAYS_DEFAULT, show_default=True,
    help="Days within which a first payment is on time (按时拨付; env LEDGER_ON_TIME_DAYS).",
)  # fmt: skip
format_option = click.option(
    "--format", "output_format", type=click.Choice(["xlsx", "html"]), default="xlsx",
    show_default=True, help="A workbook (openpyxl) or a printable HTML page.",
)  # fmt: skip
output_option = click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The file to write (replaced as a whole, never left half-written).",
)  # fmt: skip


def _write(report: Report, output_format: str, output: Path) -> None:
    """Write the report into a temporary file beside `output`, then move it into place."""
    from projections.reports.html import render_report
    from projections.reports.xlsx import write_report

    output = output.resolve()
    fd, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as stream:
            if output_format == "xlsx":
                write_report(report, stream)
            else:
                stream.write(render_report(report).encode("utf-8"))
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    rows = sum(len(t.rows) for t in report.tables)
    click.echo(f"已写入 written: {output} ({len(report.tables)} 表 tables, {rows} 行 rows)")


@click.group()
def report() -> None:
    """Execution reports of a fiscal year: annual (per measure and per town) and monthly."""


@report.command("annual")
@year_option
@click.option("--town", "town_code", callback=_town, help="Only the enterprises of this town (9-digit code).")
@format_option
@output_option
@on_time_option
@click.pass_context
def report_annual(ctx: click.Context, fiscal_year: int, town_code: str | None, output_format: str,
                  output: Path, on_time_days: int) -> None:  # fmt: skip
    """The annual execution report: budgets, commitments and net payments per measure (equal to
    `ledger balances measure`), per town, the indicators and the monthly payment progress.

    With --town, the awards of that town's enterprises per measure (towns have no budget)."""
    app = open_app(ctx)
    _write(annual_report(app, fiscal_year, town_code, on_time_days), output_format, output)


@report.command("monthly")
@year_option
@click.option("--month", required=True, type=click.IntRange(1, 12), help="The month (1-12).")
@format_option
@output_option
@click.pass_context
def report_monthly(ctx: click.Context, fiscal_year: int, month: int, output_format: str,
                   output: Path) -> None:  # fmt: skip
    """The monthly report: net paid in the month and to its end, per measure and per town, and
    the progress against each budget."""
    _write(monthly_report(open_app(ctx), fiscal_year, month), output_format, output)


_LINES = (
    ("execution_rate", "预算执行率 execution rate", "ratio"),
    ("commitment_rate", "承诺率 commitment rate", "ratio"),
    ("balance_rate", "结余率 balance rate", "ratio"),
    ("median_days_to_payment", "拨付天数中位数 median days to payment", "days"),
    ("p90_days_to_payment", "拨付天数P90 p90 days to payment", "days"),
    ("on_time_rate", "按时拨付率 on-time payment rate", "ratio"),
    ("clawback_recovery_rate", "追回率 clawback recovery rate", "ratio"),
    ("conversion_rate", "专利转化率 patent conversion rate", "ratio"),
    ("leverage", "质押融资杠杆率 pledge-financing leverage (×)", "times"),
    ("interest_subsidy_share", "贴息占比 interest-subsidy share", "ratio"),
)


PILLAR_NAMES = {"quality": "质量 Quality", "standards": "标准 Standards", "ip": "知识产权 IP"}


def scope_name(app: Any, scope: str, key: str) -> str:
    """A scope as people read it, Chinese first: 全区 district, 质量 Quality, M01 …, 岳阳街道 Yueyang."""
    if scope == "district":
        return "全区 District"
    if scope == "pillar":
        return PILLAR_NAMES.get(key, key)
    if scope == "town":
        town = TOWNS.get(key)
        return f"{town.name_zh} {town.name_en}" if town else key
    spec = next((m for m in app.catalogue.measures if m.code == key), None)
    return f"{key} {spec.title_zh} {spec.title_en}" if spec else key


def _describe(found: Indicators) -> list[tuple[str, str]]:
    appropriated = "—" if found.appropriated_fen is None else format_yuan(found.appropriated_fen)
    return [
        ("预算额 appropriated (元 yuan)", appropriated),
        ("净拨付 net paid (元 yuan)", format_yuan(found.paid_fen)),
        *[(label, cell_text(getattr(found, key), kind)) for key, label, kind in _LINES],
    ]


@click.command("indicators")
@year_option
@click.option("--scope", type=click.Choice(["district", "pillar", "measure", "town"]),
              default="district", show_default=True, help="Which scopes to show.")  # fmt: skip
@on_time_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (amounts in fen, every scope).")
@click.pass_context
def indicators_command(ctx: click.Context, fiscal_year: int, scope: str, on_time_days: int,
                       as_json: bool) -> None:  # fmt: skip
    """The fiscal indicators of a year: 预算执行率, 承诺率, 结余率, payment timing and 按时拨付率,
    clawback recovery, conversion, pledge leverage and interest-subsidy share."""
    app = open_app(ctx)
    found = indicators(app, fiscal_year, on_time_days)
    if as_json:
        dump(found.to_dict())
        return
    chosen: Any = {"district": (found.district,), "pillar": found.pillars,
                   "measure": found.measures, "town": found.towns}[scope]  # fmt: skip
    click.echo(f"{fiscal_year} 年度 fiscal year; 按时 on time = {on_time_days} 天 days; "
               f"判定日 judged on {found.due_by}")  # fmt: skip
    for one in chosen:
        click.echo(f"\n== {scope_name(app, one.scope, one.key)}")
        lines = _describe(one)
        width = max(len(label) for label, _ in lines)
        for label, value in lines:
            click.echo(f"  {label:<{width}}  {value}")


#: The commands `ledger.cli_plugins` adds to the `ledger` group.
commands = [report, indicators_command]
