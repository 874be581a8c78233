"""``/tlog/``: the log in the C2SP formats, for witnesses, monitors and Go's reference code.

* ``/tlog/checkpoint`` — the latest checkpoint with its cosignatures (text/plain; cached for at
  most a few seconds, as tlog-tiles asks of this mutable resource);
* ``/tlog/tile/<L>/<N>[.p/<W>]`` and ``/tlog/tile/entries/<N>[.p/<W>]`` — tiles and entry
  bundles (application/octet-stream). Full ones never change and are cached for a year,
  ``immutable``; partial ones for a minute. Entry bundles are gzip-compressed when the client
  accepts it. A tile beyond the latest checkpoint, or a malformed path, is a 404;
* ``/tlog/receipt/<reference>.tlog-proof`` — the receipt (tlog-proof) of a payment: of the
  event that recorded it, against the latest checkpoint; the enterprise page links it.

No sign-in: these are what outsiders check the ledger with. Errors are plain text, with a
stable code, in Chinese and English.
"""

from __future__ import annotations

import gzip

from flask import Blueprint, Flask, Response, current_app, request

bp = Blueprint("tlog", __name__, url_prefix="/tlog")

IMMUTABLE = "public, max-age=31536000, immutable"
PARTIAL = "public, max-age=60"
CHECKPOINT = "public, max-age=2, must-revalidate"


def _text(status: int, code: str, zh: str, en: str) -> Response:
    response = Response(f"{code}: {zh} / {en}\n", status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


def _resource(path: str) -> Response:
    from audit.tiles import TileError
    from audit.tlog_resources import read_resource

    try:
        found = read_resource(current_app.extensions["ledger"], path)
    except TileError:
        return _text(404, "not_found", "没有这个资源", "no such tile")
    if found is None:
        return _text(404, "not_found", "没有这个资源（超出最新检查点）", "not in the latest checkpoint")
    body = found.data
    response = Response(body, content_type=found.content_type)
    if path.startswith("tile/entries/") and "gzip" in request.accept_encodings:
        response.set_data(gzip.compress(body, compresslevel=6))
        response.headers["Content-Encoding"] = "gzip"
    if path.startswith("tile/"):
        response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = (
        IMMUTABLE if found.immutable else PARTIAL if path.startswith("tile/") else CHECKPOINT
    )
    return response


@bp.get("/checkpoint")
def checkpoint() -> Response:
    return _resource("checkpoint")


@bp.get("/tile/<path:rest>")
def tile(rest: str) -> Response:
    return _resource("tile/" + rest)


@bp.get("/receipt/<reference>.tlog-proof")
def receipt(reference: str) -> Response:
    """The receipt of the event that recorded a payment (its first event)."""
    from audit.receipts import ReceiptError, payment_receipt

    try:
        found = payment_receipt(current_app.extensions["ledger"], reference)
    except ReceiptError as exc:
        status = 404 if exc.code in ("unknown_reference", "not_in_log") else 409
        zh, _, en = str(exc).partition(" / ")
        return _text(status, exc.code, zh, en)
    response = Response(found.text, mimetype="text/plain", content_type="text/plain; charset=utf-8")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in reference)
    response.headers["Content-Disposition"] = f'attachment; filename="{found.filename(safe)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
