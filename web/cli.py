"""`ledger serve`: the oversight web under a production WSGI server.

Where processes can fork (Linux, macOS) the default is gunicorn with several worker processes,
each with its own threads, its own connections to the store and its own cache of rendered
bodies, so that rendering (Python, one core per process) uses every core. Elsewhere, or with
`--server waitress`, one waitress process serves with threads.

Unless `--no-follow`, the server also keeps the views current while no `ledger worker` runs
on the store (web/follower.py: one process of the server follows, the others stand by).

The server binds its port itself before starting either WSGI server (and hands the socket
over), so that a port in use is reported plainly, in Chinese and English, with exit status 2.
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
from typing import TYPE_CHECKING, Any, NoReturn

import click

if TYPE_CHECKING:
    from ledger.application import SupportLedger


def default_server() -> str:
    """gunicorn where it runs (it needs fork), else waitress."""
    if not hasattr(os, "fork"):
        return "waitress"
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return "waitress"
    return "gunicorn"


def default_workers() -> int:
    """One process per core but one (the database and the clients need a core; at least one,
    at most 4: reads are short and the store is shared). On two cores that is one process,
    whose group commit then gathers every concurrent request into its batches (two processes
    make batches half as large, whose budgets conflict across the processes and are redone:
    measured 25–40% more CPU per command with `scripts/bench_http.py`)."""
    return max(1, min((os.cpu_count() or 1) - 1, 4))


#: The listening socket's backlog (as gunicorn's default).
BACKLOG = 2048


def bind_listener(host: str, port: int) -> socket.socket:
    """A socket listening on host:port, bound as gunicorn and waitress bind theirs
    (SO_REUSEADDR); raises OSError (errno EADDRINUSE when something else listens there)."""
    family, kind, proto, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":  # on Windows the option would let two servers share the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on host:port (scripts/demo asks before loading)."""
    try:
        bind_listener(host, port).close()
    except OSError as exc:
        return exc.errno == errno.EADDRINUSE
    return False


def _cannot_listen(host: str, port: int, exc: OSError) -> NoReturn:
    """Say why the server cannot listen, in Chinese and English, and exit with status 2."""
    if exc.errno == errno.EADDRINUSE:
        other = port + 1 if port < 65535 else port - 1
        code = "port_in_use"
        zh = (f"端口 {port} 已被占用：{host}:{port} 上已有其他程序在监听。"
              f"请用 --port 选择另一个端口（例如 --port {other}），或先停止占用它的程序。")  # fmt: skip
        en = (f"port {port} is already in use: another program listens on {host}:{port}. "
              f"Choose another port with --port (e.g. --port {other}), or stop that program.")  # fmt: skip
    else:
        reason = exc.strerror or str(exc)
        code = "cannot_listen"
        zh = f"无法在 {host}:{port} 上监听：{reason}。请检查 --host 与 --port。"
        en = f"cannot listen on {host}:{port}: {reason}. Check --host and --port."
    click.echo(f"error [{code}]: {zh}\n  {en}", err=True)
    sys.exit(2)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--server", "server_name", type=click.Choice(["gunicorn", "waitress"]), default=None,
              help="WSGI server [default: gunicorn where processes can fork, else waitress].")  # fmt: skip
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes (gunicorn) [default: one per core but one, 1 to 4].")  # fmt: skip
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 256),
              help="Requests served at once, in all (split between the worker processes).")  # fmt: skip
@click.option("--follow/--no-follow", default=True, show_default=True,
              help="Keep the views current while no `ledger worker` runs on the store (and sign "
                   "a tree head at most every 60 s while the log grows, given a signing key). "
                   "--no-follow leaves the views to `ledger worker` or `ledger project`.")  # fmt: skip
@click.option("--committers", default=1, show_default=True, type=click.IntRange(1, 4),
              help="Group-commit threads per process: 1 gathers every concurrent command of the "
                   "process into one batch at a time; more check batches side by side (smaller, "
                   "and conflicting on hot budgets).")  # fmt: skip
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, server_name: str | None, workers: int | None,
          threads: int, follow: bool, committers: int) -> None:  # fmt: skip
    """Serve the oversight web and the JSON API (/api/v1) until stopped with Ctrl-C.

    \b
    The pages and the API read the views (balances, metrics, trail). While no
    `ledger worker` runs on the store, the server keeps them current itself: a
    command recorded through the API shows within about a second. One process of
    the server follows the log; when a `ledger worker` starts, the server leaves
    the views to it (and takes them back if the worker stops). While following it
    also signs a tree head at most every 60 s (LEDGER_AUDIT_SIGN_INTERVAL_S) while
    the log grows, if the signing key exists (LEDGER_SIGNING_KEY, default
    var/audit-signing-key.pem). With --no-follow the views move only when
    `ledger worker` or `ledger project` moves them.

    \b
    Settings come from LEDGER_* variables: LEDGER_DATABASE_URL, LEDGER_SECRET_KEY
    (keep sessions across restarts), LEDGER_SECURE_COOKIES=1 behind HTTPS,
    LEDGER_READ_DATABASE_URL (a PostgreSQL hot standby the pages and the API read
    from; commands still go to LEDGER_DATABASE_URL).
    A port in use is reported with exit status 2.
    """
    database_url = ctx.ensure_object(dict).get("database_url")
    _check_store(database_url)  # before binding the port: a mistyped store is said first
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    server_name = server_name or default_server()
    workers = workers or default_workers()
    try:
        listener = bind_listener(host, port)  # before anything else: a busy port is said plainly
    except OSError as exc:
        _cannot_listen(host, port, exc)
    click.echo(f"serving the oversight web on http://{host}:{port}/ (API: http://{host}:{port}/api/v1/openapi.json)"
               f" with {server_name}" + (f", {workers} processes" if server_name == "gunicorn" else "")
               + ("; the views follow the log unless a `ledger worker` runs" if follow
                  else "; the views are not followed here (--no-follow)"))  # fmt: skip
    if server_name == "waitress":
        _serve_waitress(ctx, listener, threads, follow, committers)
    else:
        _serve_gunicorn(database_url, listener, workers, threads, follow, committers)


def _check_store(database_url: str | None) -> None:
    """The store exists, opens and has every table (or the command fails here: a missing
    table is an error now, not a 500 on each page); no connection of it crosses a fork."""
    from ledger.cli_plugins import create_tables as ensure_tables
    from ledger.storage import StoreError, open_ledger

    try:
        opened = open_ledger(database_url, create=False)
    except StoreError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        ensure_tables(opened)
    finally:
        opened.close()
    _check_replica()


def _check_replica() -> None:
    """A streaming replica named by LEDGER_READ_DATABASE_URL opens now, or the command fails."""
    from ledger.storage import StoreError, open_read_ledger

    url = os.environ.get("LEDGER_READ_DATABASE_URL", "").strip()
    if not url:
        return
    try:
        open_read_ledger(url).close()
    except StoreError as exc:
        raise click.UsageError(f"LEDGER_READ_DATABASE_URL: {exc}") from None


def use_committers(ledger_app: SupportLedger, committers: int) -> None:
    """The application's group committer, with this many threads (before any request)."""
    from ledger.group_commit import GroupCommitter

    ledger_app.extensions.get(GroupCommitter, lambda: GroupCommitter(ledger_app, committers=committers))


def _serve_gunicorn(database_url: str | None, listener: socket.socket, workers: int,
                    threads: int, follow: bool, committers: int = 1) -> None:  # fmt: skip
    """gunicorn worker processes on the bound socket, each opening its own store after the
    fork; they share the session key and the sign-in throttle's file."""
    from ledger.storage import open_ledger
    from ledger.tuning import freeze_startup_objects
    from web import create_app

    followers: list[Any] = []  # this process's follower (one per worker process)

    def make_app() -> Any:  # each worker process opens its own store, after the fork
        ledger_app = open_ledger(database_url, create=False)
        use_committers(ledger_app, committers)
        app = create_app({**config, "LEDGER_APP": ledger_app})
        # What is made so far lives as long as the process: the garbage collector need not look
        # at it again (full collections in the middle of requests were most of the slowest ones).
        freeze_startup_objects()
        if follow:  # every process stands by; the one holding the store's lock follows
            from web.follower import EmbeddedFollower

            followers.append(EmbeddedFollower(ledger_app))
            followers[-1].start()
        return app

    def worker_exit(_arbiter: Any, _worker: Any) -> None:  # in the worker process, as it ends
        for follower in followers:
            follower.stop()

    shared = tempfile.mkdtemp(prefix="ledger-serve-")
    config = {
        # every process signs and checks the same session cookies...
        "SECRET_KEY": os.environ.get("LEDGER_SECRET_KEY", "").strip() or secrets.token_hex(32),
        # ...and counts failed sign-ins in the same place
        "LEDGER_SIGNIN_THROTTLE_FILE": os.path.join(shared, "signin-failures.sqlite3"),
    }
    server_pid = os.getpid()
    try:
        _run_gunicorn(make_app, {
            "bind": [f"fd://{listener.detach()}"],  # the socket bound above (gunicorn closes it)
            "workers": workers, "threads": max(1, -(-threads // workers)),
            "worker_class": "gthread", "worker_connections": 1000, "timeout": 60,
            "keepalive": 60, "proc_name": "songjiang-ledger", "worker_exit": worker_exit,
        })  # fmt: skip
    finally:
        if os.getpid() == server_pid:  # not in a worker process that ends (gunicorn raises SystemExit)
            shutil.rmtree(shared, ignore_errors=True)


def _serve_waitress(ctx: click.Context, listener: socket.socket, threads: int, follow: bool,
                    committers: int = 1) -> None:  # fmt: skip
    """One waitress process on the bound socket; its follower stops when the server stops."""
    import waitress

    from ledger.cli_support import open_app
    from web import create_app

    try:
        ledger_app = open_app(ctx)  # the store and its tables were checked before binding
    except BaseException:
        listener.close()
        raise
    use_committers(ledger_app, committers)
    app = create_app({"LEDGER_APP": ledger_app})
    server = waitress.create_server(
        app, sockets=[listener], threads=threads, connection_limit=1000, channel_timeout=60,
        ident="songjiang-ledger",
    )  # fmt: skip
    follower = None
    if follow:
        from web.follower import EmbeddedFollower

        follower = EmbeddedFollower(ledger_app)
        follower.start()
    # SIGTERM ends the server as Ctrl-C does (waitress then stops serving, and we stop following)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    try:
        server.print_listen("Serving on http://{}:{}")
        server.run()
    finally:
        if follower is not None:
            follower.stop()


def _run_gunicorn(make_app: Any, options: dict[str, Any]) -> None:
    """Run gunicorn with these settings, the app made in each worker process (after the fork)."""
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return make_app()

    Application().run()


def create_tables(app: SupportLedger) -> None:
    """Create the web's tables in the store where missing (for `ledger init`, through
    the `songjiang_ledger.tables` entry point): whatever `web.auth.create_tables(app)` creates, if
    that function exists (the web keeps no table of its own in the store otherwise)."""
    from web import auth

    create = getattr(auth, "create_tables", None)
    if create is not None:
        create(app)


#: The commands `ledger` adds from this package (see ledger/cli_plugins.py).
commands = [serve]
