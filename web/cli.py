"""`ledger serve`: the oversight web under a production WSGI server.

Where processes can fork (Linux, macOS) the default is gunicorn with several worker processes,
each with its own threads, its own connections to the store and its own cache of rendered
bodies, so that rendering (Python, one core per process) uses every core. Elsewhere, or with
`--server waitress`, one waitress process serves with threads.
"""

from __future__ import annotations

import gc
import logging
import os
import secrets
import shutil
import tempfile
from typing import Any

import click


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
    """One process per core (at most 4: reads are short and the store is shared)."""
    return max(1, min(os.cpu_count() or 1, 4))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--server", "server_name", type=click.Choice(["gunicorn", "waitress"]), default=None,
              help="WSGI server [default: gunicorn where processes can fork, else waitress].")  # fmt: skip
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes (gunicorn) [default: one per core, at most 4].")  # fmt: skip
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 256),
              help="Requests served at once, in all (split between the worker processes).")  # fmt: skip
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, server_name: str | None, workers: int | None,
          threads: int) -> None:  # fmt: skip
    """Serve the oversight web and the JSON API (/api/v1) until stopped with Ctrl-C.

    Settings come from LEDGER_* variables: LEDGER_DATABASE_URL, LEDGER_SECRET_KEY (keep
    sessions across restarts), LEDGER_SECURE_COOKIES=1 behind HTTPS.
    """
    from ledger.cli import open_app  # here: `ledger.cli` imports this module to add the command
    from ledger.storage import StoreError, open_ledger
    from web import create_app

    database_url = ctx.ensure_object(dict).get("database_url")
    try:  # the store exists and opens (or the command fails here, before binding the port)...
        open_ledger(database_url, create=False).close()
    except StoreError as exc:
        raise click.UsageError(str(exc)) from None

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    server_name = server_name or default_server()
    workers = workers or default_workers()
    click.echo(f"serving the oversight web on http://{host}:{port}/ (API: http://{host}:{port}/api/v1/openapi.json)"
               f" with {server_name}" + (f", {workers} processes" if server_name == "gunicorn" else ""))  # fmt: skip
    if server_name == "waitress":
        import waitress

        app = create_app({"LEDGER_APP": open_app(ctx)})
        waitress.serve(
            app, host=host, port=port, threads=threads, connection_limit=1000, channel_timeout=60,
            ident="songjiang-ledger",
        )  # fmt: skip
        return

    def make_app() -> Any:  # ...and each worker process opens its own, after the fork
        app = create_app({**config, "LEDGER_APP": open_ledger(database_url, create=False)})
        # What is made so far lives as long as the process: the garbage collector need not look
        # at it again (full collections in the middle of requests were most of the slowest ones).
        gc.collect()
        gc.freeze()
        return app

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
            "bind": f"{host}:{port}", "workers": workers, "threads": max(1, -(-threads // workers)),
            "worker_class": "gthread", "worker_connections": 1000, "timeout": 60,
            "keepalive": 60, "proc_name": "songjiang-ledger",
        })  # fmt: skip
    finally:
        if os.getpid() == server_pid:  # not in a worker process that ends (gunicorn raises SystemExit)
            shutil.rmtree(shared, ignore_errors=True)


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


#: The commands `ledger` adds from this package (see ledger/cli_plugins.py).
commands = [serve]
