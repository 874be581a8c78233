"""Commands of the read side: `ledger project`, `ledger worker`, `ledger balances`, `ledger
metrics`, `ledger trail`.

Human tables show yuan; `--json` prints amounts in fen with the field names of the queries'
records. Progress goes to standard error so that standard output stays parseable.
"""

from __future__ import annotations

import json
import sys
import time
import unicodedata
from typing import Any

import click

from ledger import cli_plugins
from ledger.cli_support import open_app
from ledger.labels import label
from ledger.money import format_yuan
from ledger.tuning import bulk_command
from projections import queries
from projections.runner import DEFAULT_BATCH_SIZE, Runner

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (amounts in fen).")
year_option = click.option("--year", "fiscal_year", type=int, help="Only this fiscal year.")
batch_option = click.option(
    "--batch-size",
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Events per transaction.",
)


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _width(text: str) -> int:
    """How many terminal columns text takes (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [headers, *[[str(c) for c in row] for row in rows]]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        click.echo("  ".join(" " * (w - _width(c)) + c if n and i > 0 else c + " " * (w - _width(c))
                             for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())  # fmt: skip


@click.command()
@click.option("--rebuild", is_flag=True, help="Empty every view and apply the whole log again.")
@batch_option
@click.pass_context
def project(ctx: click.Context, rebuild: bool, batch_size: int) -> None:
    """Bring the views (balances, metrics, audit trail) up to the end of the log, then exit."""
    app = open_app(ctx)
    started = time.monotonic()

    def progress(position: int, end: int) -> None:
        rate = position / max(time.monotonic() - started, 1e-6)
        click.echo(f"\rposition {position:,} / {end:,}  ({rate:,.0f} positions/s)", err=True,
                   nl=False)  # fmt: skip

    runner = Runner(app, batch_size=batch_size, progress=progress)
    with bulk_command():  # this process does nothing else meanwhile (ledger.tuning)
        applied = runner.rebuild() if rebuild else runner.catch_up()
    elapsed_s = time.monotonic() - started
    click.echo("", err=True)
    click.echo(
        f"{'rebuilt' if rebuild else 'caught up'}: {applied:,} event(s) applied in "
        f"{elapsed_s:.1f} s; views at position {runner.position:,}"
    )


@click.command()
@batch_option
@click.pass_context
def worker(ctx: click.Context, batch_size: int) -> None:
    """Follow the log and run scheduled jobs until SIGTERM or SIGINT (Asia/Shanghai time)."""
    from projections.worker import run_worker

    app = open_app(ctx)
    # Before any job starts: a table missing (for a user that may not create it) is an error
    # here, with exit status 2, not a job failing in the background.
    cli_plugins.create_tables(app)
    run_worker(app, batch_size=batch_size, say=lambda text: click.echo(text, err=True))


@click.group()
def balances() -> None:
    """Balances of an enterprise, an award, a measure or a town, from the views."""


def _balances_out(records: list[Any], as_json: bool, what: str) -> None:
    if as_json:
        _dump([r.to_dict() for r in records])
        return
    if not records:
        click.echo(f"{what} 暂无余额 / no balances for {what} "
                   "(视图落后时请运行 / if the views are behind, run `ledger project`)")  # fmt: skip
        sys.exit(1)


@balances.command("enterprise")
@click.argument("uscc")
@year_option
@json_option
@click.pass_context
def balances_enterprise(ctx: click.Context, uscc: str, fiscal_year: int | None, as_json: bool) -> None:
    """What enterprise USCC was granted, paid and owes, per fiscal year."""
    records = queries.enterprise_balances(open_app(ctx), uscc, fiscal_year)
    _balances_out(records, as_json, uscc)
    if not as_json:
        _table(
            ["年度/year", "批准/granted", "撤销/revoked", "已付/paid", "待审批/pending",
             "冲销/reversed", "追回令/clawback", "已追回/recovered", "未付/outstanding"],
            [[r.fiscal_year, *(format_yuan(v) for v in (
                r.granted_fen, r.revoked_fen, r.paid_fen, r.pending_fen, r.reversed_fen,
                r.clawback_ordered_fen, r.clawback_recovered_fen, r.outstanding_fen))]
             for r in records],
        )  # fmt: skip


@balances.command("award")
@click.argument("reference", required=False)
@click.option("--uscc", help="Only the awards of this enterprise.")
@year_option
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@click.option("--limit", default=queries.PAGE_MAX, show_default=True, type=click.IntRange(1, queries.PAGE_MAX))
@json_option
@click.pass_context
def balances_award(
    ctx: click.Context, reference: str | None, uscc: str | None, fiscal_year: int | None,
    offset: int, limit: int, as_json: bool,
) -> None:  # fmt: skip
    """Award REFERENCE (or every award, of an enterprise or a year): granted, paid, owed."""
    records = queries.award_balances(open_app(ctx), reference, uscc, fiscal_year, offset, limit)
    _balances_out(records, as_json, reference or uscc or "any award")
    if not as_json:
        _table(
            ["奖补/award", "企业/enterprise", "措施/measure", "批准/granted", "撤销/revoked",
             "已付/paid", "待审批/pending", "未付/outstanding"],
            [[r.reference, r.uscc, r.measure, *(format_yuan(v) for v in (
                r.granted_fen, r.revoked_fen, r.paid_fen, r.pending_fen, r.outstanding_fen))]
             for r in records],
        )  # fmt: skip


@balances.command("measure")
@click.argument("code", required=False)
@year_option
@json_option
@click.pass_context
def balances_measure(ctx: click.Context, code: str | None, fiscal_year: int | None, as_json: bool) -> None:
    """Budget and spending of measure CODE (every measure if omitted), per fiscal year."""
    records = queries.measure_balances(open_app(ctx), code, fiscal_year)
    _balances_out(records, as_json, code or "any measure")
    if not as_json:
        _table(
            ["措施/measure", "年度/year", "预算/appropriated", "承诺/committed", "释放/released",
             "已付/paid", "剩余/remaining", "使用率/utilisation"],
            [[r.measure, r.fiscal_year, *(format_yuan(v) for v in (
                r.appropriated_fen, r.committed_fen, r.released_fen, r.paid_fen,
                r.remaining_fen)), _pct(r.utilisation)] for r in records],
        )  # fmt: skip


@balances.command("town")
@click.argument("town_code", required=False)
@year_option
@json_option
@click.pass_context
def balances_town(ctx: click.Context, town_code: str | None, fiscal_year: int | None, as_json: bool) -> None:
    """Totals of the enterprises of town TOWN_CODE (every town if omitted), per fiscal year."""
    records = queries.town_balances(open_app(ctx), town_code, fiscal_year)
    _balances_out(records, as_json, town_code or "any town")
    if not as_json:
        _table(
            ["街镇/town", "", "年度/year", "企业数/enterprises", "批准/granted", "撤销/revoked",
             "已付/paid", "待审批/pending", "未付/outstanding"],
            [[r.town_code, r.town_name_zh, r.fiscal_year, r.enterprises, *(format_yuan(v) for v in (
                r.granted_fen, r.revoked_fen, r.paid_fen, r.pending_fen, r.outstanding_fen))]
             for r in records],
        )  # fmt: skip


@click.command()
@year_option
@click.option("--measure", help="Only awards and budgets of this measure (M01..M13).")
@click.option("--town", "town_code", help="Only enterprises of this town (9-digit code).")
@json_option
@click.pass_context
def metrics(
    ctx: click.Context, fiscal_year: int | None, measure: str | None, town_code: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Conversion metrics: transfers, financing, payment timing, clawbacks, budget use."""
    m = queries.metrics(open_app(ctx), fiscal_year, measure, town_code)
    if as_json:
        _dump(m.to_dict())
        return
    days = (lambda v: "—" if v is None else f"{v:,.1f}".removesuffix(".0") + " 天 / days")  # noqa: E731
    ratio = (lambda v: "—" if v is None else f"{v:,.2f} 倍 / ×")  # noqa: E731
    yuan = (lambda fen: f"{format_yuan(fen)} 元 / yuan")  # noqa: E731
    every = "全部 / all"
    lines = [
        ("范围 / selection", f"年度 / year {fiscal_year or every}, 措施 / measure "
                             f"{m.measure or every}, 街镇 / town {town_code or every}"),
        ("专利转化登记 / 实施 · transfers recorded / implemented",
         f"{m.transfers_recorded} / {m.transfers_implemented}  ({_pct(m.conversion_rate)})"),
        *[(f"  转让方 / transferor: {label('transferor_kind', b.key).both()}",
           f"{b.recorded} / {b.implemented}  ({_pct(b.conversion_rate)})")
          for b in m.by_transferor_kind],
        *[(f"  方式 / mode: {label('mode', b.key).both()}",
           f"{b.recorded} / {b.implemented}  ({_pct(b.conversion_rate)})") for b in m.by_mode],
        ("转化至实施天数中位数 / median transfer → implementation",
         days(m.median_days_to_implementation)),
        ("报告收益 / revenue reported", yuan(m.revenue_reported_fen)),
        ("每元资助对应合同金额 / contract value per subsidy yuan",
         ratio(m.contract_value_per_subsidy_yuan)),
        ("知识产权融资本金 / IP financing principal",
         f"{yuan(m.financing_principal_fen)} ({m.financings} 笔 / financings)"),
        ("融资杠杆 / leverage (principal / interest subsidy)", ratio(m.leverage)),
        ("违约率 / default rate", f"{_pct(m.default_rate)} ({m.financings_defaulted} 笔违约 / defaulted)"),
        ("奖补支付率 / award payment rate",
         f"{_pct(m.payment_rate)} ({format_yuan(m.paid_fen)} / {yuan(m.payable_fen)})"),
        ("批准至首次支付天数中位数 / median grant → first payment",
         days(m.median_days_grant_to_first_payment)),
        ("追回率 / clawback rate", f"{_pct(m.clawback_rate)} (责令 / ordered "
         f"{yuan(m.clawback_ordered_fen)}, 已追回 / recovered {yuan(m.clawback_recovered_fen)})"),
        ("预算使用率 / budget utilisation", _pct(m.budget_utilisation)),
    ]  # fmt: skip
    width = max(_width(title) for title, _ in lines)
    for title, value in lines:
        click.echo(f"{title}{' ' * (width - _width(title))}  {value}")
    for note in m.notes:
        click.echo(f"说明 / note: {note}")


@click.command()
@click.option("--uscc")
@click.option("--award", "award_reference")
@click.option("--actor")
@click.option("--measure")
@click.option("--from", "from_at", help="Recorded at or after this ISO instant (UTC if naive).")
@click.option("--to", "to_at", help="Recorded before this ISO instant.")
@click.option("--after", "after_position", type=int, help="Only positions after this one.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, queries.PAGE_MAX))
@click.option("--zh", is_flag=True, help="Summaries in Chinese.")
@json_option
@click.pass_context
def trail(ctx: click.Context, zh: bool, as_json: bool, **filters: Any) -> None:
    """The audit trail: events by enterprise, award, measure, actor and recorded time."""
    entries = queries.trail(open_app(ctx), **filters)
    if as_json:
        _dump([e.to_dict() for e in entries])
        return
    for e in entries:
        click.echo(f"{e.position:>8}  {e.recorded_at}  {e.actor or '-':<10} "
                   f"{e.summary_zh if zh else e.summary_en}")  # fmt: skip


#: The commands `ledger.cli_plugins` adds to the `ledger` group.
commands = [project, worker, balances, metrics, trail]
