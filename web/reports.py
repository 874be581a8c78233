"""Execution reports on the web: the annual report (district or one town) and the monthly one,
each a page with a print layout and an .xlsx download (`projections.reports`).

`/reports/annual?year=Y[&town=CODE]`, `/reports/annual.xlsx?…`, `/reports/monthly?year=Y&month=M`,
`/reports/monthly.xlsx?…`. Bad arguments are answered 400 with a stable code (`web.query_args`).
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Flask, Response, render_template, url_for

from ledger.identifiers import TOWNS
from ledger.shanghai import shanghai_time
from projections.reports import Report, annual_report, monthly_report
from projections.reports.formats import UNITS, cell_text
from projections.reports.xlsx import write_report
from web.auth import ledger, requires
from web.i18n import is_english, pick
from web.indicators import year_arg
from web.query_args import BadQuery, int_arg, text_arg

bp = Blueprint("reports", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _year() -> int:
    year = year_arg()
    if year is None:
        raise BadQuery("invalid_year", "还没有任何年度的预算，请指定财政年度",
                       "no fiscal year has a budget yet; give the year")  # fmt: skip
    return year


def _town() -> str | None:
    code = text_arg("town", 20)
    if code and code not in TOWNS:
        raise BadQuery("invalid_town", "不是松江区的街镇代码", "not a Songjiang town code")
    return code or None


def _month() -> int:
    month = int_arg("month", 1, 12, "invalid_month", "月份", "the month")
    if month is None:
        raise BadQuery("invalid_month", "请指定月份（1 至 12）", "give the month (1 to 12)")
    return month


def _shown(report: Report) -> list[dict[str, Any]]:
    """The report's tables as the page shows them: labels and cells in the request's language
    (only its own title column), amounts in yuan with two decimals."""
    english = is_english()
    hidden = "_zh" if english else "_en"
    tables = []
    for table in report.tables:
        keep = [n for n, c in enumerate(table.columns) if not c.key.endswith(hidden)]

        def cells(row: tuple[Any, ...], keep: list[int] = keep, table: Any = table) -> list[str]:
            return [cell_text(row[n], table.columns[n].kind) for n in keep]

        labels = []
        for n in keep:
            column = table.columns[n]
            unit = UNITS.get(column.kind)
            label = pick(column.label_zh, column.label_en)
            labels.append((f"{label} ({unit[1 if english else 0]})" if unit else label,
                           column.kind != "text"))  # fmt: skip
        tables.append({"name": table.name, "title": pick(table.title_zh, table.title_en),
                       "labels": labels, "rows": [cells(r) for r in table.rows],
                       "total": cells(table.total) if table.total else None})  # fmt: skip
    return tables


def _page(report: Report, xlsx_href: str) -> Any:
    return render_template(
        "report.html", report=report, title=pick(report.title_zh, report.title_en),
        tables=_shown(report), made_at=shanghai_time(report.generated_at), xlsx_href=xlsx_href,
        notes=report.notes_en if is_english() else report.notes_zh,
        towns=sorted(TOWNS.values(), key=lambda t: t.code),
    )  # fmt: skip


def _xlsx(report: Report, name: str) -> Response:
    out = io.BytesIO()
    write_report(report, out)
    return Response(out.getvalue(), mimetype=XLSX,
                    headers={"Content-Disposition": f"attachment; filename={name}"})  # fmt: skip


@bp.route("/reports/annual")
@requires("viewer")
def annual() -> Any:
    """The annual execution report of a fiscal year (of one town's enterprises with `town`)."""
    year, town = _year(), _town()
    report = annual_report(ledger(), year, town)
    return _page(report, url_for("reports.annual_xlsx", year=year, town=town))


@bp.route("/reports/annual.xlsx")
@requires("viewer")
def annual_xlsx() -> Any:
    year, town = _year(), _town()
    return _xlsx(annual_report(ledger(), year, town), f"annual-{year}{'-' + town if town else ''}.xlsx")


@bp.route("/reports/monthly")
@requires("viewer")
def monthly() -> Any:
    """The monthly payment progress report of one month of a fiscal year."""
    year, month = _year(), _month()
    report = monthly_report(ledger(), year, month)
    return _page(report, url_for("reports.monthly_xlsx", year=year, month=month))


@bp.route("/reports/monthly.xlsx")
@requires("viewer")
def monthly_xlsx() -> Any:
    year, month = _year(), _month()
    return _xlsx(monthly_report(ledger(), year, month), f"monthly-{year}-{month:02d}.xlsx")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
