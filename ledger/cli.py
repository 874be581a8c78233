"""The `ledger` command line: set up the store, manage users, record, import, show, demo.

Every subcommand has `--help`. Amounts are shown as yuan with two decimals; `--json` output
gives them in fen. The store is chosen by `LEDGER_DATABASE_URL` (default: var/ledger.sqlite3).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from ledger.cli_plugins import LedgerGroup, add_plugins, create_tables
from ledger.errors import (
    LedgerError,
    NoBudget,
    UnknownAward,
    UnknownEnterprise,
    UnknownFinancing,
    UnknownTransfer,
)
from ledger.money import format_yuan


def open_app(ctx: click.Context, *, create: bool = False):  # type: ignore[no-untyped-def]
    """The ledger application, opened once per invocation.

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
    return obj["app"]


def _resolve_actor(ctx: click.Context, actor: str | None) -> str | None:
    """Who acts: the subcommand's --as, else the group's `ledger --as`, else LEDGER_ACTOR.

    An explicit --as wins over the environment wherever it stands on the command line.
    """
    return actor or ctx.ensure_object(dict).get("actor") or os.environ.get("LEDGER_ACTOR") or None


def _actor(ctx: click.Context, actor: str | None) -> str:
    actor = _resolve_actor(ctx, actor)
    if not actor:
        raise click.UsageError("say who acts: --as NAME or LEDGER_ACTOR=NAME")
    return actor


def _fail(error: LedgerError, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"error": error.to_dict()}, ensure_ascii=False))
    else:
        click.echo(f"error [{error.code}]: {error.message_zh}\n  {error.message_en}", err=True)
    sys.exit(1)


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


#: No envvar here: LEDGER_ACTOR is read last, by `_resolve_actor`, so that it never overrides
#: an explicit `ledger --as NAME` given before the subcommand.
as_option = click.option(
    "--as", "actor", metavar="NAME", help="Act as this user (else LEDGER_ACTOR)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (amounts in fen).")


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


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the store and every table (run it as the store's owner), and define the policy's
    13 measures from the catalogue."""
    app = open_app(ctx, create=True)
    create_tables(app)  # the views', the audit's, the web's, the credentials (ledger/cli_plugins.py)
    defined = app.define_measures()
    click.echo(f"store ready at {app.store.url}; {defined} measure(s) defined or updated")
    stale = app.users.needing_rotation()
    if stale:
        click.echo(
            f"警告：本存储的事件日志中留有旧版的密码或令牌哈希（{len(stale)} 个用户）。所有密码和令牌"
            "都必须轮换：请运行 `ledger --as 管理员 users rotate`。\n"
            f"WARNING: this store's event log holds password or token hashes from before they "
            f"left the log ({len(stale)} user(s)). Every password and token must be rotated: "
            "run `ledger --as ADMIN users rotate`.",
            err=True,
        )


@cli.command()
@json_option
def catalogue(as_json: bool) -> None:
    """Print the policy catalogue: measures, support items, maxima, the annual cap."""
    from ledger.catalogue import load_catalogue

    cat = load_catalogue()
    if as_json:
        _dump(cat.to_json_dict())
        return
    click.echo(f"{cat.title_zh} ({cat.policy_ref})")
    click.echo(f"annual cap per enterprise 企业年度上限: {format_yuan(cat.annual_cap_fen)} yuan")
    for measure in cat.measures:
        click.echo(f"\n{measure.code} [{measure.pillar}] {measure.title_zh} — {measure.title_en}")
        for item in measure.items:
            ceiling = "no fixed maximum" if item.max_fen is None else f"≤ {format_yuan(item.max_fen)}"
            cap = "" if item.counts_towards_cap else " (outside the annual cap 不计入上限)"
            click.echo(f"  {item.code:<40} {item.kind:<17} {ceiling}{cap}")
            click.echo(f"      {item.title_zh} — {item.title_en}")


# -- users ------------------------------------------------------------------------------------


@cli.group()
def users() -> None:
    """Register users, grant and revoke roles, issue and revoke tokens, set passwords, rotate.

    Passwords are read from a prompt, from one line of standard input (--password-stdin) or
    from LEDGER_NEW_PASSWORD, never from the command line. A password has at least 10
    characters and is not (and does not contain) the user's name.
    """


expires_option = click.option(
    "--expires-days", default=365, show_default=True, type=click.IntRange(1, 3650),
    help="Days until the token expires.",
)  # fmt: skip
password_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="Read the password from one line of standard input."
)


def _read_password(name: str, from_stdin: bool, prompt: bool) -> str | None:
    """The new password of NAME from LEDGER_NEW_PASSWORD, standard input or a prompt."""
    from_env = os.environ.get("LEDGER_NEW_PASSWORD")
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if from_env:
        return from_env
    if prompt:
        return click.prompt(f"new password for {name} 新密码", hide_input=True,
                            confirmation_prompt=True, err=True)  # fmt: skip
    return None


def _token_row(token: dict[str, Any]) -> str:
    state = ("legacy, unusable 旧版已失效" if token.get("legacy") else
             f"revoked 已撤销 {token['revoked_at']}" if token["revoked_at"] else
             "usable 可用" if token["usable"] else "expired 已过期")  # fmt: skip
    return f"    token {token['token_id']}  expires {token['expires_at'] or '—'}  {state}"


@users.command("add")
@click.argument("name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(["viewer", "auditor", "officer", "approver", "admin"]),
    help="A role to grant (repeat for several).",
)
@click.option("--password", "ask_password", is_flag=True,
              help="Also set a web sign-in password, asked at a prompt (or LEDGER_NEW_PASSWORD).")
@password_stdin_option
@expires_option
@as_option
@json_option
@click.pass_context
def users_add(
    ctx: click.Context, name: str, roles: tuple[str, ...], ask_password: bool,
    password_stdin: bool, expires_days: int, actor: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Register user NAME with roles and print an API token, shown only this once.

    The first user of an empty store needs no --as; after that an admin must act.
    """
    from ledger.users import check_name, check_password_policy

    app = open_app(ctx)
    acting = _resolve_actor(ctx, actor) or ("" if not app.has_users() else _actor(ctx, None))
    try:
        check_name(name)
        password = _read_password(name, password_stdin, ask_password)
        if password is not None:
            check_password_policy(name, password)  # before anything is recorded
        token = app.register_user(name, list(roles), actor=acting, expires_days=expires_days)
        if password is not None:
            app.set_password(name, password, actor=acting or name)
    except LedgerError as error:
        _fail(error, as_json)
    if as_json:
        _dump({"name": name, "roles": sorted(set(roles)), "token": token,
               "password_set": password is not None})  # fmt: skip
    else:
        click.echo(f"registered {name} ({', '.join(sorted(set(roles)))})")
        click.echo(f"API token (shown once, keep it safe): {token}")


@users.command("grant")
@click.argument("name")
@click.argument("role")
@as_option
@click.pass_context
def users_grant(ctx: click.Context, name: str, role: str, actor: str | None) -> None:
    """Grant ROLE to user NAME (needs admin)."""
    try:
        open_app(ctx).grant_role(name, role, actor=_actor(ctx, actor))
    except LedgerError as error:
        _fail(error, False)
    click.echo(f"{name} now holds {role}")


@users.command("revoke")
@click.argument("name")
@click.argument("role")
@as_option
@click.pass_context
def users_revoke(ctx: click.Context, name: str, role: str, actor: str | None) -> None:
    """Revoke ROLE from user NAME (needs admin)."""
    try:
        open_app(ctx).revoke_role(name, role, actor=_actor(ctx, actor))
    except LedgerError as error:
        _fail(error, False)
    click.echo(f"{name} no longer holds {role}")


@users.command("token")
@click.argument("name")
@expires_option
@as_option
@json_option
@click.pass_context
def users_token(
    ctx: click.Context, name: str, expires_days: int, actor: str | None, as_json: bool
) -> None:
    """Issue another API token for NAME (needs admin, or NAME itself); printed only once."""
    try:
        token = open_app(ctx).issue_token(name, actor=_actor(ctx, actor), expires_days=expires_days)
    except LedgerError as error:
        _fail(error, as_json)
    if as_json:
        from ledger.users import parse_token

        _dump({"name": name, "token": token, "token_id": parse_token(token)})
    else:
        click.echo(token)


@users.command("revoke-token")
@click.argument("name")
@click.argument("token_id")
@as_option
@click.pass_context
def users_revoke_token(ctx: click.Context, name: str, token_id: str, actor: str | None) -> None:
    """Revoke the token TOKEN_ID of NAME (needs admin, or NAME itself)."""
    try:
        open_app(ctx).revoke_token(name, token_id, actor=_actor(ctx, actor))
    except LedgerError as error:
        _fail(error, False)
    click.echo(f"token {token_id} of {name} revoked 令牌已撤销")


@users.command("password")
@click.argument("name")
@password_stdin_option
@as_option
@click.pass_context
def users_password(ctx: click.Context, name: str, password_stdin: bool, actor: str | None) -> None:
    """Set the web sign-in password of NAME (needs admin, or NAME itself).

    The password is asked at a prompt (twice), or read from one line of standard input with
    --password-stdin, or taken from LEDGER_NEW_PASSWORD.
    """
    acting = _actor(ctx, actor)
    password = _read_password(name, password_stdin, prompt=True)
    try:
        open_app(ctx).set_password(name, password or "", actor=acting)
    except LedgerError as error:
        _fail(error, False)
    click.echo(f"password set for {name} 密码已设置")


@users.command("list")
@json_option
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """Every user: roles, tokens (id, expiry, revoked), whether a password is set. No secrets."""
    listed = open_app(ctx).users.list_users()
    if as_json:
        _dump({"users": listed})
        return
    for user in listed:
        password = "yes 是" if user["password_set"] else "no 否"
        flag = "  (rotate 需轮换)" if user["needs_rotation"] else ""
        click.echo(f"{user['name']}  roles {', '.join(user['roles'])}  password {password}{flag}")
        for token in user["tokens"]:
            click.echo(_token_row(token))


@users.command("rotate")
@expires_option
@as_option
@json_option
@click.pass_context
def users_rotate(ctx: click.Context, expires_days: int, actor: str | None, as_json: bool) -> None:
    """Revoke every token in use and give every user a fresh token and a new random password
    (needs admin). The new tokens and passwords are printed only this once: hand them over.
    """
    try:
        rotated = open_app(ctx).users.rotate(_actor(ctx, actor), expires_days=expires_days)
    except LedgerError as error:
        _fail(error, as_json)
    if as_json:
        _dump({"users": rotated})
        return
    click.echo("new credentials (shown once) 新凭据（仅显示一次）:")
    for row in rotated:
        click.echo(f"{row['name']}\n    password 密码: {row['password']}\n    token 令牌: {row['token']}"
                   f"\n    revoked 已撤销: {', '.join(row['revoked']) or '—'}")

# -- recording --------------------------------------------------------------------------------


@cli.command()
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
        actor = _resolve_actor(ctx, actor)
        if isinstance(data, dict) and "actor" in data and not actor:
            actor = data.pop("actor")
            if not isinstance(actor, str):
                raise invalid_input("actor: must be a user name (text)")
    except LedgerError as error:
        _fail(error, as_json)
    try:
        outcome = open_app(ctx).execute(data, actor=_actor(ctx, actor))
    except LedgerError as error:
        _fail(error, as_json)
    if as_json:
        _dump(outcome.to_dict())
    elif outcome.status == "duplicate":
        click.echo(f"duplicate: {outcome.command_type} {outcome.key} was already recorded")
    else:
        click.echo(f"recorded {outcome.command_type} {outcome.key} at position {outcome.position}")


@cli.command("import")
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
        if as_json:
            click.echo(json.dumps({"error": error.to_dict()}, ensure_ascii=False))
        else:
            click.echo(f"error [{error.code}]: {error.message_zh}\n  {error.message_en}", err=True)
        sys.exit(2)
    acting = _resolve_actor(ctx, actor)

    def progress(report: Any, elapsed_s: float) -> None:
        rate = report.lines / elapsed_s if elapsed_s > 0 else 0.0
        click.echo(
            f"\r{report.lines} lines: {report.accepted} recorded, {report.duplicates} duplicates, "
            f"{len(report.rejected)} rejected ({rate:,.0f} lines/s)",
            err=True,
            nl=False,
        )

    with stream:
        report = import_lines(
            open_app(ctx),
            read_lines(stream, fmt, command_type),
            default_actor=acting,
            dry_run=dry_run,
            batch_size=batch_size,
            progress=progress,
        )
    click.echo("", err=True)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        verb = "would record" if dry_run else "recorded"
        click.echo(
            f"{verb} {report.accepted}, duplicates {report.duplicates}, "
            f"rejected {len(report.rejected)}"
        )
        for rejection in report.rejected:
            click.echo(f"  line {rejection.line}: [{rejection.code}] {rejection.message}")
    sys.exit(1 if report.rejected else 0)


# -- showing current state --------------------------------------------------------------------


@cli.group()
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
        _fail(_NOT_FOUND[what](f"no such {what}", message_zh=f"{_NOT_FOUND[what].title_zh}"), as_json)
    if as_json:
        _dump(data)
        return
    for name, value in data.items():
        if name.endswith("_fen") and isinstance(value, int):
            click.echo(f"{name[:-4] + ' (yuan)':<32} {format_yuan(value)}")
        elif isinstance(value, dict):
            click.echo(f"{name:<32}")
            for key, sub in value.items():
                shown = format_yuan(sub) if name.endswith("_by_year") else sub
                click.echo(f"  {key:<30} {shown}")
        else:
            click.echo(f"{name:<32} {value}")


@show.command("award")
@click.argument("reference")
@json_option
@click.pass_context
def show_award(ctx: click.Context, reference: str, as_json: bool) -> None:
    """The award with this reference: granted, revoked, paid, pending, reversed, clawbacks."""
    from ledger.current_state import award_state

    _show(award_state(open_app(ctx), reference), "award", as_json)


@show.command("budget")
@click.argument("measure")
@click.argument("fiscal_year", type=int)
@json_option
@click.pass_context
def show_budget(ctx: click.Context, measure: str, fiscal_year: int, as_json: bool) -> None:
    """The budget of MEASURE in FISCAL_YEAR: appropriated, committed, released, remaining."""
    from ledger.current_state import budget_state

    _show(budget_state(open_app(ctx), measure, fiscal_year), "budget", as_json)


@show.command("enterprise")
@click.argument("uscc")
@json_option
@click.pass_context
def show_enterprise(ctx: click.Context, uscc: str, as_json: bool) -> None:
    """The enterprise with this credit code and the support committed to it per year."""
    from ledger.current_state import enterprise_state

    _show(enterprise_state(open_app(ctx), uscc), "enterprise", as_json)


@show.command("transfer")
@click.argument("reference")
@json_option
@click.pass_context
def show_transfer(ctx: click.Context, reference: str, as_json: bool) -> None:
    """The patent transfer with this reference and its outcomes."""
    from ledger.current_state import transfer_state

    _show(transfer_state(open_app(ctx), reference), "transfer", as_json)


@show.command("financing")
@click.argument("reference")
@json_option
@click.pass_context
def show_financing(ctx: click.Context, reference: str, as_json: bool) -> None:
    """The financing with this reference: principal, drawn, repaid, default."""
    from ledger.current_state import financing_state

    _show(financing_state(open_app(ctx), reference), "financing", as_json)


# -- demo -------------------------------------------------------------------------------------


@cli.command()
@click.option("--seed", default=2025, show_default=True, help="Seed of the deterministic year.")
@click.option("--fiscal-year", default=2025, show_default=True, help="The demo's fiscal year.")
@click.option("--password", default=None, show_default="songjiang-demo",
              help="Web password of the demo users (at least 10 characters).")
@click.pass_context
def demo(ctx: click.Context, seed: int, fiscal_year: int, password: str | None) -> None:
    """Load a deterministic, realistic demo year (about 300 enterprises, 2,000 awards).

    Safe to run twice: the second run records nothing new.
    """
    from ledger.demo import DEMO_PASSWORD, load_demo

    password = DEMO_PASSWORD if password is None else password
    app = open_app(ctx)
    try:
        summary = load_demo(
            app, seed=seed, fiscal_year=fiscal_year, password=password,
            progress=lambda text: click.echo(text, err=True),
        )  # fmt: skip
    except LedgerError as error:
        _fail(error, False)
    click.echo(summary.text())


def main() -> None:
    """Entry point of the `ledger` console script."""
    cli(prog_name="ledger", auto_envvar_prefix=None)


add_plugins(cli)
