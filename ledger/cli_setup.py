"""`ledger init`, `ledger catalogue` and `ledger demo`: set up the store, print the policy,
load a demo year."""

from __future__ import annotations

import click

from ledger.cli_plugins import create_tables
from ledger.cli_support import dump, fail, json_option, open_app
from ledger.errors import LedgerError
from ledger.labels import label
from ledger.money import format_yuan


@click.command()
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


@click.command()
@json_option
def catalogue(as_json: bool) -> None:
    """Print the policy catalogue: measures, support items, maxima, the annual cap."""
    from ledger.catalogue import load_catalogue

    cat = load_catalogue()
    if as_json:
        dump(cat.to_json_dict())
        return
    click.echo(f"{cat.title_zh} ({cat.policy_ref})")
    click.echo(f"annual cap per enterprise 企业年度上限: {format_yuan(cat.annual_cap_fen)} yuan")
    for measure in cat.measures:
        pillar = label("pillar", measure.pillar)
        click.echo(f"\n{measure.code} [{pillar.both()}] {measure.title_zh} — {measure.title_en}")
        for item in measure.items:
            ceiling = ("无固定上限 / no fixed maximum" if item.max_fen is None
                       else f"最高 / up to {format_yuan(item.max_fen)} 元 / yuan")  # fmt: skip
            cap = "" if item.counts_towards_cap else "，不计入年度上限 / outside the annual cap"
            click.echo(f"  {item.title_zh} — {item.title_en}")
            click.echo(f"      {label('item_kind', item.kind).both()}，{ceiling}{cap}；"
                       f"命令中写作 / in commands: {item.code}")  # fmt: skip


@click.command()
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
        fail(error, False)
    click.echo(summary.text())


#: The commands this module adds to `ledger` (assembled in ledger/cli.py).
commands = [init, catalogue, demo]
