"""Reads from a hot standby: `LEDGER_READ_DATABASE_URL` names a PostgreSQL streaming replica of
the store; the pages' and the API's reads (views, trail, events, proofs, replays) go there,
while commands, sign-in and credentials stay on the primary (`LEDGER_DATABASE_URL`).

Read-your-writes holds across the replica's lag: a command answers with the primary's
`log_position`; a read given it as `min_position` waits (at most `LEDGER_READ_TIMEOUT_S`)
until the replica's views have replayed that far, then answers 503 `views_behind`. A replica
(or any store) that cannot be reached answers 503 `store_unavailable`, in Chinese and English,
within about two seconds; the commands beside it are not affected.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request

from ledger.storage import UNREACHABLE_ERRORS, open_read_ledger
from projections.queries.common import read_from

log = logging.getLogger("web.replica")

UNAVAILABLE_CODE = "store_unavailable"
UNAVAILABLE_EN = "the database cannot be reached right now; try again shortly"
UNAVAILABLE_ZH = "数据库暂时无法连接，请稍后再试"
#: Seconds a client is asked to wait before trying again.
RETRY_AFTER_S = 5


def init_app(app: Flask) -> None:
    """Open the replica named by `LEDGER_READ_DATABASE_URL` (if any) and answer an unreachable
    store with 503 instead of a traceback."""
    url = str(app.config.get("LEDGER_READ_DATABASE_URL") or "").strip()
    if url:
        read_from(app.extensions["ledger"], open_read_ledger(url))
    for error_class in UNREACHABLE_ERRORS:
        app.register_error_handler(error_class, _unavailable)


def _unavailable(error: Exception) -> Any:
    log.warning("store unavailable on %s %s: %s", request.method, request.path, error)
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if request.path == "/api" or request.path.startswith("/api/"):
        from web.api import error_body

        return jsonify(error_body(UNAVAILABLE_CODE, UNAVAILABLE_EN, UNAVAILABLE_ZH)), 503, headers
    message = f"{UNAVAILABLE_ZH} / {UNAVAILABLE_EN}"
    return render_template("error.html", code=503, title="Service Unavailable 服务暂不可用",
                           message=message), 503, headers  # fmt: skip
