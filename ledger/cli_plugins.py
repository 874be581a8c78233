"""The composition root of the CLI: subcommands that live beside their own packages.

`ledger` (the write side) must not depend on the read side, the audit or the web; only this
module, the CLI's wiring, reaches out to them, and only if they are installed.

Each package that keeps tables in the store also contributes a table creator (see
`TABLE_CREATORS`): `ledger init`, run by the owner of the store, calls them all, so that every
other command can run as the least-privilege role of ``scripts/create_app_role.sql``. A
creator sends no DDL when its tables exist, and raises `ledger.schema.OwnerRequired` when they
do not and this database user may not create them; the `ledger` group reports that error in
Chinese and English with exit status 2.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import click

#: (module, attribute) of each click command or group added to `ledger`.
PLUGINS = (
    ("projections.cli", "commands"),
    ("audit.cli", "commands"),
    ("web.cli", "commands"),
)

#: (module, attribute, argument) of each function that creates a package's tables in the store;
#: the argument is "app" (the ledger application) or "store" (its `ledger.storage.Store`).
#: A module or function that is not there is skipped.
TABLE_CREATORS = (
    ("ledger.credentials", "create_credentials_table", "store"),
    ("projections.recorder", "create_tables", "app"),
    ("audit.db", "create_tables", "app"),
    ("web.cli", "create_tables", "app"),
)


def _import(module_name: str) -> Any:
    """The module, or None when its package is not installed (other import errors raise)."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return None  # that package (or module) is not there (yet)
        raise


def add_plugins(cli: click.Group) -> None:
    """Add the commands of every installed plugin package to the `ledger` group."""
    for module_name, attribute in PLUGINS:
        module = _import(module_name)
        if module is None:
            continue
        for command in getattr(module, attribute):
            cli.add_command(command)


def table_creators() -> list[tuple[str, Callable[[Any], Any], str]]:
    """(name, function, argument) of every table creator that is installed."""
    found = []
    for module_name, attribute, argument in TABLE_CREATORS:
        module = _import(module_name)
        create = getattr(module, attribute, None) if module is not None else None
        if create is not None:
            found.append((f"{module_name}.{attribute}", create, argument))
    return found


def create_tables(app: Any) -> list[str]:
    """Create every package's tables that are missing (none, when they all exist); returns
    the names of the creators called. Raises `ledger.schema.OwnerRequired` for a user that
    may not create what is missing."""
    called = []
    for name, create, argument in table_creators():
        create(app.store if argument == "store" else app)
        called.append(name)
    return called


class LedgerGroup(click.Group):
    """The `ledger` group: a store that needs its owner is an error message, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from ledger.schema import OwnerRequired

        try:
            return super().invoke(ctx)
        except OwnerRequired as error:
            click.echo(f"error [{error.code}]: {error.message_zh}\n  {error.message_en}", err=True)
            ctx.exit(2)
        except Exception as exc:
            denied = _permission_denied(exc)
            if denied is None:
                raise
            click.echo(
                f"error [permission_denied]: 当前数据库用户无权访问（{denied}）："
                "请在 `ledger init` 之后以所有者身份运行 scripts/create_app_role.sql\n"
                f"  this database user may not do this ({denied}): after `ledger init`, run "
                "scripts/create_app_role.sql as the owner to grant the role what it needs",
                err=True,
            )
            ctx.exit(2)


def _permission_denied(exc: BaseException) -> str | None:
    """The server's message when a PostgreSQL privilege check caused this error, else None."""
    try:
        from psycopg.errors import InsufficientPrivilege
    except ImportError:  # no PostgreSQL driver, no privileges
        return None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, InsufficientPrivilege):
            return str(current).strip()
        current = current.__cause__ or current.__context__
    return None
