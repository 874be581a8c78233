"""What every `ledger` subcommand shares, wherever it lives (ledger, projections, audit, web).

The packages' command modules import this module, never `ledger.cli` (which assembles the
group and loads them): so no package imports the command line back, and each command module
can be imported on its own (tests/cli/test_cli_groups_import.py checks it).
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from ledger.application import SupportLedger
    from ledger.errors import LedgerError


def open_app(ctx: click.Context, *, create: bool = False) -> SupportLedger:
    """The ledger application, opened once per invocation (closed when the command ends).

    Only `ledger init` passes `create`: every other command refuses a store that does not
    exist (exit 2, a bilingual message) and creates nothing.
    """
    obj = ctx.ensure_object(dict)
    if "app" not in obj:
        from ledger.storage import StoreError, open_ledger

        try:
            obj["app"] = open_ledger(obj.get("database_url"), create=create)
        except StoreError as exc:
            raise click.UsageError(str(exc)) from None
        ctx.call_on_close(obj["app"].close)
    app: SupportLedger = obj["app"]
    return app


def resolve_actor(ctx: click.Context, actor: str | None) -> str | None:
    """Who acts: the subcommand's --as, else the group's `ledger --as`, else LEDGER_ACTOR.

    An explicit --as wins over the environment wherever it stands on the command line.
    """
    return actor or ctx.ensure_object(dict).get("actor") or os.environ.get("LEDGER_ACTOR") or None


def require_actor(ctx: click.Context, actor: str | None) -> str:
    """Who acts (see `resolve_actor`); a usage error when nobody is named."""
    actor = resolve_actor(ctx, actor)
    if not actor:
        raise click.UsageError("say who acts: --as NAME or LEDGER_ACTOR=NAME")
    return actor


def echo_error(error: LedgerError, as_json: bool) -> None:
    """The error as a JSON object on standard output, or in Chinese and English on standard
    error."""
    if as_json:
        click.echo(json.dumps({"error": error.to_dict()}, ensure_ascii=False))
    else:
        click.echo(f"error [{error.code}]: {error.message_zh}\n  {error.message_en}", err=True)


def fail(error: LedgerError, as_json: bool) -> NoReturn:
    """Report the error (see `echo_error`) and exit with status 1."""
    echo_error(error, as_json)
    sys.exit(1)


def dump(data: Any) -> None:
    """Print data as indented JSON (amounts stay in fen)."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


#: No envvar here: LEDGER_ACTOR is read last, by `resolve_actor`, so that it never overrides
#: an explicit `ledger --as NAME` given before the subcommand.
as_option = click.option(
    "--as", "actor", metavar="NAME", help="Act as this user (else LEDGER_ACTOR)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (amounts in fen).")


class LedgerGroup(click.Group):
    """The `ledger` group: a store that needs its owner is an error message, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from ledger.schema import OwnerRequired

        try:
            return super().invoke(ctx)
        except OwnerRequired as error:
            echo_error(error, as_json=False)
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
