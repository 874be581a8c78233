"""The `ledger` command's wiring: every command module loads on its own, in a fresh interpreter,
without `ledger.cli` and without the packages it must not depend on (no import cycle at run
time); the entry points pyproject.toml declares are the installed ones; `ledger --help` lists
every command.

After changing the entry points in pyproject.toml, reinstall: `.venv/bin/pip install -e .`
(scripts/test does it when pyproject.toml is newer than .venv/.installed).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from ledger.cli_plugins import COMMANDS_GROUP, TABLES_GROUP

ROOT = Path(__file__).resolve().parents[2]

#: The packages each package must not import (the layering ledger ← projections ← audit ← web).
FORBIDDEN = {
    "ledger": ("projections", "audit", "web"),
    "projections": ("audit", "web"),
    "audit": ("web",),
    "web": (),
}

#: The ledger's own command modules (assembled in ledger/cli.py, not entry points).
OWN_MODULES = ("ledger.cli_setup", "ledger.cli_users", "ledger.cli_record", "ledger.cli_sheets")

#: Every command of `ledger`: the public vocabulary of the command line.
EVERY_COMMAND = {
    "init", "catalogue", "demo", "users", "record", "import", "show",  # ledger
    "template",  # ledger (issue 9)
    "project", "worker", "balances", "metrics", "trail",  # projections
    "audit",  # audit
    "serve",  # web
}  # fmt: skip

_LOAD = """
import importlib, json, sys
from importlib.metadata import entry_points
group, name = sys.argv[1:]
if group:
    loaded = entry_points(group=group)[name].load()
else:  # one of the ledger's own command modules
    loaded = importlib.import_module(name).commands
import click
if isinstance(loaded, click.Command):
    loaded = [loaded]
print(json.dumps({
    "modules": sorted(sys.modules),
    "commands": [c.name for c in loaded if isinstance(c, click.Command)]
    if isinstance(loaded, list) else [],
    "not_commands": [repr(c) for c in loaded if not isinstance(c, click.Command)]
    if isinstance(loaded, list) else [],
    "callable": callable(loaded),
}))
"""


def _load_alone(group: str, name: str) -> dict:
    """Load one entry point (or one module's `commands`) in a fresh interpreter: which modules
    that imports, and what it holds."""
    done = subprocess.run(
        [sys.executable, "-c", _LOAD, group, name],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _declared(group: str) -> dict[str, str]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle)["project"]
    return dict(project["entry-points"][group])


def _packages(modules: list[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


@pytest.mark.parametrize("group", [COMMANDS_GROUP, TABLES_GROUP])
def test_the_installed_entry_points_are_those_pyproject_declares(group: str) -> None:
    installed = {point.name: point.value for point in entry_points(group=group)}
    assert installed == _declared(group), "reinstall: .venv/bin/pip install -e ."


@pytest.mark.parametrize(
    ("group", "name"),
    [(COMMANDS_GROUP, name) for name in ("projections", "audit", "web")]
    + [(TABLES_GROUP, name) for name in ("projections", "audit", "web")],
)
def test_each_entry_point_loads_alone_without_ledger_cli_or_what_its_package_must_not_use(
    group: str, name: str
) -> None:
    value = _declared(group)[name]
    module, package = value.split(":")[0], value.split(".")[0]
    loaded = _load_alone(group, name)
    assert module in loaded["modules"]
    assert "ledger.cli" not in loaded["modules"], f"{value} imports ledger.cli back"
    assert not _packages(loaded["modules"]) & set(FORBIDDEN[package]), (value, FORBIDDEN[package])
    if group == COMMANDS_GROUP:  # a list of click commands, none of them something else
        assert loaded["commands"] and not loaded["not_commands"], loaded
    else:
        assert loaded["callable"], loaded


@pytest.mark.parametrize("module", OWN_MODULES)
def test_the_ledgers_own_command_modules_load_alone_and_only_from_the_ledger(module: str) -> None:
    loaded = _load_alone("", module)
    assert "ledger.cli" not in loaded["modules"]
    assert not _packages(loaded["modules"]) & set(FORBIDDEN["ledger"])
    assert loaded["commands"] and not loaded["not_commands"], loaded


def test_ledger_cli_loads_every_package_through_its_entry_points_only() -> None:
    """`ledger.cli` itself imports the other packages only through the entry points: with the
    plugin loading switched off, none of them is imported."""
    done = subprocess.run(
        [sys.executable, "-c",
         "import sys; import ledger.cli_plugins as p; p.plugin_commands = lambda: []; "
         "import ledger.cli; print('\\n'.join(sorted(sys.modules)))"],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not _packages(done.stdout.split()) & set(FORBIDDEN["ledger"])


def test_ledger_help_lists_every_command() -> None:
    script = Path(sys.executable).with_name("ledger")
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = done.stdout.split("Commands:", 1)[1].split()
    listed_names = {word for word in listed if word in EVERY_COMMAND}
    assert listed_names == EVERY_COMMAND
    for name in sorted(EVERY_COMMAND):
        assert f"\n  {name} " in done.stdout, name
