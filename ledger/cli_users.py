"""`ledger users …`: register users, grant and revoke roles, tokens, passwords, rotation."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from ledger.cli_support import (
    as_option,
    dump,
    fail,
    json_option,
    open_app,
    require_actor,
    resolve_actor,
)
from ledger.errors import LedgerError
from ledger.labels import label


@click.group()
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
    acting = resolve_actor(ctx, actor) or ("" if not app.has_users() else require_actor(ctx, None))
    try:
        check_name(name)
        password = _read_password(name, password_stdin, ask_password)
        if password is not None:
            check_password_policy(name, password)  # before anything is recorded
        token = app.register_user(name, list(roles), actor=acting, expires_days=expires_days)
        if password is not None:
            app.set_password(name, password, actor=acting or name)
    except LedgerError as error:
        fail(error, as_json)
    if as_json:
        dump({"name": name, "roles": sorted(set(roles)), "token": token,
               "password_set": password is not None})  # fmt: skip
    else:
        click.echo(f"已登记 / registered {name}（{_roles(roles)}）")
        click.echo(f"API token (shown once, keep it safe): {token}")


@users.command("grant")
@click.argument("name")
@click.argument("role")
@as_option
@click.pass_context
def users_grant(ctx: click.Context, name: str, role: str, actor: str | None) -> None:
    """Grant ROLE to user NAME (needs admin)."""
    _change_role(ctx, name, role, actor, grant=True)


@users.command("revoke")
@click.argument("name")
@click.argument("role")
@as_option
@click.pass_context
def users_revoke(ctx: click.Context, name: str, role: str, actor: str | None) -> None:
    """Revoke ROLE from user NAME (needs admin)."""
    _change_role(ctx, name, role, actor, grant=False)


def _change_role(ctx: click.Context, name: str, role: str, actor: str | None, grant: bool) -> None:
    app = open_app(ctx)
    try:
        change = app.grant_role if grant else app.revoke_role
        change(name, role, actor=require_actor(ctx, actor))
    except LedgerError as error:
        fail(error, False)
    role_text = label("role", role).both()
    click.echo(f"{name} 已获授 / now holds {role_text}" if grant
               else f"{name} 已不再担任 / no longer holds {role_text}")  # fmt: skip


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
        token = open_app(ctx).issue_token(name, actor=require_actor(ctx, actor), expires_days=expires_days)
    except LedgerError as error:
        fail(error, as_json)
    if as_json:
        from ledger.users import parse_token

        dump({"name": name, "token": token, "token_id": parse_token(token)})
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
        open_app(ctx).revoke_token(name, token_id, actor=require_actor(ctx, actor))
    except LedgerError as error:
        fail(error, False)
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
    acting = require_actor(ctx, actor)
    password = _read_password(name, password_stdin, prompt=True)
    try:
        open_app(ctx).set_password(name, password or "", actor=acting)
    except LedgerError as error:
        fail(error, False)
    click.echo(f"password set for {name} 密码已设置")


@users.command("list")
@json_option
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """Every user: roles, tokens (id, expiry, revoked), whether a password is set. No secrets."""
    listed = open_app(ctx).users.list_users()
    if as_json:
        dump({"users": listed})
        return
    for user in listed:
        password = "yes 是" if user["password_set"] else "no 否"
        flag = "  (rotate 需轮换)" if user["needs_rotation"] else ""
        click.echo(f"{user['name']}  角色 / roles {_roles(user['roles'])}  "
                   f"密码 / password {password}{flag}")  # fmt: skip
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
        rotated = open_app(ctx).users.rotate(require_actor(ctx, actor), expires_days=expires_days)
    except LedgerError as error:
        fail(error, as_json)
    if as_json:
        dump({"users": rotated})
        return
    click.echo("new credentials (shown once) 新凭据（仅显示一次）:")
    for row in rotated:
        click.echo(f"{row['name']}\n    password 密码: {row['password']}\n    token 令牌: {row['token']}"
                   f"\n    revoked 已撤销: {', '.join(row['revoked']) or '—'}")



#: The commands this module adds to `ledger` (assembled in ledger/cli.py).
commands = [users]


def _roles(roles: Any) -> str:
    """Roles as people read them: "审计人员 / Auditor, 查阅人员 / Viewer"."""
    return ", ".join(label("role", r).both() for r in sorted(set(roles)))
