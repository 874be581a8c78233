"""The `ledger` command's plugins: commands and table creators the other packages declare.

`ledger` (the write side) must not depend on the read side, the audit or the web. Those
packages declare what they add in pyproject.toml, as entry points (the way Flask finds
`flask.commands`), and this module finds them with `importlib.metadata`:

- `songjiang_ledger.commands`: a click command, or a list of them, added to the `ledger`
  group (e.g. ``projections = "projections.cli:commands"``);
- `songjiang_ledger.tables`: a function of the ledger application that creates the package's
  tables in the store where they are missing (e.g. ``audit = "audit.db:create_tables"``).

`ledger init`, run by the owner of the store, calls every table creator (the ledger's own,
the credentials table, first), so that every other command can run as the least-privilege role
of ``scripts/create_app_role.sql``. A creator sends no DDL when its tables exist, and raises
`ledger.schema.OwnerRequired` when they do not and this database user may not create them; the
`ledger` group reports that error in Chinese and English with exit status 2.

After changing the entry points, reinstall the project (`.venv/bin/pip install -e .`; scripts/test
does it when pyproject.toml is newer than .venv/.installed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ledger.application import SupportLedger

#: The entry-point group of the commands the packages add to `ledger`.
COMMANDS_GROUP = "songjiang_ledger.commands"
#: The entry-point group of the functions that create the packages' tables (`ledger init`).
TABLES_GROUP = "songjiang_ledger.tables"

TableCreator = Callable[["SupportLedger"], Any]


def _declared(group: str) -> list[EntryPoint]:
    """The entry points of this group, in a stable order (by name)."""
    return sorted(entry_points(group=group), key=lambda point: point.name)


def plugin_commands() -> list[click.Command]:
    """Every command the installed packages declare for the `ledger` group."""
    found: list[click.Command] = []
    for point in _declared(COMMANDS_GROUP):
        loaded = point.load()
        found.extend([loaded] if isinstance(loaded, click.Command) else _commands(point, loaded))
    return found


def _commands(point: EntryPoint, loaded: Iterable[Any]) -> list[click.Command]:
    commands = list(loaded)
    for command in commands:
        if not isinstance(command, click.Command):
            raise TypeError(f"entry point {point.name} = {point.value!r} holds {command!r}, "
                            "not a click command")  # fmt: skip
    return commands


def table_creators() -> list[tuple[str, TableCreator]]:
    """(module.function, function) of the ledger's own table creator and every declared one."""
    from ledger.credentials import create_credentials_table

    def credentials(app: SupportLedger) -> Any:
        return create_credentials_table(app.store)

    found: list[tuple[str, TableCreator]] = [
        ("ledger.credentials.create_credentials_table", credentials)
    ]
    for point in _declared(TABLES_GROUP):
        found.append((f"{point.module}.{point.attr}", point.load()))
    return found


def create_tables(app: SupportLedger) -> list[str]:
    """Create every package's tables that are missing (none, when they all exist); returns
    the names of the creators called. Raises `ledger.schema.OwnerRequired` for a user that
    may not create what is missing."""
    called = []
    for name, create in table_creators():
        create(app)
        called.append(name)
    return called
