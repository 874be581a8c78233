"""The `ledger` command line: the group, and every command it holds, assembled in one place.

The ledger's own commands live beside this module (`ledger/cli_setup.py`: init, catalogue,
demo; `ledger/cli_users.py`: users; `ledger/cli_record.py`: record, import, show); the other
packages' commands (projections, audit, web) are entry points of the group
`songjiang_ledger.commands` declared in pyproject.toml (see `ledger.cli_plugins`). What they
share (opening the store, who acts, errors, `--json`) is in `ledger.cli_support`, which no
command module needs `ledger.cli` for.

Every subcommand has `--help`. Amounts are shown as yuan with two decimals; `--json` output
gives them in fen. The store is chosen by `LEDGER_DATABASE_URL` (default: var/ledger.sqlite3).
"""

from __future__ import annotations

import click

from ledger import cli_record, cli_setup, cli_sheets, cli_users
from ledger.cli_plugins import plugin_commands
from ledger.cli_support import LedgerGroup, as_option

#: The modules of the ledger's own commands, each with a `commands` list.
OWN_COMMAND_MODULES = (cli_setup, cli_users, cli_record, cli_sheets)


@click.group(cls=LedgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--database-url",
    envvar="LEDGER_DATABASE_URL",
    metavar="URL",
    help="sqlite:///path or postgresql://user@host:port/db (default var/ledger.sqlite3).",
)
@as_option
@click.version_option(package_name="songjiang-ledger")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, actor: str | None) -> None:
    """Songjiang support ledger 松江区质量标准与知识产权扶持台账.

    Records budgets, awards, payments, corrections, patent transfers and IP financing under the
    district's 2025 policy as immutable events, and answers what was paid and what it bought.
    """
    ctx.ensure_object(dict).update(database_url=database_url, actor=actor)


def assemble(group: click.Group) -> click.Group:
    """Add the ledger's own commands, then every installed package's, to the group."""
    for module in OWN_COMMAND_MODULES:
        for command in module.commands:
            group.add_command(command)
    for command in plugin_commands():
        group.add_command(command)
    return group


def main() -> None:
    """Entry point of the `ledger` console script."""
    cli(prog_name="ledger", auto_envvar_prefix=None)


assemble(cli)
