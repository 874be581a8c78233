"""Public disclosure (公示): the awards made, for anyone, without signing in.

`/public/` lists the disclosed awards (the fields the administrator publishes, nothing
personal) with filters and totals; `/public/360giving.json` and `/public/360giving.csv` are the
same in the 360Giving Data Standard. `LEDGER_PUBLIC_DISCLOSURE=0` switches all of it off (404).
The publication's settings are read once, by `projections.giving360.Publication.from_env`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    stream_with_context,
)

from ledger.shanghai import SHANGHAI, parse_instant
from projections import giving360
from projections.queries import public as public_queries
from projections.queries import views_position
from web.auth import ledger

bp = Blueprint("public", __name__, url_prefix="/public")

PAGE_SIZE = public_queries.PAGE_SIZE


def publication() -> giving360.Publication:
    return current_app.extensions["publication"]


@bp.before_request
def _only_when_published() -> None:
    if not publication().enabled:
        abort(404)


class BadArgument(Exception):
    """A query argument of a public page or export that is not what it must be."""

    def __init__(self, name: str, zh: str, en: str) -> None:
        super().__init__(name)
        self.name, self.zh, self.en = name, zh, en


@bp.errorhandler(BadArgument)
def _bad_argument(error: BadArgument) -> Any:
    """400: JSON with the stable code `validation_error` for the exports, the error page for the
    list — in Chinese and English either way."""
    zh, en = f"{error.name}：{error.zh}", f"{error.name}: {error.en}"
    if request.endpoint == "public.awards":
        message = f"{zh} / {en}"
        return render_template("error.html", code=400, title="请求有误 / Bad request", message=message,
                               detail=message), 400
    from web.api import error_body

    return jsonify(error_body("validation_error", en, zh)), 400


def _filters() -> dict[str, Any]:
    """The page's and the exports' filters: `year` (a fiscal year) and `measure` (M01…M13);
    anything else in them is answered 400 `validation_error`."""
    year_text = request.args.get("year", "").strip()
    measure = request.args.get("measure", "").strip().upper() or None
    year = None
    if year_text:
        if not (year_text.isascii() and year_text.isdigit() and 2000 <= int(year_text) <= 2100):
            raise BadArgument("year", "应为 2000 至 2100 之间的年度", "must be a year from 2000 to 2100")
        year = int(year_text)
    if measure is not None and measure not in {m.code for m in ledger().catalogue.measures}:
        raise BadArgument("measure", "应为 M01 至 M13 之一", "must be one of M01 to M13")
    return {"fiscal_year": year, "measure": measure}


def _page_number() -> int:
    text = request.args.get("page", "1").strip()
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 100_000):
        raise BadArgument("page", "应为 1 至 100000 之间的整数", "must be a whole number from 1 to 100000")
    return int(text)


@bp.route("/")
def awards() -> Any:
    """The disclosed awards, newest decision first, with the totals of the filtered set."""
    filters = _filters()
    page = _page_number()
    app = ledger()
    rows = public_queries.public_awards(
        app, **filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return render_template(
        "public.html", rows=rows, page=page, has_next=rows.has_more, filters=filters,
        totals=public_queries.public_totals(app, **filters), publication=publication(),
        specs=app.catalogue.measures,
        measures={m.code: m for m in app.catalogue.measures}, open_data=_open_data_ready(),
        years=range(2025, 2031), position=views_position(app),
    )  # fmt: skip


def _open_data_ready() -> bool:
    try:
        publication().check_open_data()
    except giving360.PublicationIncomplete:
        return False
    return True


def _modified_at() -> str:
    """When the disclosed data last changed: the views' newest event, Beijing time, ISO."""
    moment = parse_instant(views_position(ledger()).recorded_at)
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds") if moment else "1970-01-01T00:00:00+00:00"


def _export(chunks: Any, mimetype: str, filename: str) -> Any:
    filters = _filters()
    try:
        publication().check_open_data()
    except giving360.PublicationIncomplete as error:
        from web.api import error_body

        zh, en = str(error).split(" / ", 1)
        body = error_body("disclosure_not_configured", en, zh)
        body["details"] = {"missing": list(error.missing)}
        return jsonify(body), 409
    app = ledger()
    if public_queries.public_totals(app, **filters).awards == 0:
        from web.api import error_body

        # a 360Giving package holds at least one grant
        return jsonify(error_body(
            "not_found", "no disclosed award matches these filters", "没有符合条件的公示奖补"
        )), 404  # fmt: skip
    awards = public_queries.iter_public_awards(app, **filters)
    body: Iterator[str] = chunks(awards, publication(), app.catalogue, _modified_at())
    return Response(
        stream_with_context(part.encode("utf-8") for part in body), mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename={filename}",
                 "Cache-Control": "public, max-age=60"},
    )  # fmt: skip


@bp.route("/360giving.json")
def package_json() -> Any:
    """The disclosed awards as a 360Giving JSON grant package (streamed, complete)."""
    return _export(giving360.package_chunks, "application/json", "songjiang-360giving.json")


@bp.route("/360giving.csv")
def package_csv() -> Any:
    """The disclosed awards as the 360Giving flat CSV (UTF-8 with BOM; streamed, complete)."""
    return _export(giving360.csv_chunks, "text/csv", "songjiang-360giving.csv")


def init_app(app: Flask) -> None:
    app.extensions["publication"] = app.config.get("LEDGER_PUBLICATION") or giving360.Publication.from_env()
    app.register_blueprint(bp)
    app.jinja_env.globals["public_disclosure_enabled"] = lambda: app.extensions["publication"].enabled
