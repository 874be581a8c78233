"""`ledger record`, `ledger import` and `ledger show …`: perform commands, import files of them,
print the current state of one thing."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ledger.cli_support import (
    as_option,
    dump,
    echo_error,
    fail,
    json_option,
    open_app,
    require_actor,
    resolve_actor,
)
from ledger.errors import (
    LedgerError,
    NoBudget,
    UnknownAward,
    UnknownEnterprise,
    UnknownFinancing,
    UnknownTransfer,
)
from ledger.labels import FIELDS, bool_label, field_label, item_label, label, town_label
from ledger.money import format_yuan


@click.command()
@click.argument("command_json", required=False, metavar="JSON")
@as_option
@json_option
@click.pass_context
def record(ctx: click.Context, command_json: str | None, actor: str | None, as_json: bool) -> None:
    """Perform one command given as a JSON object (or `-`, or nothing: read standard input).

    Example: ledger --as wang record '{"type": "approve_disbursement", "reference": "D-1"}'
    """
    from ledger.commands import load_json
    from ledger.importer import invalid_input

    try:
        if command_json is None or command_json == "-":
            data = load_json(sys.stdin.buffer.read(), what="the input")
        else:
            data = load_json(command_json, what="the input")
        actor = resolve_actor(ctx, actor)
        if isinstance(data, dict) and "actor" in data and not actor:
            actor = data.pop("actor")
            if not isinstance(actor, str):
                raise invalid_input("actor: must be a user name (text)")
    except LedgerError as error:
        fail(error, as_json)
    try:
        outcome = open_app(ctx).execute(data, actor=require_actor(ctx, actor))
    except LedgerError as error:
        fail(error, as_json)
    if as_json:
        dump(outcome.to_dict())
    elif outcome.status == "duplicate":
        what = label("command_type", outcome.command_type)
        click.echo(f"已记录过，未重复记录 / duplicate, already recorded: {what.both()} {outcome.key}")
    else:
        what = label("command_type", outcome.command_type)
        click.echo(f"已记录 / recorded: {what.both()} {outcome.key}"
                   f"（日志位置 / log position {outcome.position}）")  # fmt: skip


def _import_epilog() -> str:
    from ledger.sheets.headers import table_text

    return table_text()


@click.command("import", epilog=_import_epilog())
@click.argument("path", metavar="FILE", type=click.Path(allow_dash=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "jsonl", "csv", "xlsx"]),
    default="auto",
    show_default=True,
    help="File format; auto: a workbook by its content, else .csv → csv, else JSON Lines.",
)
@click.option(
    "--type", "command_type",
    help="The command type of every row of a CSV file or of the one sheet read from a workbook "
    "(the sheet of that name, else the first).",
)  # fmt: skip
@click.option(
    "--encoding", metavar="CODEC",
    help="The encoding of a CSV file (default: UTF-8 with or without BOM, else GB18030/GBK).",
)  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Check every line, record nothing.")
@click.option(
    "--batch-size", default=500, show_default=True, type=click.IntRange(1, 10000),
    help="Commands saved per transaction.",
)  # fmt: skip
@as_option
@json_option
@click.pass_context
def import_(
    ctx: click.Context, path: str, fmt: str, command_type: str | None, encoding: str | None,
    dry_run: bool, batch_size: int, actor: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Import FILE of commands: JSON Lines, CSV of one command type, or an Excel workbook
    (.xlsx) with one sheet per command type; each row independent.

    Sheets are named by the command type or its Chinese name; column headers are field names
    or their Chinese headers (below). Dates: 2025-05-01, 2025/5/1, 2025年5月1日 or date cells;
    amounts in yuan, exact (a number cell of more than two decimals is refused). Rows of notes
    (first cell # or 示例) and a second header row of field names are skipped.

    Good rows are recorded; every bad row is reported with its row number (and sheet), error
    code and message. A row may carry its own "actor"; others act as --as. Importing a file
    again records nothing new. Progress goes to standard error.

    Exit status: 0 every row recorded (or a duplicate); 1 some rows rejected (the others
    recorded); 2 the file refused as a whole (`unreadable_file`: binary, not text in its
    encoding, not a workbook, or not JSON Lines/CSV/sheets of commands at all), nothing
    recorded.
    """
    from ledger.importer import import_lines
    from ledger.sheets.headers import type_for_name
    from ledger.tuning import old_objects_unscanned

    if encoding is not None:
        _check_codec(encoding)
    if command_type:  # by its code or its Chinese name
        command_type = type_for_name(command_type) or command_type
    try:
        lines, workbook = _open_lines(path, fmt, command_type, encoding)
    except OSError as exc:
        raise click.FileError(path, hint=exc.strerror or str(exc)) from None
    except LedgerError as error:  # unreadable_file: refused before anything is read
        echo_error(error, as_json)
        sys.exit(2)
    # This process does nothing else meanwhile (ledger.tuning).
    with workbook, old_objects_unscanned():
        report = import_lines(
            open_app(ctx), lines, default_actor=resolve_actor(ctx, actor), dry_run=dry_run,
            batch_size=batch_size, progress=_import_progress,
        )  # fmt: skip
    click.echo("", err=True)
    skipped = getattr(workbook, "skipped", [])
    _report_import(report, skipped, dry_run, as_json)
    sys.exit(1 if report.rejected else 0)


def _check_codec(encoding: str) -> None:
    import codecs

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise click.BadParameter(
            f"没有名为 {encoding!r} 的编码 / no such encoding {encoding!r}", param_hint="--encoding"
        ) from None


def _open_lines(path: str, fmt: str, command_type: str | None, encoding: str | None) -> Any:
    """The lines of the file and what to close after (the workbook, or a text stream)."""
    from ledger.importer import open_text, read_lines, read_table
    from ledger.sheets.xlsx import looks_like_workbook, open_workbook

    if fmt == "auto":
        head = b""
        if path != "-":
            with open(path, "rb") as raw:
                head = raw.read(8)
        lowered = path.lower()
        if looks_like_workbook(head) or lowered.endswith((".xlsx", ".xlsm", ".xls")):
            fmt = "xlsx"
        else:
            fmt = "csv" if lowered.endswith(".csv") else "jsonl"
    if fmt == "xlsx":
        if path == "-":
            raise click.BadParameter("工作簿须为文件 / a workbook must be a file, not -")
        workbook = open_workbook(path, command_type)
        lines = (
            line
            for sheet in workbook.sheets
            for line in read_table(workbook.rows(sheet), sheet.command_type, sheet.name)
        )
        return lines, workbook
    # A CSV's encoding is detected unless given; JSON Lines are UTF-8 unless given.
    stream = open_text(path, fmt, encoding or (None if fmt == "csv" else "utf-8"))
    return read_lines(stream, fmt, command_type), stream


def _report_import(report: Any, skipped: list[str], dry_run: bool, as_json: bool) -> None:
    if as_json:
        body = report.to_dict()
        if skipped:
            body["skipped_sheets"] = skipped
        click.echo(json.dumps(body, ensure_ascii=False))
        return
    zh_verb, verb = ("可记录", "would record") if dry_run else ("已记录", "recorded")
    click.echo(
        f"{zh_verb} {report.accepted} 条，重复 {report.duplicates} 条，拒绝 {len(report.rejected)} 条"
        f" / {verb} {report.accepted}, duplicates {report.duplicates}, "
        f"rejected {len(report.rejected)}"
    )
    for name in skipped:
        click.echo(
            f"  工作表“{name}”不是命令表，未导入 / sheet {name!r} is not a sheet of commands: skipped"
        )
    for rejection in report.rejected:
        where_zh, where = f"第 {rejection.line} 行", f"line {rejection.line}"
        if rejection.sheet is not None:
            where_zh, where = (
                f"工作表“{rejection.sheet}”{where_zh}",
                f"sheet {rejection.sheet!r} row {rejection.line}",
            )
        click.echo(f"  {where_zh} / {where}: [{rejection.code}] {rejection.message_zh}")
        click.echo(f"      {rejection.message}")


def _import_progress(report: Any, elapsed_s: float) -> None:
    """One line on standard error, rewritten as the import goes."""
    rate = report.lines / elapsed_s if elapsed_s > 0 else 0.0
    click.echo(
        f"\r{report.lines} lines: {report.accepted} recorded, {report.duplicates} duplicates, "
        f"{len(report.rejected)} rejected ({rate:,.0f} lines/s)",
        err=True,
        nl=False,
    )


# -- showing current state --------------------------------------------------------------------


@click.group()
def show() -> None:
    """Print the current state of an award, budget, enterprise, transfer or financing."""


#: The stable error code `ledger show` reports when the thing asked for does not exist.
_NOT_FOUND = {
    "award": UnknownAward,
    "budget": NoBudget,
    "enterprise": UnknownEnterprise,
    "transfer": UnknownTransfer,
    "financing": UnknownFinancing,
}


def _show(data: dict[str, Any] | None, what: str, as_json: bool) -> None:
    if data is None:
        fail(
            _NOT_FOUND[what](f"no such {what}", message_zh=f"{_NOT_FOUND[what].title_zh}"), as_json
        )
    if as_json:
        dump(data)
        return
    for name, value in data.items():
        title = field_label(name).both() if name in FIELDS else name.replace("_", " ")
        if name.endswith("_fen") and isinstance(value, int):
            click.echo(f"{title}: {format_yuan(value)} 元 / yuan")
        elif isinstance(value, dict):
            click.echo(f"{title}:")
            for key, sub in value.items():
                shown = f"{format_yuan(sub)} 元 / yuan" if name.endswith("_by_year") else _shown(key, sub)
                click.echo(f"  {key}: {shown}")
        else:
            click.echo(f"{title}: {_shown(name, value)}")


def _shown(name: str, value: Any) -> str:
    """A value of `ledger show` as people read it: labels for codes, 是/否 for yes and no."""
    vocabulary = {"transferor_kind": "transferor_kind", "mode": "mode", "instrument": "instrument",
                  "status": "disbursement_status"}.get(name)  # fmt: skip
    if isinstance(value, bool):
        return bool_label(value).both()
    if vocabulary and isinstance(value, str):
        return label(vocabulary, value).both()
    if name == "town_code" and isinstance(value, str):
        return f"{town_label(value).both()}（{value}）"
    if name == "item" and isinstance(value, str):
        return f"{item_label(value).both()}（{value}）"
    if isinstance(value, list):
        return "; ".join(_shown(name, v) if not isinstance(v, dict) else
                         ", ".join(f"{k} {_shown(k, x)}" for k, x in v.items()) for v in value)
    return "—" if value is None else str(value)


#: `ledger show WHAT ARGUMENT…`: (the arguments, their types), the `ledger.current_state` function
#: that answers, the help text.
_SHOWN: dict[str, tuple[tuple[tuple[str, type], ...], str, str]] = {
    "award": ((("reference", str),), "award_state",
              "The award with this reference: granted, revoked, paid, pending, reversed, "
              "clawbacks."),
    "budget": ((("measure", str), ("fiscal_year", int)), "budget_state",
               "The budget of MEASURE in FISCAL_YEAR: appropriated, committed, released, "
               "remaining."),
    "enterprise": ((("uscc", str),), "enterprise_state",
                   "The enterprise with this credit code and the support committed to it per "
                   "year."),
    "transfer": ((("reference", str),), "transfer_state",
                 "The patent transfer with this reference and its outcomes."),
    "financing": ((("reference", str),), "financing_state",
                  "The financing with this reference: principal, drawn, repaid, default."),
}  # fmt: skip


def _show_command(what: str) -> click.Command:
    """`ledger show WHAT …`: the state `ledger.current_state` gives for the arguments, or not_found."""
    arguments, function, help_text = _SHOWN[what]

    @json_option
    @click.pass_context
    def command(ctx: click.Context, as_json: bool, **values: Any) -> None:
        from ledger import current_state

        state = getattr(current_state, function)(open_app(ctx), *(values[n] for n, _ in arguments))
        _show(state, what, as_json)

    for name, kind in reversed(arguments):
        command = click.argument(name, type=kind)(command)
    return click.command(what, help=help_text)(command)


for _what in _SHOWN:
    show.add_command(_show_command(_what))


#: The commands this module adds to `ledger` (assembled in ledger/cli.py).
commands = [record, import_, show]
