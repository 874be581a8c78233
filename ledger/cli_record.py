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


@click.command("import")
@click.argument("path", metavar="FILE", type=click.Path(allow_dash=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "jsonl", "csv"]),
    default="auto",
    show_default=True,
    help="File format; auto looks at the file name (.csv → csv, else JSON Lines).",
)
@click.option("--type", "command_type", help="The command type of every row of a CSV file.")
@click.option("--dry-run", is_flag=True, help="Check every line, record nothing.")
@click.option(
    "--batch-size", default=500, show_default=True, type=click.IntRange(1, 10000),
    help="Commands saved per transaction.",
)  # fmt: skip
@as_option
@json_option
@click.pass_context
def import_(
    ctx: click.Context, path: str, fmt: str, command_type: str | None, dry_run: bool,
    batch_size: int, actor: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Import FILE of commands (JSON Lines, or CSV of one command type), each line independent.

    Good lines are recorded; every bad line is reported with its line number, error code and
    message. A line may carry its own "actor"; others act as --as. Importing a file again
    records nothing new. Progress goes to standard error.

    Exit status: 0 every line recorded (or a duplicate); 1 some lines rejected (the others
    recorded); 2 the file refused as a whole (`unreadable_file`: not UTF-8 text, binary, or
    not JSON Lines/CSV at all), nothing recorded.
    """
    from ledger.importer import import_lines, open_text, read_lines

    if fmt == "auto":
        fmt = "csv" if path.lower().endswith(".csv") else "jsonl"
    try:
        stream = open_text(path, fmt)
    except OSError as exc:
        raise click.FileError(path, hint=exc.strerror) from None
    except LedgerError as error:  # unreadable_file: refused before anything is read
        echo_error(error, as_json)
        sys.exit(2)
    with stream:
        report = import_lines(
            open_app(ctx),
            read_lines(stream, fmt, command_type),
            default_actor=resolve_actor(ctx, actor),
            dry_run=dry_run,
            batch_size=batch_size,
            progress=_import_progress,
        )
    click.echo("", err=True)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        verb = "检查通过（未记录）/ would record" if dry_run else "已记录 / recorded"
        click.echo(
            f"{verb} {report.accepted}，重复 / duplicates {report.duplicates}，"
            f"被拒绝 / rejected {len(report.rejected)}"
        )
        for rejection in report.rejected:
            click.echo(f"  第 {rejection.line} 行 / line {rejection.line}: [{rejection.code}] "
                       f"{rejection.message}")  # fmt: skip
    sys.exit(1 if report.rejected else 0)


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
        fail(_NOT_FOUND[what](f"no such {what}", message_zh=f"{_NOT_FOUND[what].title_zh}"), as_json)
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
