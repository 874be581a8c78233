"""The oversight web: read-only pages for overseers and a JSON API for officers and systems.

`create_app(config)` builds a Flask application. Nothing here opens a connection at import
time: the ledger is opened inside `create_app` (from `LEDGER_DATABASE_URL` or the config) and
kept in `app.extensions["ledger"]`. Pages and reads go through `web.reads` (the projections and
the audit); the only writes go through the ledger application, in `POST /api/v1/commands`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, render_template, request

from web.settings import settings_from_env


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web application.

    `config` overrides the `LEDGER_*` environment settings. Pass `LEDGER_APP` (an open
    `SupportLedger`) to serve a ledger the caller owns; otherwise the ledger is opened from
    `LEDGER_DATABASE_URL` and closed when the process ends.
    """
    app = Flask(__name__)
    app.config.update(settings_from_env())
    if config:
        app.config.update(config)

    ledger = app.config.pop("LEDGER_APP", None)
    if ledger is None:
        from ledger.storage import open_ledger

        ledger = open_ledger(app.config.get("LEDGER_DATABASE_URL") or None)
    app.extensions["ledger"] = ledger
    _set_token_cache(app, ledger)

    from web import api, auth, cache, frame, i18n, pages, public, replica, sessions

    sessions.init_app(app)
    cache.init_app(app)
    i18n.init_app(app)
    frame.init_app(app)
    auth.init_app(app)
    pages.init_app(app)
    api.init_app(app)
    public.init_app(app)
    from web import api_lists, downloads, lists  # awards/disbursements lists, downloads (issue 9)

    lists.init_app(app)
    downloads.init_app(app)
    api_lists.init_app(app)  # after api: registered on its Api (one OpenAPI document)
    from web import payment_list, queue  # the finance office's approval queue and payment list

    queue.init_app(app)
    payment_list.init_app(app)
    importlib.import_module("web.indicators").init_app(app)  # /indicators, its help and JSON
    importlib.import_module("web.reports").init_app(app)  # /reports: annual, monthly, .xlsx
    from web import tlog  # C2SP /tlog/: checkpoint, tiles, receipts (no sign-in)
    tlog.init_app(app)
    replica.init_app(app)
    app.after_request(security_headers)
    _init_error_handlers(app)
    from web import read_slots  # last: around the whole application

    read_slots.init_app(app)
    return app


#: The longest `LEDGER_TOKEN_CACHE_S` may be: the bound on how late another process's
#: revocation of a token takes effect here.
TOKEN_CACHE_S_MAX = 10.0


def _set_token_cache(app: Flask, ledger: Any) -> None:
    """`LEDGER_TOKEN_CACHE_S` (config or environment): seconds a verified API token is
    remembered by this process (ledger.users; default 1, 0 turns it off, at most 10)."""
    import os

    value = app.config.get("LEDGER_TOKEN_CACHE_S", os.environ.get("LEDGER_TOKEN_CACHE_S", ""))
    if value in (None, "") or not hasattr(ledger, "users"):
        return
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"LEDGER_TOKEN_CACHE_S must be a number of seconds, not {value!r}") from None
    ledger.users.token_cache_s = max(0.0, min(seconds, TOKEN_CACHE_S_MAX))


#: A strict policy the pages keep: no script at all, styles and images only from this site
#: (the charts are inline SVG whose stylesheet is static/charts.css), forms post only here,
#: and no page may be framed. The API's JSON and the static files get the same headers.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def security_headers(response: Response) -> Response:
    """Every response (pages, API, static files, errors, redirects) carries the headers above."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _init_error_handlers(app: Flask) -> None:
    """No request ends in a traceback: an unexpected exception is logged and answered with a
    plain 500 (JSON `internal_error` under /api/, the error page elsewhere). HTTP errors (4xx)
    are answered by the API's handler: JSON with a stable code under /api/, never HTML."""
    log = logging.getLogger("web")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        from werkzeug.exceptions import HTTPException

        if isinstance(error, HTTPException):  # only when no handler of its own matched
            return error
        log.exception("unexpected error on %s %s", request.method, request.path)
        if request.path == "/api" or request.path.startswith("/api/"):
            from web.api import error_body

            body = error_body("internal_error", "internal server error", "服务器内部错误")
            return jsonify(body), 500
        return render_template("error.html", code=500, title="Internal Server Error",
                               message="Something went wrong; it has been logged."), 500  # fmt: skip
