"""`ledger serve`: the oversight web under waitress, a production WSGI server."""

from __future__ import annotations

import logging

import click

from ledger.cli import open_app


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 256),
              help="Worker threads (requests served at once).")  # fmt: skip
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, threads: int) -> None:
    """Serve the oversight web and the JSON API (/api/v1) until stopped with Ctrl-C.

    Settings come from LEDGER_* variables: LEDGER_DATABASE_URL, LEDGER_SECRET_KEY (keep
    sessions across restarts), LEDGER_SECURE_COOKIES=1 behind HTTPS.
    """
    import waitress

    from web import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app({"LEDGER_APP": open_app(ctx)})
    click.echo(f"serving the oversight web on http://{host}:{port}/ (API: http://{host}:{port}/api/v1/openapi.json)")
    waitress.serve(
        app, host=host, port=port, threads=threads, connection_limit=1000, channel_timeout=60,
        ident="songjiang-ledger",
    )  # fmt: skip


#: The commands `ledger` adds from this package (see ledger/cli_plugins.py).
commands = [serve]
