"""`ledger export KIND -o FILE`: a list of the views as .xlsx or CSV, complete (projections.exports)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from ledger.cli_support import open_app
from ledger.money import format_yuan
from ledger.sheets.headers import header_zh
from projections import exports
from projections.exports.columns import VIEW_HEADERS_ZH
from projections.queries.list_filters import FILTER_NAMES, STATUSES

_FILTER_HELP = {
    "measure": "Measure code M01..M13 (措施).",
    "item": "Support item code (支持事项).",
    "town": "Town code, 9 digits (街镇).",
    "fiscal_year": "Fiscal year (年度).",
    "status": "Payment status (状态): " + ", ".join(STATUSES) + ".",
    "decision_ref": "Decision number, any part (文号).",
    "voucher_no": "Voucher number, any part (凭证号).",
    "date_from": "From this date, YYYY-MM-DD, inclusive (grant, payment, signing or recorded date).",
    "date_to": "To this date, YYYY-MM-DD, inclusive.",
    "uscc": "Credit code or its start (统一社会信用代码).",
    "award": "Award reference (奖励编号).",
    "actor": "Who recorded it (trail only).",
}


def _filters_help() -> str:
    def flag(name: str) -> str:
        return "--year" if name == "fiscal_year" else "--" + name.replace("_", "-")

    lines = [f"{kind}: {' '.join(map(flag, exports.SOURCES[kind].filters))}" for kind in exports.KINDS]
    return "\n\n".join(["Filters each KIND takes:", *lines])


def _options(command: Any) -> Any:
    for name in reversed(FILTER_NAMES):
        flag = "--year" if name == "fiscal_year" else f"--{name.replace('_', '-')}"
        command = click.option(flag, name, help=_FILTER_HELP[name])(command)
    return command


@click.command("export", epilog=_filters_help())
@click.argument("kind", type=click.Choice(exports.KINDS))
@_options
@click.option("--sort", help="Sort column (awards, disbursements; see the web list's columns).")
@click.option("--desc", "descending", is_flag=True, help="Sort descending.")
@click.option("--format", "fmt", type=click.Choice(exports.FORMATS), help="Default: from FILE's suffix, else xlsx.")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write (written whole or not at all).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON (fen).")
@click.pass_context
def export(
    ctx: click.Context, kind: str, sort: str | None, descending: bool, fmt: str | None,
    output: Path, as_json: bool, **filters: str | None,
) -> None:  # fmt: skip
    """Write every KIND row the filters select to FILE as .xlsx or CSV (UTF-8 with BOM):
    Chinese headers over field names, yuan to the fen, a 合计 (total) line, and the views'
    position and time (Asia/Shanghai) in the first line. Nothing is capped: every row is
    streamed. Run `ledger project` first if the views are behind the log.

    \b
    ledger export disbursements --measure M10 --status approved -o paid.xlsx
    ledger export awards --year 2025 --sort granted --desc -o awards.csv
    """
    chosen_fmt = fmt or (output.suffix.lower().lstrip(".") if output.suffix.lower() in (".csv", ".xlsx") else "xlsx")
    args = {**filters, "sort": sort, "order": "desc" if descending else ""}
    try:
        chosen = exports.filter_for(kind, args)
    except exports.BadFilter as error:
        _fail(error.to_dict(), as_json)
    app = open_app(ctx)
    directory = output.resolve().parent
    if not directory.is_dir():
        _fail({"code": "invalid_output", "message": f"no directory {directory}",
               "message_zh": f"目录不存在：{directory}"}, as_json)  # fmt: skip
    handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            done = exports.export(app, kind, chosen, chosen_fmt, out,
                                  progress=lambda n: click.echo(f"\r{n:,} rows", err=True, nl=False))  # fmt: skip
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    click.echo("", err=True)
    if as_json:
        click.echo(json.dumps({**done.to_dict(), "file": str(output), "format": chosen_fmt},
                              ensure_ascii=False, indent=2))  # fmt: skip
        return
    totals = "; ".join(f"{_zh(name)} {format_yuan(fen)}" for name, fen in done.totals_fen.items())
    click.echo(f"已导出 {done.rows:,} 行 / exported {done.rows:,} rows → {output}"
               f"（视图位置 views position {done.position:,}）")  # fmt: skip
    if totals:
        click.echo(f"合计 / total: {totals}")


def _zh(fen_name: str) -> str:
    yuan_name = fen_name[: -len("_fen")] + "_yuan"
    return VIEW_HEADERS_ZH.get(yuan_name) or header_zh(yuan_name)


def _fail(body: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        click.echo(f"错误 [{body['code']}] {body['message_zh']} / {body['message']}", err=True)
    sys.exit(2)


#: The commands `ledger.cli_plugins` adds to the `ledger` group.
commands = [export]
