"""``ledger witness …``: run a witness of the ledger's log (c2sp.org/tlog-witness).

What an oversight department (人大, 政协, 纪委监委, 审计) runs on its own machine, with its own key
and state: ``init`` makes them and prints the witness's verifier key (give it to the log's
operator for ``ledger audit witnesses add``); ``add-log`` trusts a log's verifier key; ``serve``
answers ``add-checkpoint`` over HTTP. None of these opens the ledger's store.
"""

from __future__ import annotations

import errno
import json
import sys

import click

_STATE = click.option(
    "--state", "state_path", metavar="DIR", envvar="LEDGER_WITNESS_STATE",
    help="The witness's state directory [default: LEDGER_WITNESS_STATE, else var/witness].",
)  # fmt: skip


def _fail(code: str, zh: str, en: str) -> None:
    click.echo(f"error [{code}]: {zh}\n  {en}", err=True)
    sys.exit(2)


def _open(state_path: str | None):  # -> WitnessState
    from audit.witness.state import WitnessState, WitnessStateError

    try:
        return WitnessState(state_path)
    except WitnessStateError as exc:
        _fail("no_witness", "此目录中没有见证人；请先运行 `ledger witness init --name 名称`。", str(exc))


@click.group("witness")
def witness() -> None:
    """A witness that cosigns the log's checkpoints 见证人：为日志检查点联署."""


@witness.command()
@click.option("--name", required=True, metavar="NAME",
              help="The witness's key name, a schema-less URL such as audit.songjiang.gov.cn/w1.")  # fmt: skip
@_STATE
def init(name: str, state_path: str | None) -> None:
    """Create the witness's Ed25519 key and SQLite state; print its verifier key."""
    from audit.note import NoteError
    from audit.witness.state import WitnessStateError, init_state

    try:
        state = init_state(name, state_path)
    except NoteError:
        _fail("bad_key_name", "名称不能为空，也不能含空白或加号。",
              f"invalid witness name {name!r}: no spaces or '+'")  # fmt: skip
    except WitnessStateError as exc:
        _fail("witness_exists", "此目录已有见证人，未作更改。", str(exc))
    click.echo(f"见证人 witness: {state.name}  (state 状态目录 {state.directory})")
    click.echo("verifier key 验证公钥 (give it to the log's operator 交给日志运营方):")
    click.echo(state.signer.vkey())


@witness.command("vkey")
@_STATE
def vkey(state_path: str | None) -> None:
    """Print the witness's verifier key (cosignature/v1, type 0x04)."""
    click.echo(_open(state_path).signer.vkey())


@witness.command("add-log")
@click.option("--vkey", "log_vkey", required=True, metavar="VKEY",
              help="The log's verifier key, as `ledger audit vkey` prints it.")  # fmt: skip
@click.option("--origin", metavar="ORIGIN", help="The log's origin [default: the key's name].")
@_STATE
def add_log(log_vkey: str, origin: str | None, state_path: str | None) -> None:
    """Witness a log: trust its verifier key for its origin."""
    from audit.note import NoteError

    state = _open(state_path)
    try:
        origin = state.add_log(log_vkey, origin)
    except NoteError as exc:
        _fail("bad_vkey", "不是有效的 Ed25519 验证公钥。", f"not an Ed25519 verifier key: {exc}")
    click.echo(f"witnessing 见证日志 {origin}")


@witness.command("logs")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_STATE
def logs(as_json: bool, state_path: str | None) -> None:
    """List the logs witnessed and the latest checkpoint cosigned for each."""
    state = _open(state_path)
    rows = []
    for origin, keys in state.logs().items():
        latest = state.latest(origin)
        rows.append({"origin": origin, "vkeys": keys,
                     "tree_size": None if latest is None else latest.tree_size,
                     "cosigned_at": None if latest is None else latest.cosigned_at})  # fmt: skip
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        size = "尚未联署 none cosigned yet" if row["tree_size"] is None else (
            f"已联署至 cosigned up to {row['tree_size']} 条 entries")
        click.echo(f"{row['origin']}: {size}")


@witness.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8070, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@_STATE
def serve(host: str, port: int, threads: int, state_path: str | None) -> None:
    """Answer POST /add-checkpoint and GET /<origin hash>/checkpoint (tlog-witness)."""
    from audit.witness.server import listen
    from audit.witness.server import serve as do_serve

    state = _open(state_path)
    try:
        listener = listen(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            _fail("port_in_use", f"端口 {port} 已被占用；请用 --port 选择另一个端口。",
                  f"port {port} is already in use; choose another with --port")  # fmt: skip
        _fail("cannot_listen", f"无法在 {host}:{port} 上监听。", f"cannot listen: {exc}")
    click.echo(f"witness {state.name} on http://{host}:{port}/add-checkpoint", err=True)
    do_serve(state, listener, threads)


# -- the log's side: `ledger audit witnesses …` (added to the audit group by audit/cli.py) ------


def _app():  # -> SupportLedger
    from ledger.cli_support import open_app

    return open_app(click.get_current_context())


@click.group("witnesses")
def witnesses() -> None:
    """The witnesses this log submits its checkpoints to 本日志的见证人."""


@witnesses.command("add")
@click.option("--vkey", "witness_vkey", required=True, metavar="VKEY",
              help="The witness's verifier key, as `ledger witness init` printed it.")  # fmt: skip
@click.option("--url", required=True, metavar="URL",
              help="Its submission prefix, e.g. http://witness.renda.example:8070.")  # fmt: skip
@click.option("--name", metavar="NAME", help="Its name (must be the key's name; default: that).")
def witnesses_add(witness_vkey: str, url: str, name: str | None) -> None:
    """Submit every signed checkpoint to this witness (same name again: replaces it)."""
    from audit.witness_client import WitnessConfigError, add_witness

    try:
        added = add_witness(_app(), witness_vkey, url, name)
    except WitnessConfigError as exc:
        zh = "不是有效的见证人验证公钥（cosignature/v1）。" if exc.code == "bad_vkey" else "URL 无效。"
        _fail(exc.code, zh, str(exc))
    click.echo(f"见证人 witness {added.name} → {added.url}")


@witnesses.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def witnesses_list(as_json: bool) -> None:
    """The witnesses, what each cosigned last, and whether the newest checkpoint is published."""
    from audit.witness_client import latest_signed, publication, witnesses

    app = _app()
    configured = witnesses(app)
    stored = latest_signed(app)
    status = None if stored is None else publication(app, stored.checkpoint)
    if as_json:
        click.echo(json.dumps({
            "witnesses": [{"name": w.name, "vkey": w.vkey, "url": w.url} for w in configured],
            "latest_checkpoint": None if stored is None else stored.checkpoint.tree_size,
            "witnessing": status,
        }, ensure_ascii=False, indent=2))  # fmt: skip
        return
    for w in configured:
        mark = "已联署 cosigned" if status and w.name in status["cosigned_by"] else "未联署 not yet"
        click.echo(f"{w.name}  {w.url}  {mark}")
    if status is not None:
        click.echo(_published_text(stored.checkpoint.tree_size, status))


def _published_text(size: int, status: dict) -> str:
    got, needed = len(status["cosigned_by"]), status["quorum"]
    state = "已发布 published" if status["published"] else "未发布 not yet published"
    return f"检查点 checkpoint {size}: {got} 个联署 cosignatures / 法定数 quorum {needed} — {state}"


@witnesses.command("submit")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def witnesses_submit(as_json: bool) -> None:
    """Submit the newest checkpoint now to every witness that has not cosigned it."""
    from audit.witness_client import submit_pending

    outcomes = submit_pending(_app())
    if as_json:
        click.echo(json.dumps([o.as_dict() for o in outcomes], ensure_ascii=False, indent=2))
        return
    names = {"cosigned": "已联署 cosigned", "refused": "被拒绝 refused",
             "unreachable": "无法连接 unreachable"}  # fmt: skip
    for o in outcomes:
        click.echo(f"{o.witness}: {names[o.status]} ({o.tree_size}) {o.detail}")
    if not outcomes:
        click.echo("无需提交 nothing to submit")


@click.command("monitor")
@click.argument("url")
@click.option("--vkey", "log_vkey", required=True, metavar="VKEY",
              help="The log's verifier key (`ledger audit vkey`); its name is the origin.")  # fmt: skip
@click.option("--state", "state_file", required=True, metavar="FILE",
              help="This monitor's state (JSON): the last checkpoint seen, kept between runs.")  # fmt: skip
@click.option("--witness", "witness_vkeys", multiple=True, metavar="VKEY",
              help="A witness's verifier key whose cosignatures count (repeatable).")  # fmt: skip
@click.option("--quorum", type=click.IntRange(min=0), default=None,
              help="Cosignatures needed [default: all the --witness keys given].")  # fmt: skip
@click.option("--recheck", is_flag=True, help="Hash every entry again, not only the new ones.")
@click.option("--compare", "compare_files", multiple=True, metavar="FILE",
              help="Another monitor's state file: report a fork if what it saw does not fit.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def monitor(url: str, log_vkey: str, state_file: str, witness_vkeys: tuple[str, ...],
            quorum: int | None, recheck: bool, compare_files: tuple[str, ...],
            as_json: bool) -> None:  # fmt: skip
    """Check a published log (URL: its /tlog prefix). Exit 0 fine, 1 something wrong, 2 error.

    Checks the checkpoint's signature (and witness cosignatures), that the tiles give its root,
    that it extends the last checkpoint this monitor saw (no truncation, no fork), and hashes
    every new entry against its leaf. The state is saved only when everything holds.
    """
    from audit.monitor import ERROR
    from audit.monitor import monitor as do_monitor
    from audit.note import NoteError
    from audit.witness.cosignature import parse_cosigner_vkey

    try:
        witnesses = [parse_cosigner_vkey(v) for v in witness_vkeys]
    except NoteError as exc:
        _fail("bad_vkey", "见证人验证公钥无效。", f"not a witness verifier key: {exc}")

    def progress(done: int, total: int) -> None:
        if done % 25_600 == 0 or done == total:
            click.echo(f"monitor: {done}/{total} 条目 entries", err=True)

    report = do_monitor(url, log_vkey, state_file, witnesses=witnesses,
                        quorum=len(witnesses) if quorum is None else quorum, recheck=recheck,
                        compare=list(compare_files), progress=progress)  # fmt: skip
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    elif report.exit_code == ERROR:
        click.echo(f"error [monitor_error]: {report.error}", err=True)
    else:
        for finding in report.findings:
            click.echo(finding.text())
        if not report.findings:
            before = "首次 first run" if report.previous_size is None else (
                f"此前 previously {report.previous_size}")
            click.echo(f"日志一致 log consistent: {report.origin} {report.tree_size} 条 entries "
                       f"({before}; 核对 checked {report.entries_checked} 条 entries)")  # fmt: skip
    sys.exit(report.exit_code)


commands = [witness]
