"""`ledger queue`: the payments waiting for approval (待审批), the same list the web's approval
queue shows, the longest waiting first.

People see yuan with two decimals, Beijing times and the enterprise's name beside its credit
code; `--json` prints integer fen, ISO instants in UTC and codes. Every waiting payment is
listed (read page by page, never cut off at a page size).
"""

from __future__ import annotations

import json

import click

from ledger.cli_support import open_app
from ledger.money import format_yuan
from ledger.shanghai import shanghai_time
from projections.queries import views_position
from projections.queries.queue import all_pending


def age_text(age_s: int | None) -> str:
    """A waiting time in Chinese and English: "2天3小时 / 2 d 3 h", "5分钟 / 5 min"."""
    if age_s is None:
        return "—"
    days, rest = divmod(int(age_s), 86_400)
    hours, rest = divmod(rest, 3_600)
    if days:
        return f"{days}天{hours}小时 / {days} d {hours} h"
    if hours:
        return f"{hours}小时{rest // 60}分钟 / {hours} h {rest // 60} min"
    return f"{rest // 60}分钟 / {rest // 60} min"


HEADERS = (
    "付款编号 Payment", "奖励编号 Award", "企业 Enterprise", "统一社会信用代码 Credit code",
    "金额（元） Amount (yuan)", "拨付日期 Paid on", "经办人 Recorded by", "登记时间 Recorded at",
    "等待 Waiting",
)  # fmt: skip


@click.command("queue")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON: amounts in integer fen, instants in UTC, ages in seconds.")  # fmt: skip
@click.pass_context
def queue(ctx: click.Context, as_json: bool) -> None:
    """List the payments waiting for approval (待审批), the longest waiting first.

    Shows each payment's award, enterprise (name and credit code), amount, who recorded it,
    when, and how long it has waited; then their count and total. Approve or reject them with
    `ledger record` (approve_disbursement / reject_disbursement) or on the web's approval
    queue. The list is read from the views: run `ledger project` if they are behind the log.
    """
    app = open_app(ctx)
    at = views_position(app)
    items = list(all_pending(app))
    total_fen = sum(p.amount_fen for p in items)
    if as_json:
        click.echo(json.dumps({
            "views_position": at.position, "log_position": at.log_position,
            "count": len(items), "total_fen": total_fen,
            "items": [p.to_dict() for p in items],
        }, ensure_ascii=False, indent=2))  # fmt: skip
        return
    rows = [
        [p.reference, p.award_reference, p.enterprise_name or "—", p.uscc,
         format_yuan(p.amount_fen), p.paid_on, p.recorded_by or "—",
         shanghai_time(p.recorded_at), age_text(p.age_s)]
        for p in items
    ]  # fmt: skip
    if rows:
        widths = [max(_width(str(r[i])) for r in [list(HEADERS), *rows]) for i in range(len(HEADERS))]
        for row in [list(HEADERS), *rows]:
            click.echo("  ".join(_pad(str(c), w) for c, w in zip(row, widths, strict=True)).rstrip())
    click.echo(
        f"待审批 {len(items):,} 笔，合计 {format_yuan(total_fen)} 元 / "
        f"{len(items):,} payment(s) waiting for approval, {format_yuan(total_fen)} yuan in all"
    )
    if at.lag:
        click.echo(
            f"视图在日志位置 {at.position:,}，日志已到 {at.log_position:,}：请运行 `ledger project` / "
            f"the views are at position {at.position:,} of {at.log_position:,}: run `ledger project`",
            err=True,
        )


def _width(text: str) -> int:
    """Columns a text takes in a terminal (CJK characters take two)."""
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


commands = [queue]
