"""`ledger template`: a ready import template for a command type, as `.xlsx` or CSV.

The template needs no store: its columns come from the command schemas, its headers from
`ledger.sheets.headers`, its drop-downs from the policy catalogue and the towns.
"""

from __future__ import annotations

from pathlib import Path

import click

from ledger.commands import SCHEMAS
from ledger.sheets.headers import TYPE_NAMES_ZH, type_for_name

_TYPES_HELP = "\n".join(
    ["\b", "Types 命令类型 (code = Chinese name, either may be given):"]
    + [f"  {code:<26} {zh}" for code, zh in TYPE_NAMES_ZH.items()]
    + ["  all                        every type, one sheet each (xlsx only)"]
)


@click.command("template", epilog=_TYPES_HELP)
@click.argument("type_name", metavar="TYPE")
@click.option(
    "--format", "fmt", type=click.Choice(["xlsx", "csv"]),
    help="Template format (default: from the -o file name, else xlsx).",
)  # fmt: skip
@click.option(
    "-o", "--output", "output", required=True, metavar="FILE",
    type=click.Path(dir_okay=False, writable=True), help="Write the template to FILE.",
)  # fmt: skip
def template(type_name: str, fmt: str | None, output: str) -> None:
    """Write an import template for the command type TYPE: Chinese headers with the field
    names in a second row, an example row (first cell 示例, skipped on import), drop-down
    lists for measures, items, towns, transfer modes, instruments and other choices, column
    widths and number formats. Fill it in from row 4 (or over the example) and import it with
    `ledger import FILE`: exactly its rows are recorded.

    Example: ledger template grant_award -o 奖补认定.xlsx ; ledger template 拨付登记 -o pay.csv
    """
    from ledger.sheets.template import csv_template, xlsx_template

    if type_name == "all":
        types = list(SCHEMAS)
    else:
        found = type_for_name(type_name)
        if found is None:
            raise click.BadParameter(
                f"没有此命令类型 / no such command type: {type_name!r} (see --help)",
                param_hint="TYPE",
            )
        types = [found]
    if fmt is None:
        fmt = "csv" if output.lower().endswith(".csv") else "xlsx"
    if fmt == "csv" and len(types) > 1:
        raise click.BadParameter(
            "CSV 模板只能含一种类型 / a CSV template holds one type", param_hint="TYPE"
        )
    try:
        if fmt == "csv":
            Path(output).write_bytes(csv_template(types[0]))
        else:
            xlsx_template(types, output)
    except OSError as exc:
        raise click.FileError(output, hint=exc.strerror or str(exc)) from None
    names = "、".join(TYPE_NAMES_ZH[t] for t in types)
    click.echo(f"已写入模板 {output}（{names}）/ wrote the template {output} ({', '.join(types)})")


#: The commands this module adds to `ledger` (assembled in ledger/cli.py).
commands = [template]
