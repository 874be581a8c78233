"""Downloads of every list as .xlsx or CSV: `/downloads/<kind>.<format>?<filters>`, the same
file `ledger export` writes (`projections.exports`): every row the filters select, streamed
from one snapshot of the views into a temporary file (memory stays bounded), then sent. The
audit trail needs an auditor; the other lists a viewer. A filter not allowed is the 400 page
naming `invalid_filter`; an unknown kind or format is 404.
"""

from __future__ import annotations

import tempfile
from typing import Any

from flask import Blueprint, Flask, abort, request, send_file, url_for

from projections import exports
from web.auth import ledger, requires
from web.lists import FilterRefused

bp = Blueprint("downloads", __name__)

#: Spooled in memory up to this size, then on disk.
SPOOL_BYTES = 8 * 1024 * 1024
#: The role each kind needs (the trail names who recorded what: auditors).
ROLES = {"trail": "auditor"}


def _send(kind: str, fmt: str) -> Any:
    try:
        chosen = exports.filter_for(kind, request.args)
    except exports.BadFilter as error:
        raise FilterRefused(error) from None
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (send_file closes it)
    done = exports.export(ledger(), kind, chosen, fmt, out)
    out.seek(0)
    return send_file(
        out, mimetype=exports.MEDIA_TYPES[fmt], as_attachment=True,
        download_name=exports.filename(kind, fmt, done.position), max_age=0,
    )  # fmt: skip


@bp.route("/downloads/<kind>.<fmt>")
def download(kind: str, fmt: str) -> Any:
    """One list as a spreadsheet (see the module's text)."""
    if kind not in exports.KINDS or fmt not in exports.FORMATS:
        abort(404)
    return requires(ROLES.get(kind, "viewer"))(_send)(kind, fmt)


def download_links(kind: str, args: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """(label, href) of a list's downloads with its filters, for a template."""
    return [(label, url_for("downloads.download", kind=kind, fmt=fmt, **(args or {})))
            for fmt, label in (("xlsx", "Excel (.xlsx)"), ("csv", "CSV"))]  # fmt: skip


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals.update(download_links=download_links)
