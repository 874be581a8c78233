"""The composition root of the CLI: subcommands that live beside their own packages.

`ledger` (the write side) must not depend on the read side, the audit or the web; only this
module, the CLI's wiring, reaches out to them, and only if they are installed.
"""

from __future__ import annotations

import importlib

import click

#: (module, attribute) of each click command or group added to `ledger`.
PLUGINS = (
    ("projections.cli", "commands"),
    ("audit.cli", "commands"),
    ("web.cli", "commands"),
)


def add_plugins(cli: click.Group) -> None:
    """Add the commands of every installed plugin package to the `ledger` group."""
    for module_name, attribute in PLUGINS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # that package is not there (yet)
            raise
        for command in getattr(module, attribute):
            cli.add_command(command)

